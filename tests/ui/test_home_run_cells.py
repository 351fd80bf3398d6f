"""Issue 9 item 9: the home screen's Run Terragrunt cells follow the newest run's outcomes on disk, not an
older value the state kept because the app was killed before recording the run."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable

from refarch_tui.app import make_app
from refarch_tui.run import controller as ctl
from refarch_tui.run.rehearsal import RehearsalExecutor
from refarch_tui.state import Status, Workspace, WorkspaceState


async def test_home_cells_follow_the_newest_run_on_disk(
    sandbox_workspace: tuple[Workspace, WorkspaceState], monkeypatch: Any
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    workspace, state = sandbox_workspace
    pre = ctl.preflight(workspace, state, ["dev"])
    run = ctl.build_run(
        workspace, state, pre, accounts=["dev"], executor=RehearsalExecutor(speed=0, inject={})
    )
    await run.execute()
    assert run.succeeded()
    # the older value a killed app leaves behind
    workspace.update_step(workspace.load(), "terragrunt", "dev", Status.FAILED)
    app = make_app(workspace, workspace.load())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert str(app.screen.query_one(DataTable).get_cell("terragrunt", "dev")) == "rehearsed"
    await asyncio.sleep(0)
