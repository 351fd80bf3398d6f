"""Fixtures of the sandbox tests: workspaces whose emulators are always stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from refarch_tui.aws import emulator


def kill_recorded(workspace: Path, seen: set[int]) -> None:
    """Stop the workspace's emulator and SIGKILL every emulator PID the test saw."""
    with contextlib.suppress(Exception):
        emulator.stop(workspace, timeout=3.0)
    for pid in seen:
        if emulator.pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


class EmulatorTracker:
    """Remembers every emulator PID recorded for the tracked workspaces, for teardown."""

    def __init__(self) -> None:
        self.workspaces: list[Path] = []
        self.pids: set[int] = set()

    def track(self, workspace: Path) -> Path:
        self.workspaces.append(workspace)
        return workspace

    def note(self) -> None:
        for workspace in self.workspaces:
            info = emulator.read_record(workspace)
            if info is not None:
                self.pids.add(info.pid)


@pytest.fixture
def emulators() -> Iterator[EmulatorTracker]:
    tracker = EmulatorTracker()
    yield tracker
    tracker.note()
    for workspace in tracker.workspaces:
        kill_recorded(workspace, tracker.pids)


@pytest.fixture
def workspace(tmp_path: Path, emulators: EmulatorTracker) -> Path:
    return emulators.track(tmp_path / "workspace")
