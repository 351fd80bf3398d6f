"""Finding, creating and checking an account's Terraform state backend: the S3 bucket and the DynamoDB lock
table (the backends step; `state_backend` deletes them at teardown).

Availability: HeadBucket with `ExpectedBucketOwner` = the account — 404 means the name is free, 403 that
another account owns it (or this identity may not read it). A 200 is confirmed with ListBuckets, which lists
only the caller's own buckets: the emulator answers HeadBucket 200 for another account's bucket even with
`ExpectedBucketOwner` (real S3 answers 403), and the product must not call such a bucket ours. When
ListBuckets is denied, the 200 of HeadBucket with `ExpectedBucketOwner` is trusted, as real S3 enforces it.

Everything is idempotent: each setting is read first and only what is missing is put.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from refarch_tui.aws.state_backend import ClientFor, error_code

TAGS = {"managed-by": "refarch-tui"}
LOCK_KEY = "LockID"  # the hash key the S3 backend writes its locks under (a string)
TLS_SID = "DenyInsecureTransport"
PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_MISSING_BUCKET = ("404", "NoSuchBucket", "NotFound")
_DENIED = ("403", "AccessDenied", "Forbidden")


class BackendSetupError(Exception):
    """The backend cannot be used or made; the message names the bucket or table and what to do."""


@dataclass(frozen=True)
class BucketOwnership:
    state: str  # free | ours | taken
    region: str | None = None  # where an existing bucket of ours lives
    how: str = ""  # how ownership was established, for the evidence

    @property
    def free(self) -> bool:
        return self.state == "free"


def _location(s3: Any, bucket: str, owner: dict[str, str]) -> str:
    constraint = s3.get_bucket_location(Bucket=bucket, **owner).get("LocationConstraint")
    # us-east-1 answers None (or ""); "EU" is the old name of eu-west-1
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, str(constraint))


def _listed_as_ours(s3: Any, bucket: str) -> bool | None:
    """Is `bucket` among the caller's own buckets? None when ListBuckets is denied."""
    try:
        paginator = s3.get_paginator("list_buckets")
        for page in paginator.paginate(Prefix=bucket):
            if any(item.get("Name") == bucket for item in page.get("Buckets", [])):
                return True
    except ClientError as exc:
        if error_code(exc) in _DENIED:
            return None
        raise
    return False


def bucket_ownership(client_for: ClientFor, bucket: str, account_id: str, region: str) -> BucketOwnership:
    """Blocking. Whether `bucket` is free, this account's (and where), or taken by someone else."""
    s3 = client_for("s3", region)
    owner = {"ExpectedBucketOwner": account_id}
    try:
        s3.head_bucket(Bucket=bucket, **owner)
    except ClientError as exc:
        code = error_code(exc)
        if code in _MISSING_BUCKET:
            return BucketOwnership("free")
        if code in _DENIED:
            return BucketOwnership("taken", how="HeadBucket with ExpectedBucketOwner answered 403")
        raise BackendSetupError(f"S3 bucket {bucket}: HeadBucket failed ({code}): {exc}") from None
    listed = _listed_as_ours(s3, bucket)
    if listed is False:
        return BucketOwnership("taken", how="HeadBucket answered 200 but ListBuckets does not list it")
    how = "listed by ListBuckets" if listed else "HeadBucket with ExpectedBucketOwner (ListBuckets denied)"
    return BucketOwnership("ours", region=_location(s3, bucket, owner), how=how)


# -- the bucket's settings --------------------------------------------------------------------------------


def tls_only_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    flag = (condition.get("Bool") or {}).get("aws:SecureTransport")
    action = statement.get("Action")
    actions = action if isinstance(action, list) else [action]
    return (
        statement.get("Effect") == "Deny"
        and str(flag).lower() == "false"
        and any(a in ("s3:*", "*") for a in actions)
    )


def _policy(s3: Any, bucket: str, owner: dict[str, str]) -> dict[str, Any] | None:
    try:
        text = s3.get_bucket_policy(Bucket=bucket, **owner)["Policy"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucketPolicy":
            return None
        raise
    parsed = json.loads(text)
    return parsed if isinstance(parsed, dict) else None


def bucket_settings(s3: Any, bucket: str, account_id: str) -> dict[str, Any]:
    """What the bucket has now: versioning status, default encryption algorithm (None when unset), the four
    public-access blocks, whether its policy denies plain HTTP."""
    owner = {"ExpectedBucketOwner": account_id}
    versioning = s3.get_bucket_versioning(Bucket=bucket, **owner).get("Status") or "Off"
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket, **owner)["ServerSideEncryptionConfiguration"]["Rules"]
        encryption = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else None
    except ClientError as exc:
        if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        encryption = None
    try:
        blocks = s3.get_public_access_block(Bucket=bucket, **owner)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        blocks = {}
    policy = _policy(s3, bucket, owner)
    statements = (policy or {}).get("Statement") or []
    return {
        "versioning": versioning,
        "encryption": encryption,
        "public_access_block": {name: bool(blocks.get(name)) for name in PUBLIC_ACCESS_BLOCKS},
        "tls_only": any(_denies_plain_http(s) for s in statements if isinstance(s, dict)),
    }


def missing_bucket_settings(settings: dict[str, Any], *, tls_only: bool = True) -> list[str]:
    """What the bucket lacks, as the operator reads it (`tls_only=False`: the policy is not asked for)."""
    missing = []
    if settings["versioning"] != "Enabled":
        missing.append(f"versioning (now {settings['versioning']})")
    if not settings["encryption"]:
        missing.append("default encryption")
    off = [name for name, on in settings["public_access_block"].items() if not on]
    if off:
        missing.append(f"public-access blocks {', '.join(off)}")
    if tls_only and not settings["tls_only"]:
        missing.append("TLS-only bucket policy")
    return missing


def ensure_bucket(
    client_for: ClientFor,
    bucket: str,
    *,
    region: str,
    account_id: str,
    tls_only: bool = True,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[str]:
    """Blocking. Creates the bucket when free and puts whatever setting it lacks; one sentence per thing.
    `tls_only=False` leaves the bucket policy alone (an endpoint without TLS, see the backends step)."""
    s3 = client_for("s3", region)
    owner = {"ExpectedBucketOwner": account_id}
    done: list[str] = []
    found = bucket_ownership(client_for, bucket, account_id, region)
    if found.state == "taken":
        raise BackendSetupError(
            f"S3 bucket {bucket} belongs to another AWS account ({found.how}); bucket names are global — "
            "choose another name"
        )
    if found.free:
        progress(f"creating S3 bucket {bucket} in {region}")
        where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            s3.create_bucket(Bucket=bucket, **where)
        except ClientError as exc:
            if error_code(exc) == "BucketAlreadyExists":
                raise BackendSetupError(
                    f"S3 bucket {bucket} was just taken by another AWS account; choose another name"
                ) from None
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise BackendSetupError(f"could not create S3 bucket {bucket}: {exc}") from None
        s3.get_waiter("bucket_exists").wait(Bucket=bucket, ExpectedBucketOwner=account_id)
        s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]}, **owner
        )
        done.append(f"S3 bucket {bucket}: created in {region}")
    elif found.region != region:
        raise BackendSetupError(
            f"S3 bucket {bucket} already exists in {found.region}, not {region}: set region={found.region} "
            "or choose another bucket name"
        )
    else:
        done.append(f"S3 bucket {bucket}: already there in {region} (this account's)")
    settings = bucket_settings(s3, bucket, account_id)
    if settings["versioning"] != "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **owner)
        done.append(f"{bucket}: versioning enabled")
    if not settings["encryption"]:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            **owner,
        )
        done.append(f"{bucket}: default encryption (SSE-S3, AES256) set")
    if not all(settings["public_access_block"].values()):
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=dict.fromkeys(PUBLIC_ACCESS_BLOCKS, True),
            **owner,
        )
        done.append(f"{bucket}: all four public-access blocks on")
    if tls_only and not settings["tls_only"]:
        policy = _policy(s3, bucket, owner) or {"Version": "2012-10-17", "Statement": []}
        # an existing policy keeps its statements; ours is added next to them
        statements = [s for s in policy.get("Statement") or [] if s.get("Sid") != TLS_SID]
        policy["Statement"] = [*statements, tls_only_statement(bucket)]
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy), **owner)
        done.append(f"{bucket}: TLS-only bucket policy (aws:SecureTransport false → Deny)")
    if len(done) == 1 and not found.free:
        done[0] += " with every setting in place"
    return done


# -- the lock table ---------------------------------------------------------------------------------------


def table_settings(dynamodb: Any, table: str) -> dict[str, Any] | None:
    """The lock table's key, billing mode and point-in-time recovery; None when there is no such table."""
    try:
        described = dynamodb.describe_table(TableName=table)["Table"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    types = {a["AttributeName"]: a["AttributeType"] for a in described.get("AttributeDefinitions", [])}
    keys = [(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"])) for k in described["KeySchema"]]
    billing = (described.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    return {
        "key_schema": [list(k) for k in keys],
        "lock_key_ok": keys == [(LOCK_KEY, "HASH", "S")],
        "billing_mode": billing,
        "point_in_time_recovery": pitr == "ENABLED",
        "status": described.get("TableStatus"),
    }


def wrong_lock_key(table: str, settings: dict[str, Any]) -> str | None:
    if settings["lock_key_ok"]:
        return None
    shown = ", ".join(f"{name} ({kind}, {typ})" for name, kind, typ in settings["key_schema"])
    return (
        f"DynamoDB table {table} exists with key {shown}, not a string hash key {LOCK_KEY}: Terraform cannot "
        "lock with it; choose another table name"
    )


def missing_table_settings(settings: dict[str, Any]) -> list[str]:
    missing = []
    if settings["billing_mode"] != "PAY_PER_REQUEST":
        missing.append(f"on-demand billing (now {settings['billing_mode']})")
    if not settings["point_in_time_recovery"]:
        missing.append("point-in-time recovery")
    return missing


def _enable_pitr(dynamodb: Any, table: str, *, attempts: int = 10, pause: float = 2.0) -> None:
    # just after CreateTable, AWS may answer ContinuousBackupsUnavailableException for a while
    for attempt in range(attempts):
        try:
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
            return
        except ClientError as exc:
            if error_code(exc) != "ContinuousBackupsUnavailableException" or attempt == attempts - 1:
                raise
            time.sleep(pause)


def ensure_table(
    client_for: ClientFor, table: str, *, region: str, progress: Callable[[str], None] = lambda _line: None
) -> list[str]:
    """Blocking. Creates the lock table when missing and turns on what it lacks; one sentence per thing."""
    dynamodb = client_for("dynamodb", region)
    done: list[str] = []
    settings = table_settings(dynamodb, table)
    if settings is None:
        progress(f"creating DynamoDB lock table {table} in {region}")
        try:
            dynamodb.create_table(
                TableName=table,
                AttributeDefinitions=[{"AttributeName": LOCK_KEY, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": LOCK_KEY, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
            )
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":  # created meanwhile: checked below
                raise BackendSetupError(f"could not create DynamoDB table {table}: {exc}") from None
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        done.append(f"DynamoDB lock table {table}: created in {region} (hash key {LOCK_KEY}, string)")
        settings = table_settings(dynamodb, table)
        assert settings is not None
    else:
        done.append(f"DynamoDB lock table {table}: already there in {region}")
    problem = wrong_lock_key(table, settings)
    if problem:
        raise BackendSetupError(problem)
    if settings["billing_mode"] != "PAY_PER_REQUEST":
        dynamodb.update_table(TableName=table, BillingMode="PAY_PER_REQUEST")
        dynamodb.get_waiter("table_exists").wait(TableName=table)
        done.append(f"{table}: switched to on-demand billing")
    if not settings["point_in_time_recovery"]:
        _enable_pitr(dynamodb, table)
        done.append(f"{table}: point-in-time recovery on")
    if len(done) == 1 and done[0].endswith("already there in " + region):
        done[0] += " with every setting in place"
    return done
