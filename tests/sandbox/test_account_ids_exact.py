"""Issue 9 item 15: account IDs are matched exactly, from the top-level local only, duplicates refused."""

from __future__ import annotations

from pathlib import Path

from refarch_tui.accounts import _read_account_id, _read_accounts_json, is_account_id


def test_a_trailing_newline_is_not_an_account_id() -> None:
    assert is_account_id("368294012756")
    assert not is_account_id("368294012756\n")


def test_a_nested_account_id_does_not_win_over_the_top_level_local(tmp_path: Path) -> None:
    hcl = tmp_path / "account.hcl"
    hcl.write_text(
        'locals {\n  peers = {\n    account_id = "111111111111"\n  }\n  account_id = "368294012756"\n}\n'
    )
    assert _read_account_id(hcl) == ("368294012756", None)


def test_duplicate_keys_in_accounts_json_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text('{"dev": "111111111111", "dev": "368294012756"}')
    problems: list[str] = []
    assert _read_accounts_json(path, problems) == {}
    assert problems and 'the key "dev" appears twice' in problems[0]
