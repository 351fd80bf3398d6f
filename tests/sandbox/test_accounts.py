"""Account discovery: the sample repo, accounts.json, and every kind of bad input as a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refarch_tui.accounts import discover_accounts
from refarch_tui.state import Account

FIXED = [
    Account("security", "104983213567"),
    Account("shared-services", "235829751430"),
    Account("dev", "368294012756"),
    Account("stage", "481039572864"),
    Account("prod", "596120384729"),
]


def make_unit(root: Path, rel: str) -> None:
    (root / rel).mkdir(parents=True, exist_ok=True)
    (root / rel / "terragrunt.hcl").write_text('terraform { source = "x" }\n')


def test_sample_repo(sample_live: Path) -> None:
    found = discover_accounts(sample_live)
    assert found.problems == []
    assert found.accounts == FIXED
    assert found.regions == ["us-east-1", "us-west-2"]
    assert found.regions_by_account["prod"] == ["us-east-1", "us-west-2"]
    assert found.regions_by_account["dev"] == ["us-east-1"]
    assert sum(found.unit_counts.values()) == 67
    assert found.unit_counts["security"] == 5  # _global units count, the account root config does not


def test_order_follows_deployment_waves_and_skips_non_accounts(tmp_path: Path) -> None:
    for name, account_id in (
        ("prod", "596120384729"),
        ("alpha", "111111111111"),
        ("security", "104983213567"),
    ):
        make_unit(tmp_path, f"{name}/us-east-1/vpc")
        (tmp_path / name / "account.hcl").write_text(f'locals {{\n  account_id = "{account_id}"\n}}\n')
    make_unit(tmp_path, "_envcommon/vpc")
    make_unit(tmp_path, ".git/hooks")
    make_unit(tmp_path, "prod/us-east-1/vpc/.terragrunt-cache/abc/vpc")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("docs\n")
    found = discover_accounts(tmp_path)
    assert found.problems == []
    assert found.account_names == ["security", "prod", "alpha"]
    assert found.unit_counts == {"alpha": 1, "prod": 1, "security": 1}
    assert found.regions == ["us-east-1"]  # a region-named folder without region.hcl still counts


@pytest.mark.parametrize(
    "document",
    [
        {"dev": "368294012756", "prod": "596120384729"},
        [{"name": "dev", "id": "368294012756"}, {"name": "prod", "id": "596120384729"}],
    ],
)
def test_ids_from_accounts_json(tmp_path: Path, document: object) -> None:
    make_unit(tmp_path, "dev/us-east-1/app")
    make_unit(tmp_path, "prod/eu-west-1/app")
    (tmp_path / "accounts.json").write_text(json.dumps(document))
    found = discover_accounts(tmp_path)
    assert found.problems == []
    assert found.accounts == [Account("dev", "368294012756"), Account("prod", "596120384729")]
    assert found.regions_by_account == {"dev": ["us-east-1"], "prod": ["eu-west-1"]}


def test_missing_path(tmp_path: Path) -> None:
    found = discover_accounts(tmp_path / "nope")
    assert found.accounts == []
    assert len(found.problems) == 1 and "does not exist" in found.problems[0]


def test_path_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    found = discover_accounts(target)
    assert len(found.problems) == 1 and "is not a folder" in found.problems[0]


def test_unreadable_path_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs as root, who reads any folder, so the permission error of listing it is simulated."""
    target = tmp_path / "locked"
    target.mkdir()
    real_iterdir = Path.iterdir

    def refusing(self: Path):  # type: ignore[no-untyped-def]
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", refusing)
    found = discover_accounts(target)
    assert found.problems == [f"Cannot read {target}: Permission denied. Check its permissions."]


def test_unreadable_account_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_unit(tmp_path, "dev/us-east-1/app")
    account_file = tmp_path / "dev" / "account.hcl"
    account_file.write_text('locals { account_id = "368294012756" }\n')
    real_read = Path.read_text

    def refusing(self: Path, *args: object, **kwargs: object) -> str:
        if self == account_file:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", refusing)
    found = discover_accounts(tmp_path)
    assert any("Cannot read" in p and "account.hcl" in p for p in found.problems)
    assert any('"dev" has no account ID' in p for p in found.problems)


def test_no_units(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "account.hcl").write_text('locals { account_id = "368294012756" }\n')
    (tmp_path / "dev" / "terragrunt.hcl").write_text("remote_state {}\n")  # a root config is not a unit
    found = discover_accounts(tmp_path)
    assert found.problems and "No Terragrunt units" in found.problems[-1]


def test_empty_folder(tmp_path: Path) -> None:
    found = discover_accounts(tmp_path)
    assert found.accounts == []
    assert len(found.problems) == 1 and "No Terragrunt units" in found.problems[0]


def test_account_without_id(tmp_path: Path) -> None:
    make_unit(tmp_path, "dev/us-east-1/app")
    make_unit(tmp_path, "stage/us-east-1/app")
    (tmp_path / "stage" / "account.hcl").write_text('locals {\n  # account_id = "481039572864"\n}\n')
    found = discover_accounts(tmp_path)
    assert found.accounts == [Account("dev", None), Account("stage", None)]
    assert len(found.problems) == 2
    dev, stage = found.problems
    assert '"dev" has no account ID' in dev
    assert stage.startswith(f"{tmp_path / 'stage' / 'account.hcl'} has no account_id (or aws_account_id)")
    assert "add account.hcl" not in stage.lower()


def test_aws_account_id_is_read_too(tmp_path: Path) -> None:
    """Gruntwork's examples (terragrunt-infrastructure-live-example) name the local `aws_account_id`."""
    make_unit(tmp_path, "dev/us-east-1/app")
    (tmp_path / "dev" / "account.hcl").write_text(
        'locals {\n  account_name   = "dev"\n  aws_account_id = "368294012756"\n}\n'
    )
    found = discover_accounts(tmp_path)
    assert found.problems == []
    assert found.accounts == [Account("dev", "368294012756")]


@pytest.mark.parametrize("bad", ["12345", "1234567890123", "abcdefghijkl", "REPLACE_ME"])
def test_id_not_twelve_digits(tmp_path: Path, bad: str) -> None:
    make_unit(tmp_path, "dev/us-east-1/app")
    (tmp_path / "dev" / "account.hcl").write_text(f'locals {{\n  account_id = "{bad}"\n}}\n')
    found = discover_accounts(tmp_path)
    assert found.accounts == [Account("dev", None)]
    assert len(found.problems) == 1 and "not 12 digits" in found.problems[0] and bad in found.problems[0]


def test_bad_accounts_json(tmp_path: Path) -> None:
    make_unit(tmp_path, "dev/us-east-1/app")
    (tmp_path / "accounts.json").write_text("{not json")
    found = discover_accounts(tmp_path)
    assert any("accounts.json is not valid JSON" in p for p in found.problems)
    assert any("has no account ID" in p for p in found.problems)


def test_conflicting_and_duplicate_ids(tmp_path: Path) -> None:
    for name in ("dev", "stage"):
        make_unit(tmp_path, f"{name}/us-east-1/app")
        (tmp_path / name / "account.hcl").write_text('locals { account_id = "368294012756" }\n')
    (tmp_path / "accounts.json").write_text(json.dumps({"dev": "999999999999", "qa": "111111111111"}))
    found = discover_accounts(tmp_path)
    assert any("Make them agree" in p for p in found.problems)
    assert any('"qa"' in p and "no folder" in p for p in found.problems)
    assert any("have the same ID 368294012756" in p for p in found.problems)


def test_pointing_at_an_account_folder(sample_live: Path) -> None:
    found = discover_accounts(sample_live / "dev")
    assert any("single account folder" in p for p in found.problems)


def test_folder_vanishing_mid_scan_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refarch_tui import accounts

    make_unit(tmp_path, "dev/us-east-1/app")

    def vanish(folder: Path, problems: list[str]) -> tuple[int, list[str], bool]:
        raise FileNotFoundError(2, "No such file or directory", str(folder))

    monkeypatch.setattr(accounts, "_scan_account", vanish)
    found = discover_accounts(tmp_path)
    assert found.problems == [
        f"Cannot read {tmp_path}: No such file or directory. Check the folder and try again."
    ]
