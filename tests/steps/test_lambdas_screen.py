"""The lambdas screen, keyboard only: the preview names the build script, Run streams its output into the
bounded log and ends DONE with the package variable recorded for the account."""

from __future__ import annotations

from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.step import StepScreen
from screens.widgets.build_log import BuildLog
from tests.steps.conftest import MakeCtx
from tests.steps.pilot import StepApp, text_of, wait_until


async def test_lambdas_screen_previews_runs_streams_and_records(
    make_ctx: MakeCtx, step_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    workspace, state = step_workspace
    app = StepApp(make_ctx, state, step="lambdas", account="dev", account_id="368294012756")
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the lambdas screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        preview = text_of(screen, "#step-preview")
        assert "long-running-scheduled/src/build.sh" in preview
        assert "dev/us-east-1/lambda/long-running-scheduled" in preview
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not screen.running and screen.plan is None, what="the build")
        assert "DONE" in text_of(screen, "#step-status"), text_of(screen, "#step-status")
        log = screen.query_one("#step-progress", BuildLog)
        shown = "\n".join(log.lines)
        assert "Deployment package created" in shown and "export TF_VAR_lambda_zip_path=" in shown
    record = workspace.load().record("lambdas", "dev")
    assert record.status is Status.DONE
    assert record.run_env["TF_VAR_lambda_zip_path"].endswith("long-running-scheduled/build/lambda.zip")
