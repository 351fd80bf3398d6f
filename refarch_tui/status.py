"""`refarch-tui status --json`: the workspace's checklist as one JSON document (never a secret in it)."""

from __future__ import annotations

from typing import Any

from refarch_tui import checklist
from refarch_tui.run.cells import run_cells
from refarch_tui.state import Workspace, WorkspaceState
from refarch_tui.steps.followups import due as due_followups


def status_document(workspace: Workspace, state: WorkspaceState) -> dict[str, Any]:
    accounts = state.account_names
    steps = []
    # Run Terragrunt follows the newest run's outcomes on disk, even when the app died before recording
    from_runs = run_cells(workspace)
    for step in checklist.STEPS:
        for account in accounts:
            record = state.record(step.id, account)
            steps.append(
                {
                    "step": step.id,
                    "account": account,
                    "status": (
                        from_runs[account].value
                        if step.id == "terragrunt" and account in from_runs
                        else record.status.value
                    ),
                    # a cell never touched has been in its state since the workspace was created
                    "updated": record.updated or state.created,
                    "facts": record.facts,
                }
            )
    # a follow-up waiting for a unit's first successful apply appears once the runs on disk show it
    followups = list(due_followups(workspace, state))
    return {
        "workspace": str(workspace.directory),
        "mode": state.mode.value,
        "live_dir": state.live_dir,
        "accounts": [{"name": name, "id": state.account(name).id} for name in accounts],
        "regions": list(state.regions),
        "steps": steps,
        "followups": followups,
        "last_run_quit": last_run_quit(workspace),
    }


def last_run_quit(workspace: Workspace) -> dict[str, Any] | None:
    """The operator quit the app during the newest run: what they chose, and what of it still runs."""
    from refarch_tui.run import store

    record = store.load_run(workspace.runs_dir)
    if record is None or record.quit is None:
        return None
    choice = record.quit
    return {
        "run": record.run_id,
        "choice": choice.choice,
        "time": choice.time,
        "left_running": choice.left_running,
        "still_running": sorted(
            name for name, pid in choice.left_running.items() if pid and store.process_group_alive(pid)
        ),
    }
