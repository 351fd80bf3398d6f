"""Public ACM certificates (seed: "Public-facing TLS certs"): a wildcard `*.<domain>` with the apex as SAN, in
every region with a public load balancer and in us-east-1 for CloudFront, validated by DNS in the domain's
public hosted zone — created now when Terraform has not created it yet, and queued for import so Terraform
adopts it instead of making a second one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from refarch_tui.aws import acm
from refarch_tui.aws import route53 as r53
from refarch_tui.aws.errors import AwsAccessError
from refarch_tui.steps import followups, route53, units
from refarch_tui.steps.contract import ImportSpec, StepContext, StepError, StepPlan
from refarch_tui.steps.dns_names import InvalidDomain, apex_of, normalise, within

ALB_KIND = "alb-public"
CLOUDFRONT_KIND = "static-website"
CLOUDFRONT_REGION = "us-east-1"
CLOUDFRONT_INPUT = "acm_certificate_domain_name"
CLOUDFRONT_WHY = "CloudFront only takes certificates from us-east-1, whatever region the rest runs in"
TERRAFORM_DEFAULT_COMMENT = "Managed by Terraform"  # aws_route53_zone's default: no diff after the import

# how the waits poll; tests replace CLOCK and POLL_SECONDS instead of waiting for real
CLOCK: Callable[[], float] = time.monotonic
POLL_SECONDS = 15.0
RECORDS_TIMEOUT_SECONDS = 300.0  # real ACM fills the validation records in within seconds


@dataclass
class Wanted:
    names: tuple[str, ...]  # the wildcard first, then the apex
    region: str
    reasons: list[str] = field(default_factory=list)
    zone_domain: str = ""
    existing: acm.Certificate | None = None

    @property
    def label(self) -> str:
        return f"{' + '.join(self.names)} in {self.region}"


@dataclass
class ZonePlan:
    domain: str
    zone: r53.Zone | None  # None: create it now
    owner_unit: str  # the route53-public unit that declares the domain ("" when none does)
    comment: str = TERRAFORM_DEFAULT_COMMENT
    queue_import: bool = False


@dataclass
class PublicPlan:
    wanted: list[Wanted]
    zones: dict[str, ZonePlan]


def _names_for(name: str, where: str) -> tuple[str, ...]:
    try:
        clean = normalise(name, wildcard=True, what=where)
    except InvalidDomain as exc:
        raise StepError(f"{exc}; correct it in the live repo, then run this step again") from None
    return (clean, apex_of(clean)) if clean.startswith("*.") else (clean,)


def wanted(ctx: StepContext) -> list[Wanted]:
    by_key: dict[tuple[tuple[str, ...], str], Wanted] = {}

    def add(names: tuple[str, ...], region: str, reason: str) -> None:
        entry = by_key.setdefault((names, region), Wanted(names, region))
        if reason not in entry.reasons:
            entry.reasons.append(reason)

    for unit in units.of_kind(ctx.tree, ctx.account, ALB_KIND):
        region = units.region_of(unit, ctx.region)
        for name in units.listener_domains(unit):
            where = f"tls_domain_name in {units.config_file(unit)}"
            add(_names_for(name, where), region, f"public load balancer {unit.path}")
    for unit in units.of_kind(ctx.tree, ctx.account, CLOUDFRONT_KIND):
        cloudfront_name = units.string_input(unit, CLOUDFRONT_INPUT)
        if cloudfront_name:
            names = _names_for(cloudfront_name, f"{CLOUDFRONT_INPUT} in {units.config_file(unit)}")
            add(names, CLOUDFRONT_REGION, f"CloudFront of {unit.path} ({CLOUDFRONT_WHY})")
    return sorted(by_key.values(), key=lambda w: (w.names, w.region))


def _zone_domain(names: tuple[str, ...], owners: Mapping[str, str], client: Any) -> str:
    """The zone the validation records go into: the longest route53-public domain holding the name, else the
    closest existing public zone above it."""
    held = sorted((d for d in owners if within(names[0], d)), key=len, reverse=True)
    if held:
        return held[0]
    labels = apex_of(names[0]).split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if r53.public_zones_named(client, candidate):
            return candidate
    raise StepError(
        f"no public hosted zone holds {names[0]} and no {route53.KIND} unit declares it, so the certificate "
        "cannot be validated by DNS here: create the zone (or a route53-public unit for it) and run "
        "this step "
        "again"
    )


def _chosen_zone(
    ctx: StepContext, domain: str, zones: list[r53.Zone], owner: str, picks: set[str]
) -> r53.Zone:
    if len(zones) == 1:
        return zones[0]
    recorded = ctx.state.record(route53.STEP_ID, ctx.account).evidence.get("zones", {}).get(owner, {})
    choice = {recorded.get("zone_id", "")} | picks if isinstance(recorded, dict) else picks
    chosen = [z for z in zones if z.id in choice]
    if len(chosen) == 1:
        return chosen[0]
    raise StepError(
        f"{len(zones)} public hosted zones are named {domain} in {ctx.account}: "
        f"{'; '.join(z.describe() for z in zones)}. Pick the one to validate in with --set zone_id=<ID> "
        "(or pick it in the Route 53 step first)"
    )


def plan(ctx: StepContext, answers: Mapping[str, Any], out: StepPlan) -> PublicPlan:
    wants = wanted(ctx)
    if not wants:
        return PublicPlan([], {})
    owner_units = units.of_kind(ctx.tree, ctx.account, route53.KIND)
    owners = {route53.domain_of(unit): unit.path for unit in owner_units}
    comments = {
        route53.domain_of(unit): units.string_input(unit, "primary_domain_name_comment")
        or TERRAFORM_DEFAULT_COMMENT
        for unit in owner_units
    }
    picks = {r53.bare_zone_id(str(z)) for z in answers.get("zone_id") or []}
    zones: dict[str, ZonePlan] = {}
    dns = ctx.clients("route53")
    timeout = int(answers.get("validation_timeout_minutes") or 0)
    try:
        for want in wants:
            want.existing = acm.find_requested(ctx.clients("acm", want.region), want.names)
            want.zone_domain = _zone_domain(want.names, owners, dns)
            if want.existing is not None and want.existing.status == "ISSUED":
                out.actions.append(
                    f"reuse the ISSUED certificate for {want.label} ({want.existing.arn}, expires "
                    f"{want.existing.expires[:10]}) — for {'; '.join(want.reasons)}"
                )
                continue
            if want.existing is not None:
                out.actions.append(
                    f"keep validating the certificate requested earlier for {want.label} "
                    f"({want.existing.arn})"
                )
            else:
                out.actions.append(
                    f"request an ACM certificate for {want.label} with DNS validation — for "
                    f"{'; '.join(want.reasons)}"
                )
            if want.zone_domain not in zones:
                zones[want.zone_domain] = _zone_plan(ctx, want.zone_domain, owners, comments, picks, dns, out)
        for domain in dict.fromkeys(w.zone_domain for w in wants):
            if domain not in zones:  # validated already: only queue the import of a zone made earlier
                adopted = _adopt_existing(ctx, domain, owners, dns, out)
                if adopted is not None:
                    zones[domain] = adopted
        if any(w.existing is None or w.existing.status != "ISSUED" for w in wants):
            out.actions.append(
                "UPSERT the DNS validation records (one CNAME serves a wildcard and its apex) and wait up to "
                f"{timeout} min for ACM to issue"
            )
    except AwsAccessError as exc:
        raise StepError(str(exc)) from None
    return PublicPlan(wants, zones)


def _zone_plan(
    ctx: StepContext,
    domain: str,
    owners: Mapping[str, str],
    comments: Mapping[str, str],
    picks: set[str],
    dns: Any,
    out: StepPlan,
) -> ZonePlan:
    owner = owners.get(domain, "")
    found = r53.public_zones_named(dns, domain)
    applied = bool(owner) and followups.first_apply(ctx.workspace, owner) is not None
    if not found:
        out.actions.append(
            f"create the public hosted zone {domain} now (Terraform has not created it yet) to "
            "validate in, and "
            f"queue its import into {owner} so Terraform adopts it instead of creating another"
        )
        return ZonePlan(
            domain, None, owner, comments.get(domain, TERRAFORM_DEFAULT_COMMENT), queue_import=True
        )
    zone = _chosen_zone(ctx, domain, found, owner, picks)
    elsewhere = route53.queued_by_other_step(ctx.state, ctx.account, owner, zone.id, besides="certs")
    queue = bool(owner) and not applied and not elsewhere
    if queue:
        out.actions.append(f"queue the import of zone {zone.id} ({domain}) into {owner}")
    return ZonePlan(domain, zone, owner, queue_import=queue)


def _adopt_existing(
    ctx: StepContext, domain: str, owners: Mapping[str, str], dns: Any, out: StepPlan
) -> ZonePlan | None:
    """For a domain whose certificates are all ISSUED: the zone's import, when exactly one zone exists (an
    earlier run created it to validate in) and neither an apply nor the Route 53 step has taken it over."""
    owner = owners.get(domain, "")
    if not owner or followups.first_apply(ctx.workspace, owner) is not None:
        return None
    found = r53.public_zones_named(dns, domain)
    if len(found) != 1:
        return None  # none: Terraform creates it; several: the Route 53 step asks which
    zone = found[0]
    if route53.queued_by_other_step(ctx.state, ctx.account, owner, zone.id, besides="certs"):
        return None
    out.actions.append(f"queue the import of zone {zone.id} ({domain}) into {owner}")
    return ZonePlan(domain, zone, owner, queue_import=True)


def _token(account: str, want: Wanted) -> str:
    return hashlib.sha256(f"{account}|{want.region}|{','.join(want.names)}".encode()).hexdigest()[:32]


@dataclass
class PublicOutcome:
    certificates: list[dict[str, Any]] = field(default_factory=list)
    imports: list[ImportSpec] = field(default_factory=list)
    zones_created: list[dict[str, str]] = field(default_factory=list)
    timed_out: str = ""


def execute(ctx: StepContext, public: PublicPlan, timeout_minutes: int) -> PublicOutcome:
    outcome = PublicOutcome()
    try:
        _execute(ctx, public, timeout_minutes, outcome)
    except acm.WaitCancelled:
        ctx.check_cancel()
        raise
    except acm.WaitTimedOut as exc:
        pending = ", ".join(f"{c.arn} ({c.status})" for c in exc.pending)
        outcome.timed_out = (
            f"{exc}. The validation records are in place; ACM can take longer when the registrar does not "
            f"point at the zone's name servers yet. Wait longer: run this step again with --set "
            f"validation_timeout_minutes={max(timeout_minutes * 2, 60)} — the pending "
            f"certificate(s) {pending} "
            "are reused, not requested again."
        )
    except AwsAccessError as exc:
        done = "; ".join(f"created zone {z['zone_id']} ({z['domain']})" for z in outcome.zones_created)
        raise StepError(f"{exc}{f' (already done: {done})' if done else ''}") from None
    return outcome


def _waiter(ctx: StepContext, seconds: float) -> acm.Waiter:
    return acm.Waiter(
        timeout=seconds, poll=POLL_SECONDS, sleep=ctx.cancel.wait, clock=CLOCK, progress=ctx.progress
    )


def _execute(ctx: StepContext, public: PublicPlan, timeout_minutes: int, outcome: PublicOutcome) -> None:
    dns = ctx.clients("route53")
    zone_ids: dict[str, str] = {}
    for domain, zone_plan in public.zones.items():
        zone = zone_plan.zone
        if zone is None:
            ctx.check_cancel()
            zone = r53.create_public_zone(
                dns,
                domain,
                comment=zone_plan.comment,
                caller_reference=f"refarch-tui-{ctx.account}-{domain}-{int(time.time())}",
            )
            outcome.zones_created.append({"domain": domain, "zone_id": zone.id})
            ctx.progress(f"created the public hosted zone {domain} ({zone.id})")
        zone_ids[domain] = zone.id
        if zone_plan.queue_import and zone_plan.owner_unit:
            outcome.imports.append(ImportSpec(unit=zone_plan.owner_unit, address=route53.ADDRESS, id=zone.id))
    pending: dict[str, Any] = {}
    labels: dict[str, str] = {}
    by_arn: dict[str, Wanted] = {}
    for want in public.wanted:
        ctx.check_cancel()
        client = ctx.clients("acm", want.region)
        if want.existing is not None and want.existing.status == "ISSUED":
            outcome.certificates.append(_fact(want, want.existing, reused=True))
            continue
        arn = (
            want.existing.arn
            if want.existing is not None
            else acm.request(client, want.names, token=_token(ctx.account, want))
        )
        ctx.progress(f"{'validating' if want.existing else 'requested'} {want.label}: {arn}")
        certificate = acm.wait_for_records(client, arn, _waiter(ctx, RECORDS_TIMEOUT_SECONDS))
        if certificate.validation:  # kept in the zone afterwards too: ACM's automatic renewal checks them
            records = r53.unique_records(certificate.validation)
            r53.upsert(
                dns, zone_ids[want.zone_domain], records, comment=f"ACM DNS validation of {want.names[0]}"
            )
            ctx.progress(f"UPSERTed {len(records)} validation record(s) into {want.zone_domain}")
        pending[arn] = client
        labels[arn] = want.label
        by_arn[arn] = want
    for certificate in acm.wait_for_issued(pending, labels, _waiter(ctx, timeout_minutes * 60.0)):
        want = by_arn[certificate.arn]
        outcome.certificates.append(_fact(want, certificate, reused=want.existing is not None))


def _fact(want: Wanted, certificate: acm.Certificate, *, reused: bool) -> dict[str, Any]:
    return {
        "names": list(want.names),
        "region": want.region,
        "arn": certificate.arn,
        "status": certificate.status,
        "expires": certificate.expires,
        "reused": reused,
        "for": list(want.reasons),
    }
