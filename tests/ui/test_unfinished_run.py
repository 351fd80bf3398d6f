"""After the app dies mid-run, reopening the workspace says what did not finish and how to rerun it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refarch_tui.app import make_app
from refarch_tui.run import controller as ctl
from refarch_tui.run import store
from refarch_tui.state import Workspace, WorkspaceState


async def test_reopening_after_a_crash_mid_run_points_at_the_rerun(
    sandbox_workspace: tuple[Workspace, WorkspaceState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFARCH_REHEARSAL_SPEED", "0")
    monkeypatch.setenv("REFARCH_RETRY_BACKOFF", "0")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no terragrunt: the rehearsal engine
    workspace, state = sandbox_workspace
    pre = ctl.preflight(workspace, state, ["security"])
    run = ctl.build_run(workspace, state, pre, accounts=["security"], record_in_state=False)
    await run.execute()
    outcomes = Path(run.directory) / store.OUTCOMES_FILE
    lines = outcomes.read_text().splitlines()
    # as if killed half-way: the second half of the outcomes (and the run's end) were never written
    outcomes.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    record = store.load_run(workspace.runs_dir)
    assert record is not None and not record.complete and record.not_succeeded()

    app = make_app(workspace, workspace.load())
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any(
            f"The last run ({record.run_id}) did not finish" in m and "security" in m for m in messages
        )
    assert json.loads((Path(run.directory) / store.RUN_FILE).read_text())["accounts"]
