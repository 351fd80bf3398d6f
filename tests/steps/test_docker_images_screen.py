"""The docker_images screen, keyboard only, with no docker on PATH: the preview says docker is missing and
labels the SIMULATED push, Run registers the tags, the Review edits dialog lists the app units, and
accepting records DONE."""

from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.step import StepScreen
from tests.steps.conftest import MakeCtx
from tests.steps.pilot import StepApp, text_of, wait_until


async def test_docker_images_screen_simulated_push_and_review(
    make_ctx: MakeCtx,
    step_workspace: tuple[Workspace, WorkspaceState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    workspace, state = step_workspace
    app = StepApp(make_ctx, state, step="docker_images", account="shared-services", account_id="235829751430")
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the docker_images screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        preview = text_of(screen, "#step-preview")
        assert "docker is not installed" in preview and "SIMULATED" in preview
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="the review dialog")
        labels = [e.label for e in app.screen.edits]
        assert "dev/us-east-1/services/sample-app-backend/terragrunt.hcl" in labels and len(labels) == 8
        await pilot.press("A")
        await wait_until(pilot, lambda: not screen.running and screen.plan is None, what="the run")
        assert "DONE" in text_of(screen, "#step-status"), text_of(screen, "#step-status")
    assert workspace.load().record("docker_images", "shared-services").status is Status.DONE
