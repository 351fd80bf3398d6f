from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FAKE_TERRAGRUNT_DIR = Path(__file__).resolve().parents[1] / "run" / "bin"


@pytest.fixture
def stop_sandbox_after() -> Iterator[None]:
    yield
    subprocess.run(
        [sys.executable, "-m", "refarch_tui", "sandbox", "--stop"],
        capture_output=True,
        timeout=60,
        env={**os.environ},
    )


@pytest.fixture
def fake_terragrunt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test suite's fake terragrunt first on PATH (for processes spawned from here, plain mode too);
    returns its state dir, where calls.jsonl records every invocation."""
    state = tmp_path / "fake-tg-state"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{FAKE_TERRAGRUNT_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_TG_STATE_DIR", str(state))
    monkeypatch.setenv("REFARCH_RETRY_BACKOFF", "0")
    for name in list(os.environ):
        if name.startswith("FAKE_TG_") and name != "FAKE_TG_STATE_DIR":
            monkeypatch.delenv(name)
    return state
