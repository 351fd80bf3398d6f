"""Terragrunt's resolution rules that real live repos rely on, one minimal fixture each (issue 16).

Each fixture is written from terragrunt's documented behaviour (docs, changelog, issues and its own test
fixtures, named in each test) and checks the graph terragrunt would build: the edges, what is runnable, and
that nothing is reported as an error unless terragrunt itself would fail on it.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from refarch_tui.live import scan, waves
from refarch_tui.live.graph_cli import main as graph_main
from tests.live.conftest import TreeFactory

SOURCE = 'terraform {\n  source = "git::https://example.com/m.git//x?ref=v1"\n}\n'


def inside_a_git_repository(path: Path) -> bool:
    return any((folder / ".git").exists() for folder in (path, *path.parents))


def graph_json(live: Path) -> tuple[int, dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = graph_main(live, as_json=True, destroy=False, stdout=out, stderr=err)
    return code, json.loads(out.getvalue())


# -- 1. get_repo_root() / get_path_to_repo_root() ---------------------------------------------------------


def test_repo_root_functions_resolve_to_the_nearest_git_folder(make_tree: TreeFactory, cache: Path) -> None:
    app = (
        'include "common" {\n  path = "${get_repo_root()}/_envcommon/app.hcl"\n}\n'
        'dependency "vpc" {\n  config_path = "${get_repo_root()}/dev/vpc"\n}\n'
        'dependencies {\n  paths = ["${get_path_to_repo_root()}/dev/db"]\n}\n'
        'locals {\n  common = read_terragrunt_config("${get_repo_root()}/common.hcl")\n}\n'
        "inputs = {\n  team = local.common.locals.team\n  here = get_path_from_repo_root()\n"
        "  up = get_path_to_repo_root()\n}\n"
    )
    root = make_tree(
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "common.hcl": 'locals {\n  team = "ops"\n}\n',
            "_envcommon/app.hcl": SOURCE,
            "dev/app/terragrunt.hcl": app,
            "dev/vpc/terragrunt.hcl": SOURCE,
            "dev/db/terragrunt.hcl": SOURCE,
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == [] and tree.unresolved == []
    unit = tree.units["dev/app"]
    assert unit.runnable, "the terraform source comes from the include found through get_repo_root()"
    assert unit.dependencies == ("dev/db", "dev/vpc")
    assert unit.inputs == {"team": "ops", "here": "dev/app", "up": "../.."}
    assert waves(tree) == [["dev/db", "dev/vpc"], ["dev/app"]]


def test_repo_root_is_a_git_file_too_and_may_sit_above_the_live_dir(
    make_tree: TreeFactory, cache: Path
) -> None:
    root = make_tree(
        {
            ".git": "gitdir: /somewhere/else/.git/worktrees/live\n",  # a worktree: .git is a file
            "root.hcl": SOURCE,
            "live/dev/vpc/terragrunt.hcl": 'include "root" {\n  path = "${get_repo_root()}/root.hcl"\n}\n',
        }
    )
    tree = scan(root / "live", cache_dir=cache)
    assert tree.errors == [] and tree.unresolved == []
    assert tree.units["dev/vpc"].runnable


def test_outside_a_repository_the_repo_root_stays_unresolved(make_tree: TreeFactory) -> None:
    root = make_tree(
        {
            "dev/vpc/terragrunt.hcl": SOURCE,
            "dev/app/terragrunt.hcl": SOURCE
            + 'dependency "vpc" {\n  config_path = "${get_repo_root()}/dev/vpc"\n}\n',
        }
    )
    assert not inside_a_git_repository(root), "the test tree must not sit inside a git repository"
    code, doc = graph_json(root)
    assert code == 0 and doc["errors"] == []
    (item,) = doc["unresolved"]
    assert item["path"] == "dev/app/terragrunt.hcl" and item["line"] == 5
    assert item["expression"] == '"${get_repo_root()}/dev/vpc"'
    assert "not inside a git repository" in item["reason"]


# -- 2. what cannot be evaluated statically is unresolved, not an error --------------------------------------


def test_unevaluable_expressions_are_unresolved_and_exit_0(make_tree: TreeFactory) -> None:
    app = (
        SOURCE
        + 'dependency "x" {\n  config_path = "../vpc"\n}\n'
        + 'include "env" {\n  path = "${get_env("ENV_DIR", "/nowhere")}/env.hcl"\n}\n'
        + 'inputs = merge({ name = "app" }, dependency.x.outputs)\n'
    )
    root = make_tree({"dev/vpc/terragrunt.hcl": SOURCE, "dev/app/terragrunt.hcl": app})
    code, doc = graph_json(root)
    assert code == 0, doc["errors"]
    assert doc["errors"] == []
    reasons = {item["expression"]: item["reason"] for item in doc["unresolved"]}
    assert set(reasons) == {
        '"${get_env("ENV_DIR", "/nowhere")}/env.hcl"',
        'merge({ name = "app" }, dependency.x.outputs)',
    }
    assert "ENV_DIR" in reasons['"${get_env("ENV_DIR", "/nowhere")}/env.hcl"']
    assert "dependency 'x'" in reasons['merge({ name = "app" }, dependency.x.outputs)']
    assert [u["dependencies"] for u in doc["units"] if u["path"] == "dev/app"] == [["dev/vpc"]]


def test_real_problems_stay_errors(make_tree: TreeFactory) -> None:
    root = make_tree(
        {
            "dev/a/terragrunt.hcl": SOURCE + 'dependency "gone" {\n  config_path = "../gone"\n}\n',
            "dev/b/terragrunt.hcl": SOURCE
            + 'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n',
            "dev/c/terragrunt.hcl": "inputs = {\n",
        }
    )
    code, doc = graph_json(root)
    assert code == 1
    assert {e["path"] for e in doc["errors"]} == {
        "dev/a/terragrunt.hcl",
        "dev/b/terragrunt.hcl",
        "dev/c/terragrunt.hcl",
    }
    assert doc["unresolved"] == []


# -- 3. a root config is evaluated only as the include of its units ------------------------------------------


def test_repo_root_config_is_only_evaluated_as_an_include(make_tree: TreeFactory) -> None:
    root_config = (
        "locals {\n"
        '  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))\n'
        "}\n"
        'remote_state {\n  backend = "s3"\n  config = {\n'
        '    bucket = "${local.account_vars.locals.account_name}-state"\n  }\n}\n'
        'inputs = merge(local.account_vars.locals, { managed_by = "terragrunt" })\n'
    )
    unit = SOURCE + "include {\n  path = find_in_parent_folders()\n}\n"
    root = make_tree(
        {
            "terragrunt.hcl": root_config,
            "dev/account.hcl": 'locals {\n  account_name = "dev"\n}\n',
            "dev/app/terragrunt.hcl": unit,
            "prod/account.hcl": 'locals {\n  account_name = "prod"\n}\n',
            "prod/app/terragrunt.hcl": unit,
        }
    )
    code, doc = graph_json(root)
    assert code == 0, doc["errors"]
    assert doc["errors"] == [] and doc["unresolved"] == []
    tree = scan(root)
    assert tree.units["dev/app"].inputs == {"account_name": "dev", "managed_by": "terragrunt"}
    assert tree.units["prod/app"].inputs["account_name"] == "prod"
    top = tree.units["."]
    assert not top.runnable and top.not_run_reason is not None
    assert "included by 2 units" in top.not_run_reason


# -- 4. hidden directories are units -------------------------------------------------------------------------


def test_hidden_directories_are_units_but_caches_are_not(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            ".platform/vpc/terragrunt.hcl": SOURCE,
            "dev/app/terragrunt.hcl": SOURCE
            + 'dependency "vpc" {\n  config_path = "../../.platform/vpc"\n}\n',
            "dev/app/.terragrunt-cache/x/terragrunt.hcl": "not {{ hcl",
            "dev/app/.terraform/modules/terragrunt.hcl": "not {{ hcl",
            "dev/.terragrunt-stack/gen/terragrunt.hcl": "not {{ hcl",
            ".git/terragrunt.hcl": "not {{ hcl",
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert sorted(tree.units) == [".platform/vpc", "dev/app"]
    assert tree.units["dev/app"].dependencies == (".platform/vpc",)


# -- 5. symlinked unit directories ---------------------------------------------------------------------------


def test_symlinked_unit_directories_inside_the_repo_are_followed(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "shared/vpc/terragrunt.hcl": SOURCE,
            "dev/app/terragrunt.hcl": SOURCE + 'dependency "vpc" {\n  config_path = "../vpc"\n}\n',
        }
    )
    os.symlink("../shared/vpc", root / "dev" / "vpc")
    os.symlink("..", root / "dev" / "loop")  # a link back up: not followed forever
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert "dev/vpc" in tree.units and "shared/vpc" in tree.units
    assert tree.units["dev/app"].dependencies == ("dev/vpc",)
    assert any("dev/loop" in note for note in tree.notes)


def test_anything_resolving_outside_the_repo_is_reported_never_read(
    make_tree: TreeFactory, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    (outside / "unit").mkdir(parents=True)
    (outside / "unit" / "terragrunt.hcl").write_text('inputs = { token = "OUTSIDE-SECRET" }\n')
    (outside / "common.hcl").write_text('locals { token = "OUTSIDE-SECRET" }\n')
    root = make_tree(
        {
            "dev/app/terragrunt.hcl": SOURCE + 'dependency "ext" {\n  config_path = "../ext"\n}\n',
            "dev/reader/terragrunt.hcl": SOURCE
            + 'locals {\n  c = read_terragrunt_config("../common.hcl")\n}\n',
        }
    )
    os.symlink(outside / "unit", root / "dev" / "ext")
    os.symlink(outside / "common.hcl", root / "dev" / "common.hcl")
    from refarch_tui.live import hclparse

    read: list[str] = []
    real = hclparse.read_limited
    monkeypatch.setattr(hclparse, "read_limited", lambda path, *a: read.append(path) or real(path, *a))
    tree = scan(root, cache_dir=cache, workers=1)
    assert not any(str(outside) in os.path.realpath(p) for p in read), read
    text = json.dumps([e.__dict__ for e in tree.errors])
    assert "OUTSIDE-SECRET" not in text
    by_path = {e.path: e.message for e in tree.errors}
    assert "outside the repository" in by_path["dev/common.hcl"]
    assert "outside the repository" in by_path["dev/ext"]
    assert (
        "dev/app/terragrunt.hcl" in by_path and "outside the repository" in by_path["dev/app/terragrunt.hcl"]
    )


# -- 6. find_in_parent_folders matches directories -----------------------------------------------------------


def test_find_in_parent_folders_matches_a_directory(make_tree: TreeFactory, cache: Path) -> None:
    # terragrunt 0.54.12 (issue #2868): any existing path matches, files and directories alike
    root = make_tree(
        {
            "dev/vpc/terragrunt.hcl": SOURCE,
            "dev/services/app/terragrunt.hcl": SOURCE
            + 'dependency "vpc" {\n  config_path = find_in_parent_folders("vpc")\n}\n',
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert tree.units["dev/services/app"].dependencies == ("dev/vpc",)


# -- 7. dependency blocks across includes --------------------------------------------------------------------

PLACEHOLDER = 'dependency "vpc" {\n  config_path = ""\n  mock_outputs = {\n    id = "mock"\n  }\n}\n'


@pytest.mark.parametrize("strategy", ["deep", "shallow"])
def test_child_dependency_overrides_the_included_placeholder(
    make_tree: TreeFactory, cache: Path, strategy: str
) -> None:
    # terragrunt's fixtures include-deep (deep) and include-multiple/shallow-merge (shallow), PR #1906
    child = (
        f'include {{\n  path = find_in_parent_folders("root.hcl")\n  merge_strategy = "{strategy}"\n}}\n'
        'dependency "vpc" {\n  config_path = "../vpc"\n}\n'
        "inputs = {\n  dep_out = dependency.vpc.outputs\n}\n"
    )
    root = make_tree(
        {
            "root.hcl": PLACEHOLDER + SOURCE,
            "child/terragrunt.hcl": child,
            "vpc/terragrunt.hcl": "# Intentionally empty\n",
            "vpc/main.tf": "",
        }
    )
    code, doc = graph_json(root)
    assert code == 0, doc["errors"]
    assert {u["path"]: u["dependencies"] for u in doc["units"]} == {"child": ["vpc"], "vpc": []}
    assert doc["waves"] == [["vpc"], ["child"]]


def test_deep_merge_override_and_shallow_union_of_real_targets(make_tree: TreeFactory, cache: Path) -> None:
    common = 'dependency "aurora" {\n  config_path = "${get_terragrunt_dir()}/../aurora"\n}\n'
    child = (
        'include "envcommon" {\n'
        '  path = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/eks.hcl"\n'
        '  merge_strategy = "STRATEGY"\n}\n'
        'dependency "aurora" {\n  config_path = "../aurora-legacy"\n}\n'
    )
    files: dict[str, str | bytes] = {
        "root.hcl": "",
        "_envcommon/eks.hcl": common + SOURCE,
        "dev/aurora/terragrunt.hcl": SOURCE,
        "dev/aurora-legacy/terragrunt.hcl": SOURCE,
        "dev/deep/terragrunt.hcl": child.replace("STRATEGY", "deep"),
        "dev/shallow/terragrunt.hcl": child.replace("STRATEGY", "shallow"),
    }
    tree = scan(make_tree(files), cache_dir=cache)
    assert tree.errors == []
    assert tree.units["dev/deep"].dependencies == ("dev/aurora-legacy",)
    # run --all keeps the included target too with a shallow merge (terragrunt issue #2510)
    assert tree.units["dev/shallow"].dependencies == ("dev/aurora", "dev/aurora-legacy")


# -- 8. enabled = false --------------------------------------------------------------------------------------


def test_disabled_dependency_creates_no_edge(make_tree: TreeFactory, cache: Path) -> None:
    app = (
        SOURCE
        + 'dependency "vpc" {\n  config_path = "../vpc"\n  enabled = false\n}\n'
        + 'dependency "unset" {\n  config_path = ""\n  enabled = false\n}\n'
        + "locals {\n  use_db = false\n}\n"
        + 'dependency "db" {\n  config_path = "../db"\n  enabled = local.use_db\n}\n'
    )
    root = make_tree(
        {"dev/vpc/terragrunt.hcl": SOURCE, "dev/db/terragrunt.hcl": SOURCE, "dev/app/terragrunt.hcl": app}
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert tree.units["dev/app"].dependencies == ()


# -- 9. conditionals, yamldecode and jsondecode --------------------------------------------------------------


@pytest.mark.parametrize(("regional", "target"), [("true", "dev/us-east-1/vpc"), ("false", "dev/global/vpc")])
def test_conditionals_over_known_locals(
    make_tree: TreeFactory, cache: Path, regional: str, target: str
) -> None:
    app = (
        SOURCE
        + f"locals {{\n  regional = {regional}\n  size = local.regional ? 3 : 1\n}}\n"
        + 'dependency "vpc" {\n  config_path = local.regional ? "../vpc" : "../../global/vpc"\n}\n'
        + 'inputs = {\n  size = local.size * 2\n  label = local.size >= 3 && !false ? "big" : "small"\n}\n'
    )
    root = make_tree(
        {
            "dev/us-east-1/vpc/terragrunt.hcl": SOURCE,
            "dev/global/vpc/terragrunt.hcl": SOURCE,
            "dev/us-east-1/app/terragrunt.hcl": app,
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    unit = tree.units["dev/us-east-1/app"]
    assert unit.dependencies == (target,)
    big = regional == "true"
    assert unit.inputs == {"size": 6 if big else 2, "label": "big" if big else "small"}


def test_yamldecode_and_jsondecode_of_files_in_the_repo(make_tree: TreeFactory, cache: Path) -> None:
    app = (
        SOURCE
        + "locals {\n"
        + '  env_vars = yamldecode(file(find_in_parent_folders("env.yaml")))\n'
        + '  tags     = jsondecode(file("${get_terragrunt_dir()}/tags.json"))\n'
        + "}\n"
        + 'dependency "vpc" {\n  config_path = "../${local.env_vars.vpc_dir}"\n}\n'
        + "inputs = merge(local.env_vars, {\n  tags = local.tags\n})\n"
    )
    root = make_tree(
        {
            "dev/env.yaml": "environment: dev\nvpc_dir: vpc\nsizes: [1, 2]\nnested:\n  key: value\n",
            "dev/vpc/terragrunt.hcl": SOURCE,
            "dev/app/terragrunt.hcl": app,
            "dev/app/tags.json": '{"Team": "ops", "Cost": 12}',
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == [] and tree.unresolved == []
    unit = tree.units["dev/app"]
    assert unit.dependencies == ("dev/vpc",)
    assert unit.inputs == {
        "environment": "dev",
        "vpc_dir": "vpc",
        "sizes": [1, 2],
        "nested": {"key": "value"},
        "tags": {"Team": "ops", "Cost": 12},
    }
    (root / "dev/env.yaml").write_text("environment: stage\nvpc_dir: vpc\n")
    assert scan(root, cache_dir=cache).units["dev/app"].inputs["environment"] == "stage", (
        "a data file change is seen"
    )


# -- 10. skip = true -----------------------------------------------------------------------------------------


def test_skipped_units_are_not_runnable_and_say_why(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "root.hcl": "skip = true\n",
            "dev/skipped/terragrunt.hcl": SOURCE + "skip = true\n",
            "dev/inherited/terragrunt.hcl": SOURCE
            + 'include {\n  path = find_in_parent_folders("root.hcl")\n}\n',
            "dev/overridden/terragrunt.hcl": SOURCE
            + 'include {\n  path = find_in_parent_folders("root.hcl")\n}\nskip = false\n',
            "dev/excluded/terragrunt.hcl": SOURCE + 'exclude {\n  if = true\n  actions = ["all"]\n}\n',
            "dev/plan-only/terragrunt.hcl": SOURCE + 'exclude {\n  if = true\n  actions = ["plan"]\n}\n',
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    for path in ("dev/skipped", "dev/inherited", "dev/excluded"):
        unit = tree.units[path]
        assert not unit.runnable and unit.not_run_reason, path
    assert "skip = true" in (tree.units["dev/skipped"].not_run_reason or "")
    assert tree.units["dev/overridden"].runnable and tree.units["dev/plan-only"].runnable


# -- 11. stacks ----------------------------------------------------------------------------------------------


def test_stacks_appear_in_graph_json(make_tree: TreeFactory) -> None:
    stack = (
        'unit "vpc" {\n  source = "git::https://example.com/units.git//vpc"\n  path = "vpc"\n}\n'
        'unit "app" {\n  source = "git::https://example.com/units.git//app"\n  path = "app"\n}\n'
        'stack "data" {\n  source = "git::https://example.com/stacks.git//data"\n  path = "data"\n}\n'
    )
    root = make_tree(
        {
            "terragrunt.stack.hcl": stack,
            "prod/terragrunt.stack.hcl": 'unit "db" {\n  source = "x"\n  path = "db"\n}\n',
        }
    )
    code, doc = graph_json(root)
    assert code == 0
    assert doc["units"] == []
    assert doc["stacks"] == [{"path": ".", "units": ["vpc", "app"]}, {"path": "prod", "units": ["db"]}]


# -- errors at an included file name every unit they affect --------------------------------------------------


def test_errors_in_an_included_file_name_every_unit(make_tree: TreeFactory, cache: Path) -> None:
    envcommon = SOURCE + 'dependency "db" {\n  config_path = "../db"\n}\n'
    path = '"${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/app.hcl"'
    unit = f'include "envcommon" {{\n  path = {path}\n}}\n'
    root = make_tree(
        {
            "root.hcl": "",
            "_envcommon/app.hcl": envcommon,
            "dev/db/terragrunt.hcl": SOURCE,
            "dev/app/terragrunt.hcl": unit,
            "stage/app/terragrunt.hcl": unit,
            "prod/app/terragrunt.hcl": unit,
            "acct/terragrunt.hcl": "remote_state {\n  backend = \n}\n",
            "acct/a/terragrunt.hcl": SOURCE + "include {\n  path = find_in_parent_folders()\n}\n",
            "acct/b/terragrunt.hcl": SOURCE + "include {\n  path = find_in_parent_folders()\n}\n",
        }
    )
    tree = scan(root, cache_dir=cache)
    by_path = {e.path: e for e in tree.errors}
    assert set(by_path) == {"_envcommon/app.hcl", "acct/terragrunt.hcl"}
    missing = by_path["_envcommon/app.hcl"]
    assert missing.line == 5 and "../db" in missing.message
    assert "affects 2 units: prod/app, stage/app" in missing.message
    assert "dev/app" not in missing.message, "dev/app's ../db exists"
    assert tree.units["dev/app"].dependencies == ("dev/db",)
    broken = by_path["acct/terragrunt.hcl"]
    assert "affects 2 units: acct/a, acct/b" in broken.message


def test_attributes_of_a_function_result_and_json_syntax_configs(make_tree: TreeFactory, cache: Path) -> None:
    app = (
        SOURCE
        + 'dependency "vpc" {\n'
        + '  config_path = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals.regional ? '
        + '"../vpc" : "../../global/vpc"\n}\n'
        + 'include "json" {\n  path = find_in_parent_folders("root.hcl.json")\n}\n'
    )
    root = make_tree(
        {
            "root.hcl.json": '{"inputs": {"team": "ops"}}',
            "dev/env.hcl": "locals {\n  regional = true\n}\n",
            "dev/vpc/terragrunt.hcl": SOURCE,
            "dev/app/terragrunt.hcl": app,
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert tree.units["dev/app"].dependencies == ("dev/vpc",)
    (json_include,) = tree.unresolved
    assert json_include.path == "dev/app/terragrunt.hcl" and "JSON syntax" in json_include.reason
