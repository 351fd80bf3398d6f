"""The installed `refarch-tui` on a fresh sandbox: `step kms_admin --sandbox --apply-edits --json` with the
defaults creates the user in security (the only account it runs in) and fills every KMS administrator
list; `verify --sandbox --json` holds; the ARN removed from a list by hand, then the user deleted in the
emulator, go stale; a rerun repairs both without duplicating the ARN; a list that cannot be edited is
warned about loudly on stderr and in the JSON, and the step stays pending."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from refarch_tui.state import Workspace
from tests.steps.installed import cli

ARN = "arn:aws:iam::104983213567:user/kms-cmk-admin"
PLACEHOLDER = "arn:aws:iam::104983213567:user/REPLACE_ME"
TRAIL = "shared-services/us-east-1/security/cloudtrail/terragrunt.hcl"


def kms_entries(checked: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    return [e for e in json.loads(checked.stdout)["checked"] if e["step"] == "kms_admin"]


def test_step_and_verify_on_a_fresh_sandbox_then_stale_and_repaired(sandbox_dir: Path) -> None:
    first = cli("step", "kms_admin", "--sandbox", "--apply-edits", "--json")
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    statuses = {r["account"]: r["status"] for r in document["results"]}
    assert statuses == {"security": "done"}  # only the security account runs it
    security = next(r for r in document["results"] if r["account"] == "security")
    assert security["facts"]["user_arn"] == ARN and security["facts"]["created"] is True
    assert security["warnings"] == []
    edits = security["edits"]
    assert len(edits) == 8 and all(e["applied"] and e["new"] == [ARN] for e in edits)
    assert {e["old"][0] for e in edits} == {PLACEHOLDER}
    assert f"+++ b/{TRAIL}" in first.stderr
    live = sandbox_dir / "live"
    assert not any(PLACEHOLDER in p.read_text() for p in live.rglob("terragrunt.hcl"))

    checked = cli("verify", "--sandbox", "--json")
    assert checked.returncode == 0, checked.stderr
    assert kms_entries(checked) == [
        {"step": "kms_admin", "account": "security", "status": "done", "reason": ""}
    ]

    trail = live / TRAIL
    trail.write_text(trail.read_text().replace(f'["{ARN}"]', '["arn:aws:iam::104983213567:user/alice"]'))
    stale = cli("verify", "--sandbox", "--json")
    assert stale.returncode == 1
    [entry] = kms_entries(stale)
    assert entry["status"] == "stale" and TRAIL in entry["reason"], entry

    repaired = cli("step", "kms_admin", "--sandbox", "--apply-edits", "--json")
    assert repaired.returncode == 0, repaired.stderr
    security = next(r for r in json.loads(repaired.stdout)["results"] if r["account"] == "security")
    assert security["facts"]["created"] is False  # the user of the first run is reused
    assert [e["new"] for e in security["edits"]] == [["arn:aws:iam::104983213567:user/alice", ARN]]
    assert cli("verify", "--sandbox", "--json").returncode == 0

    from refarch_tui.aws.access import for_workspace

    workspace = Workspace(sandbox_dir)
    access = for_workspace(workspace, workspace.load())
    assert access.check_all()["security"].ok
    access.client("security", "iam").delete_user(UserName="kms-cmk-admin")
    gone = cli("verify", "--sandbox", "--json")
    assert gone.returncode == 1
    [entry] = kms_entries(gone)
    assert entry["status"] == "stale" and "no longer exists" in entry["reason"], entry

    dev_kms = live / "dev/us-east-1/data-stores/kms-master-key/terragrunt.hcl"
    dev_kms.write_text(dev_kms.read_text().replace(f'["{ARN}"]', "dependency.admins.outputs.arns"))
    loud = cli("step", "kms_admin", "--sandbox", "--apply-edits", "--json")
    assert loud.returncode == 1  # pending: a key would be left without an administrator
    assert "security: WARNING: NO KMS ADMINISTRATOR: cmk_administrator_iam_arns in dev/" in loud.stderr
    security = next(r for r in json.loads(loud.stdout)["results"] if r["account"] == "security")
    assert security["status"] == "pending" and security["facts"]["created"] is True  # re-created
    assert security["warnings"] and security["warnings"][0].startswith("NO KMS ADMINISTRATOR")
    assert security["message"].startswith("NO KMS ADMINISTRATOR")
