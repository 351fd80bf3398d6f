"""Issue 9 items 7 and 8: exactly one holder of the workspace lock; journal lines never torn or lost."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui import state as state_module
from refarch_tui.state import Workspace

_CHILD = """
import sys, time
from refarch_tui.state import Workspace, WorkspaceLocked
ws = Workspace(sys.argv[1])
sys.stdin.readline()  # start together
try:
    ws.acquire()
except WorkspaceLocked:
    print("locked", flush=True)
else:
    print("held", flush=True)
    sys.stdin.readline()  # hold until every contender has answered
    ws.release()
"""


def _trial(directory: Path, dead_pid: int | None) -> int:
    if dead_pid is not None:
        (directory / state_module.LOCK_FILE).write_text(json.dumps({"pid": dead_pid}))
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    answers = []
    for proc in procs:
        assert proc.stdout is not None
        answers.append(proc.stdout.readline().strip())
    for proc in procs:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a refused contender has exited already
            proc.stdin.write("done\n")
            proc.stdin.close()
        proc.wait(timeout=30)
    return answers.count("held")


def _dead_pid() -> int:
    proc = multiprocessing.get_context("spawn").Process(target=int)
    proc.start()
    proc.join()
    assert proc.pid is not None
    return proc.pid


@pytest.mark.slow
@pytest.mark.parametrize("stale", [False, True], ids=["no-lock", "dead-pid-lock"])
def test_eight_processes_exactly_one_holder_every_trial(tmp_path: Path, stale: bool) -> None:
    directory = tmp_path / "ws"
    directory.mkdir()
    dead = _dead_pid() if stale else None
    holders = [_trial(directory, dead) for _ in range(50)]
    assert holders == [1] * 50


def test_second_acquire_from_another_process_sees_the_holder(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.acquire()
    try:
        code = (
            "import sys\nfrom refarch_tui.state import Workspace, WorkspaceLocked\n"
            "try:\n    Workspace(sys.argv[1]).acquire()\nexcept WorkspaceLocked as e:\n"
            "    print(e.pid); sys.exit(3)\n"
        )
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [sys.executable, "-c", code, str(ws.directory)], capture_output=True, text=True, env=env
        )
        assert done.returncode == 3 and done.stdout.strip() == str(os.getpid())
    finally:
        ws.release()
    assert not ws.lock_path.exists()


def test_partial_write_on_a_full_disk_fails_loudly_and_the_next_entry_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.journal("first", outcome="ok")
    real_write = os.write
    calls = {"n": 0}

    def full_disk(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:10])  # part of the line fits
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state_module.os, "write", full_disk)
    with pytest.raises(OSError) as caught:
        ws.journal("second", outcome="ok", detail="x" * 100)
    assert "No space left" in str(caught.value)
    monkeypatch.setattr(state_module.os, "write", real_write)

    ws.journal("third", outcome="ok")  # space freed
    entries = ws.read_journal()
    actions = [entry["action"] for entry in entries]
    assert actions == ["first", "journal-torn-line", "third"]
    assert str(ws.journal_path) in entries[1]["detail"]


def test_a_write_that_makes_no_progress_names_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(tmp_path / "ws")
    monkeypatch.setattr(state_module.os, "write", lambda fd, data: 0)
    with pytest.raises(OSError, match=str(ws.journal_path)):
        ws.journal("x", outcome="ok")


def test_a_torn_trailing_line_is_reported_not_dropped(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.journal("kept", outcome="ok")
    with ws.journal_path.open("a") as handle:
        handle.write('{"action": "half')
    entries = ws.read_journal()
    assert [entry["action"] for entry in entries] == ["kept", "journal-torn-line"]
    assert entries[1]["outcome"] == "unreadable"
