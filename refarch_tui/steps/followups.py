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

from refarch_tui import paths
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


def first_apply(workspace: Workspace, unit: str, *, since: str | None = None) -> str | None:
    """Start of the first apply run (at or after `since`) in which `unit` succeeded; None if none."""
    not_before = _when(since)
    found: list[datetime] = []
    for run_id in store.list_runs(workspace.runs_dir):
        record = store.load_run(workspace.runs_dir, run_id)
        if record is None or record.command != "apply":
            continue
        started = _when(record.started)
        if started is None or (not_before is not None and started < not_before):
            continue
        account = record.accounts.get(unit.split("/", 1)[0])
        outcome = account.units.get(unit) if account is not None else None
        if outcome is not None and outcome.status is UnitStatus.SUCCEEDED:
            found.append(started)
    return min(found).isoformat(timespec="seconds") if found else None


def is_due(workspace: Workspace, followup: dict[str, str], *, recorded: str | None) -> bool:
    match = _FIRST_APPLY.match(followup.get("after", "") or "")
    if match is None:
        return True
    return first_apply(workspace, match.group("unit"), since=recorded) is not None


def due(workspace: Workspace, state: WorkspaceState) -> Iterator[dict[str, Any]]:
    """Follow-ups of every recorded step whose condition holds: {step, account, message, command}."""
    for step_id, by_account in state.steps.items():
        for account in state.account_names:
            record = by_account.get(account)
            if record is None:
                continue
            for followup in record.followups:
                if is_due(workspace, followup, recorded=record.updated):
                    yield {
                        "step": step_id,
                        "account": account,
                        "message": followup.get("message", ""),
                        "command": followup.get("command", ""),
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
