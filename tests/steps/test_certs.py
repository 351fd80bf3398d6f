"""TLS certificates against the emulator: public ACM certificates validated by DNS, self-signed ones for
internal load balancers imported into ACM, Java stores, and the refusals that leave nothing half-written."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from refarch_tui import pki, secrets
from refarch_tui.state import Status
from refarch_tui.steps import certs, certs_public, route53
from refarch_tui.steps.contract import StepContext, StepError
from tests.steps import helpers
from tests.steps.conftest import MakeCtx, add_zone, set_input

PUBLIC_ONLY = {"internal": False, "java": False}
INTERNAL_ONLY = {"public": False, "java": False}


def _acm_arns(ctx: StepContext, region: str) -> list[str]:
    summaries = ctx.clients("acm", region).list_certificates(
        Includes={"keyTypes": ["RSA_2048", "EC_prime256v1"]}
    )["CertificateSummaryList"]
    return sorted(s["CertificateArn"] for s in summaries)


def _capture(ctx: StepContext, service: str, operation: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def keep(params: dict[str, Any], **_kwargs: Any) -> None:
        seen.append(params)

    ctx.clients(service).meta.events.register(f"provide-client-params.{service}.{operation}", keep)
    return seen


def _no_private_key_on_disk(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path


def test_wildcard_and_apex_share_one_validation_record(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    zone_id = add_zone(ctx, "acme-dev.com")
    batches = _capture(ctx, "route53", "ChangeResourceRecordSets")
    result = helpers.run(certs, ctx, **PUBLIC_ONLY)
    assert result.status is Status.DONE, result.message
    [cert] = result.facts["public"]
    assert cert["names"] == ["*.acme-dev.com", "acme-dev.com"] and cert["status"] == "ISSUED"
    detail = ctx.clients("acm").describe_certificate(CertificateArn=cert["arn"])["Certificate"]
    records = [o["ResourceRecord"] for o in detail["DomainValidationOptions"]]
    assert len(records) == 2 and records[0] == records[1]  # ACM gives the wildcard and the apex one record
    [batch] = batches
    assert batch["HostedZoneId"] == zone_id
    [change] = batch["ChangeBatch"]["Changes"]
    assert change["Action"] == "UPSERT"
    assert change["ResourceRecordSet"]["Name"] == records[0]["Name"]
    assert change["ResourceRecordSet"]["ResourceRecords"] == [{"Value": records[0]["Value"]}]


def test_cloudfront_gets_a_certificate_in_us_east_1_whatever_the_region(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    region_file = ctx.live_root / "dev" / "us-east-1" / "region.hcl"
    region_file.write_text(region_file.read_text().replace('"us-east-1"', '"eu-west-1"'))
    ctx._tree = None
    plan = certs.plan(ctx, helpers.resolve(certs, **PUBLIC_ONLY))
    assert any("in eu-west-1 with DNS validation — for public load balancer" in a for a in plan.actions)
    assert any(
        "in us-east-1 with DNS validation — for CloudFront of dev/us-east-1/services/static-website "
        "(CloudFront only takes certificates from us-east-1" in a
        for a in plan.actions
    )
    result = certs.execute(ctx, plan)
    assert sorted(c["region"] for c in result.facts["public"]) == ["eu-west-1", "us-east-1"]
    assert len(_acm_arns(ctx, "us-east-1")) == 1 and len(_acm_arns(ctx, "eu-west-1")) == 1


def test_an_issued_certificate_for_the_same_names_is_reused(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    acm = ctx.clients("acm")
    existing = acm.request_certificate(
        DomainName="*.acme-dev.com",
        SubjectAlternativeNames=["*.acme-dev.com", "acme-dev.com"],
        ValidationMethod="DNS",
    )["CertificateArn"]
    acm.request_certificate(DomainName="*.acme-dev.com", ValidationMethod="DNS")  # other names: not a match
    assert acm.describe_certificate(CertificateArn=existing)["Certificate"]["Status"] == "ISSUED"
    requests = _capture(ctx, "acm", "RequestCertificate")
    plan = certs.plan(ctx, helpers.resolve(certs, **PUBLIC_ONLY))
    assert any(
        f"reuse the ISSUED certificate for *.acme-dev.com + acme-dev.com in us-east-1 ({existing}" in a
        for a in plan.actions
    )
    result = certs.execute(ctx, plan)
    [cert] = result.facts["public"]
    assert cert["arn"] == existing and cert["reused"] is True and cert["expires"]
    assert requests == [] and result.imports == []  # no request, and no zone needed for validation
    assert ctx.clients("route53").list_hosted_zones()["HostedZones"] == []


def _slow_acm(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import settings

    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 10**9)


def _fast_clock(monkeypatch: pytest.MonkeyPatch, step: float = 20.0) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(certs_public, "CLOCK", lambda: next(ticks) * step)
    monkeypatch.setattr(certs_public, "POLL_SECONDS", 0.0)


def test_validation_that_times_out_says_how_to_wait_longer_and_reuses_the_request(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_acm(monkeypatch)
    _fast_clock(monkeypatch)
    lines: list[str] = []
    ctx = make_ctx("dev", progress=lines.append)
    result = helpers.run(certs, ctx, validation_timeout_minutes=2)
    assert result.status is Status.FAILED
    assert "ACM has not issued *.acme-dev.com + acme-dev.com in us-east-1 after 2 min" in result.message
    assert "--set validation_timeout_minutes=60" in result.message
    [arn] = _acm_arns(ctx, "us-east-1")
    assert arn in result.message and "reused, not requested again" in result.message
    assert any(
        "waiting for ACM to issue *.acme-dev.com + acme-dev.com in us-east-1: PENDING_VALIDATION, 1 of 2 min"
        in line
        for line in lines
    )
    assert not (ctx.workspace.directory / "certs").exists()  # the internal part never started
    helpers.record(certs, ctx, result)
    assert ctx.state.record("certs", "dev").status is Status.FAILED

    plan = certs.plan(make_ctx("dev"), helpers.resolve(certs, **PUBLIC_ONLY))
    assert any(
        "keep validating the certificate requested earlier for *.acme-dev.com + acme-dev.com in us-east-1 "
        f"({arn})" in a
        for a in plan.actions
    )
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", 0)
    again = certs.execute(make_ctx("dev"), plan)
    assert again.status is Status.DONE and [c["arn"] for c in again.facts["public"]] == [arn]
    assert _acm_arns(ctx, "us-east-1") == [arn]


def test_a_validation_that_acm_fails_is_reported_with_the_reason(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_acm(monkeypatch)
    _fast_clock(monkeypatch)
    from moto.acm import models

    original = models.CertBundle.check

    def fail(self: Any) -> None:
        original(self)
        if self.type == "AMAZON_ISSUED":
            self.status = "FAILED"

    monkeypatch.setattr(models.CertBundle, "check", fail)
    with pytest.raises(StepError, match=r"FAILED .*Run this step again to request a new one"):
        helpers.run(certs, make_ctx("dev"), **PUBLIC_ONLY)


def _raise_from_moto(monkeypatch: pytest.MonkeyPatch, method: str, code: str, message: str) -> None:
    """ACM answers `code` to `method`. botocore retries LimitExceededException as throttling; one attempt
    here keeps the test short (the error that finally surfaces is the same)."""
    from moto.acm import models
    from moto.core.exceptions import AWSError

    from refarch_tui.aws import clients

    monkeypatch.setattr(clients, "client_config", functools.partial(clients.client_config, max_attempts=1))

    class Refused(AWSError):
        TYPE = code

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise Refused(message)

    monkeypatch.setattr(models.AWSCertificateManagerBackend, method, refuse)


def test_an_acm_limit_on_requests_is_a_clear_message(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raise_from_moto(
        monkeypatch, "request_certificate", "LimitExceededException", "Error: you have reached your limit"
    )
    ctx = make_ctx("dev")
    add_zone(ctx, "acme-dev.com")
    with pytest.raises(StepError) as refused:
        helpers.run(certs, ctx)
    text = str(refused.value)
    assert "ACM would not request a certificate for *.acme-dev.com, acme-dev.com" in text
    assert "reached an ACM quota" in text and "Service Quotas" in text and "run this step again" in text
    assert not (ctx.workspace.directory / "certs").exists()


def test_an_acm_limit_on_imports_writes_nothing(make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_from_moto(monkeypatch, "import_certificate", "LimitExceededException", "too many imported")
    ctx = make_ctx("dev")
    with pytest.raises(StepError) as refused:
        helpers.run(certs, ctx, **INTERNAL_ONLY)
    text = str(refused.value)
    assert "ACM would not import the certificate: the account has reached an ACM quota" in text
    assert "nothing was written" in text
    assert not (ctx.workspace.directory / "certs").exists()
    store = certs.certs_internal.Store.for_account(ctx)
    assert secrets.fetch(store.ca_key) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("*.*.acme-dev.com", "only `*.` may start it"),
        ("*.acme_dev.com", "characters _ are not allowed"),
        ("acme-dev.123", "ends in a number"),
    ],
)
def test_invalid_domain_names_are_refused_before_anything_is_made(
    make_ctx: MakeCtx, value: str, why: str
) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, "dev/us-east-1/networking/alb-public", '"*.acme-dev.com"', f'"{value}"')
    with pytest.raises(StepError) as refused:
        helpers.run(certs, ctx)
    assert why in str(refused.value)
    assert "tls_domain_name in dev/us-east-1/networking/alb-public/terragrunt.hcl" in str(refused.value)
    assert (
        _acm_arns(ctx, "us-east-1") == [] and ctx.clients("route53").list_hosted_zones()["HostedZones"] == []
    )


def test_a_new_domain_gets_its_zone_now_and_the_route53_step_is_told(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    result, record = helpers.run_and_record(certs, ctx, **PUBLIC_ONLY)
    [created] = result.facts["zones_created"]
    [zone] = ctx.clients("route53").list_hosted_zones()["HostedZones"]
    assert (
        zone["Name"] == "acme-dev.com." and zone["Config"]["Comment"] == "Public zone for the dev environment"
    )
    assert zone["Id"].endswith(created["zone_id"])
    assert record.imports == [
        {
            "unit": "dev/us-east-1/networking/route53-public",
            "address": "aws_route53_zone.primary_domain",
            "id": created["zone_id"],
        }
    ]
    rerun, rerecord = helpers.run_and_record(certs, make_ctx("dev"), **PUBLIC_ONLY)
    assert rerun.facts["zones_created"] == [] and rerecord.imports == record.imports  # still queued
    told = helpers.run(route53, make_ctx("dev"))
    assert told.imports == []
    assert f"zone {created['zone_id']} is imported by the certs step's queue" in told.message


def test_internal_certificates_chain_to_the_ca_and_keys_stay_in_the_keyring(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("prod")
    result, record = helpers.run_and_record(certs, ctx, **INTERNAL_ONLY)
    internal = result.facts["internal"]
    assert sorted(c["region"] for c in internal) == ["us-east-1", "us-west-2"]
    ca = x509.load_pem_x509_certificate(Path(result.facts["ca"]["file"]).read_bytes())
    server = x509.load_pem_x509_certificate(Path(internal[0]["file"]).read_bytes())
    assert pki.chain_problems(server, ca) == []
    assert pki.dns_names(server) == [
        "*.prod.acme-multi-account.internal",
        "services.prod.acme-multi-account.internal",
    ]
    for entry in internal:
        acm = ctx.clients("acm", entry["region"])
        exported = acm.get_certificate(CertificateArn=entry["arn"])
        assert x509.load_pem_x509_certificate(exported["Certificate"].encode()) == server
        assert x509.load_pem_x509_certificate(exported["CertificateChain"].encode()) == ca
        detail = acm.describe_certificate(CertificateArn=entry["arn"])["Certificate"]
        assert detail["Type"] == "IMPORTED" and entry["expires"].startswith(
            str(server.not_valid_after_utc.date())
        )
    store = certs.certs_internal.Store.for_account(ctx)
    key = pki.load_key(
        secrets.fetch(store.server_key("wildcard.prod.acme-multi-account.internal")) or "", what="key"
    )
    assert pki.key_matches(server, key)
    assert store.ca_key in record.evidence["keyring"]
    _no_private_key_on_disk(ctx.workspace.directory)
    assert (store.directory.stat().st_mode & 0o777) == 0o700
    assert certs.verify(make_ctx("prod"), record).holds

    again = helpers.run(certs, make_ctx("prod"), **INTERNAL_ONLY)
    assert [c["arn"] for c in again.facts["internal"]] == [c["arn"] for c in internal]
    assert all(c["reused"] for c in again.facts["internal"])


def test_a_key_that_does_not_match_its_certificate_is_refused_before_import(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    result, _record = helpers.run_and_record(certs, ctx, **INTERNAL_ONLY)
    [entry] = result.facts["internal"]
    store = certs.certs_internal.Store.for_account(ctx)
    ca_cert = x509.load_pem_x509_certificate(store.ca_file.read_bytes())
    ca = pki.Pair(pki.load_key(secrets.fetch(store.ca_key) or "", what="ca"), ca_cert)
    other = pki.make_server(ca, tuple(entry["names"]), organisation="test", days=825)
    Path(entry["file"]).write_text(other.certificate_pem)  # same names, same CA, another key
    ctx.clients("acm").delete_certificate(CertificateArn=entry["arn"])
    with pytest.raises(StepError) as refused:
        helpers.run(certs, make_ctx("dev"), **INTERNAL_ONLY)
    text = str(refused.value)
    assert (
        "does not match its certificate" in text and "refusing to import it" in text and entry["file"] in text
    )
    assert _acm_arns(ctx, "us-east-1") == []


def test_java_stores_open_with_the_password_in_the_keyring(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    result, record = helpers.run_and_record(certs, ctx, public=False, store_password_in_secrets_manager=True)
    java = result.facts["java"]
    password = secrets.fetch(java["password_entry"])
    assert password and len(password) >= 32
    keystore = pki.load_store(Path(java["keystore"]).read_bytes(), password)
    truststore = pki.load_store(Path(java["truststore"]).read_bytes(), password)
    ca = x509.load_pem_x509_certificate(Path(result.facts["ca"]["file"]).read_bytes())
    assert keystore.cert is not None and keystore.key is not None
    assert pki.chain_problems(keystore.cert.certificate, ca) == []
    assert pki.dns_names(keystore.cert.certificate) == java["names"] == ["*.dev.acme-multi-account.internal"]
    assert [c.certificate for c in truststore.additional_certs] == [ca]
    assert (Path(java["keystore"]).stat().st_mode & 0o777) == 0o600
    stored = ctx.clients("secretsmanager").get_secret_value(SecretId=java["secrets_manager"])
    assert stored["SecretString"] == password
    assert password not in str(ctx.state.to_json()) and password not in ctx.workspace.journal_path.read_text()
    _no_private_key_on_disk(ctx.workspace.directory)

    again = helpers.run(certs, make_ctx("dev"), public=False)
    assert again.facts["java"]["reused"] is True
    Path(java["truststore"]).write_bytes(b"not a store")
    verdict = certs.verify(make_ctx("dev"), record)
    assert not verdict.holds and "does not open with the password" in verdict.reason


def test_verify_sees_a_deleted_certificate(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    result, record = helpers.run_and_record(certs, ctx, java=False)
    assert certs.verify(make_ctx("dev"), record).holds
    arn = result.facts["public"][0]["arn"]
    ctx.clients("acm").delete_certificate(CertificateArn=arn)
    verdict = certs.verify(make_ctx("dev"), record)
    assert not verdict.holds and f"ACM certificate {arn} no longer exists in us-east-1" in verdict.reason


def test_private_keys_can_be_deleted_once_imported(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    result, record = helpers.run_and_record(certs, ctx, delete_private_keys=True, **INTERNAL_ONLY)
    store = certs.certs_internal.Store.for_account(ctx)
    name = store.server_key("wildcard.dev.acme-multi-account.internal")
    assert secrets.fetch(name) is None and name not in record.evidence["keyring"]
    assert "deleted 1 private key(s) from the keyring" in result.message
    assert certs.verify(make_ctx("dev"), record).holds
    again = helpers.run(certs, make_ctx("dev"), **INTERNAL_ONLY)  # still imported: nothing to redo
    assert [c["arn"] for c in again.facts["internal"]] == [c["arn"] for c in result.facts["internal"]]
