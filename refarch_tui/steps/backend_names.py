"""Naming rules of a Terraform state backend, checked before any AWS call so the operator is told which rule
a name breaks: S3 general purpose bucket names (AWS "Bucket naming rules"), DynamoDB table names, regions.
"""

from __future__ import annotations

import ipaddress
import re

BUCKET_MIN, BUCKET_MAX = 3, 63
TABLE_MIN, TABLE_MAX = 3, 255
_BUCKET_CHARS = re.compile(r"^[a-z0-9.-]+$")
_TABLE_CHARS = re.compile(r"^[A-Za-z0-9_.-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
# reserved by S3 for other kinds of names (access points, demo buckets, directory and table buckets)
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def broken_bucket_rule(name: str) -> str | None:
    """The first S3 bucket naming rule `name` breaks, said plainly; None when it follows them all."""
    if not BUCKET_MIN <= len(name) <= BUCKET_MAX:
        return f"bucket names are {BUCKET_MIN}–{BUCKET_MAX} characters long, this one has {len(name)}"
    if not _BUCKET_CHARS.match(name):
        bad = sorted({c for c in name if not re.match(r"[a-z0-9.-]", c)})
        shown = ", ".join(repr(c) for c in bad)
        return f"bucket names take only lowercase letters, digits, dots and hyphens (not {shown})"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "bucket names begin and end with a lowercase letter or a digit"
    if ".." in name:
        return "bucket names may not contain two adjacent dots"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "bucket names may not be formatted as an IP address"
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"bucket names may not start with {prefix!r} (reserved by S3)"
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"bucket names may not end with {suffix!r} (reserved by S3)"
    return None


def bucket_warnings(name: str) -> list[str]:
    """Legal but awkward: dots break the TLS certificate of virtual-hosted–style requests."""
    if "." in name:
        return [
            f"bucket {name} has dots: HTTPS to <bucket>.s3.amazonaws.com fails the certificate check and "
            "Transfer Acceleration is unavailable; hyphens are safer"
        ]
    return []


def broken_table_rule(name: str) -> str | None:
    if not TABLE_MIN <= len(name) <= TABLE_MAX:
        return f"DynamoDB table names are {TABLE_MIN}–{TABLE_MAX} characters long, this one has {len(name)}"
    if not _TABLE_CHARS.match(name):
        return "DynamoDB table names take only letters, digits, '_', '-' and '.'"
    return None


def broken_region_rule(region: str) -> str | None:
    if not _REGION.match(region):
        return f"{region!r} is not an AWS region name (like us-east-1)"
    return None


def bucket_safe(text: str) -> str:
    """An account name as it can appear in a bucket name: lowercase, anything else a hyphen."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")
