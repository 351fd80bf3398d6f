"""Ordinary file-system conditions — a full or read-only disk, no permission, a folder where a file belongs —
told as one sentence with the path and what to do, and one documented exit code; never "unexpected error"."""

from __future__ import annotations

import errno
from pathlib import Path

EXIT_FILE_PROBLEM = 74  # sysexits' EX_IOERR: a file or folder could not be read or written

_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}
ORDINARY = frozenset(
    {
        *_FULL,
        *_READ_ONLY,
        *_DENIED,
        errno.EISDIR,
        errno.ENOTDIR,
        errno.ENOENT,
        errno.ELOOP,
        errno.ENAMETOOLONG,
    }
)


def is_ordinary(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in ORDINARY


def explain(exc: OSError, *, near: Path | None = None) -> str:
    """The sentence for `exc`; `near` names a place when the error itself carries no path (e.g. os.write)."""
    path = exc.filename if exc.filename is not None else near
    where = f"{path}" if path is not None else "a file refarch-tui needed"
    code = exc.errno
    if code in _FULL:
        return (
            f"no space left on the disk that holds {where}. Free some space there, then run the command "
            "again (state.json is replaced atomically, so it still holds the last complete state)."
        )
    if code in _READ_ONLY:
        return (
            f"{where} is on a read-only file system. Make it writable, or use a workspace on a writable disk "
            "(--workspace DIR)."
        )
    if code in _DENIED:
        return (
            f"permission denied for {where}. Give your user read and write access to it (or to its folder), "
            "or use another workspace (--workspace DIR)."
        )
    if code == errno.EISDIR:
        return (
            f"{where} is a folder where refarch-tui expects a file. Move it out of the way, then run again."
        )
    if code == errno.ENOTDIR:
        return (
            f"{where}: part of this path is a file where a folder is expected. Move that file away, then run "
            "again."
        )
    if code == errno.ENOENT:
        return f"{where} does not exist (any more). Check the path, then run again."
    return f"cannot use {where}: {exc.strerror or exc}."
