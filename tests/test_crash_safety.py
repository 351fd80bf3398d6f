"""kill -9 at random moments while the state is being saved: it always loads as the old or the new version."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

from refarch_tui.state import Account, Mode, Workspace, WorkspaceState

TRIALS = 200


def _writer(directory: Path, start: int) -> None:
    ws = Workspace(directory)
    accounts = [Account("dev", "368294012756")]
    state = WorkspaceState(live_dir="/live", mode=Mode.REAL, accounts=accounts, regions=[])
    counter = start
    while True:
        counter += 1
        # a large payload makes each write take long enough for kills to land mid-write
        state.settings = {"counter": counter, "padding": "x" * (20_000 + counter % 5000)}
        ws.save(state)


def test_state_survives_sigkill_during_saves(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    directory = tmp_path / "ws"
    ws = Workspace(directory)
    last_seen = 0
    for trial in range(TRIALS):
        pid = os.fork()
        if pid == 0:  # child: write forever until killed
            try:
                _writer(directory, last_seen)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0005, 0.02))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if not ws.state_path.exists():
            continue  # killed before the first save finished: nothing to load yet, nothing lost
        state = ws.load()  # raises if a torn file was ever visible
        counter = state.settings["counter"]
        assert counter >= last_seen, f"trial {trial}: went back from {last_seen} to {counter}"
        assert len(state.settings["padding"]) == 20_000 + counter % 5000
        last_seen = counter
    assert last_seen > 0
    json.loads(ws.state_path.read_text())
    # temp files of killed writers are cleaned up by the next instance that takes the lock
    with ws.locked():
        assert [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []
