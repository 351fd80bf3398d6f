"""The LALR tables of python-hcl2's grammar: built when the wheel is built, never on a user's first command.

Building the tables takes seconds; loading them takes milliseconds. `hatch_build.py` calls `build_tables`
while the wheel is built (with the lark and python-hcl2 that the install resolves) and the wheel ships them in
`refarch_tui/live/_tables/`. Each file starts with one line naming what the tables were built from (lark's
version, a hash of the grammar text, Python's version); `open_parser` loads a shipped file only when that line
matches what is installed, and otherwise builds the tables once into the user's cache, as lark does by itself.

This module imports nothing of refarch_tui: the build hook loads it by file path, before the package exists.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SHIPPED_DIR = Path(__file__).with_name("_tables")
FORMAT = 1


def table_name(positions: bool) -> str:
    return "hcl2-grammar-pos.tables" if positions else "hcl2-grammar-nopos.tables"


def _grammar_file() -> Path:
    import hcl2.parser

    return Path(hcl2.parser.__file__).with_name("hcl2.lark")


def _stamp(positions: bool) -> bytes:
    """What the tables depend on, as the first line of a tables file."""
    import lark

    grammar = hashlib.sha256(_grammar_file().read_bytes()).hexdigest()
    described = {
        "format": FORMAT,
        "lark": lark.__version__,
        "grammar": grammar,
        "python": list(sys.version_info[:2]),
        "positions": positions,
    }
    return json.dumps(described, sort_keys=True).encode() + b"\n"


def _build(cache: str | bool, positions: bool) -> Any:
    from hcl2.postlexer import PostLexer
    from lark import Lark

    return Lark.open(
        str(_grammar_file()), parser="lalr", cache=cache, propagate_positions=positions, postlex=PostLexer()
    )


def build_tables(out_dir: Path) -> list[Path]:
    """Build both parsers' tables into `out_dir` (the build hook's job)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for positions in (False, True):
        target = out_dir / table_name(positions)
        parser = _build(False, positions)
        with open(target, "wb") as handle:
            handle.write(_stamp(positions))
            parser.save(handle)
        built.append(target)
    return built


def load_shipped(positions: bool, shipped_dir: Path = SHIPPED_DIR) -> Any | None:
    """The parser from the wheel's tables; None when there are none or they were built for other versions."""
    from lark import Lark

    try:
        with open(shipped_dir / table_name(positions), "rb") as handle:
            if handle.readline() != _stamp(positions):
                return None
            return Lark.load(handle)
    except FileNotFoundError:
        return None


def open_parser(cache_dir: Path | None, *, positions: bool) -> Any:
    """A lark parser for HCL2: the shipped tables, else lark's own cache in `cache_dir` (built once there)."""
    parser = load_shipped(positions)
    if parser is not None:
        return parser
    cache: str | bool = False
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            # lark checks the grammar's hash when loading its cache and rebuilds when it differs; the cache is
            # a pickle, so it lives in our own cache dir, never in a shared /tmp file
            cache = str(cache_dir / (table_name(positions) + ".lark-cache"))
        except OSError:
            cache = False
    return _build(cache, positions)
