"""Shared helpers for the runner tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from refarch_tui.run import controller as ctl
from refarch_tui.run.engine import Run
from refarch_tui.run.model import RunEvent
from refarch_tui.state import Workspace, WorkspaceState


def use_fake_version(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """The fake terragrunt's version, for runs (env) and for version probes (minimal env: a file in HOME)."""
    monkeypatch.setenv("FAKE_TG_VERSION", version)
    (Path.home() / ".fake-terragrunt-version").write_text(version)


def calls(state_dir: Path) -> list[dict[str, Any]]:
    path = state_dir / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def calls_for(state_dir: Path, account: str) -> list[dict[str, Any]]:
    return [c for c in calls(state_dir) if c.get("working_dir", "").endswith("/" + account)]


def make_run(
    workspace: Workspace,
    state: WorkspaceState,
    *,
    accounts: list[str] | None = None,
    only_units: dict[str, list[str]] | None = None,
    events: list[RunEvent] | None = None,
    **config: Any,
) -> Run:
    pre = ctl.preflight(workspace, state, accounts)
    config.setdefault("backoff_base", 0.0)
    config.setdefault("cancel_grace", 5.0)
    config.setdefault("term_grace", 2.0)
    run = ctl.build_run(workspace, state, pre, accounts=accounts, only_units=only_units, **config)
    if events is not None:
        run.subscribe(events.append)
    return run


def statuses(run: Run) -> dict[str, str]:
    return {u.path: u.status.value for u in run.units}


def attempts(run: Run) -> dict[str, int]:
    return {u.path: u.attempts for u in run.units}
