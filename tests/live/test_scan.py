"""Reading live repos: the bundled sample, and deliberately awkward trees."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from refarch_tui.live import CycleError, scan, waves
from refarch_tui.live import scanner as scan_module
from refarch_tui.live.model import Stack
from tests.live.conftest import ACCOUNT_ROOT, TreeFactory, unit

ACCOUNTS = {
    "security": "104983213567",
    "shared-services": "235829751430",
    "dev": "368294012756",
    "stage": "481039572864",
    "prod": "596120384729",
}


# -- the bundled sample repo ---------------------------------------------------------------------------


def test_sample_repo_units_accounts_and_roots(sample_live: Path, cache: Path) -> None:
    tree = scan(sample_live, cache_dir=cache)
    assert tree.errors == []
    assert set(tree.accounts) == set(ACCOUNTS)
    for account in ACCOUNTS:
        root = tree.units[account]
        assert root.account == account
        assert root.runnable is False, "the account-level terragrunt.hcl has no terraform source"
    others = [u for u in tree.units.values() if u.path not in ACCOUNTS]
    assert others and all(u.runnable for u in others)
    assert "prod/us-west-2/networking/vpc-app" in tree.units
    for path, u in tree.units.items():
        assert u.path == path
        assert u.account == path.split("/")[0]
        assert all(d in tree.units for d in u.dependencies)


def test_sample_repo_resolves_account_locals_and_keeps_expressions(sample_live: Path, cache: Path) -> None:
    tree = scan(sample_live, cache_dir=cache)
    for account, account_id in ACCOUNTS.items():
        iam = tree.units[f"{account}/_global/iam-cross-account"]
        assert iam.inputs["aws_account_id"] == account_id
    ecs = tree.units["dev/us-east-1/services/ecs-cluster"]
    assert ecs.inputs["cluster_name"] == "ecs-dev"
    assert ecs.inputs["aws_region"] == "us-east-1"
    assert ecs.inputs["ami_id"] == "ami-REPLACE_ME"
    assert ecs.inputs["vpc_id"] == "dependency.vpc.outputs.vpc_id"
    assert "vpc_id" in ecs.unresolved and "ami_id" not in ecs.unresolved
    expected = {"dev/us-east-1/networking/vpc-app", "dev/us-east-1/networking/alb-public"}
    assert set(ecs.dependencies) == expected
    west = tree.units["prod/us-west-2/services/ecs-cluster"]
    assert west.inputs["aws_region"] == "us-west-2"


def test_sample_repo_waves_respect_every_dependency(sample_live: Path, cache: Path) -> None:
    tree = scan(sample_live, cache_dir=cache)
    for destroy in (False, True):
        all_waves = waves(tree, destroy=destroy)
        position = {p: i for i, wave in enumerate(all_waves) for p in wave}
        assert sorted(position) == sorted(tree.units), "every unit, runnable or not, is in exactly one wave"
        assert sum(len(w) for w in all_waves) == len(tree.units)
        for u in tree.units.values():
            for dep in u.dependencies:
                if destroy:
                    assert position[u.path] < position[dep]
                else:
                    assert position[dep] < position[u.path]
    dev = waves(tree, account="dev")
    assert all(p.startswith("dev") for wave in dev for p in wave)
    flat = [p for wave in dev for p in wave]
    assert flat.index("dev/us-east-1/networking/vpc-app") < flat.index("dev/us-east-1/services/ecs-cluster")


# -- awkward files ---------------------------------------------------------------------------------------

AWKWARD_UNIT = """\
# leading comment
/* block
   comment */
terraform { # trailing comment
  source = "git::https://example.com/m.git//app?ref=v1" // another
}

include "root" {
  path = find_in_parent_folders() # unnamed search
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  name    = "app-${local.account.locals.account_name}"
}

inputs = {
  # comment before
  name = local.name # comment after
  policy = <<EOF
{"Version": "2012-10-17"}
EOF
  trimmed = <<-EOT
    indented
      more
    EOT
  nested = {
    deep = {
      list = [1, 2.5, true, null, "s"] /* inline */
    }
  }
  "quoted key" = "caf\\u00e9 ☕ ünïcode"
  escaped = "a \\"quote\\" and $${literal} and \\\\ backslash"
}
"""


def test_awkward_unit_comments_heredocs_nested_unicode(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/account.hcl": 'locals {\n  account_name = "acct"\n}\n',
            "acct/app/terragrunt.hcl": AWKWARD_UNIT,
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    app = tree.units["acct/app"]
    assert app.runnable
    assert app.inputs["name"] == "app-acct"
    assert app.inputs["policy"] == '{"Version": "2012-10-17"}\n'
    assert app.inputs["trimmed"] == "indented\n  more\n"
    assert app.inputs["nested"] == {"deep": {"list": [1, 2.5, True, None, "s"]}}
    assert app.inputs["quoted key"] == "café ☕ ünïcode"
    assert app.inputs["escaped"] == 'a "quote" and ${literal} and \\ backslash'
    assert app.unresolved == frozenset()


def test_crlf_tabs_and_missing_trailing_newline(make_tree: TreeFactory, cache: Path) -> None:
    crlf = unit(deps=("../b",), extra='inputs = {\n\tami_id = "ami-1"\n\tcount\t= 3\n}').replace("\n", "\r\n")
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": crlf.encode(),
            "acct/b/terragrunt.hcl": unit().rstrip("\n"),  # no trailing newline
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert tree.units["acct/a"].inputs == {"ami_id": "ami-1", "count": 3}
    assert tree.units["acct/a"].dependencies == ("acct/b",)
    assert tree.units["acct/b"].runnable


def test_merge_inputs_are_resolved_where_literal(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(
                extra='locals {\n  common = { team = "ops" }\n}\n'
                'inputs = merge(local.common, {\n  ami_id = "ami-1"\n  vpc = dependency.x.outputs.id\n})\n'
            ),
        }
    )
    tree = scan(root, cache_dir=cache)
    a = tree.units["acct/a"]
    assert a.inputs == {"team": "ops", "ami_id": "ami-1", "vpc": "dependency.x.outputs.id"}
    assert a.unresolved == frozenset({"vpc"})


def test_unit_including_a_broken_parent(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": 'remote_state {\n  backend = "s3"\n  config = {\n    bucket = \n  }\n}\n',
            "acct/a/terragrunt.hcl": unit(extra='inputs = {\n  ami_id = "ami-1"\n}\n'),
            "other/terragrunt.hcl": ACCOUNT_ROOT,
            "other/b/terragrunt.hcl": unit(),
        }
    )
    tree = scan(root, cache_dir=cache)
    assert [(e.path, e.line) for e in tree.errors] == [("acct/terragrunt.hcl", 4)]
    assert "python-hcl2" in tree.errors[0].message
    assert tree.units["acct/a"].inputs == {"ami_id": "ami-1"}
    assert tree.units["acct/a"].runnable
    assert tree.units["other/b"].runnable
    assert "acct" in tree.units, "the broken file is still a unit (terragrunt would try it)"


def test_broken_unit_file_is_an_error_not_a_crash(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit() + 'inputs = {\n  x = "unterminated\n}\n',
            "acct/b/terragrunt.hcl": unit(deps=("../a",)),
            "acct/c/terragrunt.hcl": b'inputs = {\n  x = "\xff"\n}\n',
        }
    )
    tree = scan(root, cache_dir=cache)
    paths = {e.path for e in tree.errors}
    assert paths == {"acct/a/terragrunt.hcl", "acct/c/terragrunt.hcl"}
    assert any("UTF-8" in e.message for e in tree.errors)
    assert tree.units["acct/b"].dependencies == ("acct/a",)
    assert tree.units["acct/a"].runnable  # a textual guess: it has a terraform block


def test_missing_and_outside_dependencies_are_reported(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(
                deps=("../nope",),
                extra='dependencies {\n  paths = ["../../../outside", "../b"]\n}\n'
                'dependency "dyn" {\n  config_path = get_env("X")\n}\n',
            ),
            "acct/b/terragrunt.hcl": unit(),
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.units["acct/a"].dependencies == ("acct/b",)
    messages = [e.message for e in tree.errors]
    assert len(messages) == 2
    assert any("../nope" in m and "no terragrunt.hcl" in m for m in messages)
    assert any("outside the live repo" in m for m in messages)
    assert all(e.path == "acct/a/terragrunt.hcl" and e.line for e in tree.errors)
    (dynamic,) = tree.unresolved
    assert dynamic.path == "acct/a/terragrunt.hcl" and dynamic.line
    assert dynamic.expression == 'get_env("X")' and "environment variable X" in dynamic.reason


def test_cycles_name_the_whole_path(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(deps=("../b",)),
            "acct/b/terragrunt.hcl": unit(deps=("../c",)),
            "acct/c/terragrunt.hcl": unit(deps=("../a",)),
            "acct/d/terragrunt.hcl": unit(),
        }
    )
    tree = scan(root, cache_dir=cache)
    for destroy in (False, True):
        with pytest.raises(CycleError) as caught:
            waves(tree, destroy=destroy)
        cycle = caught.value.cycle
        assert cycle[0] == cycle[-1] and len(cycle) == 4
        assert set(cycle) == {"acct/a", "acct/b", "acct/c"}
        assert " -> ".join(cycle) in str(caught.value)


KMS = 'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\nterraform {\n  source = "x"\n}\n'


def test_root_hcl_layout_named_includes_expose_envcommon(make_tree: TreeFactory, cache: Path) -> None:
    root_hcl = """\
locals {
  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region_vars  = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}
remote_state {
  backend = "s3"
  config = {
    bucket = local.account_vars.locals.state_bucket
    key    = "${path_relative_to_include()}/terraform.tfstate"
  }
}
inputs = {
  aws_region = local.region_vars.locals.aws_region
  from_root  = "root"
}
"""
    envcommon = """\
terraform {
  source = "git::https://example.com/m.git//vpc?ref=v1"
}
locals {
  cidr = "10.0.0.0/16"
  env  = basename(dirname(dirname(get_terragrunt_dir())))
}
dependency "kms" {
  config_path = "${get_terragrunt_dir()}/../kms"
}
inputs = {
  cidr_block = local.cidr
  from_root  = "envcommon"
}
"""
    vpc = """\
include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/vpc.hcl"
  expose = true
}
inputs = {
  name     = "vpc-${include.envcommon.locals.env}"
  copy     = include.envcommon.locals.cidr
  rel      = path_relative_to_include("root")
  here     = basename(get_terragrunt_dir())
}
"""
    root = make_tree(
        {
            "root.hcl": root_hcl,
            "_envcommon/vpc.hcl": envcommon,
            "dev/account.hcl": 'locals {\n  account_name = "dev"\n  state_bucket = "dev-state"\n}\n',
            "dev/us-east-1/region.hcl": 'locals {\n  aws_region = "us-east-1"\n}\n',
            "dev/us-east-1/vpc/terragrunt.hcl": vpc,
            "dev/us-east-1/kms/terragrunt.hcl": KMS,
            "dev/us-east-1/stack/terragrunt.stack.hcl": 'unit "a" {\n  source = "x"\n  path = "a"\n}\n',
            "dev/us-east-1/vpc/.terragrunt-cache/abc/terragrunt.hcl": "this is not hcl {{{",
            ".git/terragrunt.hcl": "neither {{{",
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert sorted(tree.units) == ["dev/us-east-1/kms", "dev/us-east-1/vpc"]
    vpc_unit = tree.units["dev/us-east-1/vpc"]
    assert vpc_unit.runnable, "terraform source comes from _envcommon"
    assert vpc_unit.dependencies == ("dev/us-east-1/kms",)
    assert vpc_unit.inputs == {
        "aws_region": "us-east-1",
        "from_root": "envcommon",
        "cidr_block": "10.0.0.0/16",
        "name": "vpc-dev",
        "copy": "10.0.0.0/16",
        "rel": "dev/us-east-1/vpc",
        "here": "vpc",
    }
    assert tree.stacks == [Stack(path="dev/us-east-1/stack", units=("a",))]
    assert tree.notes and "terragrunt stack generate" in tree.notes[0]


def test_include_from_a_hidden_folder(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            ".shared/common.hcl": 'inputs = {\n  team = "ops"\n}\n',
            "acct/a/terragrunt.hcl": 'include "common" {\n  path = "../../.shared/common.hcl"\n}\n',
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert tree.units["acct/a"].inputs == {"team": "ops"}
    (root / ".shared/common.hcl").write_text('inputs = {\n  team = "platform"\n}\n')
    assert scan(root, cache_dir=cache).units["acct/a"].inputs == {"team": "platform"}


def test_root_terragrunt_hcl_is_unit_dot(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree({"terragrunt.hcl": ACCOUNT_ROOT, "app/terragrunt.hcl": unit(), "app/main.tf": ""})
    tree = scan(root, cache_dir=cache)
    assert tree.units["."].account is None and not tree.units["."].runnable
    assert tree.units["app"].account == "app"
    assert waves(tree) == [[".", "app"]]


def test_plain_tf_files_make_a_unit_runnable(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/tf/terragrunt.hcl": "include {\n  path = find_in_parent_folders()\n}\n",
            "acct/tf/main.tf": 'resource "x" "y" {}\n',
            "acct/tofu/terragrunt.hcl": "include {\n  path = find_in_parent_folders()\n}\n",
            "acct/tofu/main.tofu": "",
            "acct/none/terragrunt.hcl": "include {\n  path = find_in_parent_folders()\n}\n",
        }
    )
    tree = scan(root, cache_dir=cache)
    assert tree.units["acct/tf"].runnable and tree.units["acct/tofu"].runnable
    assert not tree.units["acct/none"].runnable


def test_missing_directory_never_raises(tmp_path: Path, cache: Path) -> None:
    tree = scan(tmp_path / "nope", cache_dir=cache)
    assert tree.units == {} and len(tree.errors) == 1 and "does not exist" in tree.errors[0].message


# -- cache and parallel parsing ----------------------------------------------------------------------------


def test_warm_scan_parses_nothing_and_sees_changes(
    make_tree: TreeFactory, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(extra='inputs = {\n  ami_id = "ami-1"\n}\n'),
            "acct/b/terragrunt.hcl": unit(deps=("../a",)),
        }
    )
    cold = scan(root, cache_dir=cache)
    parsed: list[str] = []
    real = scan_module.summarise_file

    def counting(path: str) -> object:
        parsed.append(path)
        return real(path)

    monkeypatch.setattr(scan_module, "summarise_file", counting)
    warm = scan(root, cache_dir=cache)
    assert parsed == []
    assert warm.units == cold.units and warm.errors == cold.errors

    target = root / "acct/a/terragrunt.hcl"
    target.write_text(target.read_text().replace("ami-1", "ami-22222"))
    changed = scan(root, cache_dir=cache)
    assert parsed == [str(target)], "only the changed file is parsed again"
    assert changed.units["acct/a"].inputs["ami_id"] == "ami-22222"

    (root / "acct/c").mkdir()
    (root / "acct/c/terragrunt.hcl").write_text(unit(deps=("../b",)))
    assert "acct/c" in scan(root, cache_dir=cache).units


def test_same_size_same_mtime_atomic_replace_is_seen(make_tree: TreeFactory, cache: Path) -> None:
    import os

    from refarch_tui import atomic

    root = make_tree({"acct/a/terragrunt.hcl": unit(extra='inputs = {\n  ami_id = "ami-AAAA"\n}\n')})
    target = root / "acct/a/terragrunt.hcl"
    assert scan(root, cache_dir=cache).units["acct/a"].inputs["ami_id"] == "ami-AAAA"
    before = target.stat()
    atomic.atomic_write_bytes(target, target.read_bytes().replace(b"ami-AAAA", b"ami-BBBB"))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    assert scan(root, cache_dir=cache).units["acct/a"].inputs["ami_id"] == "ami-BBBB"


def test_corrupt_cache_is_a_miss(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree({"acct/terragrunt.hcl": ACCOUNT_ROOT, "acct/a/terragrunt.hcl": unit()})
    first = scan(root, cache_dir=cache)
    for file in cache.iterdir():
        file.write_bytes(b"garbage")
    assert scan(root, cache_dir=cache).units == first.units


def test_default_cache_dir_is_user_cache(make_tree: TreeFactory) -> None:
    from refarch_tui import paths

    root = make_tree({"acct/terragrunt.hcl": ACCOUNT_ROOT, "acct/a/terragrunt.hcl": unit()})
    scan(root)
    assert any((paths.cache_dir() / "parse").glob("*.tree.pickle"))


def test_parallel_parse_matches_sequential(make_tree: TreeFactory, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"acct/terragrunt.hcl": ACCOUNT_ROOT}
    for i in range(scan_module.PARALLEL_THRESHOLD + 12):
        deps = (f"../u{i - 1}",) if i else ()
        files[f"acct/u{i}/terragrunt.hcl"] = unit(deps=deps, extra=f"inputs = {{\n  n = {i}\n}}\n")
    files["acct/broken/terragrunt.hcl"] = "inputs = {"
    root = make_tree(files)
    sequential = scan(root, cache_dir=tmp_path / "c1", workers=1)
    parallel = scan(root, cache_dir=tmp_path / "c2", workers=2)  # fork: no other threads here
    assert parallel.units == sequential.units
    assert parallel.errors == sequential.errors and len(parallel.errors) == 1
    with ThreadPoolExecutor(1) as pool:  # as the app does it: from a thread worker (forkserver)
        threaded = pool.submit(scan, root, cache_dir=tmp_path / "c3", workers=2).result()
    assert threaded.units == sequential.units and threaded.errors == sequential.errors
    assert len(waves(parallel)) == scan_module.PARALLEL_THRESHOLD + 12
