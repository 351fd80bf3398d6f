"""The generic step screen with the spine's fake step: form from ANSWERS, preview, Run in an App worker,
the Review edits dialog, the result — keyboard only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Input

from refarch_tui.app import make_app
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.steps import registry
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.step import StepScreen
from tests.steps import fake_step
from tests.steps.pilot import text_of, wait_until

UNIT_FILE = "dev/us-east-1/services/ecs-cluster/terragrunt.hcl"


@pytest.fixture(autouse=True)
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(registry.MODULES, "keypairs", "tests.steps.fake_step")
    fake_step.BEHAVIOUR.clear()
    yield


async def test_step_screen_previews_runs_reviews_and_records(
    emulated_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = emulated_workspace
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # emulator, identities, resume
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=3, column=3)  # Create EC2 key pairs × dev
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the step screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert "account dev (368294012756)" in text_of(screen, "#step-header")
        assert "identity arn:aws:sts::368294012756" in text_of(screen, "#step-header")
        assert screen.query_one("#answer-name", Input).value == "fake-key"
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        assert "write fake-key" in text_of(screen, "#step-preview")

        screen.query_one("#answer-name", Input).value = "typed-name"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="the review dialog")
        assert [e.label for e in app.screen.edits] == [UNIT_FILE]
        await pilot.press("A")
        await wait_until(pilot, lambda: not screen.running, what="the run to finish")
        assert app.screen is screen
        assert "DONE" in text_of(screen, "#step-status") and "done" in text_of(screen, "#step-status")
        assert "applied" in text_of(screen, "#step-result")
        assert state.record("keypairs", "dev").status is Status.DONE
        assert (
            'cluster_instance_keypair_name = "typed-name"'
            in (workspace.directory / "live" / UNIT_FILE).read_text()
        )
        await pilot.press("escape")
        await pilot.pause()
        assert str(app.screen.query_one(DataTable).get_cell("keypairs", "dev")) == "done"


async def test_cancelling_the_review_leaves_the_cell_pending(
    emulated_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = emulated_workspace
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.open_step("keypairs", "stage")
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the step screen")
        screen = app.screen
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="the review dialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running, what="the run to finish")
        assert "pending" in text_of(screen, "#step-status") and "declined" in text_of(screen, "#step-status")
        assert state.record("keypairs", "stage").status is Status.PENDING
