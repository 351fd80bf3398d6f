"""Create TLS certs (seed: "Create TLS certs"): public ACM certificates validated by DNS (`certs_public`), and
self-signed certificates for internal load balancers and Java apps from a private CA (`certs_internal`).

Every certificate's expiry is in the facts; `verify` re-checks that each ACM certificate still exists and is
ISSUED (imported ones also unexpired), that the CA and stores are still on disk and open with their keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refarch_tui import pki, secrets
from refarch_tui.aws import acm
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps import certs_internal, certs_public
from refarch_tui.steps.contract import AnswerSpec, StepContext, StepError, StepPlan, StepResult, Verification

STEP_ID = "certs"

ANSWERS: tuple[AnswerSpec, ...] = (
    AnswerSpec("public", True, "request public ACM certificates for alb-public and CloudFront", kind="bool"),
    AnswerSpec(
        "validation_timeout_minutes",
        45,
        "how long to wait for ACM to issue (real ACM: minutes, hours when the registrar does not "
        "delegate yet); "
        "a later run with a longer wait reuses the pending certificate",
        kind="int",
    ),
    AnswerSpec(
        "zone_id",
        [],
        "the hosted zone to validate in when several public zones share the domain",
        kind="list",
    ),
    AnswerSpec(
        "internal", True, "self-signed certificates for alb-internal units, imported into ACM", kind="bool"
    ),
    AnswerSpec("java", True, "a Java PKCS#12 keystore and truststore from the same private CA", kind="bool"),
    AnswerSpec(
        "java_names",
        [],
        "DNS names of the Java apps' certificate (default: the internal load balancer's wildcard)",
        kind="list",
    ),
    AnswerSpec(
        "store_password_in_secrets_manager",
        False,
        "also keep the Java store password in Secrets Manager (refarch-tui/<account>/java-store-password)",
        kind="bool",
    ),
    AnswerSpec(
        "delete_private_keys",
        False,
        "delete the internal load balancers' private keys from the keyring once ACM holds them (the seed's "
        "advice; a later rotation then makes a new key)",
        kind="bool",
    ),
)


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    result = StepPlan(step=STEP_ID, account=ctx.account, answers=dict(answers))
    timeout = answers.get("validation_timeout_minutes")
    if not isinstance(timeout, int) or timeout < 1:
        raise StepError(
            f"validation_timeout_minutes takes a whole number of minutes, at least 1, not {timeout!r}"
        )
    public = (
        certs_public.plan(ctx, answers, result)
        if answers.get("public", True)
        else certs_public.PublicPlan([], {})
    )
    internal = certs_internal.plan(ctx, answers, result)
    if not public.wanted and not internal.certificates and not internal.java:
        result.not_applicable = (
            f"{ctx.account} has no {certs_public.ALB_KIND}, {certs_public.CLOUDFRONT_KIND} or "
            f"{certs_internal.KIND} unit that needs a certificate"
        )
    result.data = {"public": public, "internal": internal, "timeout": timeout}
    return result


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    public_plan: certs_public.PublicPlan = plan.data["public"]
    internal_plan: certs_internal.InternalPlan = plan.data["internal"]
    public = certs_public.execute(ctx, public_plan, int(plan.data["timeout"]))
    if public.timed_out:
        return StepResult(
            status=Status.FAILED,
            facts={"public": public.certificates, "zones_created": public.zones_created},
            imports=public.imports,
            message=public.timed_out,
        )
    internal = certs_internal.execute(ctx, internal_plan)
    facts: dict[str, Any] = {
        "public": public.certificates,
        "zones_created": public.zones_created,
        "internal": internal.certificates,
        "ca": internal.ca,
        "java": internal.java,
    }
    evidence: dict[str, Any] = {
        "acm": [{"arn": c["arn"], "region": c["region"], "kind": "public"} for c in public.certificates]
        + [{"arn": c["arn"], "region": c["region"], "kind": "imported"} for c in internal.certificates],
        "keyring": internal.keyring,
        "ca_file": internal.ca.get("file", ""),
        "java": {
            k: internal.java[k] for k in ("keystore", "truststore", "password_entry") if k in internal.java
        },
    }
    return StepResult(
        facts=facts,
        evidence=evidence,
        imports=public.imports,
        message=_message(public, internal),
    )


def _day(iso: str) -> str:
    return iso[:10] if iso else "?"


def _message(public: certs_public.PublicOutcome, internal: certs_internal.InternalOutcome) -> str:
    parts = []
    for zone in public.zones_created:
        parts.append(f"created zone {zone['zone_id']} for {zone['domain']}, queued for import")
    for cert in public.certificates:
        verb = "reused" if cert["reused"] else "issued"
        parts.append(f"{cert['names'][0]} in {cert['region']} {verb}, expires {_day(cert['expires'])}")
    for cert in internal.certificates:
        verb = "already imported" if cert["reused"] else "imported"
        parts.append(f"{cert['names'][0]} {verb} in {cert['region']}, expires {_day(cert['expires'])}")
    if internal.ca:
        parts.append(
            f"CA {internal.ca['file']} (give it to the apps), expires {_day(internal.ca['expires'])}"
        )
    if internal.java:
        parts.append(
            f"Java stores in {Path(internal.java['keystore']).parent}, expire "
            f"{_day(internal.java['expires'])}"
        )
    if internal.deleted_keys:
        parts.append(f"deleted {len(internal.deleted_keys)} private key(s) from the keyring")
    return "; ".join(parts) + "." if parts else "nothing to do."


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    now = dt.datetime.now(dt.UTC)
    for entry in record.evidence.get("acm") or []:  # AWS errors propagate: "not checked", not stale
        certificate = acm.describe(ctx.clients("acm", entry["region"]), entry["arn"])
        if certificate is None:
            return Verification.stale(f"ACM certificate {entry['arn']} no longer exists in {entry['region']}")
        if certificate.status != "ISSUED":
            return Verification.stale(
                f"ACM certificate for {certificate.domain} in {entry['region']} is {certificate.status}"
            )
        if certificate.type == "IMPORTED" and certificate.not_after and certificate.not_after <= now:
            return Verification.stale(
                f"the imported certificate for {certificate.domain} expired {certificate.expires}"
            )
    ca_file = record.evidence.get("ca_file")
    if ca_file and not Path(ca_file).is_file():
        return Verification.stale(f"the CA certificate {ca_file} is gone")
    # a keyring that cannot be read raises: the cell is "not checked", not stale
    for entry in record.evidence.get("keyring") or []:
        if secrets.fetch(entry, allow_plaintext=ctx.allow_plaintext_keyring) is None:
            return Verification.stale(f"the keyring entry {entry} is gone")
    java = record.evidence.get("java") or {}
    if java:
        password = secrets.fetch(java["password_entry"], allow_plaintext=ctx.allow_plaintext_keyring) or ""
        for path in (java["keystore"], java["truststore"]):
            try:
                pki.load_store(Path(path).read_bytes(), password)
            except (OSError, pki.PkiError) as exc:
                return Verification.stale(f"{path} does not open with the password in the keyring ({exc})")
    return Verification.ok()
