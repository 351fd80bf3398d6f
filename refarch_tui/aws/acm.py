"""ACM certificates: find a reusable one, request one with DNS validation, wait for its validation records and
for ISSUED, import a self-signed one (re-importing into the same ARN rather than adding a duplicate).

Real ACM fills in the DNS validation records a few seconds after the request and issues after the records
resolve, which can take from minutes to hours; every wait here polls with a deadline and can be cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from refarch_tui.aws.errors import AwsAccessError, ErrorKind, explain
from refarch_tui.aws.errors import client_error_code as _code
from refarch_tui.aws.errors import client_error_message as _message
from refarch_tui.aws.route53 import Record

# list_certificates only lists RSA_2048 unless asked for the other key types
KEY_TYPES = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")
TAG_KEY = "created-by"
TAG_VALUE = "refarch-tui"

_FAILED = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")


class AcmError(AwsAccessError):
    """ACM refused or gave up; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.OTHER, message)


class WaitTimedOut(AcmError):
    def __init__(self, message: str, pending: Sequence[Certificate | None]) -> None:
        super().__init__(message)
        self.pending = [c for c in pending if c is not None]


class WaitCancelled(AcmError):
    pass


@dataclass(frozen=True)
class Certificate:
    arn: str
    domain: str
    names: tuple[str, ...]  # DomainName first, then the other SANs
    status: str
    type: str  # AMAZON_ISSUED | IMPORTED | PRIVATE
    not_after: datetime | None = None
    failure_reason: str = ""
    validation: tuple[Record, ...] | None = None  # None until ACM has filled in every record
    in_use_by: tuple[str, ...] = ()

    @property
    def expires(self) -> str:
        return self.not_after.isoformat(timespec="seconds") if self.not_after else ""

    @property
    def region(self) -> str:
        return self.arn.split(":")[3] if self.arn.count(":") >= 5 else ""


@dataclass
class Waiter:
    """How long to wait and how: `sleep(seconds)` returns True when the operator cancelled."""

    timeout: float
    poll: float
    sleep: Callable[[float], bool]
    clock: Callable[[], float] = time.monotonic
    progress: Callable[[str], None] = field(default=lambda _line: None)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _certificate(detail: dict[str, Any]) -> Certificate:
    domain = str(detail.get("DomainName", ""))
    names = [domain] + [str(n) for n in detail.get("SubjectAlternativeNames", []) if n != domain]
    options = detail.get("DomainValidationOptions") or []
    records: list[Record] = []
    complete = bool(options)
    for option in options:
        record = option.get("ResourceRecord")
        if not record:
            complete = False
            continue
        records.append(
            Record(str(record["Name"]).rstrip(".").lower(), str(record["Type"]), str(record["Value"]))
        )
    return Certificate(
        arn=str(detail["CertificateArn"]),
        domain=domain,
        names=tuple(dict.fromkeys(names)),
        status=str(detail.get("Status", "")),
        type=str(detail.get("Type", "")),
        not_after=_when(detail.get("NotAfter")),
        failure_reason=str(detail.get("FailureReason", "") or ""),
        validation=tuple(records) if complete else None,
        in_use_by=tuple(str(x) for x in detail.get("InUseBy", [])),
    )


def describe(client: Any, arn: str) -> Certificate | None:
    """The certificate, or None when it no longer exists."""
    try:
        return _certificate(client.describe_certificate(CertificateArn=arn)["Certificate"])
    except Exception as exc:
        if _code(exc) in ("ResourceNotFoundException", "InvalidArnException"):
            return None
        raise explain(exc) from None


def _summaries(client: Any, statuses: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "CertificateStatuses": list(statuses),
        "Includes": {"keyTypes": list(KEY_TYPES)},
    }
    try:
        while True:
            page = client.list_certificates(**kwargs)
            found.extend(page.get("CertificateSummaryList", []))
            token = page.get("NextToken")
            if not token:
                return found
            kwargs["NextToken"] = token
    except Exception as exc:
        raise explain(exc) from None


def find_requested(client: Any, names: Sequence[str]) -> Certificate | None:
    """An Amazon-issued certificate for exactly these names: ISSUED (latest expiry) before PENDING."""
    wanted = {n.lower() for n in names}
    best: Certificate | None = None
    for summary in _summaries(client, ("ISSUED", "PENDING_VALIDATION")):
        if str(summary.get("DomainName", "")).lower() != names[0].lower():
            continue
        certificate = describe(client, str(summary["CertificateArn"]))
        if certificate is None or certificate.type != "AMAZON_ISSUED":
            continue
        if {n.lower() for n in certificate.names} != wanted:
            continue
        if best is None or _rank(certificate) > _rank(best):
            best = certificate
    return best


def _rank(certificate: Certificate) -> tuple[int, float]:
    expiry = certificate.not_after.timestamp() if certificate.not_after else 0.0
    return (1 if certificate.status == "ISSUED" else 0, expiry)


def request(client: Any, names: Sequence[str], *, token: str) -> str:
    """RequestCertificate with DNS validation; `token` makes a retried request return the same ARN."""
    try:
        response = client.request_certificate(
            DomainName=names[0],
            SubjectAlternativeNames=list(names),
            ValidationMethod="DNS",
            IdempotencyToken=token,
            Tags=[{"Key": TAG_KEY, "Value": TAG_VALUE}],
        )
    except Exception as exc:
        raise _refused("request a certificate for " + ", ".join(names), exc) from None
    return str(response["CertificateArn"])


def _refused(what: str, exc: BaseException) -> AwsAccessError:
    code = _code(exc)
    if code == "LimitExceededException":
        return AcmError(
            f"ACM would not {what}: the account has reached an ACM quota ({_message(exc)}). Delete "
            "certificates "
            "it no longer uses (ACM console → List certificates, status Failed or Expired) or ask AWS for a "
            "higher quota (Service Quotas → AWS Certificate Manager), then run this step again."
        )
    if code in (
        "InvalidDomainValidationOptionsException",
        "InvalidParameterException",
        "ValidationException",
    ):
        return AcmError(f"ACM would not {what}: {_message(exc)}")
    if code == "RequestInProgressException":
        return AcmError(
            f"ACM would not {what} yet: an identical request is still being processed; retry shortly."
        )
    return explain(exc)


def _wait(
    client: Any, arn: str, waiter: Waiter, done: Callable[[Certificate], bool], what: str
) -> Certificate:
    start = waiter.clock()
    while True:
        certificate = describe(client, arn)
        if certificate is None:
            raise AcmError(f"certificate {arn} disappeared from ACM while {what}; run this step again")
        if done(certificate):
            return certificate
        if certificate.status in _FAILED:
            raise AcmError(_failure(certificate, f"while {what}"))
        elapsed = waiter.clock() - start
        if elapsed >= waiter.timeout:
            raise WaitTimedOut(
                f"{what}: still {certificate.status} after {elapsed / 60:.0f} min", [certificate]
            )
        waiter.progress(f"{what}: {certificate.status}, {elapsed / 60:.0f} of {waiter.timeout / 60:.0f} min")
        if waiter.sleep(min(waiter.poll, max(waiter.timeout - elapsed, 0.0))):
            raise WaitCancelled(f"cancelled while {what}")


_FAILURE_HINTS = {
    "CAA_ERROR": 'A CAA record of the domain forbids Amazon from issuing; add `0 issue "amazon.com"` to it.',
    "DOMAIN_NOT_ALLOWED": "AWS will not issue for this domain; check its spelling in the live repo.",
    "INVALID_PUBLIC_DOMAIN": "The name is not a public domain; use a self-signed certificate for it instead.",
    "ADDITIONAL_VERIFICATION_REQUIRED": "AWS needs more information: open a case with AWS Support.",
    "NO_AVAILABLE_CONTACTS": "DNS validation needs the validation records in the domain's public zone.",
}


def wait_for_records(client: Any, arn: str, waiter: Waiter) -> Certificate:
    """Until ACM has filled in the DNS validation record of every name (real ACM: a few seconds)."""
    return _wait(
        client,
        arn,
        waiter,
        lambda c: c.validation is not None or c.status == "ISSUED",
        "waiting for ACM's validation records",
    )


def wait_for_issued(
    clients: Mapping[str, Any], labels: Mapping[str, str], waiter: Waiter
) -> list[Certificate]:
    """Until every certificate (ARN -> client of its region) is ISSUED, polled in turn under one deadline:
    ACM validates them all at once, so waiting for each in a row would only add up the waits."""
    start = waiter.clock()
    pending = dict(clients)
    issued: list[Certificate] = []
    while pending:
        for arn, client in list(pending.items()):
            certificate = describe(client, arn)
            if certificate is None:
                raise AcmError(
                    f"certificate {arn} disappeared from ACM while waiting for it; run this step again"
                )
            if certificate.status == "ISSUED":
                issued.append(certificate)
                del pending[arn]
            elif certificate.status in _FAILED:
                raise AcmError(_failure(certificate, "while it was being validated"))
        if not pending:
            break
        elapsed = waiter.clock() - start
        names = ", ".join(labels.get(arn, arn) for arn in pending)
        if elapsed >= waiter.timeout:
            raise WaitTimedOut(
                f"ACM has not issued {names} after {elapsed / 60:.0f} min (still PENDING_VALIDATION)",
                [describe(client, arn) for arn, client in pending.items()],
            )
        waiter.progress(
            f"waiting for ACM to issue {names}: PENDING_VALIDATION, {elapsed / 60:.0f} of "
            f"{waiter.timeout / 60:.0f} min"
        )
        if waiter.sleep(min(waiter.poll, max(waiter.timeout - elapsed, 0.0))):
            raise WaitCancelled(f"cancelled while waiting for ACM to issue {names}")
    return issued


def _failure(certificate: Certificate, when: str) -> str:
    reason = f" ({certificate.failure_reason})" if certificate.failure_reason else ""
    hint = _FAILURE_HINTS.get(certificate.failure_reason, "Run this step again to request a new one.")
    return (
        f"ACM marked {certificate.domain} in {certificate.region} {certificate.status}{reason} {when}. {hint}"
    )


def certificate_pem(client: Any, arn: str) -> str | None:
    try:
        return str(client.get_certificate(CertificateArn=arn)["Certificate"])
    except Exception as exc:
        if _code(exc) in ("ResourceNotFoundException", "RequestInProgressException"):
            return None
        raise explain(exc) from None


def find_imported(client: Any, domain: str) -> list[Certificate]:
    """Imported certificates whose DomainName is `domain`, newest expiry first."""
    found = []
    for summary in _summaries(client, ("ISSUED", "EXPIRED", "INACTIVE")):
        if str(summary.get("DomainName", "")).lower() != domain.lower():
            continue
        certificate = describe(client, str(summary["CertificateArn"]))
        if certificate is not None and certificate.type == "IMPORTED":
            found.append(certificate)
    return sorted(found, key=lambda c: c.not_after or datetime.min.replace(tzinfo=UTC), reverse=True)


def import_certificate(
    client: Any, *, certificate: str, private_key: str, chain: str, arn: str | None = None
) -> str:
    """ImportCertificate (into `arn` when given: a re-import keeps the ARN the load balancers use)."""
    kwargs: dict[str, Any] = {
        "Certificate": certificate.encode("ascii"),
        "PrivateKey": private_key.encode("ascii"),
        "CertificateChain": chain.encode("ascii"),
    }
    if arn:
        kwargs["CertificateArn"] = arn
    else:
        kwargs["Tags"] = [{"Key": TAG_KEY, "Value": TAG_VALUE}]
    try:
        return str(client.import_certificate(**kwargs)["CertificateArn"])
    except Exception as exc:
        raise _refused("import the certificate", exc) from None


def created_by_refarch(client: Any, arn: str) -> bool:
    """Whether refarch-tui imported or requested it (its tag): only those are ever re-imported over."""
    try:
        tags = client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
    except Exception as exc:
        raise explain(exc) from None
    return any(t.get("Key") == TAG_KEY and t.get("Value") == TAG_VALUE for t in tags)
