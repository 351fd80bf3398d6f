"""Files and folders that may hold operator data are the owner's only: folders 0700, files 0600."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from refarch_tui import logsetup
from refarch_tui.state import Account, Mode, Workspace, WorkspaceState


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_workspace_is_private(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "workspaces" / "ws")
    workspace.save(
        WorkspaceState(
            live_dir=str(tmp_path), mode=Mode.SANDBOX, accounts=[Account("dev")], regions=["us-east-1"]
        )
    )
    workspace.journal("test", outcome="done")
    with workspace.locked():
        assert mode(workspace.lock_path) == 0o600
    assert mode(workspace.directory) == 0o700
    assert mode(workspace.directory.parent) == 0o700  # created for it, so private too
    assert mode(workspace.state_path) == 0o600 and mode(workspace.journal_path) == 0o600


def test_an_existing_open_workspace_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "ws"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    journal = directory / "journal.jsonl"
    journal.write_text("")
    journal.chmod(0o644)
    workspace = Workspace(directory)
    workspace.journal("test", outcome="done")
    assert mode(directory) == 0o700 and mode(journal) == 0o600


def test_the_log_file_is_private(tmp_path: Path) -> None:
    path = logsetup.log_file()
    path.parent.mkdir(parents=True)
    path.write_text("from an older version\n")
    path.chmod(0o644)
    path.parent.chmod(0o755)
    try:
        assert logsetup.configure() == path
        logging.getLogger("refarch_tui.test").warning("hello")
    finally:
        for handler in list(logging.getLogger().handlers):
            if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
                logging.getLogger().removeHandler(handler)
                handler.close()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert "hello" in path.read_text()
