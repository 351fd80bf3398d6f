"""Data-store master passwords (seed: "Create data store passwords").

The data-store units of an account are the runnable units with a `master_username` input. Their engine is
read from the unit's `engine` input when it is a literal, else from the module the unit deploys (its
`terraform { source }` path, e.g. `//data-stores/mysql`), else from the unit's folder name; an unknown engine
gets the MySQL rules (the narrowest range besides Oracle's). One password per account (the seed's single
`TF_VAR_master_password` per apply): an account with several data stores shares it, so it must meet the
rules of all their engines. It is generated with `secrets` (or typed, and checked), stored in the OS
keyring only, optionally also in AWS Secrets Manager in that account, and the account's apply is told to
read it from the keyring (secret_env) — the value is never recorded anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from refarch_tui import secrets
from refarch_tui.live.edits import find_units_with_input
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps import password_rules
from refarch_tui.steps.contract import (
    AnswerSpec,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.units import config_file, region_of

STEP_ID = "passwords"
VARIABLE = "TF_VAR_master_password"
_SOURCE = re.compile(r"source\s*=\s*\"([^\"]+)\"")

ANSWERS = (
    AnswerSpec(
        "password",
        "",
        "generate one (recommended); or type it (checked against the engines' rules; ctrl+t shows it)",
        secret=True,
    ),
    AnswerSpec(
        "length",
        None,
        "generated length (default 32: the seed asks for 30+, and MySQL-family engines take at most 41)",
        kind="int",
    ),
    AnswerSpec(
        "secrets_manager",
        False,
        "also store it in AWS Secrets Manager in this account (tagged managed-by=refarch-tui)",
        kind="bool",
    ),
    AnswerSpec("secret_name", "refarch-tui/{account}/master-password", "the Secrets Manager secret name"),
)


def keyring_entry_for(workspace_dir: Any, account: str) -> str:
    """The OS keyring entry holding `account`'s master password (an entry name, no secret)."""
    from refarch_tui.aws.keys import workspace_key_id

    return f"passwords/{workspace_key_id(workspace_dir)}/{account}/master_password"


def keyring_entry(ctx: StepContext) -> str:
    return keyring_entry_for(ctx.workspace.directory, ctx.account)


def _engine_names(ctx: StepContext, unit: Any) -> list[str]:
    names: list[str] = []
    engine = unit.inputs.get("engine")
    if isinstance(engine, str) and "engine" not in unit.unresolved:
        names.append(engine)
    try:
        text = (ctx.live_root / config_file(unit)).read_text(encoding="utf-8")
    except OSError:
        text = ""
    match = _SOURCE.search(text)
    if match:
        names.append(match.group(1).rsplit("//", 1)[-1].split("?", 1)[0])
    names.append(unit.path.rsplit("/", 1)[-1])
    return names


def data_stores(ctx: StepContext) -> list[dict[str, str]]:
    """The account's runnable data-store units with their region, engine family and how it was found."""
    found: list[dict[str, str]] = []
    for unit in find_units_with_input(ctx.tree, "master_username"):
        if unit.account != ctx.account or not unit.runnable:
            continue
        family = password_rules.family_of(*_engine_names(ctx, unit)) or "mysql"
        found.append({"unit": unit.path, "region": region_of(unit, ctx.region), "engine": family})
    return found


def _rules(stores: list[dict[str, str]]) -> password_rules.EngineRules:
    return password_rules.strictest(sorted({s["engine"] for s in stores}))


def _secret_name(ctx: StepContext, answers: Mapping[str, Any]) -> str:
    name = str(answers.get("secret_name") or "").replace("{account}", ctx.account).strip()
    if not re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", name):
        raise StepError(f"secret_name {name!r} is not a usable Secrets Manager name")
    return name


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    stores = data_stores(ctx)
    if not stores:
        return StepPlan(
            STEP_ID,
            ctx.account,
            dict(answers),
            not_applicable=f"no data-store unit in {ctx.account} (no unit takes master_username)",
        )
    rules = _rules(stores)
    typed = str(answers.get("password") or "")
    if typed:
        secrets.register_secret(typed)
        problem = password_rules.broken_rule(typed, rules)
        if problem:
            raise StepError(f"the typed password is refused: {problem}")
    length = answers.get("length")
    if not typed and length is not None and not rules.min_length <= int(length) <= rules.max_length:
        raise StepError(
            f"length {length} is outside {rules.label}'s {rules.min_length}–{rules.max_length} characters"
        )
    try:
        secrets.check_keyring(allow_plaintext=ctx.allow_plaintext_keyring)
    except secrets.KeyringError as exc:
        raise StepError(str(exc)) from None
    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    units = ", ".join(f"{s['unit']} ({s['engine']})" for s in stores)
    how = "as typed" if typed else f"generated, {length or password_rules.default_length(rules)} characters"
    result.actions.append(f"master password for {units}: {how}, into the OS keyring ({keyring_entry(ctx)})")
    if len(stores) > 1:
        result.actions.append(f"the {len(stores)} data stores of {ctx.account} share this one password")
    if answers.get("secrets_manager"):
        name = _secret_name(ctx, answers)
        result.actions.append(f"also store it in AWS Secrets Manager as {name} in {ctx.region} (tagged)")
        result.commands.append(f"aws secretsmanager create-secret --region {ctx.region} --name {name} ***")
    result.actions.append(f"the apply of {ctx.account} reads {VARIABLE} from the OS keyring")
    result.data = {"stores": stores}
    return result


def _store_in_secrets_manager(ctx: StepContext, name: str, value: str) -> str:
    from botocore.exceptions import ClientError

    client = ctx.clients("secretsmanager", ctx.region)
    try:
        try:
            arn = client.describe_secret(SecretId=name)["ARN"]
            client.put_secret_value(SecretId=name, SecretString=value)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            arn = client.create_secret(
                Name=name,
                SecretString=value,
                Description=f"master password of the data stores of {ctx.account} (refarch-tui)",
                Tags=[
                    {"Key": "managed-by", "Value": "refarch-tui"},
                    {"Key": "refarch-tui:account", "Value": ctx.account},
                ],
            )["ARN"]
    except ClientError as exc:
        raise StepError(f"cannot store {name} in Secrets Manager: {secrets.redact(str(exc))}") from None
    return str(arn)


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    stores: list[dict[str, str]] = plan.data["stores"]
    rules = _rules(stores)
    typed = str(plan.answers.get("password") or "")
    length = plan.answers.get("length")
    entry = keyring_entry(ctx)
    try:
        existing = None if typed else secrets.fetch(entry, allow_plaintext=ctx.allow_plaintext_keyring)
        # a rerun keeps a password that still meets the rules: the data stores may already use it
        if existing and password_rules.broken_rule(existing, rules) is None and length is None:
            value, how = existing, "kept the password already in the OS keyring"
        else:
            value = typed or password_rules.generate(rules, int(length) if length is not None else None)
            how = "stored the typed password" if typed else "generated a new password"
            secrets.register_secret(value)
            secrets.store(entry, value, allow_plaintext=ctx.allow_plaintext_keyring)
    except secrets.KeyringError as exc:
        raise StepError(str(exc)) from None
    held_in = [f"OS keyring: {entry}"]
    evidence: dict[str, Any] = {"keyring_entry": entry, "rules": rules.family, "length": len(value)}
    if plan.answers.get("secrets_manager"):
        name = _secret_name(ctx, plan.answers)
        ctx.progress(f"storing the password in Secrets Manager as {name}")
        arn = _store_in_secrets_manager(ctx, name, value)
        held_in.append(f"AWS Secrets Manager: {arn}")
        evidence["secrets_manager"] = {"name": name, "region": ctx.region, "arn": arn}
    shared = f"; the {len(stores)} data stores share it" if len(stores) > 1 else ""
    return StepResult(
        status=Status.DONE,
        facts={
            "data_stores": [s["unit"] for s in stores],
            "engines": sorted({s["engine"] for s in stores}),
            "password": f"{len(value)} characters, held in {' and '.join(held_in)}",
            "shared": len(stores) > 1,
        },
        evidence=evidence,
        secret_env={VARIABLE: entry},
        message=f"{how} for {ctx.account}{shared}; held in {' and '.join(held_in)}",
    )


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    entry = str(record.evidence.get("keyring_entry") or "")
    try:
        value = secrets.fetch(entry, allow_plaintext=ctx.allow_plaintext_keyring) if entry else None
    except secrets.KeyringError as exc:
        return Verification.stale(str(exc))
    if not value:
        return Verification.stale(f"the OS keyring has no entry {entry!r}: rerun the passwords step")
    rules = _rules(data_stores(ctx) or [{"engine": str(record.evidence.get("rules") or "mysql")}])
    problem = password_rules.broken_rule(value, rules)
    if problem:
        return Verification.stale(f"the password in {entry} no longer meets the rules: {problem}")
    sm = record.evidence.get("secrets_manager")
    if isinstance(sm, dict):
        from botocore.exceptions import ClientError

        try:
            stored = ctx.clients("secretsmanager", str(sm["region"])).get_secret_value(SecretId=sm["name"])
        except ClientError:
            return Verification.stale(f"the Secrets Manager secret {sm['name']} is gone")
        secrets.register_secret(str(stored.get("SecretString", "")))
        if stored.get("SecretString") != value:
            return Verification.stale(f"the Secrets Manager secret {sm['name']} differs from the keyring")
    return Verification.ok()
