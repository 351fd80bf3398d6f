"""Ordinary file-system conditions get a sentence with the path and what to do, and exit 74 — never 70."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from refarch_tui import cli, oserrors
from refarch_tui.state import Account, Workspace
from refarch_tui.workspaces import create_workspace

ACCOUNTS = [Account("security", "104983213567"), Account("dev", "368294012756")]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err


def read_only(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Writes under `directory` fail as on a read-only mount (root ignores permission bits, so simulate)."""
    inside = str(directory)

    def guard(name: str, real: Any, *, write_flags: bool = False) -> Any:
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            target = os.fspath(path) if not isinstance(path, int) else ""
            flags = args[0] if args else kwargs.get("flags", 0)
            writes = not write_flags or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            if target.startswith(inside) and writes:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), target)
            return real(path, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(os, "open", guard("open", os.open, write_flags=True))
    monkeypatch.setattr(os, "mkdir", guard("mkdir", os.mkdir))
    monkeypatch.setattr(os, "unlink", guard("unlink", os.unlink))
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("dir", "")).startswith(inside):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(kwargs["dir"]))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    workspace, _ = create_workspace(tmp_path / "live", ACCOUNTS, ["us-east-1"], directory=tmp_path / "ws")
    return workspace


@pytest.mark.parametrize("command", [["apply", "--no-tui"], []])
def test_a_read_only_workspace(
    command: list[str],
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    read_only(monkeypatch, workspace.directory)
    code, err = run_cli(capsys, "--workspace", str(workspace.directory), *command)
    assert code == oserrors.EXIT_FILE_PROBLEM == 74
    assert str(workspace.directory) in err and "read-only file system" in err
    assert "unexpected error" not in err


def test_init_on_a_read_only_disk(
    tmp_path: Path, sample_live: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_only(monkeypatch, tmp_path / "mnt")
    code, err = run_cli(capsys, "init", str(sample_live), "--workspace", str(tmp_path / "mnt" / "ws"))
    assert code == 74
    assert str(tmp_path / "mnt") in err and "read-only" in err and "unexpected error" not in err


def test_a_full_disk(tmp_path: Path, sample_live: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "journal.jsonl").symlink_to("/dev/full")  # every write there fails with ENOSPC, as on a full disk
    code, err = run_cli(capsys, "init", str(sample_live), "--workspace", str(ws))
    assert code == 74
    assert "no space left" in err and str(ws) in err and "unexpected error" not in err


@pytest.mark.parametrize("command", [["apply", "--no-tui"], ["sandbox"], []])
def test_a_lock_path_that_is_a_directory(
    command: list[str],
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if command == ["sandbox"]:
        from refarch_tui import sandbox

        monkeypatch.setattr(cli, "terminal_problem", lambda: None)
        target, _ = sandbox.open_sandbox(start_emulator=False)
    else:
        target = workspace
    target.lock_path.mkdir()
    (target.lock_path / "something").write_text("kept")
    argv = command if command == ["sandbox"] else ["--workspace", str(target.directory), *command]
    code, err = run_cli(capsys, *argv)
    assert code == 74
    assert str(target.lock_path) in err and "is a folder where refarch-tui expects a file" in err
    assert (target.lock_path / "something").read_text() == "kept"
