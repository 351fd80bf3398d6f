from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui import checklist, cli, secrets
from refarch_tui.state import Account, Mode, Status, Workspace
from refarch_tui.workspaces import create_workspace

ACCOUNTS = [
    Account("security", "104983213567"),
    Account("shared-services", "235829751430"),
    Account("dev", "368294012756"),
]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "refarch_tui", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("refarch-tui 0.")


def test_status_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace, state = create_workspace(tmp_path / "live", ACCOUNTS, ["us-east-1"], directory=tmp_path / "ws")
    password = secrets.generate_password()
    workspace.update_step(state, "backends", "dev", Status.DONE, facts={"bucket": "acme-dev-tf-state"})
    workspace.journal("passwords.generate", outcome="done", detail=f"generated {password}")
    code, out, _ = run_cli(capsys, "status", "--json", "--workspace", str(workspace.directory))
    assert code == 0
    document = json.loads(out)
    assert document["workspace"] == str(workspace.directory)
    assert document["mode"] == "real"
    assert document["accounts"] == [{"name": a.name, "id": a.id} for a in ACCOUNTS]
    cells = {(row["step"], row["account"]): row for row in document["steps"]}
    assert set(cells) == {(step, a.name) for step in checklist.STEP_IDS for a in ACCOUNTS}
    done = cells[("backends", "dev")]
    assert done["status"] == "done" and done["facts"] == {"bucket": "acme-dev-tf-state"}
    assert done["updated"].endswith("+00:00")
    assert cells[("kms_admin", "dev")]["status"] == "n/a"
    assert cells[("kms_admin", "dev")]["updated"] == state.created
    assert cells[("kms_admin", "security")]["status"] == "pending"
    assert password not in out
    for path in workspace.directory.iterdir():
        assert password not in path.read_text(errors="replace")


def test_status_defaults_to_the_last_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace, _ = create_workspace(
        tmp_path / "live", ACCOUNTS, ["us-east-1"], mode=Mode.SANDBOX, directory=tmp_path / "ws"
    )
    code, out, _ = run_cli(capsys, "status", "--json")
    assert code == 0
    assert json.loads(out)["workspace"] == str(workspace.directory)
    assert json.loads(out)["mode"] == "sandbox"


def test_status_without_any_workspace_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "status", "--json")
    assert code == 1
    assert "no workspace yet" in json.loads(out)["error"]
    assert "Traceback" not in err


def test_status_of_a_corrupt_workspace_keeps_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.directory.mkdir()
    ws.state_path.write_text("garbage")
    code, out, _ = run_cli(capsys, "status", "--json", "--workspace", str(ws.directory))
    assert code == 1
    assert "not valid JSON" in json.loads(out)["error"]
    assert ws.state_path.read_text() == "garbage"


def test_doctor_json_lists_every_tool_with_hints(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "doctor", "--json")
    document = json.loads(out)
    assert code == (1 if document["missing_required"] else 0)
    checks = {c["name"]: c for c in document["checks"]}
    assert {
        "python",
        "textual",
        "boto3",
        "packer",
        "docker",
        "terragrunt",
        "terraform/tofu",
        "keyring",
    } <= set(checks)
    assert checks["packer"]["ok"] and checks["packer"]["version"]
    assert checks["keyring"]["ok"] and "SecretService" in checks["keyring"]["detail"]
    for check in checks.values():
        if not check["ok"]:
            assert check["hint"], check
    assert document["log_file"].endswith("refarch-tui.log")


def test_a_locked_workspace_names_the_holder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace, _ = create_workspace(tmp_path / "live", ACCOUNTS, ["us-east-1"], directory=tmp_path / "ws")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        workspace.lock_path.write_text(json.dumps({"pid": holder.pid}))
        code, _, err = run_cli(capsys, "--workspace", str(workspace.directory))
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert f"PID {holder.pid}" in err


def test_graph_into_a_closed_pipe_is_quiet(sample_live: Path) -> None:
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "refarch_tui", "graph", str(sample_live), "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0
    assert result.stderr == ""
