"""The product as a person meets it: `refarch-tui sandbox` in a real terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest

from refarch_tui import paths
from tests.e2e.tmux import TmuxSession


@pytest.fixture
def sandbox_cleanup() -> Iterator[None]:
    yield
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "refarch_tui", "sandbox", "--stop"], capture_output=True, timeout=60
    )


def test_sandbox_opens_home_labelled_sandbox_and_resumes(sandbox_cleanup: None) -> None:
    session = TmuxSession([sys.executable, "-m", "refarch_tui", "sandbox"])
    try:
        session.wait_for("Build AMIs")
        for text in ("SANDBOX", "shared-services", "prod", "Run Terragrunt"):
            session.wait_for(text)
        session.send("enter")
        screen = session.wait_for("NOT BUILT YET")
        assert "SANDBOX" in screen
        session.send("escape")
        session.wait_for("Configure state backends")  # only the home screen lists every step
        session.send("q")
        session.wait_exit()
    finally:
        session.close()

    record = json.loads((paths.sandbox_workspace_dir() / "emulator.json").read_text())
    first_pid = record["pid"]

    # reopening resumes the same workspace and the same emulator
    session = TmuxSession([sys.executable, "-m", "refarch_tui"])
    try:
        screen = session.wait_for("Build AMIs")
        assert "SANDBOX" in screen
        session.send("q")
        session.wait_exit()
    finally:
        session.close()
    assert json.loads((paths.sandbox_workspace_dir() / "emulator.json").read_text())["pid"] == first_pid
