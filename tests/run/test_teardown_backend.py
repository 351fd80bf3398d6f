"""The state backend: deleted last, separately, and only once every unit of the account is destroyed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from refarch_tui.aws.state_backend import delete_state_backend
from refarch_tui.run import teardown_report
from refarch_tui.run.teardown import StateBackend
from refarch_tui.run.teardown_exec import Teardown, TeardownRefused
from refarch_tui.state import Workspace, WorkspaceState
from tests.run.test_teardown import quiet_rehearsal

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
BUCKET, TABLE = "acme-dev-terraform-state", "acme-dev-terraform-locks"


def clients(endpoint: str) -> Callable[[str, str | None], Any]:
    def make(service: str, region: str | None) -> Any:
        return boto3.client(
            service,
            region_name=region or "us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )

    return make


def test_a_versioned_bucket_and_its_lock_table_are_deleted(moto: str) -> None:
    client_for = clients(moto)
    s3, dynamodb = client_for("s3", "us-east-1"), client_for("dynamodb", "us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2", b"v3"):
        s3.put_object(Bucket=BUCKET, Key="dev/us-east-1/networking/vpc-app/terraform.tfstate", Body=body)
    s3.delete_object(Bucket=BUCKET, Key="dev/us-east-1/networking/vpc-app/terraform.tfstate")  # a marker
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    done = delete_state_backend(client_for, bucket=BUCKET, table=TABLE, region="us-east-1", account_id=None)
    assert done == [
        f"S3 bucket {BUCKET}: 4 object version(s) and the bucket deleted",
        f"DynamoDB lock table {TABLE}: deleted",
    ]
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=BUCKET)
    assert TABLE not in dynamodb.list_tables()["TableNames"]
    again = delete_state_backend(client_for, bucket=BUCKET, table=TABLE, region="us-east-1", account_id=None)
    assert again == [f"S3 bucket {BUCKET}: already gone", f"DynamoDB lock table {TABLE}: already gone"]


def test_the_backend_step_waits_for_every_unit_and_is_recorded(
    live_copy: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    root_config = live_copy / "dev" / "terragrunt.hcl"
    text = root_config.read_text().replace("REPLACE_ME_TERRAFORM_STATE_BUCKET", BUCKET)
    root_config.write_text(text.replace("REPLACE_ME_TERRAFORM_LOCKS_TABLE", TABLE))
    workspace, state = make_workspace(live_copy)
    deleted: list[StateBackend] = []

    def deleter(backend: StateBackend) -> list[str]:
        deleted.append(backend)
        return ["deleted"]

    teardown = Teardown(workspace, state, "dev", executor_factory=quiet_rehearsal)
    teardown.prepare()
    with pytest.raises(TeardownRefused, match="not destroyed"):
        teardown.delete_backend(deleter)
    run = teardown.phase2_run()
    assert run is not None
    asyncio.run(run.execute())
    with pytest.raises(TeardownRefused, match="iam-cross-account"):
        teardown.delete_backend(deleter)  # the excluded unit's state is still in the bucket
    assert deleted == []
    teardown.prepare(include_cross_account=True)
    last = teardown.phase2_run()
    assert last is not None
    asyncio.run(last.execute())
    assert teardown.delete_backend(deleter) == ["deleted"]
    assert [b.bucket for b in deleted] == [BUCKET]
    with pytest.raises(TeardownRefused, match="already deleted"):
        teardown.delete_backend(deleter)
    plan = teardown.prepare()
    assert not any(BUCKET in item.what for item in plan.left_behind)
    doc = teardown_report.document(teardown, kind="destroy", run=None)
    assert doc["state_backend"]["status"].startswith("deleted by the separate state-backend step")
    actions = [(e["action"], e["outcome"]) for e in workspace.read_journal()]
    assert ("teardown.state_backend", "done") in actions
