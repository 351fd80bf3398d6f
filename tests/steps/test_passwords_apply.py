"""Issue 11's integration test: the passwords step in every account, then an apply of every account with the
fake terragrunt. TF_VAR_master_password reaches the terragrunt of the data-store accounts only (dev, stage,
prod), with the keyring's value (right length and charset); no password is anywhere the product writes or
prints (state, journal, logs, runs, the live repo, the export transcript, the run report)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from refarch_tui import export, secrets
from refarch_tui.steps import backends, kms_admin, password_rules, passwords
from tests.run.helpers import make_run
from tests.steps import helpers, terragrunt_spy
from tests.steps.conftest import MakeCtx
from tests.steps.terragrunt_spy import account_of

DATA_ACCOUNTS = {"dev", "stage", "prod"}
# per call, a digest of TF_VAR_master_password (never the value) and its shape
NOTE_PASSWORD_DIGEST = """\
value = os.environ.get('TF_VAR_master_password')
note = {'has': value is not None}
if value is not None:
    note.update(sha=hashlib.sha256(value.encode()).hexdigest(), length=len(value), chars=sorted(set(value)))
"""


async def test_master_password_reaches_only_the_data_store_accounts_and_nowhere_else(
    make_ctx: MakeCtx, fake_tg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_ctx("dev")
    accounts = [a.name for a in first.state.accounts]
    values: dict[str, str] = {}
    for account in accounts:
        ctx = make_ctx(account)
        plan = passwords.plan(ctx, {})
        if plan.not_applicable:
            assert account not in DATA_ACCOUNTS
            continue
        helpers.run_and_record(passwords, ctx)
        value = secrets.fetch(passwords.keyring_entry(ctx))
        assert value
        values[account] = value
    assert set(values) == DATA_ACCOUNTS
    assert len(set(values.values())) == 3  # one password per account

    seen = terragrunt_spy.install(tmp_path, monkeypatch, NOTE_PASSWORD_DIGEST)
    run = make_run(first.workspace, first.state, accounts=accounts)
    await run.execute()
    assert run.succeeded(), run.report()
    assert "TF_VAR_master_password" not in os.environ  # the child's environment only
    notes = terragrunt_spy.notes(seen)
    applies = [n for n in notes if "apply" in n["argv"]]
    assert {account_of(n["argv"]) for n in applies} == set(accounts)
    allowed = set(password_rules.ALPHABET)
    for note in applies:
        account = account_of(note["argv"])
        if account in DATA_ACCOUNTS:
            assert note["has"], account
            assert note["sha"] == hashlib.sha256(values[account].encode()).hexdigest()
            assert note["length"] == 32 and set(note["chars"]) <= allowed
        else:
            assert not note["has"], f"{account} got TF_VAR_master_password"
    assert not [n for n in notes if n["has"] and "apply" not in n["argv"] and not account_of(n["argv"])]

    # nowhere the product writes or prints: the workspace (state, journal, logs, runs/, live repo),
    # the fake terragrunt's own records, the run report and the export transcript
    texts = {
        str(p): p.read_text(errors="replace") for p in first.workspace.directory.rglob("*") if p.is_file()
    }
    texts.update({str(p): p.read_text(errors="replace") for p in fake_tg.rglob("*") if p.is_file()})
    texts["report"] = str(run.report())
    state = first.workspace.load()
    for fmt in ("json", "markdown"):
        try:
            texts[f"export {fmt}"] = export.render(first.workspace, state, fmt)
        except (ValueError, KeyError) as exc:  # a format name the export does not take
            pytest.fail(f"export {fmt}: {exc}")
    for where, text in texts.items():
        for value in values.values():
            assert value not in text, where


async def test_the_three_steps_then_an_apply_carry_their_values_and_no_password(
    make_ctx: MakeCtx, fake_tg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backends in every account, the KMS admin user in security, passwords in the data-store accounts, then
    one apply: the HCL names each account's bucket and the user ARN, the password reaches only the data-store
    accounts' terragrunt, and no password is in anything the product wrote."""
    first = make_ctx("dev")
    accounts = [a.name for a in first.state.accounts]
    buckets: dict[str, str] = {}
    for account in accounts:
        _, record = helpers.run_and_record(backends, make_ctx(account))
        buckets[account] = str(record.facts["bucket"])
        assert first.state.account(account).id in buckets[account]
    assert len(set(buckets.values())) == len(accounts)  # unique per account
    kms_ctx = make_ctx("security")
    _, kms_record = helpers.run_and_record(kms_admin, kms_ctx)
    user_arn = str(kms_record.facts["user_arn"])
    assert user_arn.endswith(":user/kms-cmk-admin")
    values: dict[str, str] = {}
    for account in sorted(DATA_ACCOUNTS):
        ctx = make_ctx(account)
        helpers.run_and_record(passwords, ctx)
        values[account] = secrets.fetch(passwords.keyring_entry(ctx)) or ""
        assert len(values[account]) == 32

    live = first.live_root
    hcl = {p: p.read_text() for p in live.rglob("*.hcl")}
    for account, bucket in buckets.items():
        assert any(bucket in text for text in hcl.values()), f"{account}: {bucket} not in the live repo"
    kms_units = [p for p, text in hcl.items() if "cmk_administrator_iam_arns" in text]
    assert kms_units and all(user_arn in hcl[p] for p in kms_units)
    assert not any("REPLACE_ME" in hcl[p] for p in kms_units)

    seen = terragrunt_spy.install(tmp_path, monkeypatch, NOTE_PASSWORD_DIGEST)
    run = make_run(first.workspace, first.state, accounts=accounts)
    await run.execute()
    assert run.succeeded(), run.report()
    notes = terragrunt_spy.notes(seen)
    for note in (n for n in notes if "apply" in n["argv"]):
        account = account_of(note["argv"])
        assert note["has"] is (account in DATA_ACCOUNTS), account
        if note["has"]:
            assert note["sha"] == hashlib.sha256(values[account].encode()).hexdigest()

    texts = {
        str(p): p.read_text(errors="replace") for p in first.workspace.directory.rglob("*") if p.is_file()
    }
    texts.update({str(p): p.read_text(errors="replace") for p in fake_tg.rglob("*") if p.is_file()})
    texts["report"] = str(run.report())
    texts["export"] = export.render(first.workspace, first.workspace.load(), "json")
    for where, text in texts.items():
        for value in values.values():
            assert value not in text, where
