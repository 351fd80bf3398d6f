"""Deleting an account's Terraform state backend: every object version of the S3 bucket, the bucket, the lock
table. The teardown calls this last, separately, once every unit of the account is destroyed.

The bucket must belong to the account (`ExpectedBucketOwner`): a bucket of the same name owned by someone
else (bucket names are global) is refused, never emptied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

ClientFor = Callable[[str, str | None], Any]  # (service, region) -> boto3 client acting in the account
BATCH = 1000  # DeleteObjects takes at most 1000 keys


class BackendDeleteError(Exception):
    """The backend could not be deleted; the message says what was done and what is left."""


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def delete_state_backend(
    client_for: ClientFor,
    *,
    bucket: str,
    table: str | None,
    region: str | None,
    account_id: str | None,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[str]:
    """Blocking. Returns what was done, one sentence per thing."""
    done: list[str] = []
    s3 = client_for("s3", region)
    owner = {"ExpectedBucketOwner": account_id} if account_id else {}
    try:
        s3.head_bucket(Bucket=bucket, **owner)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            done.append(f"S3 bucket {bucket}: already gone")
        elif error_code(exc) in ("403", "AccessDenied"):
            raise BackendDeleteError(
                f"S3 bucket {bucket} is not this account's ({account_id}) or may not be read: nothing deleted"
            ) from None
        else:
            raise BackendDeleteError(f"S3 bucket {bucket}: {exc}; nothing deleted") from None
    else:
        removed = 0
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, **owner):
            keys = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for kind in ("Versions", "DeleteMarkers")
                for item in page.get(kind, [])
            ]
            for start in range(0, len(keys), BATCH):
                chunk = keys[start : start + BATCH]
                answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True}, **owner)
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise BackendDeleteError(
                        f"S3 bucket {bucket}: could not delete {first.get('Key')} ({first.get('Code')}); "
                        f"{removed} object version(s) deleted so far, the bucket is still there"
                    )
                removed += len(chunk)
                progress(f"{bucket}: {removed} object version(s) deleted")
        s3.delete_bucket(Bucket=bucket, **owner)
        done.append(f"S3 bucket {bucket}: {removed} object version(s) and the bucket deleted")
    if table:
        dynamodb = client_for("dynamodb", region)
        try:
            dynamodb.delete_table(TableName=table)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise BackendDeleteError(f"lock table {table}: {exc} (the bucket is deleted)") from None
            done.append(f"DynamoDB lock table {table}: already gone")
        else:
            dynamodb.get_waiter("table_not_exists").wait(TableName=table)
            done.append(f"DynamoDB lock table {table}: deleted")
    return done
