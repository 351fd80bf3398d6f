"""Bad input gets a clear error naming the file, never a hang, a leak or a huge parse (issue 9, item 14).

The rest of the tree keeps loading in every case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui.live import hclparse, scan
from tests.live.conftest import TreeFactory

REPO = Path(__file__).resolve().parents[2]
SOURCE = 'terraform {\n  source = "git::https://example.com/m.git//x?ref=v1"\n}\n'
HANG_GUARD = 120  # seconds: only there so a regression fails instead of hanging the suite


def _graph_in_child(live: Path) -> tuple[int, dict[str, object]]:
    probe = (
        "import io, sys\n"
        "from pathlib import Path\n"
        "from refarch_tui.live.graph_cli import main\n"
        "out = io.StringIO()\n"
        "code = main(Path(sys.argv[1]), as_json=True, destroy=False, stdout=out, stderr=io.StringIO())\n"
        "print(out.getvalue())\n"
        "raise SystemExit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(live)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    return result.returncode, json.loads(result.stdout)


def test_a_fifo_named_terragrunt_hcl_does_not_hang_graph(make_tree: TreeFactory) -> None:
    root = make_tree({"dev/vpc/terragrunt.hcl": SOURCE, "dev/app/main.tf": ""})
    os.mkfifo(root / "dev/app/terragrunt.hcl")
    os.mkfifo(root / "dev/shared.hcl")
    (root / "dev/reader").mkdir()
    (root / "dev/reader/terragrunt.hcl").write_text(
        SOURCE + 'locals {\n  shared = read_terragrunt_config("../shared.hcl")\n}\n'
    )
    code, doc = _graph_in_child(root)
    assert code == 1
    errors = {e["path"]: e["message"] for e in doc["errors"]}  # type: ignore[union-attr, index]
    assert "named pipe (FIFO)" in errors["dev/app/terragrunt.hcl"]
    assert "named pipe (FIFO)" in errors["dev/shared.hcl"]
    units = {u["path"]: u for u in doc["units"]}  # type: ignore[union-attr, index]
    assert units["dev/vpc"]["runnable"] is True, "the rest of the tree still loads"
    assert set(units) == {"dev/app", "dev/reader", "dev/vpc"}


def test_a_unit_file_symlinked_outside_the_repo_is_never_read(
    make_tree: TreeFactory, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "elsewhere" / "terragrunt.hcl"
    secret.parent.mkdir()
    secret.write_text('inputs = {\n  password = "hunter2-LEAKED"\n  broken = \n}\n')
    root = make_tree({"dev/vpc/terragrunt.hcl": SOURCE})
    (root / "dev/app").mkdir()
    os.symlink(secret, root / "dev/app/terragrunt.hcl")
    opened: list[str] = []
    real = hclparse.read_limited
    monkeypatch.setattr(hclparse, "read_limited", lambda path, *a: opened.append(path) or real(path, *a))
    tree = scan(root, cache_dir=cache, workers=1)
    assert all(os.path.realpath(p) != str(secret) for p in opened)
    (error,) = tree.errors
    assert error.path == "dev/app/terragrunt.hcl" and "outside the repository" in error.message
    assert "hunter2" not in repr(tree)
    assert tree.units["dev/vpc"].runnable


def test_files_over_the_size_limit_are_refused_with_the_limit(make_tree: TreeFactory, cache: Path) -> None:
    padding = "# " + "x" * 100 + "\n"
    big = SOURCE + padding * ((1 << 20) // len(padding) + 1)
    root = make_tree({"dev/big/terragrunt.hcl": big, "dev/vpc/terragrunt.hcl": SOURCE})
    tree = scan(root, cache_dir=cache, workers=1)
    (error,) = tree.errors
    assert error.path == "dev/big/terragrunt.hcl"
    assert "larger than the 1 MiB limit" in error.message
    assert tree.units["dev/vpc"].runnable


def test_pathologically_deep_nesting_is_refused_before_parsing(
    make_tree: TreeFactory, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = "inputs = " + "{ a = " * 100_000 + "1" + " }" * 100_000 + "\n"
    root = make_tree({"dev/deep/terragrunt.hcl": deep, "dev/vpc/terragrunt.hcl": SOURCE})
    parsed: list[int] = []
    real = hclparse._parser

    class Recording:
        def __init__(self, parser: object) -> None:
            self.parser = parser

        def parse(self, text: str) -> object:
            parsed.append(len(text))
            return self.parser.parse(text)  # type: ignore[attr-defined]

    monkeypatch.setattr(hclparse, "_parser", lambda positions: Recording(real(positions)))
    tree = scan(root, cache_dir=cache, workers=1)
    (error,) = tree.errors
    assert error.path == "dev/deep/terragrunt.hcl"
    assert f"deeper than {hclparse.MAX_NESTING} levels" in error.message and "line 1" in error.message
    assert max(parsed) < 1000, "the deep file never reaches the parser"
    assert tree.units["dev/vpc"].runnable


def test_nesting_up_to_the_limit_still_parses() -> None:
    depth = hclparse.MAX_NESTING - 2  # and the [( ) ] inside: exactly the limit
    text = "inputs = " + "{ a = " * depth + "[(1)]" + " }" * depth + "\n"
    assert hclparse.summarise(text).body is not None


def test_a_yaml_alias_bomb_is_refused(make_tree: TreeFactory, cache: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [{', '.join(['*' + previous] * 10)}]\n"
    app = SOURCE + 'locals {\n  data = yamldecode(file("bomb.yaml"))\n}\ninputs = {\n  size = local.data\n}\n'
    root = make_tree({"dev/app/terragrunt.hcl": app, "dev/app/bomb.yaml": bomb})
    tree = scan(root, cache_dir=cache)
    (error,) = tree.errors
    assert error.path == "dev/app/terragrunt.hcl" and error.line == 5
    assert "more than" in error.message and "values" in error.message
