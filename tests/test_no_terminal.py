"""Without a terminal the TUI refuses at once (exit 2) and names the line-mode commands to use instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui.state import Account, Mode
from refarch_tui.workspaces import create_workspace


def run_without_terminal(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refarch_tui", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("extra", [[], ["apply"]])
def test_the_tui_refuses_without_a_terminal(extra: list[str], tmp_path: Path) -> None:
    workspace, _ = create_workspace(
        tmp_path / "live", [Account("security", "104983213567")], ["us-east-1"], mode=Mode.REAL,
        directory=tmp_path / "ws",
    )  # fmt: skip
    result = run_without_terminal("--workspace", str(workspace.directory), *extra)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # not one escape code
    assert "needs a terminal" in result.stderr
    assert "refarch-tui apply --no-tui" in result.stderr and "refarch-tui status" in result.stderr
    assert not workspace.lock_path.exists()


def test_the_sandbox_refuses_without_a_terminal_before_creating_anything() -> None:
    from refarch_tui import sandbox

    result = run_without_terminal("sandbox")
    assert result.returncode == 2, result.stderr
    assert "needs a terminal" in result.stderr
    assert not sandbox.workspace_dir().exists()
