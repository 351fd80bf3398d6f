"""Import Route 53 hosted zones (seed: "Import Route 53 hosted zones").

For each `route53-public` unit of the account, the public hosted zone named by its `primary_domain_name`:
- one zone: queue `terragrunt import aws_route53_zone.primary_domain <ZONE_ID>`; the runner runs it in the
  unit before the account's apply ("Resource already managed by Terraform" counts as done there);
- several zones with that name: the operator picks one (`--set zone_id=Z…`), nothing is guessed;
- no zone yet: nothing to import, Terraform creates it; after that apply a follow-up says to point the
  registrar at the zone's name servers (a domain bought outside Route 53), which this step then lists;
- a zone whose import another step already queued (the TLS step creates missing zones to validate
  certificates) is not queued twice.
The step only reads AWS; the import itself is the runner's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from refarch_tui.aws import route53 as r53
from refarch_tui.aws.errors import AwsAccessError
from refarch_tui.live.model import Unit
from refarch_tui.state import Status, StepRecord, WorkspaceState
from refarch_tui.steps import followups, units
from refarch_tui.steps.contract import (
    AnswerSpec,
    Followup,
    ImportSpec,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.dns_names import InvalidDomain, normalise

STEP_ID = "route53"
KIND = "route53-public"
DOMAIN_INPUT = "primary_domain_name"
ADDRESS = "aws_route53_zone.primary_domain"

ANSWERS: tuple[AnswerSpec, ...] = (
    AnswerSpec(
        "zone_id",
        [],
        "the hosted zone ID(s) to import when several public zones share a domain name (comma-separated)",
        kind="list",
    ),
)

IMPORT = "import"
NO_ZONE = "no-zone"
MANAGED = "managed"  # the unit has been applied: Terraform already holds the zone
QUEUED_ELSEWHERE = "queued-elsewhere"


@dataclass(frozen=True)
class ZoneChoice:
    unit: str
    domain: str
    action: str  # IMPORT | NO_ZONE | MANAGED | QUEUED_ELSEWHERE
    zone: r53.Zone | None = None
    name_servers: tuple[str, ...] = ()
    queued_by: str = ""
    applied: str = ""  # when the unit's first successful apply started


def domain_of(unit: Unit) -> str:
    value = units.string_input(unit, DOMAIN_INPUT)
    if value is None:
        raise StepError(
            f"{units.config_file(unit)} has no {DOMAIN_INPUT} input; add the domain the zone serves"
        )
    try:
        return normalise(value, what=f"{DOMAIN_INPUT} in {units.config_file(unit)}")
    except InvalidDomain as exc:
        raise StepError(f"{exc}; correct it in the live repo, then run this step again") from None


def queued_by_other_step(
    state: WorkspaceState, account: str, unit: str, zone_id: str, *, besides: str = STEP_ID
) -> str:
    """The id of a done step other than `besides` that already queues this zone's import, else ""."""
    for step_id, by_account in state.steps.items():
        record = by_account.get(account)
        if step_id == besides or record is None or record.status is not Status.DONE:
            continue
        for entry in record.imports:
            if (entry.get("unit"), entry.get("address"), entry.get("id")) == (unit, ADDRESS, zone_id):
                return step_id
    return ""


def _pick(domain: str, zones: list[r53.Zone], picks: set[str], account: str) -> r53.Zone:
    chosen = [z for z in zones if z.id in picks]
    if len(chosen) == 1:
        return chosen[0]
    listed = "; ".join(z.describe() for z in zones)
    raise StepError(
        f"{len(zones)} public hosted zones are named {domain} in {account}: {listed}. Pick the one to import "
        f"with --set zone_id=<ID> (in the TUI: the zone_id field); the other is left alone — delete it by "
        "hand once you are sure it is unused"
    )


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    found = units.of_kind(ctx.tree, ctx.account, KIND)
    result = StepPlan(step=STEP_ID, account=ctx.account, answers=dict(answers))
    if not found:
        result.not_applicable = f"{ctx.account} has no {KIND} unit, so no public hosted zone to import"
        return result
    domains = {unit.path: domain_of(unit) for unit in found}  # every name checked before any AWS call
    picks = {r53.bare_zone_id(str(z)) for z in answers.get("zone_id") or []}
    client = ctx.clients("route53")
    choices: list[ZoneChoice] = []
    matched: set[str] = set()
    try:
        for unit in found:
            domain = domains[unit.path]
            zones = r53.public_zones_named(client, domain)
            matched |= {z.id for z in zones}
            applied = followups.first_apply(ctx.workspace, unit.path) or ""
            if not zones:
                choices.append(ZoneChoice(unit.path, domain, NO_ZONE))
                continue
            if applied:
                zone = zones[0] if len(zones) == 1 else _pick(domain, zones, picks, ctx.account)
                servers = tuple(r53.name_servers(client, zone.id))
                choices.append(ZoneChoice(unit.path, domain, MANAGED, zone, servers, applied=applied))
                continue
            zone = zones[0] if len(zones) == 1 else _pick(domain, zones, picks, ctx.account)
            servers = tuple(r53.name_servers(client, zone.id))
            other = queued_by_other_step(ctx.state, ctx.account, unit.path, zone.id)
            choices.append(
                ZoneChoice(unit.path, domain, QUEUED_ELSEWHERE if other else IMPORT, zone, servers, other)
            )
    except AwsAccessError as exc:
        raise StepError(str(exc)) from None
    unknown = sorted(picks - matched)
    if unknown:
        raise StepError(
            f"zone_id {', '.join(unknown)} is not a public hosted zone named like a {KIND} domain in "
            f"{ctx.account} ({', '.join(sorted(set(domains.values())))})"
        )
    for choice in choices:
        result.actions.append(_action(choice, ctx.account))
        if choice.action == IMPORT and choice.zone is not None:
            result.commands.append(f"(in {choice.unit}) terragrunt import {ADDRESS} {choice.zone.id}")
    result.data["choices"] = choices
    return result


def _action(choice: ZoneChoice, account: str) -> str:
    zone_id = choice.zone.id if choice.zone else ""
    if choice.action == IMPORT:
        return (
            f"queue the import of zone {zone_id} ({choice.domain}) into {choice.unit}, "
            f"run before {account}'s apply"
        )
    if choice.action == QUEUED_ELSEWHERE:
        return (
            f"zone {zone_id} ({choice.domain}): its import is already queued by the {choice.queued_by} step"
        )
    if choice.action == MANAGED:
        return f"zone {zone_id} ({choice.domain}) is managed by Terraform since the apply of {choice.applied}"
    return f"nothing to import for {choice.domain}: no zone yet; Terraform creates it in the first apply"


def _servers_sentence(choice: ZoneChoice) -> str:
    return (
        f"If {choice.domain} was bought outside Route 53, point its registrar at "
        f"{', '.join(choice.name_servers)}."
    )


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    choices: list[ZoneChoice] = plan.data.get("choices", [])
    result = StepResult()
    sentences: list[str] = []
    zones_fact: list[dict[str, Any]] = []
    for choice in choices:
        zone_id = choice.zone.id if choice.zone else ""
        zones_fact.append(
            {
                "unit": choice.unit,
                "domain": choice.domain,
                "zone_id": zone_id,
                "action": choice.action,
                "name_servers": list(choice.name_servers),
            }
        )
        if choice.action == IMPORT:
            result.imports.append(ImportSpec(unit=choice.unit, address=ADDRESS, id=zone_id))
            sentences.append(
                f"{choice.domain}: zone {zone_id} will be imported before {ctx.account}'s apply."
            )
        elif choice.action == QUEUED_ELSEWHERE:
            sentences.append(
                f"{choice.domain}: zone {zone_id} is imported by the {choice.queued_by} step's queue."
            )
        elif choice.action == MANAGED:
            sentences.append(f"{choice.domain}: zone {zone_id} is managed by Terraform.")
        else:
            sentences.append(f"{choice.domain}: no zone yet; Terraform creates it in the first apply.")
            result.followups.append(
                Followup(
                    message=(
                        f"point the registrar of {choice.domain} at its Route 53 name servers (only if it "
                        "was bought outside Route 53); the command lists them"
                    ),
                    command=followups.step_command(ctx.workspace, STEP_ID, ctx.account),
                    after=followups.after_first_apply(choice.unit),
                )
            )
        if choice.name_servers:
            sentences.append(_servers_sentence(choice))
    result.facts = {"zones": zones_fact}
    result.evidence = {
        "zones": {c.unit: {"domain": c.domain, "zone_id": c.zone.id if c.zone else ""} for c in choices}
    }
    result.message = " ".join(sentences)
    return result


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    recorded: dict[str, dict[str, str]] = record.evidence.get("zones") or {}
    client = ctx.clients("route53")  # AWS errors propagate: the cell is "not checked", not stale
    tree = ctx.load_tree()  # as the repo is now, not as the context first read it
    for unit_path, entry in recorded.items():
        unit = tree.units.get(unit_path)
        if unit is None:
            return Verification.stale(f"{unit_path} is no longer in the live repo")
        try:
            domain = domain_of(unit)
        except StepError as exc:
            return Verification.stale(str(exc))
        if domain != entry.get("domain"):
            return Verification.stale(
                f"{DOMAIN_INPUT} in {units.config_file(unit)} changed from {entry.get('domain')} to {domain}"
            )
        zone_id = entry.get("zone_id", "")
        if zone_id:
            zone = r53.zone_exists(client, zone_id)
            if zone is None or zone.name != domain:
                return Verification.stale(
                    f"hosted zone {zone_id} ({domain}) no longer exists in {ctx.account}"
                )
            continue
        zones = r53.public_zones_named(client, domain)
        if not zones or followups.first_apply(ctx.workspace, unit_path, since=record.updated):
            continue
        if not any(queued_by_other_step(ctx.state, ctx.account, unit_path, z.id) for z in zones):
            return Verification.stale(
                f"a hosted zone named {domain} now exists ({', '.join(z.id for z in zones)}) and nothing "
                "queues its import; run this step again so Terraform adopts it instead of "
                "creating another"
            )
    return Verification.ok()
