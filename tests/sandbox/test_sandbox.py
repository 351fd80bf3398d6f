"""The sandbox workspace: created once from the bundled sample, reused, reset, with its emulator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from refarch_tui import paths, sandbox
from refarch_tui.aws import emulator
from refarch_tui.state import Mode, Status, Workspace, WorkspaceLocked, last_workspace
from tests.sandbox.conftest import EmulatorTracker

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox_dir(emulators: EmulatorTracker) -> Path:
    return emulators.track(paths.sandbox_workspace_dir())


@pytest.mark.slow
def test_open_twice_reuses_workspace_and_emulator(sandbox_dir: Path, emulators: EmulatorTracker) -> None:
    workspace, state = sandbox.open_sandbox()
    emulators.note()
    assert workspace.directory == sandbox_dir.resolve()
    assert state.mode is Mode.SANDBOX
    assert state.account_names == ["security", "shared-services", "dev", "stage", "prod"]
    assert state.account("dev").id == "368294012756"
    assert state.regions == ["us-east-1", "us-west-2"]
    live = sandbox_dir / "live"
    assert Path(state.live_dir) == live.resolve()
    assert (live / "dev" / "account.hcl").is_file()
    assert (sandbox_dir / "modules" / "services/ecs-cluster/packer/ecs-node.json").is_file()
    assert state.settings["modules_dir"] == str((sandbox_dir / "modules").resolve())
    assert last_workspace() == sandbox_dir.resolve()
    first = emulator.read_record(sandbox_dir)
    assert first is not None

    # progress made in the first session survives the second open
    workspace.update_step(state, "backends", "dev", Status.DONE, facts={"bucket": "acme-dev-state"})
    (live / "dev" / "marker.txt").write_text("kept\n")

    workspace2, state2 = sandbox.open_sandbox()
    emulators.note()
    assert workspace2.directory == workspace.directory
    assert state2.record("backends", "dev").status is Status.DONE
    assert state2.record("backends", "dev").facts == {"bucket": "acme-dev-state"}
    assert (live / "dev" / "marker.txt").read_text() == "kept\n"
    second = emulator.read_record(sandbox_dir)
    assert second is not None and second.pid == first.pid

    actions = [(e["action"], e["outcome"]) for e in Workspace(sandbox_dir).read_journal()]
    assert ("sandbox.create", "done") in actions
    assert actions.count(("sandbox.emulator", "started")) == 1
    assert ("sandbox.emulator", "reused") in actions

    # the emulator was started, not waited for; it becomes ready in the background
    ready = emulator.wait_ready(sandbox_dir)
    assert ready.pid == first.pid and ready.accounts["dev"] == "368294012756"

    env = sandbox.emulator_env(sandbox_dir)
    assert env["AWS_ENDPOINT_URL"] == ready.endpoint
    assert env["AWS_ACCESS_KEY_ID"] == emulator.SANDBOX_ACCESS_KEY_ID
    assert env["AWS_SECRET_ACCESS_KEY"] == emulator.SANDBOX_SECRET_ACCESS_KEY
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"

    message = sandbox.stop_sandbox()
    assert f"PID {first.pid}" in message and str(sandbox_dir) in message
    assert emulator.status(sandbox_dir) is None
    assert sandbox.stop_sandbox() == "The sandbox AWS emulator is not running."
    with pytest.raises(sandbox.SandboxError, match="refarch-tui sandbox"):
        sandbox.emulator_env(sandbox_dir)
    assert Workspace(sandbox_dir).exists()  # stopping keeps the workspace


def test_live_copy_is_writable_and_separate(sandbox_dir: Path, emulators: EmulatorTracker) -> None:
    _, state = sandbox.open_sandbox()
    emulators.note()
    unit = Path(state.live_dir) / "dev/us-east-1/services/ecs-cluster/terragrunt.hcl"
    original = (REPO / "assets/sample-live/dev/us-east-1/services/ecs-cluster/terragrunt.hcl").read_text()
    assert unit.read_text() == original
    unit.write_text(original.replace("ami-REPLACE_ME", "ami-0123456789abcdef0"))
    assert "ami-0123456789abcdef0" in unit.read_text()
    assert (
        "ami-0123456789abcdef0"
        not in (REPO / "assets/sample-live/dev/us-east-1/services/ecs-cluster/terragrunt.hcl").read_text()
    )
    assert not Path(state.live_dir).resolve().is_relative_to(REPO.resolve())


def test_read_only_assets_give_a_writable_copy(
    sandbox_dir: Path, emulators: EmulatorTracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    assets = tmp_path / "assets"
    shutil.copytree(REPO / "assets" / "sample-live", assets / "sample-live")
    shutil.copytree(REPO / "assets" / "sample-modules", assets / "sample-modules")
    for base, dirs, files in os.walk(assets):
        for name in files:
            (Path(base) / name).chmod(0o444)
        for name in dirs:
            (Path(base) / name).chmod(0o555)
    monkeypatch.setenv("REFARCH_TUI_ASSETS", str(assets))
    try:
        _, state = sandbox.open_sandbox()
        emulators.note()
    finally:
        for base, dirs, _files in os.walk(assets):
            for name in dirs:
                (Path(base) / name).chmod(0o755)
    unit = Path(state.live_dir) / "prod/us-east-1/mgmt/openvpn-server/terragrunt.hcl"
    assert unit.stat().st_mode & 0o200
    assert unit.parent.stat().st_mode & 0o200


def test_reset_gives_a_fresh_copy_and_a_new_emulator(sandbox_dir: Path, emulators: EmulatorTracker) -> None:
    workspace, state = sandbox.open_sandbox()
    emulators.note()
    first = emulator.read_record(sandbox_dir)
    assert first is not None
    workspace.update_step(state, "backends", "dev", Status.DONE)
    unit = Path(state.live_dir) / "dev/us-east-1/networking/vpc-app/terragrunt.hcl"
    unit.write_text("# edited\n")

    _, fresh = sandbox.open_sandbox(reset=True)
    emulators.note()
    assert fresh.record("backends", "dev").status is Status.PENDING
    assert unit.read_text() != "# edited\n"
    assert not emulator.pid_alive(first.pid)
    second = emulator.read_record(sandbox_dir)
    assert second is not None and second.pid != first.pid
    actions = [e["action"] for e in Workspace(sandbox_dir).read_journal()]
    assert actions == ["sandbox.create", "sandbox.emulator"]


def test_reset_refuses_a_workspace_open_in_another_process(
    sandbox_dir: Path, emulators: EmulatorTracker
) -> None:
    sandbox.open_sandbox()
    emulators.note()
    # a lock held by another live process (our parent stands in for a second refarch-tui)
    (sandbox_dir / "state.lock").write_text(json.dumps({"pid": os.getppid(), "host": "x", "since": "now"}))
    with pytest.raises(WorkspaceLocked):
        sandbox.open_sandbox(reset=True)
    assert Workspace(sandbox_dir).exists()


def test_reset_refuses_a_non_sandbox_state(sandbox_dir: Path) -> None:
    sandbox_dir.mkdir(parents=True)
    (sandbox_dir / "state.json").write_text(
        json.dumps({"schema_version": 1, "live_dir": "/x", "mode": "real", "accounts": [], "regions": []})
    )
    with pytest.raises(sandbox.SandboxError, match="not a sandbox"):
        sandbox.open_sandbox(reset=True)
    with pytest.raises(sandbox.SandboxError, match="not a sandbox"):
        sandbox.open_sandbox()
    assert (sandbox_dir / "state.json").exists()
