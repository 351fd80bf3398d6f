"""Edits stay inside the live repo, name the file they really change, and never write raw control
characters or lone surrogates (issue 9 items 5, 6 and 20)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refarch_tui.live import edits
from refarch_tui.live.edits import EditRefused
from tests.live.conftest import TreeFactory, unit

OUTSIDE_UNIT = unit(extra='  name = "outside"\n')


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere" / "u"
    folder.mkdir(parents=True)
    (folder / "terragrunt.hcl").write_text(OUTSIDE_UNIT)
    return folder


def _untouched(folder: Path) -> None:
    assert (folder / "terragrunt.hcl").read_text() == OUTSIDE_UNIT
    assert [p.name for p in folder.iterdir()] == ["terragrunt.hcl"], "no backup left outside either"


@pytest.mark.parametrize("unit_path", ["../elsewhere/u", "dev/../../elsewhere/u"])
def test_dotdot_unit_paths_are_refused(make_tree: TreeFactory, tmp_path: Path, unit_path: str) -> None:
    outside = _outside(tmp_path)
    root = make_tree({"dev/a/terragrunt.hcl": unit()})
    assert (root / unit_path).resolve() == outside, "the path really leads to the outside unit"
    with pytest.raises(EditRefused, match=r"relative to the live repo.*without '\.\.'"):
        edits.plan_set_input(root, unit_path, "name", "x", reason="r")
    _untouched(outside)


def test_absolute_unit_paths_are_refused(make_tree: TreeFactory, tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    root = make_tree({"dev/a/terragrunt.hcl": unit()})
    with pytest.raises(EditRefused, match="relative to the live repo"):
        edits.plan_set_input(root, str(outside), "name", "x", reason="r")
    _untouched(outside)


def test_a_symlinked_unit_folder_leading_out_of_the_repo_is_refused(
    make_tree: TreeFactory, tmp_path: Path
) -> None:
    outside = _outside(tmp_path)
    root = make_tree({"dev/a/terragrunt.hcl": unit()})
    os.symlink(outside, root / "dev" / "linked")
    with pytest.raises(EditRefused, match=r"outside the live repo"):
        edits.plan_set_input(root, "dev/linked", "name", "x", reason="r")
    _untouched(outside)


def test_a_shared_root_reading_a_file_outside_the_repo_is_refused(
    make_tree: TreeFactory, tmp_path: Path
) -> None:
    root_hcl = (
        "locals {\n"
        '  account_vars = read_terragrunt_config(find_in_parent_folders("../../x.hcl"))\n'
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
    root = make_tree({"root.hcl": root_hcl, "dev/a/terragrunt.hcl": unit()})
    escaped = (root / "dev" / "../../x.hcl").resolve()
    original = 'locals {\n  state_bucket = "a"\n  lock_table = "b"\n  state_region = "c"\n}\n'
    escaped.write_text(original)
    with pytest.raises(EditRefused, match="outside the live repo"):
        edits.plan_set_remote_state(root, "dev", bucket="bb", table="tt", region="us-east-1", reason="r")
    assert escaped.read_text() == original
    assert sorted(p.name for p in escaped.parent.iterdir() if p.name.startswith("x.hcl")) == ["x.hcl"]


def test_a_symlinked_terragrunt_hcl_inside_the_repo_edits_and_names_its_target(
    make_tree: TreeFactory,
) -> None:
    root = make_tree({"common/shared.hcl": unit(extra='  name = "old"\n'), "dev/b/.keep": ""})
    link = root / "dev" / "b" / "terragrunt.hcl"
    os.symlink("../../common/shared.hcl", link)

    edit = edits.plan_set_input(root, "dev/b", "name", "new", reason="because")

    assert edit.file == (root / "common/shared.hcl").resolve()
    assert "a/common/shared.hcl" in edit.diff and "b/common/shared.hcl" in edit.diff
    assert "dev/b/terragrunt.hcl is a symlink to common/shared.hcl" in edit.reason
    applied = edits.apply_edit(edit)
    assert link.is_symlink(), "the repo's structure is kept: the symlink stays a symlink"
    assert 'name = "new"' in (root / "common/shared.hcl").read_text()
    assert applied.backup.parent == (root / "common").resolve()


def test_a_symlinked_terragrunt_hcl_pointing_outside_is_refused(
    make_tree: TreeFactory, tmp_path: Path
) -> None:
    outside = _outside(tmp_path)
    root = make_tree({"dev/b/.keep": ""})
    os.symlink(outside / "terragrunt.hcl", root / "dev" / "b" / "terragrunt.hcl")
    with pytest.raises(EditRefused, match="outside the live repo"):
        edits.plan_set_input(root, "dev/b", "name", "x", reason="r")
    _untouched(outside)


def test_a_file_swapped_for_a_symlink_after_planning_is_not_written(
    make_tree: TreeFactory, tmp_path: Path
) -> None:
    outside = _outside(tmp_path)
    root = make_tree({"dev/a/terragrunt.hcl": OUTSIDE_UNIT})
    edit = edits.plan_set_input(root, "dev/a", "name", "planned", reason="r")
    target = root / "dev/a/terragrunt.hcl"
    target.unlink()
    os.symlink(outside / "terragrunt.hcl", target)
    with pytest.raises(EditRefused, match="since"):
        edits.apply_edit(edit)
    _untouched(outside)


def test_a_fifo_is_refused_not_read(make_tree: TreeFactory) -> None:
    root = make_tree({"dev/a/.keep": ""})
    os.mkfifo(root / "dev/a/terragrunt.hcl")
    with pytest.raises(EditRefused, match="not a regular file"):
        edits.plan_set_input(root, "dev/a", "name", "x", reason="r")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x07", "\x85"])
def test_control_characters_are_escaped_and_read_back(make_tree: TreeFactory, char: str) -> None:
    root = make_tree({"dev/a/terragrunt.hcl": unit()})
    value = f"left{char}right"
    edit = edits.plan_set_input(root, "dev/a", "name", value, reason="r")
    assert char not in edit.new_text
    assert f"left\\u{ord(char):04x}right" in edit.new_text
    edits.apply_edit(edit)
    raw = (root / "dev/a/terragrunt.hcl").read_bytes()
    assert char.encode("utf-8") not in raw
    assert edits.read_value(raw.decode(), ("inputs", "name")) == (True, value)


def test_a_lone_surrogate_is_refused_before_any_backup(make_tree: TreeFactory) -> None:
    root = make_tree({"dev/a/terragrunt.hcl": unit()})
    before = sorted(p.name for p in (root / "dev/a").iterdir())
    with pytest.raises(EditRefused, match=r"lone surrogate \(U\+D800"):
        edits.plan_set_input(root, "dev/a", "name", "ab\ud800cd", reason="r")
    with pytest.raises(EditRefused, match="lone surrogate"):
        edits.plan_set_input(root, "dev/a", "tags", {"k\udfff": "v"}, reason="r")
    assert sorted(p.name for p in (root / "dev/a").iterdir()) == before
