"""Follow-ups recorded by steps, and when they are due: some wait for a unit's first successful apply, which
is read from the runs on disk (`run.store`), so a follow-up appears as soon as that apply has happened.

A follow-up's `after` is either empty (due now) or `first successful apply of <unit path>`; that apply must
have started after the step was recorded (the step's edit was in place for it).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from refarch_tui import checklist, paths
from refarch_tui.run import store
from refarch_tui.run.model import UnitStatus
from refarch_tui.state import Workspace, WorkspaceState

FIRST_APPLY = "first successful apply of "
_FIRST_APPLY = re.compile(r"^first successful apply of (?P<unit>\S+)$")


def after_first_apply(unit: str) -> str:
    return FIRST_APPLY + unit


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def successful_applies(workspace: Workspace) -> dict[str, list[datetime]]:
    """Per unit, when the apply runs in which it succeeded started (every run on disk, read once)."""
    found: dict[str, list[datetime]] = {}
    for run_id in store.list_runs(workspace.runs_dir):
        record = store.load_run(workspace.runs_dir, run_id)
        started = _when(record.started) if record is not None else None
        if record is None or record.command != "apply" or started is None:
            continue
        for account in record.accounts.values():
            for unit in account.units.values():
                if unit.status is UnitStatus.SUCCEEDED:
                    found.setdefault(unit.path, []).append(started)
    return found


def first_apply(
    workspace: Workspace,
    unit: str,
    *,
    since: str | None = None,
    applies: dict[str, list[datetime]] | None = None,
) -> str | None:
    """Start of the first apply run (at or after `since`) in which `unit` succeeded; None if none."""
    not_before = _when(since)
    starts = (applies if applies is not None else successful_applies(workspace)).get(unit, [])
    found = [t for t in starts if not_before is None or t >= not_before]
    return min(found).isoformat(timespec="seconds") if found else None


def is_due(
    workspace: Workspace,
    followup: dict[str, str],
    *,
    recorded: str | None,
    applies: dict[str, list[datetime]] | None = None,
) -> bool:
    match = _FIRST_APPLY.match(followup.get("after", "") or "")
    if match is None:
        return True
    return first_apply(workspace, match.group("unit"), since=recorded, applies=applies) is not None


def due(workspace: Workspace, state: WorkspaceState) -> Iterator[dict[str, Any]]:
    """Follow-ups whose condition holds, in checklist order: {step, account, message, command}."""
    applies: dict[str, list[datetime]] | None = None
    for step in checklist.STEPS:
        for account in state.account_names:
            record = state.record(step.id, account)
            for followup in record.followups:
                if followup.get("after") and applies is None:
                    applies = successful_applies(workspace)
                if is_due(workspace, followup, recorded=record.updated, applies=applies):
                    yield {
                        "step": step.id,
                        "account": account,
                        "message": str(followup.get("message", "")),
                        "command": str(followup.get("command", "")),
                    }


def step_command(
    workspace: Workspace | Path, step_id: str, account: str, *sets: str, apply_edits: bool = False
) -> str:
    """The exact `refarch-tui step` command line for this workspace (the sandbox's is `--sandbox`)."""
    directory = workspace.directory if isinstance(workspace, Workspace) else Path(workspace)
    where = (
        ["--sandbox"]
        if directory.resolve() == paths.sandbox_workspace_dir().expanduser().resolve()
        else ["--workspace", str(directory)]
    )
    argv = ["refarch-tui", "step", step_id, *where, "--account", account]
    for item in sets:
        argv += ["--set", item]
    if apply_edits:
        argv.append("--apply-edits")
    return shlex.join(argv)
