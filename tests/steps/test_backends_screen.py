"""The state-backends screen, keyboard only: the preview names the bucket and table it will create and the
terragrunt generation note; a bad bucket name is refused with the broken rule named before anything runs;
with the default name Run goes through Review edits to done, and the bucket exists in the emulator."""

from __future__ import annotations

from textual.widgets import Input

from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.step import StepScreen
from tests.steps.conftest import MakeCtx
from tests.steps.pilot import StepApp, text_of, wait_until

BUCKET = "dev-368294012756-terraform-state"


async def test_backends_screen_refuses_a_bad_name_then_creates_the_default(
    make_ctx: MakeCtx, step_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    workspace, state = step_workspace
    app = StepApp(make_ctx, state, step="backends", account="dev", account_id="368294012756")
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the backends screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        preview = text_of(screen, "#step-preview")
        assert f"create S3 bucket {BUCKET} in us-east-1" in preview
        assert "create DynamoDB lock table dev-368294012756-terraform-locks" in preview
        assert "independent of that" in preview
        assert "dev/terragrunt.hcl: remote_state.config.bucket" in preview

        bucket = screen.query_one("#answer-bucket", Input)
        bucket.value = "Dev_State"
        await pilot.press("ctrl+o")
        await wait_until(
            pilot,
            lambda: screen.plan is None and "refused" in text_of(screen, "#step-preview"),
            what="the refusal",
        )
        assert "bucket names take only lowercase letters, digits, dots and hyphens" in text_of(
            screen, "#step-preview"
        )

        bucket.value = ""  # empty keeps the default
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="Review edits")
        dialog = app.screen
        assert isinstance(dialog, ReviewEditsDialog)
        assert [e.label for e in dialog.edits] == ["dev/terragrunt.hcl"]
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.running, what="the run to finish")
        status = text_of(screen, "#step-status")
        assert status.startswith("done") and f"S3 bucket {BUCKET}: created" in status, status
    assert state.record("backends", "dev").status is Status.DONE
    s3 = make_ctx("dev").clients("s3", "us-east-1")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert f'bucket = "{BUCKET}"' in (workspace.directory / "live" / "dev" / "terragrunt.hcl").read_text()
