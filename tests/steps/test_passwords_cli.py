"""The installed `refarch-tui` on a fresh sandbox: `step passwords --sandbox --apply-edits --json` with the
defaults, `verify`; a deleted keyring entry goes stale; no password in anything printed or written."""

from __future__ import annotations

import json
from pathlib import Path

from refarch_tui import secrets
from refarch_tui.steps import passwords
from tests.steps.installed import cli


def test_step_and_verify_on_a_fresh_sandbox(sandbox_dir: Path) -> None:
    first = cli("step", "passwords", "--sandbox", "--apply-edits", "--json")
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    statuses = {r["account"]: r["status"] for r in document["results"]}
    assert {a for a, s in statuses.items() if s == "done"} == {"dev", "stage", "prod"}
    assert all(s in ("done", "not_applicable") for s in statuses.values()), statuses
    values = []
    for account in ("dev", "stage", "prod"):
        value = secrets.fetch(passwords.keyring_entry_for(sandbox_dir, account))
        assert value and len(value) == 32
        values.append(value)

    checked = cli("verify", "--sandbox", "--json")
    assert checked.returncode == 0, checked.stderr
    entries = {e["account"]: e for e in json.loads(checked.stdout)["checked"] if e["step"] == "passwords"}
    assert {a for a, e in entries.items() if e["status"] == "done"} == {"dev", "stage", "prod"}

    secrets.delete(passwords.keyring_entry_for(sandbox_dir, "stage"))
    stale = cli("verify", "--sandbox", "--json")
    assert stale.returncode == 1
    entries = {e["account"]: e for e in json.loads(stale.stdout)["checked"] if e["step"] == "passwords"}
    assert entries["stage"]["status"] == "stale" and "no entry" in entries["stage"]["reason"]

    printed = first.stdout + first.stderr + checked.stdout + checked.stderr + stale.stdout + stale.stderr
    written = [
        p.read_text(errors="replace")
        for p in sandbox_dir.rglob("*")
        if p.is_file() and p.stat().st_size < 5e6
    ]
    for value in values:
        assert value not in printed
        assert not any(value in text for text in written)
