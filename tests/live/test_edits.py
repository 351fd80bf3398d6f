"""Planned, comment-preserving edits: splices, diffs, refusals, backups, read-back and restore."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from refarch_tui import secrets
from refarch_tui.live import edits, scan
from refarch_tui.live.edits import EditFailed, EditRefused
from tests.live.conftest import ACCOUNT_ROOT, TreeFactory, unit

ECS = "dev/us-east-1/services/ecs-cluster"
VPN_DEV = "dev/us-east-1/mgmt/openvpn-server"


def only_changed_inside(edit: edits.PlannedEdit) -> None:
    start, end = edit.span
    new_start, new_end = edit.new_span
    assert edit.old_text[:start] == edit.new_text[:new_start]
    assert edit.old_text[end:] == edit.new_text[new_end:]


def test_set_existing_input_is_a_minimal_splice(live_copy: Path, cache: Path) -> None:
    path = live_copy / ECS / "terragrunt.hcl"
    before = path.read_bytes()
    edit = edits.plan_set_input(live_copy, ECS, "ami_id", "ami-0123456789abcdef0", reason="AMI from Packer")
    assert edit.old_text[edit.span[0] : edit.span[1]] == '"ami-REPLACE_ME"'
    assert edit.new_text[edit.new_span[0] : edit.new_span[1]] == '"ami-0123456789abcdef0"'
    only_changed_inside(edit)
    assert '-  ami_id                        = "ami-REPLACE_ME"' in edit.diff
    assert '+  ami_id                        = "ami-0123456789abcdef0"' in edit.diff
    assert f"a/{ECS}/terragrunt.hcl" in edit.diff
    assert edit.reason == "AMI from Packer"
    assert path.read_bytes() == before, "planning never writes"

    applied = edits.apply_edit(edit, backup_dir=live_copy.parent / "backups")
    assert applied.backup.read_bytes() == before
    assert path.read_text() == edit.new_text
    tree = scan(live_copy, cache_dir=cache)
    assert tree.units[ECS].inputs["ami_id"] == "ami-0123456789abcdef0"
    assert tree.errors == []


def test_backup_next_to_file_by_default(live_copy: Path) -> None:
    edit = edits.plan_set_input(live_copy, ECS, "cluster_min_size", 3, reason="r")
    applied = edits.apply_edit(edit)
    assert applied.backup.parent == (live_copy / ECS)
    assert applied.backup.name.startswith("terragrunt.hcl.") and applied.backup.name.endswith(".bak")


def test_new_input_line_matches_indentation_and_alignment(live_copy: Path) -> None:
    edit = edits.plan_set_inputs(
        live_copy, ECS, {"ssh_key_name": "ops", "tags": {"Team": "ops", "n": 2}}, reason="r"
    )
    only_changed_inside(edit)
    added = [ln for ln in edit.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert added == [
        '+  ssh_key_name                  = "ops"',
        '+  tags                          = { Team = "ops", n = 2 }',
    ]
    applied = edits.apply_edit(edit)
    assert applied.edit is edit


def test_refusals_with_reasons(live_copy: Path, make_tree: TreeFactory) -> None:
    with pytest.raises(EditRefused, match=r"dependency\.vpc\.outputs\.vpc_id"):
        edits.plan_set_input(live_copy, ECS, "vpc_id", "vpc-1", reason="r")
    with pytest.raises(EditRefused, match=r"local\.region_vars\.locals\.aws_region"):
        edits.plan_set_input(live_copy, ECS, "aws_region", "eu-west-1", reason="r")
    with pytest.raises(EditRefused, match="does not exist"):
        edits.plan_set_input(live_copy, "dev/nope", "x", 1, reason="r")

    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/merge/terragrunt.hcl": unit(extra='inputs = merge(local.x, {\n  ami_id = "a"\n})\n'),
            "acct/heredoc/terragrunt.hcl": unit(extra="inputs = {\n  doc = <<EOF\nx\nEOF\n}\n"),
            "acct/broken/terragrunt.hcl": "inputs = {\n",
        }
    )
    with pytest.raises(EditRefused, match=r"not a plain \{ \.\.\. \} object"):
        edits.plan_set_input(root, "acct/merge", "ami_id", "b", reason="r")
    with pytest.raises(EditRefused, match="expression this tool does not own"):
        edits.plan_set_input(root, "acct/heredoc", "doc", "y", reason="r")
    with pytest.raises(EditRefused, match="does not parse"):
        edits.plan_set_input(root, "acct/broken", "x", 1, reason="r")
    for bad in (float("nan"), object(), [[1]]):
        with pytest.raises(EditRefused):
            edits.plan_set_input(root, "acct/heredoc", "other", bad, reason="r")


def test_secrets_are_never_written(live_copy: Path) -> None:
    password = "Sup3r-Secret-Value-42"
    secrets.register_secret(password)
    with pytest.raises(EditRefused, match="secret"):
        edits.plan_set_input(live_copy, ECS, "ami_id", password, reason="r")
    with pytest.raises(EditRefused, match="secret"):
        edits.plan_set_input(live_copy, ECS, "db_master_password", "not-registered-yet", reason="r")


def test_file_changed_since_read_is_refused(live_copy: Path) -> None:
    edit = edits.plan_set_input(live_copy, ECS, "ami_id", "ami-1", reason="r")
    path = live_copy / ECS / "terragrunt.hcl"
    path.write_text(path.read_text() + "\n# edited by someone else\n")
    changed = path.read_bytes()
    with pytest.raises(EditRefused, match="changed on disk"):
        edits.apply_edit(edit)
    assert path.read_bytes() == changed


def test_failed_read_back_restores_the_original(live_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = live_copy / ECS / "terragrunt.hcl"
    before = path.read_bytes()
    edit = edits.plan_set_input(live_copy, ECS, "ami_id", "ami-1", reason="r")
    monkeypatch.setattr(edits, "_read_back", lambda text, p: (True, "something else"))
    with pytest.raises(EditFailed, match="original is restored") as caught:
        edits.apply_edit(edit, backup_dir=live_copy.parent / "b")
    assert path.read_bytes() == before
    assert caught.value.backup is not None and caught.value.backup.read_bytes() == before


def test_broken_result_is_caught_and_restored(make_tree: TreeFactory) -> None:
    root = make_tree({"acct/a/terragrunt.hcl": unit(extra='inputs = {\n  x = "1"\n}\n')})
    edit = edits.plan_set_input(root, "acct/a", "x", "2", reason="r")
    sabotaged = edits.PlannedEdit(**{**edit.__dict__, "new_text": edit.new_text.replace('"2"', '"2')})
    path = root / "acct/a/terragrunt.hcl"
    before = path.read_bytes()
    with pytest.raises(EditFailed):
        edits.apply_edit(sabotaged)
    assert path.read_bytes() == before


AWKWARD = (
    "# comment\ufeff-free file with ünïcode ☕\n"
    'terraform {\n\tsource = "x"\n}\n'
    "inputs = {\n"
    "\t# the AMI\n"
    '\tami_id = "ami-old" # keep this comment\n'
    '\tname   = "café"\n'
    '\tnested = {\n\t\tk = "v"\n\t}\n'
    "}"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_crlf_tabs_unicode_no_trailing_newline(make_tree: TreeFactory, newline: str, cache: Path) -> None:
    text = AWKWARD.replace("\n", newline)
    root = make_tree({"acct/a/terragrunt.hcl": text.encode()})
    edit = edits.plan_set_inputs(root, "acct/a", {"ami_id": "ami-new", "added": True}, reason="r")
    edits.apply_edit(edit)
    written = (root / "acct/a/terragrunt.hcl").read_bytes().decode()
    expected = text.replace('"ami-old"', '"ami-new"').replace(
        f"\t}}{newline}}}", f"\t}}{newline}\tadded = true{newline}}}"
    )
    assert written == expected
    assert not written.endswith(newline)
    if newline == "\r\n":
        assert written.count("\r\n") == written.count("\n")
    tree = scan(root, cache_dir=cache)
    assert tree.units["acct/a"].inputs["ami_id"] == "ami-new"
    assert tree.units["acct/a"].inputs["name"] == "café"


def test_empty_and_one_line_and_missing_inputs(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/empty/terragrunt.hcl": unit(extra="inputs = {}\n"),
            "acct/oneline/terragrunt.hcl": unit(extra='inputs = { a = 1, b = "x" }\n'),
            "acct/none/terragrunt.hcl": unit().rstrip("\n"),
        }
    )
    for unit_path in ("acct/empty", "acct/oneline", "acct/none"):
        edit = edits.plan_set_inputs(root, unit_path, {"ami_id": "ami-1", "n": 2}, reason="r")
        only_changed_inside(edit)
        edits.apply_edit(edit)
    tree = scan(root, cache_dir=cache)
    assert tree.errors == []
    assert tree.units["acct/empty"].inputs == {"ami_id": "ami-1", "n": 2}
    assert tree.units["acct/oneline"].inputs == {"a": 1, "b": "x", "ami_id": "ami-1", "n": 2}
    assert tree.units["acct/none"].inputs == {"ami_id": "ami-1", "n": 2}
    assert (
        'inputs = { a = 1, b = "x", ami_id = "ami-1", n = 2 }'
        in (root / "acct/oneline/terragrunt.hcl").read_text()
    )


def test_unchanged_value_gives_an_empty_edit(live_copy: Path) -> None:
    edit = edits.plan_set_input(live_copy, ECS, "cluster_min_size", 2, reason="r")
    assert edit.new_text == edit.old_text and edit.diff == ""


def test_input_through_a_local_literal(make_tree: TreeFactory, cache: Path) -> None:
    root = make_tree(
        {
            "acct/a/terragrunt.hcl": unit(
                extra='locals {\n  ami = "ami-old" # pinned\n}\ninputs = {\n  ami_id = local.ami\n}\n'
            )
        }
    )
    edit = edits.plan_set_input(root, "acct/a", "ami_id", "ami-new", reason="r")
    assert '+  ami = "ami-new" # pinned' in edit.diff
    edits.apply_edit(edit)
    assert scan(root, cache_dir=cache).units["acct/a"].inputs["ami_id"] == "ami-new"


# -- remote state ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["security", "shared-services", "dev", "stage", "prod"])
def test_remote_state_on_sample_accounts(live_copy: Path, account: str) -> None:
    planned = edits.plan_set_remote_state(
        live_copy,
        account,
        bucket=f"acme-{account}-terraform-state",
        table=f"acme-{account}-terraform-locks",
        region="us-east-1",
        reason="backend for " + account,
    )
    assert [p.file for p in planned] == [live_copy / account / "terragrunt.hcl"]
    edit = planned[0]
    only_changed_inside(edit)
    assert "REPLACE_ME" not in edit.new_text.split("remote_state", 1)[1].split("\n}", 1)[0]
    assert "# One lock table per account" in edit.new_text
    edits.apply_edit(edit)
    text = (live_copy / account / "terragrunt.hcl").read_text()
    assert f'bucket = "acme-{account}-terraform-state"' in text
    assert f'dynamodb_table = "acme-{account}-terraform-locks"' in text


def test_remote_state_root_hcl_layout(make_tree: TreeFactory) -> None:
    root_hcl = (
        "locals {\n"
        '  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))\n'
        "}\n"
        "remote_state {\n"
        '  backend = "s3"\n'
        "  config = {\n"
        "    bucket         = local.account_vars.locals.state_bucket\n"
        "    dynamodb_table = local.account_vars.locals.lock_table\n"
        "    region         = local.account_vars.locals.state_region\n"
        "  }\n"
        "}\n"
    )
    account_hcl = (
        'locals {\n  account_name = "dev"\n  state_bucket = "TODO" # bucket\n'
        '  lock_table   = "TODO"\n  state_region = "us-east-1"\n}\n'
    )
    root = make_tree({"root.hcl": root_hcl, "dev/account.hcl": account_hcl, "dev/a/terragrunt.hcl": unit()})
    planned = edits.plan_set_remote_state(
        root, "dev", bucket="dev-state", table="dev-locks", region="eu-west-1", reason="r"
    )
    assert [p.file for p in planned] == [root / "dev/account.hcl"]
    edits.apply_edit(planned[0])
    assert (root / "dev/account.hcl").read_text() == account_hcl.replace(
        '"TODO" # bucket', '"dev-state" # bucket'
    ).replace('lock_table   = "TODO"', 'lock_table   = "dev-locks"').replace('"us-east-1"', '"eu-west-1"')

    shared = make_tree({"root.hcl": ACCOUNT_ROOT, "dev/a/terragrunt.hcl": unit()})
    with pytest.raises(EditRefused, match="shared by every account"):
        edits.plan_set_remote_state(shared, "dev", bucket="b", table="t", region="r", reason="r")
    nothing = make_tree({"dev/a/terragrunt.hcl": unit()})
    with pytest.raises(EditRefused, match="no remote_state block"):
        edits.plan_set_remote_state(nothing, "dev", bucket="b", table="t", region="r", reason="r")


def test_find_units_with_input(sample_live: Path, cache: Path) -> None:
    tree = scan(sample_live, cache_dir=cache)
    with_ami = edits.find_units_with_input(tree, "ami_id")
    assert with_ami and all("ami_id" in u.inputs for u in with_ami)
    assert ECS in {u.path for u in with_ami}
    keys = edits.find_units_with_input(tree, "ssh_key_name", "keypair_name", "cluster_instance_keypair_name")
    assert {u.path for u in keys} >= {ECS, "dev/us-east-1/mgmt/openvpn-server"}
    assert [u.path for u in keys] == sorted(u.path for u in keys)
    assert edits.find_units_with_input(tree, "no_such_input") == []


# -- property: random edits change only the value's span --------------------------------------------------


def _owned_inputs(root: Path, unit_path: str) -> list[str]:
    from refarch_tui.live.edits import _Doc, _literal

    doc = _Doc.read(root / unit_path / "terragrunt.hcl")
    value = doc.attr(doc.body, "inputs")
    obj = doc.object_of(value) if value is not None else None
    if obj is None:
        return []
    return [e.key for e in doc.elems(obj) if e.key and _literal(doc.expr(e.value))[0]]


def _random_value(rng: random.Random) -> object:
    choice = rng.randrange(6)
    if choice == 0:
        return "".join(rng.choice('ab-_.:/ "\\$ü{}%') for _ in range(rng.randrange(0, 12)))
    if choice == 1:
        return rng.randrange(-1000, 100000)
    if choice == 2:
        return rng.choice([True, False])
    if choice == 3:
        return round(rng.uniform(-10, 10), 3)
    if choice == 4:
        return [f"arn:aws:iam::{rng.randrange(10**11, 10**12)}:user/u{i}" for i in range(rng.randrange(0, 3))]
    return {"Name": f"n{rng.randrange(100)}", "count": rng.randrange(5)}


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13, 21, 34])
def test_random_edits_only_touch_the_value(live_copy: Path, seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    tree = scan(live_copy, cache_dir=tmp_path / f"c{seed}")
    candidates = [u.path for u in tree.units.values() if u.runnable]
    for _ in range(6):
        unit_path = rng.choice(candidates)
        names = _owned_inputs(live_copy, unit_path)
        if not names:
            continue
        name = rng.choice(names)
        value = _random_value(rng)
        edit = edits.plan_set_input(live_copy, unit_path, name, value, reason="property")
        if edit.new_text == edit.old_text:
            continue
        only_changed_inside(edit)
        assert len(edit.splices) == 1
        assert edit.old_text[: edit.span[0]].rstrip(" \t").endswith("="), "the span starts at the value"
        assert edit.new_text[edit.new_span[0] : edit.new_span[1]] == edits.render_value(value)
        before_inputs = scan(live_copy, cache_dir=tmp_path / f"c{seed}").units[unit_path].inputs
        edits.apply_edit(edit, backup_dir=tmp_path / "bak")
        after = scan(live_copy, cache_dir=tmp_path / f"c{seed}").units[unit_path].inputs
        assert after[name] == (list(value) if isinstance(value, tuple) else value)
        assert {k: v for k, v in after.items() if k != name} == {
            k: v for k, v in before_inputs.items() if k != name
        }


def test_utf8_bom_file_keeps_its_bom(make_tree: TreeFactory, cache: Path) -> None:
    text = "\ufeff" + unit(extra='inputs = {\n  ami_id = "ami-old"\n}\n')
    root = make_tree({"acct/a/terragrunt.hcl": text.encode("utf-8")})
    assert scan(root, cache_dir=cache).units["acct/a"].inputs == {"ami_id": "ami-old"}
    edit = edits.plan_set_input(root, "acct/a", "ami_id", "ami-new", reason="r")
    only_changed_inside(edit)
    edits.apply_edit(edit)
    written = (root / "acct/a/terragrunt.hcl").read_bytes()
    assert written == text.replace("ami-old", "ami-new").encode("utf-8")


def test_plan_input_everywhere_filters_and_collects(live_copy: Path, cache: Path) -> None:
    tree = scan(live_copy, cache_dir=cache)
    plan = edits.plan_input_everywhere(
        tree, ["ami_id"], "ami-0east", reason="ECS/OpenVPN AMI", accounts=["prod"], region="us-east-1"
    )
    assert sorted(e.unit for e in plan.edits) == [
        "prod/us-east-1/mgmt/openvpn-server",
        "prod/us-east-1/services/ecs-cluster",
    ]
    assert plan.refused == [] and plan.unchanged == []
    west = edits.plan_input_everywhere(
        tree, ["ami_id"], "ami-0west", reason="r", accounts=["prod"], region="us-west-2"
    )
    assert [e.unit for e in west.edits] == ["prod/us-west-2/services/ecs-cluster"]
    assert edits.unit_region(tree.units["prod/us-west-2/services/ecs-cluster"]) == "us-west-2"
    assert edits.unit_region(tree.units["prod"]) is None

    keys = edits.plan_input_everywhere(
        tree, ["keypair_name", "cluster_instance_keypair_name"], "ops", reason="r", accounts=["dev"]
    )
    assert sorted(e.unit for e in keys.edits) == [VPN_DEV, ECS] and keys.refused == []
    vpcs = edits.plan_input_everywhere(tree, ["vpc_id"], "vpc-1", reason="r", accounts=["dev"])
    assert vpcs.edits == [] and ECS in {u for u, _why in vpcs.refused}
    assert all("does not own" in why for _u, why in vpcs.refused)
    for edit in plan.edits:
        edits.apply_edit(edit)
    again = edits.plan_input_everywhere(
        scan(live_copy, cache_dir=cache),
        ["ami_id"],
        "ami-0east",
        reason="r",
        accounts=["prod"],
        region="us-east-1",
    )
    assert again.edits == [] and len(again.unchanged) == 2
