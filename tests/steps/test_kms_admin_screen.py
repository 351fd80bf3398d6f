"""The kms_admin screen, keyboard only: the preview names the user to create and its ARN, an edited
user name is previewed again, Run opens the Review edits dialog with every KMS administrator list's file,
accepting creates the user and records DONE with the ARN shown."""

from __future__ import annotations

from textual.widgets import Input

from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.step import StepScreen
from tests.steps.conftest import MakeCtx
from tests.steps.pilot import StepApp, text_of, wait_until

ARN = "arn:aws:iam::104983213567:user/kms-keys-admin"


async def test_kms_admin_screen_previews_reviews_and_creates_the_user(
    make_ctx: MakeCtx, step_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    workspace, state = step_workspace
    app = StepApp(make_ctx, state, step="kms_admin", account="security", account_id="104983213567")
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the kms_admin screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        preview = text_of(screen, "#step-preview")
        assert "create IAM user kms-cmk-admin" in preview and "no access keys" in preview

        screen.query_one("#answer-user_name", Input).value = "kms-keys-admin"
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: ARN in text_of(screen, "#step-preview"), what="the new preview")
        assert "cmk_administrator_iam_arns" in text_of(screen, "#step-preview")

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="the review dialog")
        labels = [e.label for e in app.screen.edits]
        assert len(labels) == 8 and "security/us-east-1/security/cloudtrail/terragrunt.hcl" in labels
        await pilot.press("A")
        await wait_until(pilot, lambda: not screen.running and screen.plan is None, what="the run")
        assert "DONE" in text_of(screen, "#step-status"), text_of(screen, "#step-status")
        assert ARN in text_of(screen, "#step-status") + text_of(screen, "#step-result")
    record = workspace.load().record("kms_admin", "security")
    assert record.status is Status.DONE and record.facts["user_arn"] == ARN
