"""Crash-safe file replacement (a reader sees either the old bytes or the new, never a mix), and private
folders and append-only files for what may hold operator data (workspaces, runs, logs)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(directory: Path) -> Path:
    """Create `directory` and its missing parents for the owner only; an existing one is tightened to 0700."""
    directory = Path(directory)
    missing = []
    ancestor = directory
    while not ancestor.exists() and ancestor != ancestor.parent:
        missing.append(ancestor)
        ancestor = ancestor.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR_MODE)
    if stat.S_IMODE(directory.stat().st_mode) != PRIVATE_DIR_MODE:
        os.chmod(directory, PRIVATE_DIR_MODE)
    return directory


def open_private_append(path: Path) -> int:
    """An O_APPEND descriptor on `path` in a private folder; the file is created, or tightened, to 0600."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_FILE_MODE:
            os.fchmod(fd, PRIVATE_FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write to a temp file in the same directory, fsync it, rename over `path`, fsync the directory."""
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        elif path.exists():
            os.chmod(tmp_name, path.stat().st_mode & 0o7777)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_dir(directory)


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    # newline="" semantics: the caller's line endings are kept byte for byte.
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)
