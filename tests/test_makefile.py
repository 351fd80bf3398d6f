"""`make sandbox` installs the project only when something that goes into the wheel changed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../../pip-calls.log"
"""


def _make(tree: Path, target: str) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "LANG": "C.UTF-8"}
    subprocess.run(["make", "-s", target], cwd=tree, env=env, check=True, capture_output=True, timeout=60)


def _installs(tree: Path) -> int:
    log = tree / "pip-calls.log"
    return sum("install -q ." in line for line in log.read_text().splitlines()) if log.exists() else 0


def test_install_runs_pip_once_until_a_source_changes(tmp_path: Path) -> None:
    tree = tmp_path / "project"
    tree.mkdir()
    shutil.copy(REPO / "Makefile", tree / "Makefile")
    for name in ("pyproject.toml", "README.md"):
        (tree / name).write_text("x\n")
    for folder in ("refarch_tui", "screens", "assets"):
        (tree / folder).mkdir()
        (tree / folder / "module.py").write_text("x = 1\n")
    python = tree / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)

    _make(tree, "install")
    assert _installs(tree) == 1
    _make(tree, "install")
    assert _installs(tree) == 1  # nothing changed: no reinstall

    changed = tree / "screens" / "module.py"
    changed.write_text("x = 2\n")
    later = (tree / ".venv" / ".installed").stat().st_mtime + 10  # clearly newer than the stamp
    os.utime(changed, (later, later))
    _make(tree, "install")
    assert _installs(tree) == 2
