"""The core never imports Textual (only the composition root may), and screens never talk to AWS directly."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = {"refarch_tui.app", "refarch_tui.cli", "refarch_tui.__main__"}


def core_modules() -> list[str]:
    names = []
    for path in sorted((REPO / "refarch_tui").rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if name not in COMPOSITION_ROOT:
            names.append(name)
    return names


def test_importing_every_core_module_leaves_textual_out() -> None:
    modules = core_modules()
    assert len(modules) > 8
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_core_source_mentions_textual_imports() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "refarch_tui").rglob("*.py")
        if path.relative_to(REPO / "refarch_tui").as_posix() not in ("app.py", "cli.py")
        and any(name == "textual" or name.startswith("textual.") for name in _imports(path))
    ]
    assert offenders == []


def test_screens_never_import_boto3_or_botocore() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "screens").rglob("*.py")
        if any(name.split(".")[0] in ("boto3", "botocore", "moto") for name in _imports(path))
    ]
    assert offenders == []


def test_screens_never_import_the_aws_layer() -> None:
    """Screens collect input and show results; AWS access goes through core services (identity, steps)."""
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / "screens").rglob("*.py")
        for name in sorted(_imports(path))
        if name == "refarch_tui.aws" or name.startswith("refarch_tui.aws.")
    ]
    assert offenders == []


def test_steps_never_import_textual_or_screens() -> None:
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / "refarch_tui" / "steps").rglob("*.py")
        for name in sorted(_imports(path))
        if name.split(".")[0] in ("textual", "screens")
    ]
    assert offenders == []
