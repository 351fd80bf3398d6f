"""EC2 for the amis step: the Packer build VPC and public subnet (tagged `gruntwork.io/allow-packer=true`),
whether a template's base image filter finds anything, and the checks `verify` needs (the AMI exists in
its region, and is still shared with the accounts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from refarch_tui import secrets
from refarch_tui.aws.errors import AwsAccessError, ErrorKind
from refarch_tui.aws.errors import client_error_code as _code

PACKER_TAG = "gruntwork.io/allow-packer"


class AmiError(AwsAccessError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.OTHER, secrets.redact(message))


@dataclass(frozen=True)
class PackerNetwork:
    vpc_ids: tuple[str, ...]  # tagged VPCs (packer's vpc_filter needs exactly one)
    public_subnet_ids: tuple[str, ...]  # tagged subnets of those VPCs with a route to an internet gateway
    private_subnet_ids: tuple[str, ...]  # tagged, but no way out to the internet


def _tag_filter() -> list[dict[str, Any]]:
    return [{"Name": f"tag:{PACKER_TAG}", "Values": ["true"]}]


def packer_network(client: Any) -> PackerNetwork:
    """The tagged VPCs and their tagged subnets, split by whether they are public."""
    try:
        vpcs = [v["VpcId"] for v in client.describe_vpcs(Filters=_tag_filter())["Vpcs"]]
        subnets = (
            client.describe_subnets(Filters=[*_tag_filter(), {"Name": "vpc-id", "Values": vpcs}])["Subnets"]
            if vpcs
            else []
        )
        tables = (
            client.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": vpcs}])["RouteTables"]
            if vpcs
            else []
        )
    except ClientError as exc:
        raise AmiError(f"cannot read the VPCs and subnets: {exc}") from None
    public: list[str] = []
    private: list[str] = []
    for subnet in subnets:
        (public if _is_public(subnet, tables) else private).append(str(subnet["SubnetId"]))
    return PackerNetwork(tuple(vpcs), tuple(sorted(public)), tuple(sorted(private)))


def _routes_out(table: Mapping[str, Any]) -> bool:
    return any(
        str(route.get("GatewayId", "")).startswith("igw-")
        and route.get("DestinationCidrBlock") == "0.0.0.0/0"
        for route in table.get("Routes", [])
    )


def _is_public(subnet: Mapping[str, Any], tables: list[Mapping[str, Any]]) -> bool:
    """Public = its route table (its own, else the VPC's main one) sends 0.0.0.0/0 to an internet gateway."""
    subnet_id, vpc_id = subnet["SubnetId"], subnet["VpcId"]
    own = [t for t in tables if any(a.get("SubnetId") == subnet_id for a in t.get("Associations", []))]
    main = [
        t
        for t in tables
        if t.get("VpcId") == vpc_id and any(a.get("Main") for a in t.get("Associations", []))
    ]
    chosen = own or main
    return bool(chosen) and _routes_out(chosen[0])


def source_images(client: Any, source_ami_filter: Mapping[str, Any]) -> list[str]:
    """The image IDs a builder's `source_ami_filter` finds (filters + owners), newest first."""
    filters = [
        {"Name": str(k), "Values": [str(v)]} for k, v in (source_ami_filter.get("filters") or {}).items()
    ]
    owners = [str(o) for o in source_ami_filter.get("owners") or []]
    try:
        images = client.describe_images(Filters=filters, **({"Owners": owners} if owners else {}))["Images"]
    except ClientError as exc:
        raise AmiError(f"cannot look up the base image: {exc}") from None
    images.sort(key=lambda i: str(i.get("CreationDate", "")), reverse=True)
    return [str(i["ImageId"]) for i in images]


def image_problem(client: Any, ami: str, region: str, account_ids: list[str]) -> str | None:
    """None when `ami` exists (available) in `region` and every account in `account_ids` may launch it."""
    try:
        images = client.describe_images(ImageIds=[ami])["Images"]
    except ClientError as exc:
        if _code(exc) in ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed"):
            return f"{ami} no longer exists in {region}"
        raise AmiError(f"cannot read {ami} in {region}: {exc}") from None
    if not images:
        return f"{ami} no longer exists in {region}"
    state = str(images[0].get("State", "available"))
    if state != "available":
        return f"{ami} in {region} is {state}"
    if not account_ids:
        return None
    try:
        permissions = client.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    except ClientError as exc:
        raise AmiError(f"cannot read the launch permissions of {ami} in {region}: {exc}") from None
    allowed = {str(p.get("UserId")) for p in permissions.get("LaunchPermissions", []) if p.get("UserId")}
    missing = [i for i in account_ids if i not in allowed]
    return f"{ami} in {region} is no longer shared with {', '.join(missing)}" if missing else None
