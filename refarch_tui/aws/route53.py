"""Route 53 public hosted zones: find them by name, create one, read its name servers, UPSERT records.

Route 53 rejects a change batch that holds the same record twice (the emulator does not), so records are
de-duplicated by name, type and value before they are sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from refarch_tui.aws.errors import AwsAccessError, ErrorKind, explain
from refarch_tui.aws.errors import client_error_code as _code
from refarch_tui.aws.errors import client_error_message as _message


@dataclass(frozen=True)
class Zone:
    id: str  # bare, e.g. Z1AB1Z2CDE3FG4
    name: str  # without the trailing dot
    private: bool
    record_count: int
    comment: str

    def describe(self) -> str:
        comment = f", {self.comment!r}" if self.comment else ""
        return f"{self.id} ({self.record_count} records{comment})"


@dataclass(frozen=True)
class Record:
    name: str  # without the trailing dot, lower case
    type: str
    value: str


def bare_zone_id(zone_id: str) -> str:
    return zone_id.rsplit("/", 1)[-1]


def _zone(entry: dict[str, Any]) -> Zone:
    config = entry.get("Config") or {}
    return Zone(
        id=bare_zone_id(str(entry["Id"])),
        name=str(entry["Name"]).rstrip(".").lower(),
        private=bool(config.get("PrivateZone", False)),
        record_count=int(entry.get("ResourceRecordSetCount", 0)),
        comment=str(config.get("Comment", "") or ""),
    )


def public_zones_named(client: Any, domain: str) -> list[Zone]:
    """Every public hosted zone whose name is exactly `domain` (several may share one name)."""
    found: list[Zone] = []
    kwargs: dict[str, Any] = {"DNSName": domain, "MaxItems": "100"}
    try:
        while True:
            page = client.list_hosted_zones_by_name(**kwargs)
            zones = [_zone(entry) for entry in page.get("HostedZones", [])]
            found.extend(z for z in zones if z.name == domain and not z.private)
            if not page.get("IsTruncated") or (zones and zones[-1].name != domain):
                break
            kwargs = {
                "DNSName": page["NextDNSName"],
                "HostedZoneId": page["NextHostedZoneId"],
                "MaxItems": "100",
            }
    except Exception as exc:
        raise explain(exc) from None
    return found


def zone_exists(client: Any, zone_id: str) -> Zone | None:
    try:
        response = client.get_hosted_zone(Id=zone_id)
    except Exception as exc:
        if _code(exc) == "NoSuchHostedZone":
            return None
        raise explain(exc) from None
    return _zone(response["HostedZone"])


def name_servers(client: Any, zone_id: str) -> list[str]:
    try:
        response = client.get_hosted_zone(Id=zone_id)
    except Exception as exc:
        raise explain(exc) from None
    return [str(ns).rstrip(".") for ns in (response.get("DelegationSet") or {}).get("NameServers", [])]


def create_public_zone(client: Any, domain: str, *, comment: str, caller_reference: str) -> Zone:
    try:
        response = client.create_hosted_zone(
            Name=domain, CallerReference=caller_reference, HostedZoneConfig={"Comment": comment}
        )
    except Exception as exc:
        code = _code(exc)
        if code == "InvalidDomainName":
            raise AwsAccessError(
                ErrorKind.OTHER, f"Route 53 refused the domain name {domain}: {_message(exc)}"
            ) from None
        if code == "TooManyHostedZones":
            raise AwsAccessError(
                ErrorKind.OTHER,
                f"Route 53 refused to create {domain}: the account has reached its hosted-zone quota. "
                "Delete unused zones or ask AWS for a higher quota (Service Quotas → Route 53).",
            ) from None
        raise explain(exc) from None
    return _zone(response["HostedZone"])


def unique_records(records: Iterable[Record]) -> list[Record]:
    """One record per (name, type, value), in first-seen order; AWS refuses duplicates in one batch."""
    seen: dict[tuple[str, str, str], Record] = {}
    for record in records:
        key = (record.name.rstrip(".").lower(), record.type.upper(), record.value.rstrip(".").lower())
        seen.setdefault(key, Record(key[0], key[1], record.value))
    by_name: dict[tuple[str, str], Record] = {}
    for record in seen.values():
        other = by_name.setdefault((record.name, record.type), record)
        if other is not record:
            raise AwsAccessError(
                ErrorKind.OTHER,
                f"two different {record.type} values are wanted for {record.name} ({other.value} and "
                f"{record.value}); a name holds one CNAME. Delete the stale certificate request and retry.",
            )
    return list(seen.values())


def upsert(client: Any, zone_id: str, records: Sequence[Record], *, comment: str, ttl: int = 300) -> str:
    """UPSERT the records in one change batch; returns the change ID."""
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record.name + ".",
                "Type": record.type,
                "TTL": ttl,
                "ResourceRecords": [{"Value": record.value}],
            },
        }
        for record in unique_records(records)
    ]
    if not changes:
        return ""
    try:
        response = client.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Comment": comment, "Changes": changes}
        )
    except Exception as exc:
        if _code(exc) in ("InvalidChangeBatch", "InvalidInput"):
            raise AwsAccessError(
                ErrorKind.OTHER, f"Route 53 refused the records for zone {zone_id}: {_message(exc)}"
            ) from None
        raise explain(exc) from None
    return str(response["ChangeInfo"]["Id"])
