"""Pilot tests of the apply screen in sandbox rehearsal mode (no terragrunt on PATH)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Button, Checkbox, DataTable, Log, ProgressBar, Static

from refarch_tui.run.controller import Preflight, RunController
from refarch_tui.run.engine import Executor
from refarch_tui.run.rehearsal import FAILS, RUNNER_RECOVERS, RehearsalExecutor
from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.apply import ApplyScreen
from tests.run.helpers import make_run

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
VPC = "dev/us-east-1/networking/vpc"


class ApplyTestApp(App[None]):
    def __init__(self, controller: RunController) -> None:
        super().__init__()
        self.controller = controller

    def on_mount(self) -> None:
        self.push_screen(ApplyScreen(self.controller, sandbox=True, identities={"dev": "arn:aws:sts::3:x"}))


def finish_steps(workspace: Workspace, state: WorkspaceState, accounts: list[str]) -> None:
    from refarch_tui import checklist

    for account in accounts:
        for step in checklist.STEPS:
            if step.id != "terragrunt" and state.applies(step.id, account):
                workspace.update_step(state, step.id, account, Status.DONE)


def controller_for(workspace: Workspace, state: WorkspaceState, options: dict[str, Any]) -> RunController:
    def factory(pre: Preflight) -> Executor:
        return RehearsalExecutor(speed=options.get("speed", 0), inject=options.get("inject", {}))

    return RunController(workspace, state, executor_factory=factory, run_options={"backoff_base": 0})


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the screen's periodic refresh catch up (it ticks every 0.3 s; a loaded machine is slower)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # e.g. a lane being rebuilt between two ticks
            if condition():
                return
        await pilot.pause(0.05)


def cell(app: App[None], account: str, key: str, column: str) -> str:
    table = app.screen.query_one(f"#lane-{account}", DataTable)
    return str(table.get_cell(key, column))


async def test_preflight_start_live_view_filter_and_leaving(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    finish_steps(workspace, state, ["security", "shared-services"])
    options: dict[str, Any] = {"inject": {VPC: RUNNER_RECOVERS}}
    controller = controller_for(workspace, state, options)
    app = ApplyTestApp(controller)
    async with app.run_test(size=(180, 50)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ApplyScreen)
        # pending steps: dev and the other app accounts are not ticked until the operator overrides
        assert screen.query_one("#run-security", Checkbox).value is True
        dev = screen.query_one("#run-dev", Checkbox)
        assert dev.value is False
        assert "not done" in str(screen.query_one("#warning-dev", Static).render())
        assert "arn:aws:sts::3:x" in str(screen.query_one("#identity-dev", Static).render())
        assert screen.query_one("#run-prod", Checkbox).value is False
        dev.value = True
        await pilot.press("s")
        summary = await controller.wait()
        assert summary is not None and summary["accounts"]["dev"]["status"] == "succeeded"
        await until(pilot, lambda: "succeeded" in cell(app, "dev", VPC, "status"))
        assert list(controller.current.accounts) == ["security", "shared-services", "dev"]  # type: ignore[union-attr]
        assert "succeeded" in cell(app, "dev", VPC, "status")
        assert "×4" in cell(app, "dev", VPC, "unit")  # 3 attempts inside terragrunt + the runner's rerun
        bar = screen.query_one("#apply-progress", ProgressBar)
        assert (bar.total, bar.progress) == (9, 9)
        recovered = "\n".join(screen.query_one("#apply-recovered", Log).lines)
        assert "recovered" in recovered and VPC in recovered
        # selecting a unit shows its (bounded, redacted) live log
        table = screen.query_one("#lane-dev", DataTable)
        table.move_cursor(row=table.get_row_index(VPC))
        await pilot.pause()
        assert any("Apply complete!" in line for line in screen.query_one("#apply-unit-log", Log).lines)
        # filter failed: nothing failed, so no unit rows are left
        await pilot.press("f")
        await until(pilot, lambda: screen.query_one("#lane-dev", DataTable).row_count == 0)
        assert screen.query_one("#lane-dev", DataTable).row_count == 0

        # a run survives its screen: start a slower one, leave, and it still finishes
        options.update(speed=0.3, inject={})
        await pilot.press("f")
        for name in ("security", "shared-services", "dev"):
            screen.query_one(f"#run-{name}", Checkbox).value = False
        screen.query_one("#run-stage", Checkbox).value = True
        assert screen.query_one("#apply-start", Button).disabled is False
        await pilot.press("s")
        await pilot.pause()
        assert controller.running
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ApplyScreen)
        summary = await controller.wait()
        assert summary is not None and list(summary["accounts"]) == ["stage"]
        assert summary["accounts"]["stage"]["status"] == "succeeded"
        app.push_screen(ApplyScreen(controller, sandbox=True))
        await pilot.app.workers.wait_for_complete()
        await until(
            pilot, lambda: "succeeded" in cell(app, "stage", "stage/us-east-1/services/app", "status")
        )
        assert "succeeded" in cell(app, "stage", "stage/us-east-1/services/app", "status")


async def test_after_a_crash_the_last_run_is_shown_and_rerun_offered(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    broken = make_run(
        workspace, state, accounts=["dev"], executor=RehearsalExecutor(speed=0, inject={VPC: FAILS})
    )
    await broken.execute()
    # a new app instance: nothing in memory, only the run on disk
    controller = controller_for(workspace, workspace.load(), {})
    app = ApplyTestApp(controller)
    async with app.run_test(size=(180, 50)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await until(pilot, lambda: "failed" in cell(app, "dev", VPC, "status"))
        screen = app.screen
        assert "failed" in cell(app, "dev", VPC, "status")
        assert "skipped" in cell(app, "dev", "dev/us-east-1/services/app", "status")
        assert screen.query_one("#apply-rerun", Button).disabled is False
        await pilot.press("r")
        summary = await controller.wait()
        assert summary is not None
        run = controller.current
        assert run is not None and run.succeeded()
        assert sorted(u.path for u in run.units) == [VPC, "dev/us-east-1/services/app"]
