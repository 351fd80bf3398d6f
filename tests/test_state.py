from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui import secrets
from refarch_tui.state import (
    SCHEMA_VERSION,
    Account,
    CorruptState,
    Mode,
    NewerSchema,
    SecretInState,
    Status,
    Workspace,
    WorkspaceLocked,
    WorkspaceState,
)

ACCOUNTS = [Account("security", "104983213567"), Account("dev", "368294012756")]


def new_state() -> WorkspaceState:
    return WorkspaceState(live_dir="/live", mode=Mode.SANDBOX, accounts=list(ACCOUNTS), regions=["us-east-1"])


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    state = new_state()
    ws.save(state)
    ws.update_step(state, "backends", "dev", Status.DONE, facts={"bucket": "acme-dev-state"}, message="ok")
    loaded = ws.load()
    assert loaded.to_json() == state.to_json()
    assert loaded.record("backends", "dev").facts == {"bucket": "acme-dev-state"}
    assert json.loads(ws.state_path.read_text())["schema_version"] == SCHEMA_VERSION
    assert oct(ws.state_path.stat().st_mode & 0o777) == "0o600"


def test_cells_that_do_not_apply_read_as_na_and_cannot_be_set(tmp_path: Path) -> None:
    state = new_state()
    assert state.record("kms_admin", "dev").status is Status.NOT_APPLICABLE
    assert state.record("kms_admin", "security").status is Status.PENDING
    with pytest.raises(ValueError, match="does not apply"):
        Workspace(tmp_path).update_step(state, "kms_admin", "dev", Status.DONE)


def test_journal_records_every_action_in_order(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    state = new_state()
    ws.save(state)
    ws.update_step(state, "backends", "dev", Status.RUNNING)
    ws.update_step(state, "backends", "dev", Status.FAILED, message="AccessDenied")
    entries = ws.read_journal()
    assert [(e["step"], e["account"], e["outcome"]) for e in entries] == [
        ("backends", "dev", "running"),
        ("backends", "dev", "failed"),
    ]
    assert all(e["time"] for e in entries)


def test_a_torn_last_journal_line_is_reported_and_earlier_entries_kept(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.journal("a", outcome="done")
    with ws.journal_path.open("a") as handle:
        handle.write('{"action": "torn')
    assert [e["action"] for e in ws.read_journal()] == ["a", "journal-torn-line"]


def test_state_refuses_a_secret_and_journal_redacts_it(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    password = secrets.generate_password()
    state = new_state()
    state.settings["oops"] = password
    with pytest.raises(SecretInState):
        ws.save(state)
    assert not ws.state_path.exists()
    ws.journal("note", outcome="done", detail=f"password was {password}")
    assert password not in ws.journal_path.read_text()
    assert secrets.REDACTED in ws.journal_path.read_text()


def test_corrupt_state_is_refused_and_kept(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.directory.mkdir()
    ws.state_path.write_text("{ not json")
    with pytest.raises(CorruptState, match="kept"):
        ws.load()
    with pytest.raises(CorruptState):
        ws.save(new_state())
    assert ws.state_path.read_text() == "{ not json"


def test_newer_schema_is_refused_and_kept(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.directory.mkdir()
    document = new_state().to_json() | {"schema_version": SCHEMA_VERSION + 1}
    ws.state_path.write_text(json.dumps(document))
    before = ws.state_path.read_bytes()
    with pytest.raises(NewerSchema, match="newer refarch-tui"):
        ws.load()
    with pytest.raises(NewerSchema):
        ws.save(new_state())
    assert ws.state_path.read_bytes() == before


def test_lock_names_the_live_holder(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ws.directory.mkdir()
        ws.lock_path.write_text(json.dumps({"pid": holder.pid}))
        with pytest.raises(WorkspaceLocked, match=f"PID {holder.pid}") as caught:
            ws.acquire()
        assert caught.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()
    # the holder is dead now: its lock is stale and is taken over
    ws.acquire()
    assert ws.lock_holder() == os.getpid()
    ws.release()
    assert not ws.lock_path.exists()


def test_second_instance_in_another_process_is_refused(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with ws.locked():
        probe = (
            "import sys; from refarch_tui.state import Workspace, WorkspaceLocked\n"
            f"ws = Workspace({str(ws.directory)!r})\n"
            "try:\n    ws.acquire()\nexcept WorkspaceLocked as e:\n    print(e.pid); sys.exit(3)\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, result.stderr
        assert int(result.stdout) == os.getpid()


def test_schema_1_run_settings_move_from_facts_into_fields(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    document = new_state().to_json() | {"schema_version": 1}
    document["steps"] = {
        "passwords": {
            "dev": {
                "status": "done",
                "facts": {
                    "secret_env": {"TF_VAR_master_password": "passwords/dev"},
                    "run_env": {"TF_VAR_x": "1"},
                    "kept": "yes",
                },
            }
        },
        "route53": {
            "dev": {"status": "done", "facts": {"imports": [{"unit": "u", "address": "a", "id": "Z"}]}}
        },
    }
    ws.directory.mkdir(parents=True)
    ws.state_path.write_text(json.dumps(document))
    state = ws.load()
    passwords = state.record("passwords", "dev")
    assert passwords.secret_env == {"TF_VAR_master_password": "passwords/dev"}
    assert passwords.run_env == {"TF_VAR_x": "1"}
    assert passwords.facts == {"kept": "yes"}
    assert state.record("route53", "dev").imports == [{"unit": "u", "address": "a", "id": "Z"}]
    ws.save(state)
    assert json.loads(ws.state_path.read_text())["schema_version"] == SCHEMA_VERSION == 2


def test_a_single_account_workspace_does_the_security_steps_in_its_one_account() -> None:
    single = WorkspaceState(
        live_dir="/live", mode=Mode.SANDBOX, accounts=[Account("main", "111122223333")], regions=[]
    )
    assert single.security_account == "main"
    assert single.applies("kms_admin", "main")
    assert single.record("kms_admin", "main").status is Status.PENDING
    assert ("kms_admin", "main") in single.cells()
    several = new_state()
    assert several.security_account == "security"
    assert not several.applies("kms_admin", "dev")
    assert several.not_applicable_reason("kms_admin", "dev") == "lives in the security account"
