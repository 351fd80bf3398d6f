"""What the HCL parser's tables cost a user's first command, with the tables the wheel ships versus built.

Runs, in a child process with an empty cache directory (as on a fresh machine), the first parse of the
installed refarch-tui (`pip install .`, non-editable: the copy that ships the tables), then times building the
same tables from the grammar (what every first command paid before the wheel shipped them). Prints both and
the ratio; asserts nothing.

    .venv/bin/python benchmarks/parser_tables.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

FIRST_PARSE = """
import time
started = time.perf_counter()
from refarch_tui.live import hclparse, parser_tables
summary = hclparse.summarise('terraform {\\n  source = "x"\\n}\\n')
hclparse.parse_tree('a = 1\\n')
elapsed = time.perf_counter() - started
assert summary.body is not None
print(elapsed, parser_tables.__file__)
"""

BUILD = """
import time
from refarch_tui.live import parser_tables
started = time.perf_counter()
parser_tables._build(False, False)
scanning = time.perf_counter() - started
parser_tables._build(False, True)
print(scanning, time.perf_counter() - started)
"""


def run(code: str, cache: Path) -> list[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    # run outside the source tree, so the installed copy (with its tables) is the one imported
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cache, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    first: list[float] = []
    built: list[float] = []
    built_scanning: list[float] = []
    where = ""
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="refarch-tables-bench-") as tmp:
            elapsed, where = run(FIRST_PARSE, Path(tmp))
            first.append(float(elapsed))
        with tempfile.TemporaryDirectory(prefix="refarch-tables-bench-") as tmp:
            scanning, both = run(BUILD, Path(tmp))
            built_scanning.append(float(scanning))
            built.append(float(both))
    shipped, building = statistics.median(first), statistics.median(built)
    print(f"package: {where}")
    print(f"first parse, fresh cache, shipped tables (both parsers): {shipped:.3f} s")
    print(f"building the same tables from the grammar:               {building:.3f} s")
    scanning = statistics.median(built_scanning)
    print(f"  of which the scanning parser (what `graph` paid first):  {scanning:.3f} s")
    print(f"ratio shipped / built: {shipped / building:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
