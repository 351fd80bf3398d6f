"""The seed document's checklist as data: its steps in order, and the order accounts are deployed in.

A screen never decides what comes next; this module and the workspace state do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

SECURITY = "security"
SHARED_SERVICES = "shared-services"
APP_ACCOUNTS = ("dev", "stage", "prod")

# Seed, "Deployment Order": security first, then shared-services, then dev/stage/prod in parallel.
DEPLOYMENT_WAVES: tuple[tuple[str, ...], ...] = ((SECURITY,), (SHARED_SERVICES,), APP_ACCOUNTS)


class Scope(StrEnum):
    """Which accounts a step applies to."""

    ALL = "all"
    OWNER = "owner"  # done once in the owning account (default shared-services), shared with the others
    SECURITY_ONLY = "security"
    WORKLOADS = "workloads"  # shared-services and the application accounts: where EC2 instances run
    APPS = "apps"  # the application accounts (dev, stage, prod and any others that are not the two above)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    seed_section: str
    scope: Scope
    summary: str
    needs: tuple[str, ...] = ()


STEPS: tuple[Step, ...] = (
    Step(
        "amis",
        "Build AMIs",
        "Build AMIs",
        Scope.OWNER,
        "Packer builds the AMIs once in the owning account and shares them (ami_users); ami_id goes into "
        "every unit that asks for it.",
    ),
    Step(
        "docker_images",
        "Build Docker images",
        "Build Docker images",
        Scope.OWNER,
        "Build, tag and push the sample app images to ECR; fill image and version into terragrunt.hcl.",
    ),
    Step(
        "lambdas",
        "Build Lambda packages",
        "Build lambda functions",
        Scope.APPS,
        "Run the long-running-scheduled build.sh and remember the package path it asks you to export.",
    ),
    Step(
        "keypairs",
        "Create EC2 key pairs",
        "Create EC2 Key Pairs",
        Scope.WORKLOADS,
        "One key pair for the OpenVPN server, one for everything else; passphrase-protected, mode 0400.",
    ),
    Step(
        "backends",
        "Configure state backends",
        "Configure Terraform backends",
        Scope.ALL,
        "One S3 bucket and DynamoDB lock table per account, written into the account's root terragrunt.hcl.",
    ),
    Step(
        "vpn",
        "Size the VPN server",
        "Configure the VPN server",
        Scope.WORKLOADS,
        "Deploy OpenVPN on t2.medium so the PKI is generated in minutes, then downsize.",
    ),
    Step(
        "passwords",
        "Data store passwords",
        "Create data store passwords",
        Scope.APPS,
        "Generate 32+ character passwords into the OS keyring; injected as TF_VAR_* at apply time.",
    ),
    Step(
        "route53",
        "Import Route 53 zones",
        "Import Route 53 hosted zones",
        Scope.APPS,
        "Queue `terragrunt import aws_route53_zone.primary_domain <ZONE_ID>` for existing public zones.",
    ),
    Step(
        "certs",
        "TLS certificates",
        "Create TLS certs",
        Scope.APPS,
        "Request wildcard ACM certs (and us-east-1 for CloudFront); "
        "import self-signed certs for internal ALBs.",
    ),
    Step(
        "kms_admin",
        "KMS admin IAM user",
        "Create an IAM User for KMS",
        Scope.SECURITY_ONLY,
        "Create the CMK administrator user in the security account; "
        "its ARN goes to cmk_administrator_iam_arns.",
    ),
    Step(
        "terragrunt",
        "Run Terragrunt",
        "Run Terragrunt",
        Scope.ALL,
        "terragrunt run --all apply, account by account, in deployment order.",
        needs=(
            "amis",
            "docker_images",
            "lambdas",
            "keypairs",
            "backends",
            "vpn",
            "passwords",
            "route53",
            "certs",
            "kms_admin",
        ),
    ),
)

STEP_IDS: tuple[str, ...] = tuple(step.id for step in STEPS)
_BY_ID = {step.id: step for step in STEPS}


def step(step_id: str) -> Step:
    try:
        return _BY_ID[step_id]
    except KeyError:
        raise KeyError(f"unknown step {step_id!r}; known steps: {', '.join(STEP_IDS)}") from None


def order_accounts(names: Iterable[str]) -> list[str]:
    """Accounts in deployment order: security, shared-services, dev/stage/prod, then the rest by name."""
    known = [name for wave in DEPLOYMENT_WAVES for name in wave]
    names = list(dict.fromkeys(names))
    ranked = [name for name in known if name in names]
    return ranked + sorted(name for name in names if name not in known)


def deployment_waves(names: Iterable[str]) -> list[list[str]]:
    """Groups of accounts that may run together, in order; unnamed accounts join the last group."""
    ordered = order_accounts(names)
    waves: list[list[str]] = []
    for wave in DEPLOYMENT_WAVES[:-1]:
        present = [name for name in wave if name in ordered]
        if present:
            waves.append(present)
    leading = {name for wave in DEPLOYMENT_WAVES[:-1] for name in wave}
    rest = [name for name in ordered if name not in leading]
    if rest:
        waves.append(rest)
    return waves


def security_account_of(names: Iterable[str]) -> str:
    """The account security-only steps run in: `security` when present, else the sole account of a
    single-account workspace (the seed: "in the same AWS account (for single-account deployments)")."""
    accounts = list(dict.fromkeys(names))
    return accounts[0] if len(accounts) == 1 else SECURITY


def applies(
    step_id: str, account: str, *, owner_account: str = SHARED_SERVICES, security_account: str = SECURITY
) -> bool:
    """Whether a step has work to do in an account (False shows as `n/a` on the checklist)."""
    scope = step(step_id).scope
    if scope is Scope.ALL:
        return True
    if scope is Scope.OWNER:
        return account == owner_account
    if scope is Scope.SECURITY_ONLY:
        return account == security_account
    if scope is Scope.WORKLOADS:
        return account != SECURITY
    return account not in (SECURITY, SHARED_SERVICES)


def not_applicable_reason(
    step_id: str, account: str, *, owner_account: str = SHARED_SERVICES, security_account: str = SECURITY
) -> str:
    scope = step(step_id).scope
    if scope is Scope.OWNER:
        return f"built once in {owner_account} and shared with the other accounts"
    if scope is Scope.SECURITY_ONLY:
        if security_account == SECURITY:
            return "lives in the security account"
        return f"lives in the security account ({security_account})"
    if scope is Scope.WORKLOADS:
        return "no EC2 instances run in the security account"
    if scope is Scope.APPS:
        return "only the application accounts have these resources"
    return ""


def cells(
    accounts: Sequence[str], *, owner_account: str = SHARED_SERVICES, security_account: str = SECURITY
) -> list[tuple[str, str]]:
    """Every (step, account) pair that applies, in checklist order."""
    return [
        (s.id, account)
        for s in STEPS
        for account in order_accounts(accounts)
        if applies(s.id, account, owner_account=owner_account, security_account=security_account)
    ]
