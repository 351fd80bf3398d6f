"""`refarch-tui status --json`: the workspace's checklist as one JSON document (never a secret in it)."""

from __future__ import annotations

from typing import Any

from refarch_tui import checklist
from refarch_tui.state import Workspace, WorkspaceState


def status_document(workspace: Workspace, state: WorkspaceState) -> dict[str, Any]:
    accounts = state.account_names
    steps = []
    for step in checklist.STEPS:
        for account in accounts:
            record = state.record(step.id, account)
            steps.append(
                {
                    "step": step.id,
                    "account": account,
                    "status": record.status.value,
                    # a cell never touched has been in its state since the workspace was created
                    "updated": record.updated or state.created,
                    "facts": record.facts,
                }
            )
    followups = [
        {
            "step": step.id,
            "account": account,
            "message": str(item.get("message", "")),
            "command": str(item.get("command", "")),
        }
        for step in checklist.STEPS
        for account in accounts
        for item in state.record(step.id, account).followups
    ]
    return {
        "workspace": str(workspace.directory),
        "mode": state.mode.value,
        "live_dir": state.live_dir,
        "accounts": [{"name": name, "id": state.account(name).id} for name in accounts],
        "regions": list(state.regions),
        "steps": steps,
        "followups": followups,
    }
