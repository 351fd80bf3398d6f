"""`refarch-tui teardown` as a process: the --plan --json contract, exit codes, and the confirmation gate."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from refarch_tui.state import Workspace, WorkspaceState
from tests.run.helpers import calls

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]


def cli(workspace: Workspace, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refarch_tui", "teardown", "--workspace", str(workspace.directory), *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_plan_json_runs_nothing_and_keeps_the_contract(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, _state = make_workspace(live_copy)
    result = cli(workspace, "--account", "prod", "--plan", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"account", "waves", "excluded", "findings", "left_behind"}
    assert {f["kind"] for f in document["findings"]} == {
        "prevent_destroy",
        "force_destroy",
        "never_destroy",
        "state_backend",
    }
    assert calls(fake_tg) == [] and not workspace.runs_dir.exists()


def test_unknown_account_and_both_modes_cannot_start(live_copy: Path, make_workspace: MakeWs) -> None:
    workspace, _state = make_workspace(live_copy)
    unknown = cli(workspace, "--account", "qa", "--plan")
    assert unknown.returncode == 2 and "no account named qa" in unknown.stderr
    both = cli(workspace, "--account", "dev", "--plan", "--rehearse")
    assert both.returncode == 2


@pytest.mark.slow
def test_destroy_without_confirmation_exits_2_and_runs_nothing(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, _state = make_workspace(live_copy)
    for extra in ((), ("--confirm", "Dev"), ("--confirm", ""), ("--confirm", "stage"), ("--json",)):
        result = cli(workspace, "--account", "dev", *extra)
        assert result.returncode == 2, (extra, result.stdout, result.stderr)
        assert "othing ran" in result.stderr
        if "--json" not in extra:  # the operator saw what would have been destroyed
            assert "Destroy order, dependents first" in result.stdout
    assert calls(fake_tg) == [] and not workspace.runs_dir.exists()
