"""The data-store passwords step against the emulator and the private keyring: which accounts have data
stores, one generated password per account in the OS keyring (never in state), secret_env naming only the
entry, typed passwords checked with the broken rule named, Secrets Manager when chosen, keyring locked or
unavailable explained, verify re-checking the entry."""

from __future__ import annotations

import json

import keyring
import keyring.backends.fail
import keyring.errors
import pytest

from refarch_tui import secrets
from refarch_tui.state import Status
from refarch_tui.steps import password_rules, passwords, runner
from refarch_tui.steps.contract import StepContext, StepError
from tests.steps.conftest import MakeCtx


def run(ctx: StepContext, **answers: object) -> runner.StepOutcome:
    return runner.run_step(ctx, "passwords", answers, accept=runner.accept_all)


def test_data_stores_are_found_in_dev_stage_and_prod_only(make_ctx: MakeCtx) -> None:
    found = {a: passwords.data_stores(make_ctx(a)) for a in ("dev", "stage", "prod", "security")}
    assert [s["unit"] for s in found["dev"]] == ["dev/us-east-1/data-stores/mysql"]
    assert [s["unit"] for s in found["stage"]] == ["stage/us-east-1/data-stores/mysql"]
    assert {(s["region"], s["engine"]) for s in found["prod"]} == {
        ("us-east-1", "mysql"),
        ("us-west-2", "mysql"),
    }
    assert found["security"] == []
    plan = passwords.plan(make_ctx("security"), {})
    assert "no data-store unit in security" in plan.not_applicable


def test_prod_gets_one_shared_generated_password_in_the_keyring_only(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("prod")
    outcome = run(ctx)
    assert outcome.status is Status.DONE, outcome.message
    assert "share it" in outcome.message
    entry = passwords.keyring_entry(ctx)
    value = secrets.fetch(entry)
    assert value and len(value) == 32
    assert password_rules.broken_rule(value, password_rules.RULES["mysql"]) is None
    record = ctx.state.record("passwords", "prod")
    assert record.secret_env == {"TF_VAR_master_password": entry}
    assert record.facts["shared"] is True
    # nothing under the workspace (state, journal, logs, the live repo) holds the value
    for path in ctx.workspace.directory.rglob("*"):
        if path.is_file():
            assert value not in path.read_text(errors="replace"), path
    assert value not in json.dumps(record.facts) + json.dumps(record.evidence)
    assert passwords.verify(ctx, record).holds
    # a rerun keeps the password the data stores may already use
    assert run(ctx).status is Status.DONE
    assert secrets.fetch(entry) == value


def test_verify_notices_a_deleted_or_broken_entry(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    run(ctx)
    record = ctx.state.record("passwords", "dev")
    entry = passwords.keyring_entry(ctx)
    secrets.store(entry, "short")
    stale = passwords.verify(ctx, record)
    assert not stale.holds and "at least 8" in stale.reason
    secrets.delete(entry)
    stale = passwords.verify(ctx, record)
    assert not stale.holds and "no entry" in stale.reason


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("short1!", "at least 8"),
        ("A" * 42, "at most 41"),
        ("Abcdefgh12/xyz", "'/'"),
        ('Abcdefgh12"xyz', "'\"'"),
        ("Abcdefgh12@xyz", "'@'"),
        ("Abcdefgh12 xyz", "space"),
        ("Abcdefgh12\txyz", "printable ASCII"),
    ],
)
def test_a_typed_password_breaking_a_rule_is_refused_with_the_rule(
    make_ctx: MakeCtx, typed: str, rule: str
) -> None:
    ctx = make_ctx("dev")
    with pytest.raises(StepError, match="refused") as caught:
        passwords.plan(ctx, {"password": typed})
    assert rule in str(caught.value)
    if len(typed) >= secrets.MIN_REGISTERED_LENGTH:
        assert typed not in str(caught.value)
    assert ctx.state.record("passwords", "dev").status is not Status.DONE


def test_a_typed_good_password_is_stored_as_typed(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("stage")
    typed = "Typed-Password-0123456789-abcdef"
    outcome = run(ctx, password=typed)
    assert outcome.status is Status.DONE, outcome.message
    assert secrets.fetch(passwords.keyring_entry(ctx)) == typed
    assert typed not in json.dumps(ctx.state.record("passwords", "stage").facts)


def test_length_outside_the_engine_range_is_refused(make_ctx: MakeCtx) -> None:
    with pytest.raises(StepError, match="8–41"):
        passwords.plan(make_ctx("dev"), {"length": 42})


def test_secrets_manager_copy_is_tagged_and_verified(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    outcome = run(ctx, secrets_manager=True)
    assert outcome.status is Status.DONE, outcome.message
    assert "AWS Secrets Manager" in outcome.message
    client = ctx.clients("secretsmanager", ctx.region)
    name = "refarch-tui/dev/master-password"
    described = client.describe_secret(SecretId=name)
    assert {"Key": "managed-by", "Value": "refarch-tui"} in described["Tags"]
    value = secrets.fetch(passwords.keyring_entry(ctx))
    assert client.get_secret_value(SecretId=name)["SecretString"] == value
    record = ctx.state.record("passwords", "dev")
    assert passwords.verify(ctx, record).holds
    client.put_secret_value(SecretId=name, SecretString="Other-value-1234567890")
    assert "differs" in passwords.verify(ctx, record).reason


def test_no_keyring_explains_what_to_do(make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx("dev")
    monkeypatch.setattr(secrets, "_backend", lambda: keyring.backends.fail.Keyring())
    with pytest.raises(StepError, match="gnome-keyring-daemon --unlock"):
        passwords.plan(ctx, {})


def test_plaintext_keyring_is_refused_without_the_opt_in(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    class PlaintextKeyring:
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    monkeypatch.setattr(secrets, "_backend", lambda: PlaintextKeyring())
    with pytest.raises(StepError, match="--allow-plaintext-keyring"):
        passwords.plan(make_ctx("dev"), {})


def test_a_locked_keyring_is_reported_and_nothing_recorded(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx("dev")

    def locked(*_args: object) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    monkeypatch.setattr(keyring, "set_password", locked)
    monkeypatch.setattr(keyring, "get_password", locked)
    outcome = run(ctx)
    assert outcome.status is not Status.DONE
    assert "locked" in outcome.message
    assert ctx.state.record("passwords", "dev").secret_env == {}


def test_the_engine_input_picks_the_rules(make_ctx: MakeCtx) -> None:
    unit = make_ctx("dev").live_root / "dev/us-east-1/data-stores/mysql/terragrunt.hcl"
    text = unit.read_text().replace(
        '  master_username         = "acme_admin"', '  engine = "oracle-ee"\n  master_username = "acme_admin"'
    )
    unit.write_text(text)
    ctx = make_ctx("dev")
    assert [s["engine"] for s in passwords.data_stores(ctx)] == ["oracle"]
    with pytest.raises(StepError, match="8–30"):
        passwords.plan(ctx, {"length": 32})
    with pytest.raises(StepError, match="'&'"):
        passwords.plan(ctx, {"password": "Oracle-bans&this-123"})
    outcome = run(ctx)
    assert outcome.status is Status.DONE, outcome.message
    value = secrets.fetch(passwords.keyring_entry(ctx))
    assert value and len(value) == 30


def test_the_plaintext_opt_in_lets_the_plan_through(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    class PlaintextKeyring:
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    monkeypatch.setattr(secrets, "_backend", lambda: PlaintextKeyring())
    plan = passwords.plan(make_ctx("dev", allow_plaintext_keyring=True), {})
    assert plan.actions and not plan.not_applicable
