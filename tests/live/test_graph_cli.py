"""`refarch-tui graph LIVE_DIR [--json] [--destroy]`: the contract scripts rely on."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from refarch_tui.live.graph_cli import main
from tests.live.conftest import ACCOUNT_ROOT, TreeFactory, unit


def run(live: Path, *, as_json: bool = True, destroy: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(live, as_json=as_json, destroy=destroy, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def check_shape(doc: dict[str, Any]) -> None:
    assert set(doc) == {"units", "waves", "errors", "unresolved", "stacks"}
    for item in doc["unresolved"]:
        assert set(item) == {"path", "line", "expression", "reason"}
        assert item["line"] is None or isinstance(item["line"], int)
    for stack in doc["stacks"]:
        assert set(stack) == {"path", "units"} and all(isinstance(n, str) for n in stack["units"])
    for entry in doc["units"]:
        assert set(entry) == {"path", "dependencies", "runnable"}
        assert isinstance(entry["runnable"], bool)
        assert all(isinstance(d, str) for d in entry["dependencies"])
    for wave in doc["waves"]:
        assert all(isinstance(p, str) for p in wave)
    for error in doc["errors"]:
        assert set(error) == {"path", "line", "message"}
        assert error["line"] is None or isinstance(error["line"], int)


def test_sample_repo_json_exit_0(sample_live: Path) -> None:
    code, out, err = run(sample_live)
    assert code == 0, err
    doc = json.loads(out)
    check_shape(doc)
    assert doc["errors"] == []
    paths = [u["path"] for u in doc["units"]]
    assert paths == sorted(paths)
    in_waves = [p for wave in doc["waves"] for p in wave]
    assert sorted(in_waves) == sorted(paths), "every unit, runnable or not, appears in waves"
    roots = {u["path"]: u["runnable"] for u in doc["units"] if "/" not in u["path"]}
    assert roots == {a: False for a in ("dev", "prod", "security", "shared-services", "stage")}
    position = {p: i for i, wave in enumerate(doc["waves"]) for p in wave}
    for entry in doc["units"]:
        for dep in entry["dependencies"]:
            assert position[dep] < position[entry["path"]]


def test_destroy_reverses_the_order(sample_live: Path) -> None:
    code, out, _ = run(sample_live, destroy=True)
    assert code == 0
    doc = json.loads(out)
    position = {p: i for i, wave in enumerate(doc["waves"]) for p in wave}
    edges = [(u["path"], d) for u in doc["units"] for d in u["dependencies"]]
    assert edges
    assert all(position[unit_path] < position[dep] for unit_path, dep in edges)


def test_root_dot_path_and_relative_posix(make_tree: TreeFactory) -> None:
    root = make_tree(
        {"terragrunt.hcl": ACCOUNT_ROOT, "a/b/terragrunt.hcl": unit(deps=("../../c",)), "c/x.tf": ""}
    )
    (root / "c/terragrunt.hcl").write_text("")
    code, out, _ = run(root)
    doc = json.loads(out)
    assert code == 0
    assert doc["units"] == [
        {"path": ".", "dependencies": [], "runnable": False},
        {"path": "a/b", "dependencies": ["c"], "runnable": True},
        {"path": "c", "dependencies": [], "runnable": True},
    ]
    assert doc["waves"] == [[".", "c"], ["a/b"]]


def test_errors_exit_1_graph_still_built(make_tree: TreeFactory) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(deps=("../missing",)),
            "acct/b/terragrunt.hcl": "inputs = {\n  x = \n}\n",
        }
    )
    code, out, _ = run(root)
    assert code == 1
    doc = json.loads(out)
    check_shape(doc)
    assert {e["path"] for e in doc["errors"]} == {"acct/a/terragrunt.hcl", "acct/b/terragrunt.hcl"}
    assert {e["line"] for e in doc["errors"]} == {2, 8}  # the parse error; the config_path line
    assert sorted(p for w in doc["waves"] for p in w) == ["acct", "acct/a", "acct/b"]

    code, out, err = run(root, as_json=False)
    assert code == 1
    assert "acct/b/terragrunt.hcl:2" in err and "missing" in err
    assert "wave 1" in out


def test_cycle_exit_2_named_on_stderr(make_tree: TreeFactory) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(deps=("../b",)),
            "acct/b/terragrunt.hcl": unit(deps=("../a",)),
        }
    )
    for as_json in (True, False):
        code, out, err = run(root, as_json=as_json)
        assert code == 2
        assert "acct/a -> acct/b -> acct/a" in err
        if as_json:
            doc = json.loads(out)
            check_shape(doc)
            assert doc["waves"] == []
            assert any("cycle" in e["message"] for e in doc["errors"])


def test_missing_or_file_live_dir_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    code, out, err = run(missing)
    assert code == 1 and "does not exist" in err
    doc = json.loads(out)
    check_shape(doc)
    assert doc["units"] == [] and len(doc["errors"]) == 1

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, out, err = run(a_file, as_json=False)
    assert code == 1 and "is not a directory" in err and out == ""


def test_readable_listing_per_account(sample_live: Path) -> None:
    code, out, err = run(sample_live, as_json=False)
    assert code == 0 and err == ""
    headers = [out.index(f"\n{a}\n") for a in ("security", "shared-services", "dev", "stage", "prod")]
    assert headers == sorted(headers), "accounts are listed in deployment order"
    assert "(not run: root configuration, included by" in out
    dev = out.split("\ndev\n", 1)[1].split("\nstage\n", 1)[0]
    assert dev.index("networking/vpc-app") < dev.index("services/ecs-cluster")


def test_stack_note_in_listing(make_tree: TreeFactory) -> None:
    root = make_tree({"acct/a/terragrunt.hcl": unit(), "acct/s/terragrunt.stack.hcl": 'unit "x" {}\n'})
    code, out, _ = run(root, as_json=False)
    assert "acct/s" in out and "terragrunt stack generate" in out
    assert code == 1, "the include that finds no parent terragrunt.hcl is reported"
    code, out, _ = run(root)
    error = json.loads(out)["errors"][0]
    assert error["path"] == "acct/a/terragrunt.hcl"
    assert "finds no terragrunt.hcl in any parent folder" in error["message"]


def _unreadable(monkeypatch: Any, *directories: Path) -> None:
    """Listing these folders fails as it does for a folder without read permission (root reads anything)."""
    import errno
    import os

    blocked = {str(d) for d in directories}
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if str(path) in blocked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_live_dir_exits_1_and_says_so(
    sample_live: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    import shutil

    live = tmp_path / "live"
    shutil.copytree(sample_live, live)
    _unreadable(monkeypatch, live)
    code, out, err = run(live)
    assert code == 1
    doc = json.loads(out)
    assert doc["units"] == []
    assert [(e["path"], "Permission denied" in e["message"]) for e in doc["errors"]] == [(".", True)]
    code, _, err = run(live, as_json=False)
    assert code == 1 and "cannot read this folder" in err


def test_an_unreadable_account_folder_is_an_error_the_rest_still_loads(
    sample_live: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    import shutil

    live = tmp_path / "live"
    shutil.copytree(sample_live, live)
    _unreadable(monkeypatch, live / "dev")
    code, out, _ = run(live)
    assert code == 1
    doc = json.loads(out)
    assert [e["path"] for e in doc["errors"]] == ["dev"]
    accounts = {u["path"].split("/")[0] for u in doc["units"]}
    assert "dev" not in accounts and {"security", "prod"} <= accounts
