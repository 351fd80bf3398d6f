"""A `terragrunt` in front of the fake one (tests/run/bin) that notes, per call, its argv and what the
caller's snippet reads from its environment, then runs the fake terragrunt unchanged."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

FAKE = Path(__file__).resolve().parents[1] / "run" / "bin" / "terragrunt"


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, note_code: str) -> Path:
    """`note_code`: Python lines (with `os`, `hashlib` imported) that set the dict `note`; returns the folder
    the notes land in, one JSON file per call."""
    seen = tmp_path / "seen"
    seen.mkdir()
    bin_dir = tmp_path / "spy-bin"
    bin_dir.mkdir()
    (bin_dir / "terragrunt").write_text(
        f"#!{sys.executable}\n"
        "import hashlib, json, os, sys\n"
        f"{note_code}\n"
        "note['argv'] = sys.argv[1:]\n"
        f"with open({str(seen)!r} + f'/{{os.getpid()}}.json', 'w') as f:\n"
        "    json.dump(note, f)\n"
        f"os.execv({str(FAKE)!r}, [{str(FAKE)!r}, *sys.argv[1:]])\n"
    )
    (bin_dir / "terragrunt").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{FAKE.parent}:/usr/bin:/bin")
    return seen


def notes(seen: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in seen.glob("*.json")]


def account_of(argv: list[str]) -> str:
    """The account folder a `run --all` call works in (both CLI generations' flag names)."""
    for i, arg in enumerate(argv):
        if arg in ("--working-dir", "--terragrunt-working-dir"):
            return Path(argv[i + 1]).name
        if arg.startswith(("--working-dir=", "--terragrunt-working-dir=")):
            return Path(arg.split("=", 1)[1]).name
    return ""
