"""The installed `refarch-tui` on a fresh sandbox: `step backends --sandbox --apply-edits --json` with the
defaults creates a bucket and a lock table per account and points every account's remote_state at them;
a rerun finds them and changes nothing; `verify` holds, and goes stale when the HCL is changed by hand."""

from __future__ import annotations

import json
from pathlib import Path

from tests.aws.conftest import ACCOUNTS
from tests.steps.installed import cli


def test_step_rerun_and_verify_on_a_fresh_sandbox(sandbox_dir: Path) -> None:
    first = cli("step", "backends", "--sandbox", "--apply-edits", "--json")
    assert first.returncode == 0, first.stderr
    results = {r["account"]: r for r in json.loads(first.stdout)["results"]}
    assert set(results) == set(ACCOUNTS)
    for account, account_id in ACCOUNTS.items():
        result = results[account]
        bucket = f"{account}-{account_id}-terraform-state"
        assert result["status"] == "done", result["message"]
        assert result["facts"]["bucket"] == bucket
        assert result["facts"]["table"] == f"{account}-{account_id}-terraform-locks"
        assert f"S3 bucket {bucket}: created in us-east-1" in result["message"]
        assert {e["key"] for e in result["edits"] if e["applied"]} == {
            "remote_state.config.bucket",
            "remote_state.config.dynamodb_table",
            "remote_state.config.region",
        }
        text = (sandbox_dir / "live" / account / "terragrunt.hcl").read_text()
        assert f'bucket = "{bucket}"' in text and "REPLACE_ME" not in text.split("remote_state", 1)[1]

    again = cli("step", "backends", "--sandbox", "--apply-edits", "--json")
    assert again.returncode == 0, again.stderr
    for result in json.loads(again.stdout)["results"]:
        assert result["status"] == "done" and result["edits"] == []
        assert "with every setting in place" in result["message"]

    checked = cli("verify", "--sandbox", "--json")
    assert checked.returncode == 0, checked.stderr
    entries = {e["account"]: e for e in json.loads(checked.stdout)["checked"] if e["step"] == "backends"}
    assert {a for a, e in entries.items() if e["status"] == "done"} == set(ACCOUNTS)

    dev = sandbox_dir / "live" / "dev" / "terragrunt.hcl"
    dev.write_text(dev.read_text().replace("dev-368294012756-terraform-locks", "by-hand-locks"))
    stale = cli("verify", "--sandbox", "--json")
    assert stale.returncode == 1
    entries = {e["account"]: e for e in json.loads(stale.stdout)["checked"] if e["step"] == "backends"}
    assert entries["dev"]["status"] == "stale"
    assert (
        "remote_state.config.dynamodb_table in dev/terragrunt.hcl was changed by hand"
        in entries["dev"]["reason"]
    )
    assert entries["stage"]["status"] == "done"
