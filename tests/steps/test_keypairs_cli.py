"""The installed `refarch-tui` on a fresh sandbox: `step keypairs --sandbox --apply-edits --json`, then
`verify --sandbox --json`; a key pair deleted in the emulator goes stale and a rerun repairs it; afterwards
no passphrase or private key material is anywhere the product writes (state, journal, logs, HCL, output)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from refarch_tui import paths, secrets
from refarch_tui.run.controller import pending_steps
from refarch_tui.state import Workspace
from refarch_tui.steps import keypairs
from tests.steps.installed import cli

ACCOUNTS = ["shared-services", "dev", "stage", "prod"]


def test_step_and_verify_on_a_fresh_sandbox_then_stale_and_repaired(sandbox_dir: Path) -> None:
    first = cli("step", "keypairs", "--sandbox", "--apply-edits", "--json")
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)  # exactly one JSON document
    assert document["step"] == "keypairs"
    assert [r["account"] for r in document["results"]] == ACCOUNTS
    assert {r["status"] for r in document["results"]} == {"done"}
    dev = next(r for r in document["results"] if r["account"] == "dev")
    assert {(e["key"], e["new"], e["applied"]) for e in dev["edits"]} == {
        ("keypair_name", "dev-openvpn", True),
        ("cluster_instance_keypair_name", "dev-services", True),
    }
    assert "+++ b/dev/us-east-1/services/ecs-cluster/terragrunt.hcl" in first.stderr

    checked = cli("verify", "--sandbox", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {
        "checked": [{"step": "keypairs", "account": a, "status": "done", "reason": ""} for a in ACCOUNTS]
    }

    again = cli("step", "keypairs", "--sandbox", "--apply-edits", "--json")
    assert again.returncode == 0, again.stderr
    assert all(r["edits"] == [] and r["status"] == "done" for r in json.loads(again.stdout)["results"])

    workspace = Workspace(sandbox_dir)
    state = workspace.load()
    assert all("Create EC2 key pairs" not in step for step in pending_steps(state, "dev"))

    from refarch_tui.aws.access import for_workspace

    access = for_workspace(workspace, state)
    assert access.check_all()["dev"].ok
    access.client("dev", "ec2", "us-east-1").delete_key_pair(KeyName="dev-services")
    stale = cli("verify", "--sandbox", "--json")
    assert stale.returncode == 1
    entries = {e["account"]: e for e in json.loads(stale.stdout)["checked"]}
    assert entries["dev"] == {
        "step": "keypairs",
        "account": "dev",
        "status": "stale",
        "reason": "key pair dev-services no longer exists in us-east-1",
    }
    status = json.loads(cli("status", "--json").stdout)
    cell = next(c for c in status["steps"] if (c["step"], c["account"]) == ("keypairs", "dev"))
    assert cell["status"] == "stale"

    repaired = cli("step", "keypairs", "--sandbox", "--account", "dev", "--apply-edits", "--json")
    assert repaired.returncode == 0, repaired.stderr
    assert cli("verify", "--sandbox", "--json").returncode == 0

    outputs = [first, checked, again, stale, repaired]
    assert_no_key_material(workspace, outputs)


def assert_no_key_material(workspace: Workspace, outputs: list[subprocess.CompletedProcess[str]]) -> None:
    state = workspace.load()
    leaks_of: dict[str, str] = {}
    for account in ACCOUNTS:
        record = state.record("keypairs", account)
        for name, path in record.facts["key_files"].items():
            passphrase = secrets.fetch(keypairs.keyring_entry_for(workspace.directory, account, name))
            assert passphrase
            leaks_of[f"passphrase of {name}"] = passphrase
            body = [line for line in Path(path).read_text().splitlines() if "-----" not in line]
            leaks_of[f"private key of {name}"] = max(body, key=len)
    keys_dir = workspace.directory / "keys"
    files = [
        p
        for root in (workspace.directory, paths.log_dir(), paths.cache_dir())
        for p in root.rglob("*")
        if p.is_file() and keys_dir not in p.parents
    ]
    assert any(p.name == "journal.jsonl" for p in files) and any(p.suffix == ".hcl" for p in files)
    texts = {str(p): p.read_bytes().decode("utf-8", errors="replace") for p in files}
    for index, result in enumerate(outputs):
        texts[f"output {index}"] = result.stdout + result.stderr
    for what, secret in leaks_of.items():
        leaks = [name for name, text in texts.items() if secret in text]
        assert leaks == [], f"{what} found in {leaks}"
