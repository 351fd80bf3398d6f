"""The state-backends step against the emulator: naming rules checked before any AWS call (the broken rule
named), availability (404 free, 403 taken, 200 ours only when the account owns it), creation with every
setting read back through the API, an idempotent rerun, the remote_state edits (account root config and the
root.hcl layout), and verify going stale when something is taken away.

Where the emulator is more lenient than S3 the test says so: HeadBucket on another account's bucket answers
200 in moto, even with ExpectedBucketOwner, where S3 answers 403. The 403 case is simulated by answering the
HeadBucket call before it leaves the client (botocore's `before-call` event), exactly as S3 would answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from refarch_tui.aws import state_backend_setup as setup
from refarch_tui.state import Status
from refarch_tui.steps import backend_names, backends, runner
from refarch_tui.steps.contract import StepContext, StepError
from tests.steps import helpers
from tests.steps.conftest import MakeCtx

DEV_ID = "368294012756"
DEV_BUCKET = f"dev-{DEV_ID}-terraform-state"
DEV_TABLE = f"dev-{DEV_ID}-terraform-locks"


def run(ctx: StepContext, **answers: object) -> runner.StepOutcome:
    return runner.run_step(ctx, "backends", answers, accept=runner.accept_all)


def as_in_aws(ctx: StepContext) -> StepContext:
    """The context of a real workspace (the AWS code path), still against the emulator: only there is the
    TLS-only bucket policy put (see `test_the_sandbox_puts_no_tls_only_policy_and_says_so`)."""
    ctx.sandbox = False
    return ctx


def answered_by_s3(ctx: StepContext, operation: str, status: int, code: str) -> None:
    """Every S3 client of `ctx` answers `operation` with this HTTP status and error code, as S3 would."""
    real = ctx.clients

    def answer(**_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        http = AWSResponse("https://s3.amazonaws.com", status, {}, None)
        return http, {
            "Error": {"Code": code, "Message": "simulated"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    def clients(service: str, region: str | None = None) -> Any:
        client = real(service, region)
        if service == "s3":
            client.meta.events.register(f"before-call.s3.{operation}", answer)
        return client

    ctx.clients = clients


# -- naming rules (no AWS call) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ab", "3–63 characters long, this one has 2"),
        ("a" * 64, "3–63 characters long, this one has 64"),
        ("Dev-state", "lowercase letters, digits, dots and hyphens (not 'D')"),
        ("dev_state", "(not '_')"),
        ("dev state", "(not ' ')"),
        ("-dev-state", "begin and end with a lowercase letter or a digit"),
        ("dev-state.", "begin and end with a lowercase letter or a digit"),
        ("dev..state", "two adjacent dots"),
        ("192.168.5.4", "formatted as an IP address"),
        ("xn--dev-state", "start with 'xn--'"),
        ("sthree-dev", "start with 'sthree-'"),
        ("sthree-configurator-dev", "start with 'sthree-'"),
        ("amzn-s3-demo-dev", "start with 'amzn-s3-demo-'"),
        ("dev-state-s3alias", "end with '-s3alias'"),
        ("dev-state--ol-s3", "end with '--ol-s3'"),
        ("dev-state.mrap", "end with '.mrap'"),
        ("dev-state--x-s3", "end with '--x-s3'"),
        ("dev-state--table-s3", "end with '--table-s3'"),
    ],
)
def test_each_bucket_naming_rule_is_named(name: str, rule: str) -> None:
    broken = backend_names.broken_bucket_rule(name)
    assert broken is not None and rule in broken, broken


@pytest.mark.parametrize("name", ["abc", "a" * 63, DEV_BUCKET, "acme.dev.state", "1-2-3", "192.168.5.4x"])
def test_good_bucket_names_pass(name: str) -> None:
    assert backend_names.broken_bucket_rule(name) is None


def test_table_and_region_rules_and_the_dots_warning() -> None:
    assert "3–255 characters" in (backend_names.broken_table_rule("ab") or "")
    assert "letters, digits, '_', '-' and '.'" in (backend_names.broken_table_rule("dev locks") or "")
    assert backend_names.broken_table_rule("Dev_Locks.v1-x") is None
    assert "not an AWS region name" in (backend_names.broken_region_rule("us-east") or "")
    assert backend_names.broken_region_rule("eu-central-1") is None
    assert backend_names.broken_region_rule("us-gov-west-1") is None
    assert "certificate" in backend_names.bucket_warnings("acme.dev")[0]
    assert backend_names.bucket_safe("Shared_Services") == "shared-services"


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({"bucket": "Dev_State"}, "bucket 'Dev_State' is refused: bucket names take only lowercase"),
        ({"bucket": "xn--state"}, "bucket 'xn--state' is refused: bucket names may not start with 'xn--'"),
        ({"table": "no spaces please"}, "table 'no spaces please' is refused"),
        ({"region": "mars-1"}, "region 'mars-1' is refused"),
    ],
)
def test_a_bad_name_is_refused_before_any_aws_call(
    make_ctx: MakeCtx, answers: dict[str, str], says: str
) -> None:
    ctx = make_ctx("dev")
    called: list[str] = []

    def no_aws(service: str, region: str | None = None) -> Any:
        called.append(service)
        raise AssertionError("no AWS call before the names are checked")

    ctx.clients = no_aws
    with pytest.raises(StepError, match=re.escape(says)):
        backends.plan(ctx, helpers.resolve(backends, **answers))
    assert called == []


# -- availability ---------------------------------------------------------------------------------------


def test_defaults_are_unique_per_account_and_hold_the_account_id(make_ctx: MakeCtx) -> None:
    plans = {a: backends.plan(make_ctx(a), helpers.resolve(backends)) for a in ("dev", "shared-services")}
    assert plans["dev"].data["bucket"] == DEV_BUCKET and plans["dev"].data["table"] == DEV_TABLE
    assert plans["shared-services"].data["bucket"] == "shared-services-235829751430-terraform-state"
    assert plans["dev"].data["region"] == "us-east-1"  # the region already in dev/terragrunt.hcl


def test_a_free_name_404_is_planned_for_creation(make_ctx: MakeCtx) -> None:
    plan = backends.plan(make_ctx("dev"), {})
    assert any(a.startswith(f"create S3 bucket {DEV_BUCKET} in us-east-1") for a in plan.actions)
    assert any(a.startswith(f"create DynamoDB lock table {DEV_TABLE}") for a in plan.actions)
    assert f"aws s3api create-bucket --bucket {DEV_BUCKET} --region us-east-1" in plan.commands


def test_403_means_taken_by_someone_else(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    answered_by_s3(ctx, "HeadBucket", 403, "403")  # what S3 answers for another account's bucket
    with pytest.raises(StepError, match=f"bucket '{DEV_BUCKET}' is taken by another AWS account .*403"):
        backends.plan(ctx, {})
    assert run(ctx).status is Status.FAILED


def test_another_accounts_bucket_is_taken_although_the_emulator_answers_200(make_ctx: MakeCtx) -> None:
    stage = make_ctx("stage")
    stage.clients("s3", "us-east-1").create_bucket(Bucket=DEV_BUCKET)
    dev = make_ctx("dev")
    # the emulator's leniency, stated so the test shows what the product must not rely on
    s3 = dev.clients("s3", "us-east-1")
    assert (
        s3.head_bucket(Bucket=DEV_BUCKET, ExpectedBucketOwner=DEV_ID)["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    with pytest.raises(StepError, match=r"taken by another AWS account .*ListBuckets does not list it"):
        backends.plan(dev, {})
    assert setup.bucket_ownership(dev.clients, DEV_BUCKET, DEV_ID, "us-east-1").state == "taken"


def test_200_with_expected_owner_is_trusted_when_list_buckets_is_denied(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    ctx.clients("s3", "us-east-1").create_bucket(Bucket=DEV_BUCKET)
    answered_by_s3(ctx, "ListBuckets", 403, "AccessDenied")
    found = setup.bucket_ownership(ctx.clients, DEV_BUCKET, DEV_ID, "us-east-1")
    assert (found.state, found.region) == ("ours", "us-east-1")
    assert "ExpectedBucketOwner" in found.how


def test_an_existing_bucket_of_ours_is_reported_and_completed(make_ctx: MakeCtx) -> None:
    ctx = as_in_aws(make_ctx("dev"))
    s3 = ctx.clients("s3", "us-east-1")
    s3.create_bucket(Bucket=DEV_BUCKET)
    own = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Mine",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteBucket",
                "Resource": f"arn:aws:s3:::{DEV_BUCKET}",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=DEV_BUCKET, Policy=json.dumps(own))
    plan = backends.plan(ctx, {})
    [line] = [a for a in plan.actions if a.startswith(f"S3 bucket {DEV_BUCKET}")]
    assert "already exists in us-east-1 (this account's)" in line
    assert "versioning (now Off)" in line and "TLS-only bucket policy" in line
    assert not any("create-bucket" in c for c in plan.commands)
    outcome = run(ctx)
    assert outcome.status is Status.DONE, outcome.message
    assert "already there" in outcome.message and "versioning enabled" in outcome.message
    policy = json.loads(s3.get_bucket_policy(Bucket=DEV_BUCKET)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["Mine", setup.TLS_SID]  # the operator's statement kept


def test_an_existing_bucket_in_another_region_is_refused_with_the_fix(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    ctx.clients("s3", "us-west-2").create_bucket(
        Bucket=DEV_BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    with pytest.raises(
        StepError, match="already exists in this account in us-west-2, not us-east-1: set region=us-west-2"
    ):
        backends.plan(ctx, {})


def test_a_table_without_a_lockid_string_key_is_refused(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    ctx.clients("dynamodb", "us-east-1").create_table(
        TableName=DEV_TABLE,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(StepError, match=r"exists with key id \(HASH, N\), not a string hash key LockID"):
        backends.plan(ctx, {})


# -- create, read back, rerun, edits, verify ------------------------------------------------------------


def _read_back(ctx: StepContext, bucket: str, table: str, region: str) -> None:
    s3 = ctx.clients("s3", region)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == dict.fromkeys(
        setup.PUBLIC_ACCESS_BLOCKS, True
    )
    [statement] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == setup.TAGS
    assert s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") in (
        (None, "") if region == "us-east-1" else (region,)
    )
    dynamodb = ctx.clients("dynamodb", region)
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert described["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_creates_everything_edits_the_account_root_config_and_a_rerun_changes_nothing(
    make_ctx: MakeCtx,
) -> None:
    ctx = as_in_aws(make_ctx("dev"))
    outcome = run(ctx)
    assert outcome.status is Status.DONE, outcome.message
    assert f"S3 bucket {DEV_BUCKET}: created in us-east-1" in outcome.message
    assert f"DynamoDB lock table {DEV_TABLE}: created in us-east-1" in outcome.message
    _read_back(ctx, DEV_BUCKET, DEV_TABLE, "us-east-1")
    assert sorted((c.file, c.key, c.old, c.new, c.applied) for c in outcome.changes) == [
        (
            "dev/terragrunt.hcl",
            "remote_state.config.bucket",
            "REPLACE_ME_TERRAFORM_STATE_BUCKET",
            DEV_BUCKET,
            True,
        ),
        (
            "dev/terragrunt.hcl",
            "remote_state.config.dynamodb_table",
            "REPLACE_ME_TERRAFORM_LOCKS_TABLE",
            DEV_TABLE,
            True,
        ),
        ("dev/terragrunt.hcl", "remote_state.config.region", "us-east-1", "us-east-1", True),
    ]
    text = (ctx.live_root / "dev" / "terragrunt.hcl").read_text()
    assert f'bucket = "{DEV_BUCKET}"' in text and f'dynamodb_table = "{DEV_TABLE}"' in text
    assert "# One lock table per account" in text  # comments kept
    record = ctx.state.record("backends", "dev")
    assert record.facts["bucket"] == DEV_BUCKET and record.facts["table"] == DEV_TABLE
    assert "terragrunt" in record.facts["terragrunt"]
    assert backends.verify(make_ctx("dev"), record).holds

    again = run(as_in_aws(make_ctx("dev")))
    assert again.status is Status.DONE and again.changes == []
    assert "already there in us-east-1 (this account's) with every setting in place" in again.message
    assert "already there in us-east-1 with every setting in place" in again.message
    assert (ctx.live_root / "dev" / "terragrunt.hcl").read_text() == text
    assert backends.verify(make_ctx("dev"), ctx.state.record("backends", "dev")).holds


def test_the_sandbox_puts_no_tls_only_policy_and_says_so(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    plan = backends.plan(ctx, {})
    assert backends.SANDBOX_NO_TLS in plan.actions
    assert not any("TLS-only policy" in a for a in plan.actions if a.startswith("create S3 bucket"))
    outcome = run(ctx)
    assert outcome.status is Status.DONE and backends.SANDBOX_NO_TLS in outcome.message
    s3 = ctx.clients("s3", "us-east-1")
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=DEV_BUCKET)
    # the emulator enforces bucket policies over plain HTTP, which is why: objects stay reachable
    s3.put_object(Bucket=DEV_BUCKET, Key="probe", Body=b"1")
    record = ctx.state.record("backends", "dev")
    assert record.evidence["tls_only_policy"] is False
    assert backends.verify(make_ctx("dev"), record).holds


def test_typed_names_and_region_go_into_the_hcl(make_ctx: MakeCtx) -> None:
    ctx = as_in_aws(make_ctx("prod"))
    outcome = run(ctx, bucket="acme-prod-state", table="acme-prod-locks", region="us-west-2")
    assert outcome.status is Status.DONE, outcome.message
    _read_back(ctx, "acme-prod-state", "acme-prod-locks", "us-west-2")
    assert {c.key: c.new for c in outcome.changes} == {
        "remote_state.config.bucket": "acme-prod-state",
        "remote_state.config.dynamodb_table": "acme-prod-locks",
        "remote_state.config.region": "us-west-2",
    }


@pytest.mark.parametrize(
    ("take_away", "says"),
    [
        (
            lambda c: c.clients("s3", "us-east-1").put_bucket_versioning(
                Bucket=DEV_BUCKET, VersioningConfiguration={"Status": "Suspended"}
            ),
            "lacks versioning (now Suspended)",
        ),
        (
            lambda c: c.clients("s3", "us-east-1").delete_bucket_policy(Bucket=DEV_BUCKET),
            "lacks TLS-only bucket policy",
        ),
        (
            lambda c: c.clients("s3", "us-east-1").delete_public_access_block(Bucket=DEV_BUCKET),
            "lacks public-access blocks",
        ),
        (
            lambda c: c.clients("dynamodb", "us-east-1").update_continuous_backups(
                TableName=DEV_TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
            ),
            "lacks point-in-time recovery",
        ),
        (
            lambda c: c.clients("dynamodb", "us-east-1").delete_table(TableName=DEV_TABLE),
            f"{DEV_TABLE} no longer exists",
        ),
        (
            lambda c: (c.live_root / "dev/terragrunt.hcl").write_text(
                (c.live_root / "dev/terragrunt.hcl").read_text().replace(DEV_BUCKET, "by-hand")
            ),
            "remote_state.config.bucket in dev/terragrunt.hcl was changed by hand",
        ),
    ],
)
def test_verify_goes_stale_when_something_is_taken_away(
    make_ctx: MakeCtx, take_away: Callable[[StepContext], object], says: str
) -> None:
    ctx = as_in_aws(make_ctx("dev"))
    assert run(ctx).status is Status.DONE
    take_away(ctx)
    verdict = backends.verify(make_ctx("dev"), ctx.state.record("backends", "dev"))
    assert not verdict.holds and says in verdict.reason, verdict.reason


def test_create_false_only_checks_and_edits_and_says_what_the_apply_depends_on(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    plan = backends.plan(ctx, {"create": False})
    [warning] = [w for w in plan.warnings if w.startswith("nothing is created now")]
    assert "--backend-bootstrap" in warning
    outcome = run(ctx, create=False)
    assert outcome.status is Status.DONE, outcome.message
    assert setup.bucket_ownership(ctx.clients, DEV_BUCKET, DEV_ID, "us-east-1").free
    assert backends.verify(make_ctx("dev"), ctx.state.record("backends", "dev")).holds


# -- which terragrunt generation -------------------------------------------------------------------------


def test_the_note_names_the_detected_terragrunt_generation(
    make_ctx: MakeCtx, fake_tg: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.run.helpers import use_fake_version

    use_fake_version(monkeypatch, "0.67.16")
    note = backends.terragrunt_note()
    assert note.startswith("terragrunt v0.67.16 creates a missing bucket and table itself")
    use_fake_version(monkeypatch, "1.0.2")
    assert (
        "v1.0.2 creates a missing bucket and table only with --backend-bootstrap"
        in backends.terragrunt_note()
    )
    plan = backends.plan(make_ctx("dev"), {})
    assert any("only with --backend-bootstrap" in a and "independent of that" in a for a in plan.actions)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert backends.terragrunt_note().startswith("terragrunt is not on PATH yet: 0.x would create")


# -- root.hcl layouts ------------------------------------------------------------------------------------

ROOT_HCL = """\
locals {
  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))
}
remote_state {
  backend = "s3"
  config = {
    bucket         = local.account_vars.locals.state_bucket
    dynamodb_table = local.account_vars.locals.lock_table
    region         = local.account_vars.locals.state_region
    key            = "${path_relative_to_include()}/terraform.tfstate"
  }
}
"""


def _root_hcl_layout(ctx: StepContext, root_text: str, account_locals: str) -> None:
    (ctx.live_root / "root.hcl").write_text(root_text)
    (ctx.live_root / "dev" / "terragrunt.hcl").write_text("# the backend lives in root.hcl\n")
    account = ctx.live_root / "dev" / "account.hcl"
    account.write_text(account.read_text().replace("locals {", "locals {\n" + account_locals, 1))
    ctx._tree = None


def test_root_hcl_layout_edits_the_per_account_file(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    _root_hcl_layout(
        ctx, ROOT_HCL, '  state_bucket = "TODO"\n  lock_table   = "TODO"\n  state_region = "us-east-1"\n'
    )
    outcome = run(ctx)
    assert outcome.status is Status.DONE, outcome.message
    assert {(c.file, c.key, c.new) for c in outcome.changes} == {
        ("dev/account.hcl", "locals.state_bucket", DEV_BUCKET),
        ("dev/account.hcl", "locals.lock_table", DEV_TABLE),
        ("dev/account.hcl", "locals.state_region", "us-east-1"),
    }
    assert (ctx.live_root / "root.hcl").read_text() == ROOT_HCL
    record = ctx.state.record("backends", "dev")
    assert backends.verify(make_ctx("dev"), record).holds
    account = ctx.live_root / "dev" / "account.hcl"
    account.write_text(account.read_text().replace(DEV_TABLE, "other-locks"))
    verdict = backends.verify(make_ctx("dev"), record)
    assert not verdict.holds and "locals.lock_table in dev/account.hcl was changed by hand" in verdict.reason


def test_a_literal_in_a_shared_root_hcl_is_refused_and_the_step_stays_pending(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    shared = ROOT_HCL.replace("local.account_vars.locals.state_bucket", '"one-bucket-for-all"')
    _root_hcl_layout(ctx, shared, "")
    plan = backends.plan(ctx, {})
    assert any("shared by every account" in w for w in plan.warnings)
    outcome = run(ctx)
    assert outcome.status is Status.PENDING
    assert "the HCL was not edited" in outcome.message and "shared by every account" in outcome.message
    assert (ctx.live_root / "root.hcl").read_text() == shared
