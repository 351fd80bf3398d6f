"""`refarch-tui apply --no-tui`: the report contract, exit codes, warnings, and resume after kill -9."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from refarch_tui.run import line_mode, store
from refarch_tui.run.model import UnitStatus
from refarch_tui.state import Mode, Workspace, WorkspaceState

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
REPO = Path(__file__).resolve().parents[2]


def run_main(
    workspace: Workspace,
    state: WorkspaceState,
    *,
    accounts: list[str] | None = None,
    report: Path | None = None,
) -> tuple[int, str]:
    out = io.StringIO()
    code = line_mode.main(
        workspace=workspace, state=state, accounts=accounts, report=report, env_for_account=None, stdout=out
    )
    return code, out.getvalue()


def check_contract(document: dict, engine: str) -> None:
    assert set(document) == {"accounts", "engine"}
    assert document["engine"] == engine
    assert isinstance(document["accounts"], list) and document["accounts"]
    for account in document["accounts"]:
        assert set(account) == {"name", "started", "finished", "units"}
        assert isinstance(account["name"], str)
        assert datetime.fromisoformat(account["started"]) <= datetime.fromisoformat(account["finished"])
        for unit in account["units"]:
            assert set(unit) == {"path", "status", "attempts", "log"}
            assert unit["path"].startswith(account["name"] + "/") and not unit["path"].startswith("/")
            assert unit["status"] in ("succeeded", "failed", "skipped")
            assert isinstance(unit["attempts"], int) and not isinstance(unit["attempts"], bool)
            assert Path(unit["log"]).is_file()


def test_sandbox_rehearsal_report_contract(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None, tmp_path: Path
) -> None:
    workspace, state = make_workspace(tiny_live)
    report = tmp_path / "out" / "report.json"
    code, out = run_main(workspace, state, report=report)
    assert code == 0, out
    document = json.loads(report.read_text())
    check_contract(document, "rehearsal")
    assert [a["name"] for a in document["accounts"]] == [
        "security",
        "shared-services",
        "dev",
        "stage",
        "prod",
    ]
    assert "SIMULATED" in out and "terragrunt is not installed" in out
    # every unit event line is there, one per line
    assert "dev/us-east-1/services/app  succeeded" in out


def test_terragrunt_on_path_is_used_even_in_sandbox_and_failures_exit_1(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", "stage/us-east-1/networking/vpc:generic:9")
    workspace, state = make_workspace(tiny_live)
    report = tmp_path / "report.json"
    code, out = run_main(workspace, state, accounts=["stage", "dev"], report=report)
    assert code == 1, out
    document = json.loads(report.read_text())
    check_contract(document, "terragrunt-1")
    units = {u["path"]: u for a in document["accounts"] for u in a["units"]}
    assert units["stage/us-east-1/networking/vpc"]["status"] == "failed"
    assert units["stage/us-east-1/services/app"]["status"] == "skipped"
    assert units["dev/us-east-1/services/app"]["status"] == "succeeded"
    assert "stage/us-east-1/networking/vpc  FAILED" in out
    assert "not succeeded" in out


def test_pending_steps_are_warnings_and_the_run_proceeds(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    code, out = run_main(workspace, state, accounts=["dev"])
    assert code == 0
    assert "warning: dev: step not done: Data store passwords (pending) — running anyway" in out


def test_real_mode_without_terragrunt_stops_with_the_install_hint(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live, Mode.REAL)
    code, out = run_main(workspace, state)
    assert code == 2
    assert "terragrunt is not installed" in out and "terragrunt.gruntwork.io" in out
    assert not workspace.runs_dir.exists()


def test_unknown_account_is_refused(tiny_live: Path, make_workspace: MakeWs, no_tg: None) -> None:
    workspace, state = make_workspace(tiny_live)
    code, out = run_main(workspace, state, accounts=["qa"])
    assert code == 2 and "no account named qa" in out


def _wait(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_resume_after_the_app_is_killed_mid_run(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.05")
    workspace, _state = make_workspace(tiny_live)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.run.line_driver", str(workspace.directory)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    orphans: list[int] = []
    try:

        def shared_services_running() -> bool:
            record = store.load_run(workspace.runs_dir)
            if record is None or "shared-services" not in record.accounts:
                return False
            units = record.accounts["shared-services"].units.values()
            return any(u.status in (UnitStatus.INTERRUPTED, UnitStatus.SUCCEEDED) for u in units)

        _wait(shared_services_running)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        record = store.load_run(workspace.runs_dir)
        assert record is not None and not record.complete
        orphans = record.running_pids()  # terragrunt of the dead run goes on in its own process group
        assert orphans, "the crashed run's terragrunt should be reported as still running"
        security = record.accounts["security"]
        assert security.finished and all(u.status is UnitStatus.SUCCEEDED for u in security.units.values())
        shared = record.accounts["shared-services"].units.values()
        assert any(u.status is UnitStatus.INTERRUPTED for u in shared)
        assert all(u.status is UnitStatus.PENDING for u in record.accounts["prod"].units.values())
        report = record.report()
        assert {u["status"] for u in report["accounts"][-1]["units"]} == {"skipped"}
        targets = record.not_succeeded()
        assert set(targets) == {"shared-services", "dev", "stage", "prod"}
    finally:
        if process.poll() is None:
            process.kill()
        for pgid in orphans:
            os.killpg(pgid, signal.SIGKILL)

    # "rerun what did not succeed"
    monkeypatch.setenv("FAKE_TG_SLOW", "0")
    out = io.StringIO()
    code = asyncio.run(
        line_mode.run_line_mode(
            workspace=workspace,
            state=workspace.load(),
            accounts=list(targets),
            report=None,
            env_for_account=None,
            stdout=out,
            only_units=targets,
        )
    )
    assert code == 0, out.getvalue()
    again = store.load_run(workspace.runs_dir)
    assert again is not None and again.complete and again.not_succeeded() == {}
    assert "security" not in again.accounts


def test_ctrl_c_cancels_and_exits_130(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.2")
    monkeypatch.setenv("FAKE_TG_CHILD", "1")
    workspace, _state = make_workspace(tiny_live)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.run.line_driver", str(workspace.directory), "dev"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait(lambda: any(fake_tg.glob("child-*.pid")))
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out
    assert "cancel requested" in out
    (pid_file,) = list(fake_tg.glob("child-*.pid"))
    from refarch_tui.run.terragrunt_exec import group_members

    assert group_members(int(pid_file.name.split("-")[1].split(".")[0])) == []
    record = store.load_run(workspace.runs_dir)
    assert record is not None and record.complete
    assert {u.status for u in record.accounts["dev"].units.values()} <= {
        UnitStatus.CANCELLED,
        UnitStatus.SKIPPED,
    }
