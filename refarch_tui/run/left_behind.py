"""What a teardown leaves behind: things the wizard's steps made outside Terraform, read from their records.

A destroy only removes what is in Terraform state. Key pairs, ACM certificates, the KMS admin user, AMIs,
ECR images, keyring entries and local key files were made by the preparation steps, and Route 53 zones
that were imported existed before the deployment. They are found in the account's step records (facts,
evidence, secret_env, imports) by what the values look like, so any step's way of naming its facts works.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refarch_tui import checklist
from refarch_tui.state import Status, StepRecord, WorkspaceState

KEYRING_SERVICE = "refarch-tui"

_AMI = re.compile(r"^(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?P<id>ami-[0-9a-f]{8,17})$")
_ACM = re.compile(r"^arn:aws[\w-]*:acm:(?P<region>[\w-]+):(?P<account>\d{12}):certificate/\S+$")
_IAM_USER = re.compile(r"^arn:aws[\w-]*:iam::(?P<account>\d{12}):user/(?P<name>\S+)$")
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[\w-]+)\.amazonaws\.com/(?P<repo>[^:@\s]+)[:@]\S+$"
)
_ZONE_ID = re.compile(r"^(?:/hostedzone/)?(?P<id>Z[A-Z0-9]{7,31})$")
_KEY_FILE_SUFFIXES = (".pem", ".key", ".ppk", ".id_rsa", ".id_ed25519")
_KEY_NAME_HINT = re.compile(r"key_?pair|key_?name", re.IGNORECASE)
_REGION = re.compile(r"[a-z]{2}(?:-gov)?-[a-z]+-\d")

# steps whose work outlives a destroy; a done one that names nothing recognisable still gets a line
OUT_OF_TERRAFORM = ("amis", "docker_images", "keypairs", "certs", "kms_admin", "route53")


@dataclass(frozen=True)
class LeftBehind:
    what: str
    where: str

    def to_json(self) -> dict[str, str]:
        return {"what": self.what, "where": self.where}


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item, path)
    elif isinstance(value, str):
        yield path, value


def _region_in(path: tuple[str, ...], fallback: str) -> str:
    for part in reversed(path):
        match = _REGION.search(part)
        if match:
            return match.group(0)
    return fallback


def _in_account(account: str, account_id: str | None) -> str:
    return f"account {account} ({account_id})" if account_id else f"account {account}"


def _from_record(
    step_id: str, record: StepRecord, account: str, account_id: str | None, region: str
) -> list[LeftBehind]:
    here = _in_account(account, account_id)
    found: list[LeftBehind] = []
    # evidence["hcl"] holds values written into the live repo (steps.record.HCL_EVIDENCE): they name what
    # the repo refers to, e.g. other administrators kept in a KMS key's list, not what the step created
    evidence = {key: value for key, value in record.evidence.items() if key != "hcl"}
    for path, value in _leaves({"facts": record.facts, "evidence": evidence}):
        text = value.strip()
        if match := _AMI.match(text):
            where = match.group("region") or _region_in(path, region)
            found.append(LeftBehind(f"AMI {match.group('id')}", f"EC2 AMIs of {here}, {where}"))
        elif match := _ACM.match(text):
            found.append(LeftBehind(f"ACM certificate {text}", f"ACM of {here}, {match.group('region')}"))
        elif match := _IAM_USER.match(text):
            label = "KMS admin IAM user" if step_id == "kms_admin" else "IAM user"
            found.append(LeftBehind(f"{label} {match.group('name')}", f"IAM (global) of {here}"))
        elif match := _ECR_IMAGE.match(text):
            found.append(
                LeftBehind(
                    f"ECR image {text.rsplit('/', 1)[-1]}",
                    f"ECR repository {match.group('repo')} of {here}, {match.group('region')}",
                )
            )
        elif step_id == "route53" and (match := _ZONE_ID.match(text)):
            found.append(
                LeftBehind(f"Route 53 hosted zone {match.group('id')}", f"Route 53 (global) of {here}")
            )
        elif text.startswith(("/", "~/")) and (
            text.endswith(_KEY_FILE_SUFFIXES) or any("key" in part.lower() for part in path[-1:])
        ):
            found.append(LeftBehind(f"local key file {text}", f"this machine: {Path(text).expanduser()}"))
        elif step_id == "keypairs" and path and _KEY_NAME_HINT.search(path[-1]) and "/" not in text:
            found.append(
                LeftBehind(f"EC2 key pair {text}", f"EC2 key pairs of {here}, {_region_in(path, region)}")
            )
    for entry in record.imports:
        if "route53_zone" in entry.get("address", ""):
            unit, address = entry.get("unit", "?"), entry.get("address")
            found.append(
                LeftBehind(
                    f"Route 53 hosted zone {entry.get('id', '?')} (imported: it existed before)",
                    f"Route 53 (global) of {here}; it is in {unit}'s state since the import, so destroying "
                    f"that unit deletes it unless you run `terragrunt state rm {address}` there first",
                )
            )
    for variable, entry_name in sorted(record.secret_env.items()):
        found.append(
            LeftBehind(
                f"keyring entry {entry_name} (for {variable})",
                f"OS keyring, service {KEYRING_SERVICE}, on this machine",
            )
        )
    if not found and record.status is Status.DONE and step_id in OUT_OF_TERRAFORM:
        title = checklist.step(step_id).title
        found.append(LeftBehind(f"what the step '{title}' created (see its record)", here))
    return found


def collect(state: WorkspaceState, account: str) -> list[LeftBehind]:
    """Everything the account's step records say exists outside Terraform, once each, in checklist order."""
    account_id = None
    for candidate in state.accounts:
        if candidate.name == account:
            account_id = candidate.id
    region = state.regions[0] if state.regions else "us-east-1"
    result: list[LeftBehind] = []
    for step in checklist.STEPS:
        record = state.steps.get(step.id, {}).get(account)
        if record is None or record.status in (Status.PENDING, Status.NOT_APPLICABLE):
            continue
        for item in _from_record(step.id, record, account, account_id, region):
            if item not in result:
                result.append(item)
    return result
