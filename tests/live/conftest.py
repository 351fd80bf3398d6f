"""Helpers for the live-repo engine tests: build small trees of deliberately awkward files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TreeFactory = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def make_tree(tmp_path: Path) -> TreeFactory:
    counter = iter(range(1000))

    def build(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / f"tree{next(counter)}"
        root.mkdir()
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_bytes(content.encode("utf-8"))
        return root

    return build


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "parse-cache"


ACCOUNT_ROOT = """\
remote_state {
  backend = "s3"
  config = {
    bucket         = "REPLACE_ME"
    key            = "${path_relative_to_include()}/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "REPLACE_ME"
  }
}
"""


SOURCE = "git::https://example.com/m.git//x?ref=v1"


def unit(source: str = SOURCE, deps: tuple[str, ...] = (), extra: str = "") -> str:
    blocks = "".join(f'dependency "d{i}" {{\n  config_path = "{d}"\n}}\n' for i, d in enumerate(deps))
    return (
        f'terraform {{\n  source = "{source}"\n}}\n'
        "include {\n  path = find_in_parent_folders()\n}\n"
        f"{blocks}{extra}"
    )
