"""The kms_admin step against the emulator: the IAM user is created bare and tagged (or an existing one
reused), its ARN replaces the placeholders of every KMS key administrator list (real entries kept, never
twice), a list left without an administrator is warned about loudly, and verify notices a deleted or
re-created user and an ARN removed from a list. A single-account workspace does it in its one account."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod
from refarch_tui.live.scanner import scan
from refarch_tui.state import Account, Mode, Status, Workspace, WorkspaceState
from refarch_tui.steps import kms_admin, kms_lists, runner, services
from refarch_tui.steps.contract import StepContext
from tests.steps.conftest import REPO, MakeCtx, set_input
from tests.steps.helpers import record, resolve, run, run_and_record

SECURITY_ID = "104983213567"
ARN = f"arn:aws:iam::{SECURITY_ID}:user/kms-cmk-admin"
PLACEHOLDER = '["arn:aws:iam::104983213567:user/REPLACE_ME"]'
DEV_KMS = "dev/us-east-1/data-stores/kms-master-key"
SECURITY_TRAIL = "security/us-east-1/security/cloudtrail"
EVERY_LIST = {
    ("dev/us-east-1/data-stores/kms-master-key", "cmk_administrator_iam_arns"),
    ("prod/us-east-1/data-stores/kms-master-key", "cmk_administrator_iam_arns"),
    ("prod/us-west-2/data-stores/kms-master-key", "cmk_administrator_iam_arns"),
    ("security/us-east-1/data-stores/kms-master-key", "cmk_administrator_iam_arns"),
    ("shared-services/us-east-1/data-stores/kms-master-key", "cmk_administrator_iam_arns"),
    ("stage/us-east-1/data-stores/kms-master-key", "cmk_administrator_iam_arns"),
    ("security/us-east-1/security/cloudtrail", "kms_key_administrator_iam_arns"),
    ("shared-services/us-east-1/security/cloudtrail", "kms_key_administrator_iam_arns"),
}


def lists_on_disk(ctx: StepContext) -> dict[tuple[str, str], object]:
    tree = scan(ctx.live_root)
    return {(e.unit, e.input): e.current for e in kms_lists.admin_lists(tree, ctx.state.account_names)}


def no_such_entity(call: object, **kwargs: str) -> bool:
    try:
        call(**kwargs)  # type: ignore[operator]
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "NoSuchEntity"
    return False


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("arn:aws:iam::104983213567:user/REPLACE_ME", True),
        ("arn:aws:iam::104983213567:user/changeme", True),
        ("arn:aws:iam::000000000000:user/alice", True),
        ("arn:aws:iam::123456789012:user/alice", True),
        ("arn:aws:iam::<ACCOUNT_ID>:user/<NAME>", True),
        ("  ", True),
        ("arn:aws:iam::104983213567:user/alice", False),
        ("arn:aws:iam::368294012756:role/admins", False),
    ],
)
def test_placeholders_are_told_from_real_administrators(value: str, placeholder: bool) -> None:
    assert kms_lists.is_placeholder(value) is placeholder


def test_merging_replaces_placeholders_keeps_real_entries_and_never_duplicates() -> None:
    alice = "arn:aws:iam::104983213567:user/alice"
    assert kms_lists.merged(["arn:aws:iam::104983213567:user/REPLACE_ME"], ARN) == [ARN]
    assert kms_lists.merged([alice, "CHANGEME"], ARN) == [alice, ARN]
    assert kms_lists.merged([ARN, alice], ARN) == [ARN, alice]
    assert kms_lists.merged([], ARN) == [ARN]
    assert kms_lists.merged(None, ARN) == [ARN]


def test_defaults_create_a_bare_tagged_user_and_fill_every_list(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    assert lists_on_disk(ctx).keys() == EVERY_LIST
    plan = kms_admin.plan(ctx, resolve(kms_admin))
    assert any("create IAM user kms-cmk-admin" in a and ARN in a for a in plan.actions), plan.actions
    assert len(plan.edits) == len(EVERY_LIST) and not plan.warnings

    _result, recorded = run_and_record(kms_admin, ctx)
    assert recorded.status is Status.DONE, recorded.message
    assert recorded.facts["user_arn"] == ARN and recorded.facts["created"] is True
    assert ARN in recorded.message
    iam = ctx.clients("iam")
    user = iam.get_user(UserName="kms-cmk-admin")["User"]
    assert user["Arn"] == ARN and recorded.evidence["user_id"] == user["UserId"]
    assert iam.list_access_keys(UserName="kms-cmk-admin")["AccessKeyMetadata"] == []
    assert no_such_entity(iam.get_login_profile, UserName="kms-cmk-admin")
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="kms-cmk-admin")["Tags"]}
    assert tags["managed-by"] == "refarch-tui"
    assert all(value == (ARN,) for value in lists_on_disk(ctx).values()), lists_on_disk(ctx)
    assert kms_admin.verify(make_ctx("security"), recorded).holds


def test_an_existing_user_is_reused_and_its_credentials_are_left_alone(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    iam = ctx.clients("iam")
    existing = iam.create_user(UserName="kms-ops")["User"]
    iam.create_access_key(UserName="kms-ops")
    plan = kms_admin.plan(ctx, resolve(kms_admin, user_name="kms-ops"))
    assert any(a.startswith("reuse the existing IAM user kms-ops") for a in plan.actions), plan.actions
    assert any("1 access key(s)" in w for w in plan.warnings), plan.warnings
    assert plan.commands == []

    _result, recorded = run_and_record(kms_admin, ctx, user_name="kms-ops")
    assert recorded.status is Status.DONE and recorded.facts["created"] is False
    assert recorded.facts["user_arn"] == existing["Arn"]
    assert "reused the existing IAM user kms-ops" in recorded.message
    assert iam.get_user(UserName="kms-ops")["User"]["UserId"] == existing["UserId"]
    assert len(iam.list_access_keys(UserName="kms-ops")["AccessKeyMetadata"]) == 1
    assert no_such_entity(iam.get_user, UserName="kms-cmk-admin")  # nothing else was created
    assert lists_on_disk(ctx)[(DEV_KMS, "cmk_administrator_iam_arns")] == (existing["Arn"],)


def test_placeholders_are_replaced_real_entries_kept_and_a_rerun_adds_nothing(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    alice = "arn:aws:iam::368294012756:user/alice"
    set_input(
        ctx,
        DEV_KMS,
        PLACEHOLDER,
        f'["{alice}", "arn:aws:iam::000000000000:user/bob", "CHANGEME"]',
    )
    set_input(ctx, SECURITY_TRAIL, PLACEHOLDER, f'["{ARN}"]')  # already named: left as it is
    result, recorded = run_and_record(kms_admin, ctx)
    edited = {edit.unit for edit in result.edits}
    assert SECURITY_TRAIL not in edited and DEV_KMS in edited and len(edited) == len(EVERY_LIST) - 1
    on_disk = lists_on_disk(ctx)
    assert on_disk[(DEV_KMS, "cmk_administrator_iam_arns")] == (alice, ARN)
    assert on_disk[(SECURITY_TRAIL, "kms_key_administrator_iam_arns")] == (ARN,)
    assert "1 list(s) already name it" in recorded.message

    again = run(kms_admin, make_ctx("security"))
    assert again.status is Status.DONE and again.edits == []
    assert lists_on_disk(ctx)[(DEV_KMS, "cmk_administrator_iam_arns")] == (alice, ARN)


def test_a_list_that_would_stay_without_an_administrator_is_warned_about_and_stays_pending(
    make_ctx: MakeCtx,
) -> None:
    ctx = make_ctx("security")
    set_input(ctx, DEV_KMS, PLACEHOLDER, "dependency.admins.outputs.arns")
    plan = kms_admin.plan(ctx, resolve(kms_admin))
    loud = [w for w in plan.warnings if w.startswith(kms_admin.NO_ADMIN)]
    assert len(loud) == 1 and f"{DEV_KMS}/terragrunt.hcl" in loud[0] and "can become unusable" in loud[0]
    assert DEV_KMS not in {edit.unit for edit in plan.edits}

    result = run(kms_admin, ctx)
    recorded = record(kms_admin, ctx, result)
    assert recorded.status is Status.PENDING
    assert recorded.message.startswith(kms_admin.NO_ADMIN), recorded.message
    assert "Not edited (change by hand)" in recorded.message
    # every other list got the administrator
    others = {k: v for k, v in lists_on_disk(ctx).items() if k[0] != DEV_KMS}
    assert len(others) == len(EVERY_LIST) - 1 and all(v == (ARN,) for v in others.values())


def test_an_empty_list_gets_the_administrator(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    set_input(ctx, DEV_KMS, PLACEHOLDER, "[]")
    plan = kms_admin.plan(ctx, resolve(kms_admin))
    assert not plan.warnings
    run_and_record(kms_admin, ctx)
    assert lists_on_disk(ctx)[(DEV_KMS, "cmk_administrator_iam_arns")] == (ARN,)


def test_verify_fails_when_the_user_is_deleted_or_re_created(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    _result, recorded = run_and_record(kms_admin, ctx)
    iam = ctx.clients("iam")
    iam.delete_user(UserName="kms-cmk-admin")
    verdict = kms_admin.verify(make_ctx("security"), recorded)
    assert not verdict.holds and "no longer exists" in verdict.reason
    iam.create_user(UserName="kms-cmk-admin")
    verdict = kms_admin.verify(make_ctx("security"), recorded)
    assert not verdict.holds and "deleted and created again" in verdict.reason


def test_verify_fails_when_the_arn_is_removed_from_a_list(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    _result, recorded = run_and_record(kms_admin, ctx)
    set_input(ctx, SECURITY_TRAIL, f'["{ARN}"]', '["arn:aws:iam::104983213567:user/alice"]')
    verdict = kms_admin.verify(make_ctx("security"), recorded)
    assert not verdict.holds
    assert f"{SECURITY_TRAIL}/terragrunt.hcl" in verdict.reason and ARN in verdict.reason


def test_a_bad_user_name_is_refused_before_anything_is_made(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("security")
    outcome = runner.run_step(ctx, "kms_admin", {"user_name": "no spaces allowed"})
    assert outcome.status is Status.FAILED and "not a usable IAM user name" in outcome.message
    assert no_such_entity(ctx.clients("iam").get_user, UserName="kms-cmk-admin")


def test_only_the_security_account_runs_it(make_ctx: MakeCtx) -> None:
    outcome = runner.run_step(make_ctx("dev"), "kms_admin", {}, accept=runner.accept_all)
    assert outcome.status is Status.NOT_APPLICABLE and "security account" in outcome.message


def test_a_single_account_workspace_creates_the_user_in_its_one_account(moto: str, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "single")
    workspace.directory.mkdir(parents=True)
    live = workspace.directory / "live"
    shutil.copytree(REPO / "assets" / "sample-live" / "dev", live / "dev")
    state = WorkspaceState(
        live_dir=str(live),
        mode=Mode.SANDBOX,
        accounts=[Account("dev", "368294012756")],
        regions=["us-east-1"],
    )
    workspace.save(state)
    access = AwsAccess(state, workspace=workspace, endpoint_url=moto)
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True))
    assert all(result.ok for result in access.check_all().values())
    ctx = services.context_for(workspace, state, access, "dev")
    outcome = runner.run_step(ctx, "kms_admin", {}, accept=runner.accept_all)
    assert outcome.status is Status.DONE, outcome.message
    arn = "arn:aws:iam::368294012756:user/kms-cmk-admin"
    assert outcome.recorded is not None and outcome.recorded.record.facts["user_arn"] == arn
    assert lists_on_disk(ctx) == {(DEV_KMS, "cmk_administrator_iam_arns"): (arn,)}
    assert kms_admin.verify(
        services.context_for(workspace, state, access, "dev"), outcome.recorded.record
    ).holds
