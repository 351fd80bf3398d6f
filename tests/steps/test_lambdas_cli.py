"""The installed `refarch-tui` on a fresh sandbox: `step lambdas --sandbox --apply-edits --json` with the
defaults builds the sample package for dev, stage and prod; `verify` holds, then goes stale when the
package changes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.steps.installed import cli


def test_step_and_verify_on_a_fresh_sandbox(sandbox_dir: Path) -> None:
    first = cli("step", "lambdas", "--sandbox", "--apply-edits", "--json")
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    statuses = {r["account"]: r["status"] for r in document["results"]}
    assert {a for a, s in statuses.items() if s == "done"} == {"dev", "stage", "prod"}, statuses
    assert all(s in ("done", "not_applicable") for s in statuses.values()), statuses
    package = sandbox_dir / "modules" / "lambda" / "long-running-scheduled" / "build" / "lambda.zip"
    assert package.is_file()
    state = json.loads((sandbox_dir / "state.json").read_text())
    for account in ("dev", "stage", "prod"):
        assert state["steps"]["lambdas"][account]["run_env"] == {"TF_VAR_lambda_zip_path": str(package)}

    checked = cli("verify", "--sandbox", "--json")
    assert checked.returncode == 0, checked.stderr
    entries = {e["account"]: e for e in json.loads(checked.stdout)["checked"] if e["step"] == "lambdas"}
    assert {a for a, e in entries.items() if e["status"] == "done"} == {"dev", "stage", "prod"}

    package.write_bytes(b"not the package any more")
    stale = cli("verify", "--sandbox", "--json")
    assert stale.returncode == 1
    entries = {e["account"]: e for e in json.loads(stale.stdout)["checked"] if e["step"] == "lambdas"}
    assert entries["dev"]["status"] == "stale" and "changed" in entries["dev"]["reason"]
