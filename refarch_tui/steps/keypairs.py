"""Create EC2 key pairs (seed: "Create EC2 Key Pairs").

Per account and region where units take a key input: one key pair only for the OpenVPN server
(`<account>-openvpn`) and one for every other service (`<account>-services`). Each key is generated here
(ED25519, or RSA-4096 for AMIs that do not take ED25519) and imported with ImportKeyPair, so the private
key never travels. It is encrypted with a passphrase (generated into the OS keyring, or typed) and written
with mode 0400 in a 0700 directory under the workspace. A key pair already in AWS is reused only when the
local key's public half matches; a local key file is never overwritten.

Edits: the OpenVPN key into keypair_name/ssh_key_name of openvpn-server units only; the services key into
ssh_key_name, keypair_name and cluster_instance_keypair_name of every other unit, each unit getting the key
of its own region.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch_tui import secrets
from refarch_tui.live.edits import PlannedEdit, find_units_with_input, plan_input_everywhere, unit_region
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps import sshkeys
from refarch_tui.steps.contract import (
    AnswerSpec,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.record import HCL_EVIDENCE, hcl_drift, hcl_entry

STEP_ID = "keypairs"
OPENVPN_INPUTS = ("keypair_name", "ssh_key_name")
SERVICE_INPUTS = ("ssh_key_name", "keypair_name", "cluster_instance_keypair_name")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")

ANSWERS = (
    AnswerSpec("openvpn_key_name", "{account}-openvpn", "key pair only for the OpenVPN server"),
    AnswerSpec("services_key_name", "{account}-services", "key pair for every other service"),
    AnswerSpec(
        "key_type",
        "ed25519",
        "ed25519, or rsa-4096 for AMIs or Windows instances that do not take ED25519",
        kind="choice",
        choices=sshkeys.KEY_TYPES,
    ),
    AnswerSpec("key_dir", None, "where the private keys go (default: <workspace>/keys/<account>, mode 0700)"),
    AnswerSpec(
        "passphrase",
        "",
        "generate one into the OS keyring; or type the passphrase that encrypts the private keys",
        secret=True,
    ),
)


@dataclass
class KeyPlan:
    role: str  # openvpn | services
    name: str
    file: Path
    regions: list[str]
    units: list[str] = field(default_factory=list)
    local: sshkeys.LocalKey | None = None  # the key file already there (decrypted to read its public half)
    in_aws: dict[str, str] = field(default_factory=dict)  # region -> public key of the existing key pair


def keyring_entry_for(workspace_dir: Path, account: str, name: str) -> str:
    """The OS keyring entry holding the passphrase of key `name` of `account` (an entry name, no secret)."""
    from refarch_tui.aws.keys import workspace_key_id

    return f"keypairs/{workspace_key_id(workspace_dir)}/{account}/{name}"


def keyring_entry(ctx: StepContext, name: str) -> str:
    return keyring_entry_for(ctx.workspace.directory, ctx.account, name)


def _name(template: Any, ctx: StepContext, key: str) -> str:
    name = str(template or "").replace("{account}", ctx.account).strip()
    if not _NAME.match(name):
        raise StepError(f"{key} {name!r} is not a usable key pair name (letters, digits, '.', '_', '-')")
    return name


def _key_dir(ctx: StepContext, answer: Any) -> Path:
    if not answer:
        return ctx.workspace.directory / "keys" / ctx.account
    path = Path(str(answer).replace("{account}", ctx.account)).expanduser()
    return path if path.is_absolute() else ctx.workspace.directory / path


def shown(ctx: StepContext, path: Path) -> str:
    """A path as the operator reads it: `<workspace>/keys/dev/dev-services` under the workspace."""
    try:
        return f"<workspace>/{path.relative_to(ctx.workspace.directory).as_posix()}"
    except ValueError:
        return str(path)


def _is_openvpn(unit_path: str) -> bool:
    return any("openvpn" in part for part in unit_path.split("/"))


def _targets(ctx: StepContext) -> dict[str, dict[str, list[str]]]:
    """role -> region -> unit paths of this account (runnable, deployed regions) taking that role's key."""
    found: dict[str, dict[str, list[str]]] = {"openvpn": {}, "services": {}}
    for unit in find_units_with_input(ctx.tree, *SERVICE_INPUTS):
        region = unit_region(unit)
        if unit.account != ctx.account or not unit.runnable or region not in ctx.regions:
            continue
        role = "openvpn" if _is_openvpn(unit.path) else "services"
        names = OPENVPN_INPUTS if role == "openvpn" else SERVICE_INPUTS
        if set(names) & set(unit.inputs):
            found[role].setdefault(region, []).append(unit.path)
    return found


def _existing(ctx: StepContext, name: str, region: str) -> str | None:
    """The public key of key pair `name` in `region`, or None when there is none."""
    from botocore.exceptions import ClientError

    try:
        pairs = ctx.clients("ec2", region).describe_key_pairs(KeyNames=[name], IncludePublicKey=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidKeyPair.NotFound":
            return None
        raise StepError(f"cannot look up key pair {name} in {region}: {exc}") from None
    for pair in pairs.get("KeyPairs", []):
        return sshkeys.normalise_public(str(pair.get("PublicKey", "")))
    return None


def _passphrase(ctx: StepContext, name: str, typed: str) -> str | None:
    if typed:
        secrets.register_secret(typed)
        return typed
    try:
        return secrets.fetch(keyring_entry(ctx, name), allow_plaintext=ctx.allow_plaintext_keyring)
    except secrets.KeyringError as exc:
        raise StepError(str(exc)) from None


def _edits(ctx: StepContext, keys: list[KeyPlan]) -> tuple[list[PlannedEdit], list[tuple[str, str]]]:
    edits: list[PlannedEdit] = []
    refused: list[tuple[str, str]] = []
    for key in keys:
        names = OPENVPN_INPUTS if key.role == "openvpn" else SERVICE_INPUTS
        for region in key.regions:
            plan = plan_input_everywhere(
                ctx.tree,
                names,
                key.name,
                reason=f"the {key.role} EC2 key pair of {ctx.account} in {region}",
                accounts=[ctx.account],
                region=region,
                units=key.units,
            )
            edits += plan.edits
            refused += plan.refused
    return edits, refused


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    targets = _targets(ctx)
    if not any(targets.values()):
        return StepPlan(
            STEP_ID,
            ctx.account,
            dict(answers),
            not_applicable=f"no unit in {ctx.account} takes {', '.join(SERVICE_INPUTS)}",
        )
    names = {
        "openvpn": _name(answers.get("openvpn_key_name"), ctx, "openvpn_key_name"),
        "services": _name(answers.get("services_key_name"), ctx, "services_key_name"),
    }
    if names["openvpn"] == names["services"]:
        raise StepError("the OpenVPN key pair must differ from the services key pair; choose two names")
    directory = _key_dir(ctx, answers.get("key_dir"))
    typed = str(answers.get("passphrase") or "")
    key_type = str(answers.get("key_type") or "ed25519")
    keys: list[KeyPlan] = []
    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    for role in ("openvpn", "services"):
        regions = sorted(targets[role])
        if not regions:
            continue
        units = [u for region in regions for u in targets[role][region]]
        key = KeyPlan(role, names[role], directory / names[role], regions, units)
        if key.file.exists():
            passphrase = _passphrase(ctx, key.name, typed)
            if passphrase is None:
                raise StepError(
                    f"{key.file} exists but its passphrase is not in the OS keyring: type it (passphrase), "
                    f"or choose another {role}_key_name or key_dir. The file is never overwritten."
                )
            try:
                key.local = sshkeys.load(key.file, passphrase)
            except sshkeys.KeyFileError as exc:
                raise StepError(str(exc)) from None
            result.actions.append(
                f"use the local key {shown(ctx, key.file)} ({key.local.key_type}) for {key.name}"
            )
        else:
            result.actions.append(
                f"generate an {key_type.upper()} key for {key.name} into {shown(ctx, key.file)} (mode 0400, "
                + ("passphrase as typed)" if typed else "passphrase generated into the OS keyring)")
            )
        for region in regions:
            ctx.check_cancel()
            existing = _existing(ctx, key.name, region)
            if existing is None:
                result.actions.append(
                    f"import key pair {key.name} into {region} (only the public key is sent)"
                )
                result.commands.append(
                    f"aws ec2 import-key-pair --region {region} --key-name {key.name} "
                    f"--public-key-material fileb://{shown(ctx, key.file)}.pub"
                )
                continue
            if key.local is None:
                raise StepError(
                    f"Key pair {key.name} already exists in {region}, but its private key is not in "
                    f"{directory}; refarch-tui cannot reuse it. Choose another {role}_key_name, or put its "
                    "key file there."
                )
            if existing != key.local.public_key:
                raise StepError(
                    f"Key pair {key.name} in {region} does not match the local key {key.file}; "
                    f"choose another {role}_key_name (the existing key pair is left alone)."
                )
            key.in_aws[region] = existing
            result.actions.append(
                f"reuse key pair {key.name} in {region} (its public key matches {key.file})"
            )
        keys.append(key)
    result.edits, refused = _edits(ctx, keys)
    result.warnings += [f"{unit}: {why}" for unit, why in refused]
    result.data = {"keys": keys, "key_dir": directory, "key_type": key_type, "typed": bool(typed)}
    return result


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    keys: list[KeyPlan] = plan.data["keys"]
    directory: Path = plan.data["key_dir"]
    typed = str(plan.answers.get("passphrase") or "")
    try:
        sshkeys.private_dir(directory)
    except sshkeys.KeyFileError as exc:
        raise StepError(str(exc)) from None
    pairs: list[dict[str, Any]] = []
    for key in keys:
        ctx.check_cancel()
        local = key.local or _create_local(ctx, key, plan.data["key_type"], typed)
        for region in key.regions:
            ctx.check_cancel()
            pairs.append(_ensure_pair(ctx, key, local, region))
    edits, refused = _edits(ctx, keys)
    edited = {(edit.unit, check.path) for edit in edits for check in edit.checks}
    already = [
        hcl_entry(f"{unit}/terragrunt.hcl", ("inputs", name), key.name)
        for key in keys
        for unit in key.units
        for name in (OPENVPN_INPUTS if key.role == "openvpn" else SERVICE_INPUTS)
        if ctx.tree.units[unit].inputs.get(name) == key.name and (unit, ("inputs", name)) not in edited
    ]
    files = [
        {
            "path": str(key.file),
            "public_key_file": f"{key.file}.pub",
            "mode": "0400",
            "key_type": key.local.key_type if key.local else plan.data["key_type"],
        }
        for key in keys
    ]
    names = ", ".join(f"{k.name} ({', '.join(k.regions)})" for k in keys)
    return StepResult(
        status=Status.DONE,
        facts={
            "key_pairs": {k.role: k.name for k in keys},
            "regions": sorted({r for k in keys for r in k.regions}),
            "key_files": {k.name: str(k.file) for k in keys},
            "passphrases": {k.name: f"OS keyring: {keyring_entry(ctx, k.name)}" for k in keys},
        },
        evidence={"key_pairs": pairs, "files": files, HCL_EVIDENCE: already},
        edits=edits,
        refused=refused,
        message=f"key pairs {names}; private keys in {directory} (mode 0400, passphrases in the OS keyring)",
    )


def _create_local(ctx: StepContext, key: KeyPlan, key_type: str, typed: str) -> sshkeys.LocalKey:
    passphrase = typed or sshkeys.new_passphrase()
    try:
        # the passphrase goes to the keyring first: a key file whose passphrase is lost is useless
        secrets.store(keyring_entry(ctx, key.name), passphrase, allow_plaintext=ctx.allow_plaintext_keyring)
        ctx.progress(f"generating an {key_type.upper()} key for {key.name}")
        local = sshkeys.generate(key.file, key_type, passphrase)
    except (secrets.KeyringError, sshkeys.KeyFileError) as exc:
        raise StepError(str(exc)) from None
    ctx.progress(f"wrote {key.file} (mode 0400) and {key.file}.pub")
    key.local = local
    return local


def _ensure_pair(ctx: StepContext, key: KeyPlan, local: sshkeys.LocalKey, region: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    ec2 = ctx.clients("ec2", region)
    existing = _existing(ctx, key.name, region)
    if existing is None:
        ctx.progress(f"importing key pair {key.name} into {region}")
        try:
            ec2.import_key_pair(
                KeyName=key.name,
                PublicKeyMaterial=local.public_key.encode("ascii"),
                TagSpecifications=[
                    {"ResourceType": "key-pair", "Tags": [{"Key": "managed-by", "Value": "refarch-tui"}]}
                ],
            )
        except ClientError as exc:
            raise StepError(f"ImportKeyPair {key.name} in {region} failed: {exc}") from None
    elif existing != local.public_key:
        raise StepError(
            f"Key pair {key.name} in {region} appeared meanwhile with another public key; "
            f"choose another {key.role}_key_name."
        )
    pair = ec2.describe_key_pairs(KeyNames=[key.name], IncludePublicKey=True)["KeyPairs"][0]
    return {
        "name": key.name,
        "role": key.role,
        "region": region,
        "key_pair_id": str(pair.get("KeyPairId", "")),
        "aws_fingerprint": str(pair.get("KeyFingerprint", "")),
        "fingerprint": local.fingerprint,
        "public_key": local.public_key,
        "file": str(key.file),
    }


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    for pair in record.evidence.get("key_pairs") or []:
        ctx.check_cancel()
        existing = _existing(ctx, str(pair["name"]), str(pair["region"]))
        if existing is None:
            return Verification.stale(f"key pair {pair['name']} no longer exists in {pair['region']}")
        if existing != sshkeys.normalise_public(str(pair["public_key"])):
            return Verification.stale(
                f"key pair {pair['name']} in {pair['region']} was replaced: its public key no longer matches"
            )
    for entry in record.evidence.get("files") or []:
        problem = sshkeys.problems(Path(str(entry["path"])))
        if problem is not None:
            return Verification.stale(problem)
    drift = hcl_drift(ctx.live_root, record)
    return Verification.stale(drift) if drift else Verification.ok()
