"""A sandbox copy without state.json is the operator's: kept (adopted) or refused, never deleted; every
change to the sandbox folders happens under the workspace lock (issue 9 item 4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui import paths, sandbox
from refarch_tui.state import Workspace, WorkspaceLocked
from tests.sandbox.conftest import EmulatorTracker

REPO = Path(__file__).resolve().parents[2]
UNIT = "dev/us-east-1/networking/vpc-app/terragrunt.hcl"


@pytest.fixture
def sandbox_dir(emulators: EmulatorTracker) -> Path:
    return emulators.track(paths.sandbox_workspace_dir())


def _first_copy_without_state(sandbox_dir: Path) -> Path:
    sandbox.open_sandbox(start_emulator=False)
    (sandbox_dir / "state.json").unlink()
    return sandbox_dir / "live" / UNIT


def test_an_edited_copy_without_state_is_adopted_not_replaced(sandbox_dir: Path) -> None:
    unit = _first_copy_without_state(sandbox_dir)
    edited = unit.read_text() + "\n# the operator's own edit\n"
    unit.write_text(edited)
    (sandbox_dir / "live" / "NOTES.md").write_text("mine\n")

    workspace, state = sandbox.open_sandbox(start_emulator=False)

    assert unit.read_text() == edited
    assert (sandbox_dir / "live" / "NOTES.md").read_text() == "mine\n"
    assert workspace.exists() and state.accounts
    adopt = [e for e in workspace.read_journal() if e["action"] == "sandbox.adopt"]
    assert adopt and "kept the existing live and modules" in adopt[0]["detail"]


def test_a_copy_that_cannot_be_adopted_is_refused_and_left_alone(sandbox_dir: Path) -> None:
    unit = _first_copy_without_state(sandbox_dir)
    accounts = sandbox_dir / "live" / "accounts.json"
    accounts.write_text("{ not json")
    before = {p: p.read_bytes() for p in (sandbox_dir / "live").rglob("*") if p.is_file()}

    with pytest.raises(sandbox.SandboxError, match=r"left as it is.*sandbox --reset"):
        sandbox.open_sandbox(start_emulator=False)

    after = {p: p.read_bytes() for p in (sandbox_dir / "live").rglob("*") if p.is_file()}
    assert after == before and unit.exists()
    assert not (sandbox_dir / "state.json").exists()


def test_a_missing_modules_copy_is_restored_and_live_kept(sandbox_dir: Path) -> None:
    unit = _first_copy_without_state(sandbox_dir)
    unit.write_text(unit.read_text() + "# kept\n")
    import shutil

    shutil.rmtree(sandbox_dir / "modules")
    sandbox.open_sandbox(start_emulator=False)
    assert unit.read_text().endswith("# kept\n")
    assert (sandbox_dir / "modules").is_dir()


def test_a_half_copied_folder_is_never_taken_for_a_copy(sandbox_dir: Path) -> None:
    sandbox_dir.mkdir(parents=True)
    partial = sandbox_dir / f"{sandbox.PARTIAL_PREFIX}live-4242"
    (partial / "dev").mkdir(parents=True)  # a start killed mid-copy

    sandbox.open_sandbox(start_emulator=False)

    assert not partial.exists()
    assert (sandbox_dir / "live" / UNIT).is_file()
    assert not [e for e in Workspace(sandbox_dir).read_journal() if e["action"] == "sandbox.adopt"]


HOLD = """
import sys, time
from pathlib import Path
from refarch_tui.state import Workspace
Workspace(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_first_start_while_another_process_holds_the_lock_changes_nothing(sandbox_dir: Path) -> None:
    unit = _first_copy_without_state(sandbox_dir)
    unit.write_text("# the operator's\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(sandbox_dir)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceLocked):
            sandbox.open_sandbox(start_emulator=False)
        with pytest.raises(WorkspaceLocked):
            sandbox.open_sandbox(reset=True, start_emulator=False)
        assert unit.read_text() == "# the operator's\n"
        assert not (sandbox_dir / "state.json").exists()
    finally:
        holder.kill()
        holder.wait()
