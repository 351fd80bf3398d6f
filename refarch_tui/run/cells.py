"""The Run Terragrunt cells as the newest apply run on disk tells them, finished or not.

A `kill -9` mid-apply never reaches the state write at the end of the run, so the state keeps older
done/failed values; `outcomes.jsonl` is written as units settle, so it is the truth (issue 9 item 9).
"""

from __future__ import annotations

from refarch_tui.run import store
from refarch_tui.run.model import UnitStatus
from refarch_tui.state import Status, Workspace

NOT_OK = (UnitStatus.FAILED, UnitStatus.INTERRUPTED, UnitStatus.CANCELLED)


def run_cells(workspace: Workspace) -> dict[str, Status]:
    """Per account of the newest apply run: its cell's status (accounts it did not settle are left out)."""
    for run_id in reversed(store.list_runs(workspace.runs_dir)):
        record = store.load_run(workspace.runs_dir, run_id)
        if record is None or record.command != "apply":
            continue
        cells: dict[str, Status] = {}
        for name, account in record.accounts.items():
            units = list(account.units.values())
            if units and all(u.status is UnitStatus.SUCCEEDED for u in units):
                cells[name] = Status.REHEARSED if record.simulated else Status.DONE
            elif any(u.status in NOT_OK for u in units):
                cells[name] = Status.FAILED
        return cells
    return {}
