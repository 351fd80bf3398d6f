"""`make sandbox` installs the project only when something that goes into the wheel changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


PROBE_TESTS = """
import os
from pathlib import Path

import pytest


def _ran(name):
    with Path(os.environ["PROBE_LOG"]).open("a") as log:
        log.write(name + "\\n")


def test_quick():
    _ran("quick")


@pytest.mark.slow
def test_marked_slow():
    _ran("slow")
"""

# pip is recorded, not run; everything else (pytest) goes to the interpreter running this test
FORWARDING_PYTHON = """#!/bin/sh
case "$*" in *pip*) echo "$*" >> "$(dirname "$0")/../../pip-calls.log"; exit 0;; esac
exec {python} "$@"
"""


def _tree_with_a_slow_and_a_quick_test(tmp_path: Path) -> Path:
    """The real Makefile over stand-ins: tools that succeed, a keyring wrapper that just runs its command."""
    tree = tmp_path / "project"
    (tree / "tests").mkdir(parents=True)
    shutil.copy(REPO / "Makefile", tree / "Makefile")
    (tree / "pyproject.toml").write_text('[tool.pytest.ini_options]\nmarkers = ["slow: slow"]\n')
    (tree / "tests" / "test_probe.py").write_text(PROBE_TESTS)
    (tree / "tests" / "with-keyring.sh").write_text('exec "$@"\n')
    (tree / ".ci").mkdir()
    (tree / ".ci" / "system-deps.sh").write_text("exit 0\n")
    bin_dir = tree / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(FORWARDING_PYTHON.format(python=sys.executable))
    for tool in ("ruff", "lint-imports", "mypy"):
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
    for program in bin_dir.iterdir():
        program.chmod(0o755)
    return tree


def _tests_run_by(tree: Path, target: str) -> list[str]:
    log = tree / "probe.log"
    log.unlink(missing_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "LANG": "C.UTF-8", "PROBE_LOG": str(log)}
    subprocess.run(["make", "-s", target], cwd=tree, env=env, check=True, capture_output=True, timeout=120)
    return sorted(log.read_text().split())


def test_test_fast_deselects_the_slow_tests_and_test_runs_them_all(tmp_path: Path) -> None:
    tree = _tree_with_a_slow_and_a_quick_test(tmp_path)
    assert _tests_run_by(tree, "test-fast") == ["quick"]
    assert _tests_run_by(tree, "test") == ["quick", "slow"]
