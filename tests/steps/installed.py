"""The installed `refarch-tui` console script, run the way an operator's script runs it (no terminal)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = Path(sys.executable).with_name("refarch-tui")


def cli(*argv: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """`path` replaces PATH (e.g. a fake `docker` first, or none at all); the rest of the test's environment
    (isolated HOME, XDG dirs, keyring session) is passed through."""
    env = dict(os.environ) if path is None else dict(os.environ, PATH=path)
    return subprocess.run(
        [str(CLI), *argv], capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL
    )
