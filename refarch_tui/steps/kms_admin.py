"""The KMS administrator IAM user (seed: "Create an IAM User for KMS").

A CMK needs at least one IAM user as administrator, or it and everything encrypted with it can become
unusable. In the security account (in a single-account workspace: its one account) this step creates the
user — no access keys, no console password, tagged managed-by=refarch-tui — or reuses an existing user of
that name, and puts its ARN into the administrator list of every KMS key unit of every account
(`steps.kms_lists`): placeholders replaced, real entries kept, never twice. A list that would be left
without an administrator (its value cannot be edited, or the edit is refused) is warned about loudly and
keeps the step pending. Verify: the user still exists (the same user, not one re-created with its name)
and every list names its ARN, read from a fresh scan of the live repo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from refarch_tui.live.edits import EditRefused, PlannedEdit, plan_set_inputs
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps import kms_lists
from refarch_tui.steps.contract import (
    AnswerSpec,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)

STEP_ID = "kms_admin"
DEFAULT_USER = "kms-cmk-admin"
TAGS = (
    {"Key": "managed-by", "Value": "refarch-tui"},
    {"Key": "refarch-tui:purpose", "Value": "kms-cmk-administrator"},
)
NO_ADMIN = "NO KMS ADMINISTRATOR"
_USER_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")  # IAM's rule for user names

ANSWERS = (
    AnswerSpec(
        "user_name",
        DEFAULT_USER,
        "the IAM user that administers the KMS keys (created in the security account when missing; "
        "an existing user of that name is reused)",
    ),
)


def _user_name(answers: Mapping[str, Any]) -> str:
    name = str(answers.get("user_name") or "").strip()
    if not _USER_NAME.match(name):
        raise StepError(
            f"user_name {name!r} is not a usable IAM user name (1–64 letters, digits and + = , . @ _ -)"
        )
    return name


def find_user(ctx: StepContext, name: str) -> dict[str, Any] | None:
    """The IAM user `name` of this account (GetUser's `User`), or None when there is none."""
    from botocore.exceptions import ClientError

    from refarch_tui.aws.errors import client_error_code

    try:
        return dict(ctx.clients("iam").get_user(UserName=name)["User"])
    except ClientError as exc:
        if client_error_code(exc) == "NoSuchEntity":
            return None
        raise StepError(f"cannot look up IAM user {name} in {ctx.account}: {exc}") from None


def _credentials_of(ctx: StepContext, name: str) -> list[str]:
    """What an existing user can sign in with (access keys, a console password), in words."""
    from botocore.exceptions import ClientError

    from refarch_tui.aws.errors import client_error_code

    iam = ctx.clients("iam")
    found: list[str] = []
    try:
        keys = iam.list_access_keys(UserName=name).get("AccessKeyMetadata", [])
        if keys:
            found.append(f"{len(keys)} access key(s)")
        iam.get_login_profile(UserName=name)
        found.append("a console password")
    except ClientError as exc:
        if client_error_code(exc) != "NoSuchEntity":
            raise StepError(f"cannot read the credentials of IAM user {name}: {exc}") from None
    return found


def _expected_arn(ctx: StepContext, name: str) -> str:
    """The ARN a new user of that name will have (the identity's partition, the account's ID)."""
    parts = ctx.identity.split(":")
    partition = parts[1] if len(parts) > 4 and parts[0] == "arn" else "aws"
    return f"arn:{partition}:iam::{ctx.account_id or '<account id>'}:user/{name}"


def _no_admin(entry: kms_lists.AdminList, arn: str, why: str) -> str:
    left = "empty" if entry.current is not None and not entry.current else "without a real administrator"
    return (
        f"{NO_ADMIN}: {entry.input} in {entry.file} would be left {left} ({why}). A KMS key without an "
        f'administrator can become unusable, with everything encrypted by it: set it to ["{arn}"] by hand'
    )


def _edits(
    ctx: StepContext, arn: str
) -> tuple[list[PlannedEdit], list[tuple[str, str]], list[str], list[kms_lists.AdminList]]:
    """(edits, refused, warnings, every list): one edit per unit with each of its lists merged."""
    lists = kms_lists.admin_lists(ctx.tree, ctx.state.account_names)
    edits: list[PlannedEdit] = []
    refused: list[tuple[str, str]] = []
    warnings: list[str] = []
    by_unit: dict[str, list[kms_lists.AdminList]] = {}
    for entry in lists:
        by_unit.setdefault(entry.unit, []).append(entry)
    for unit, entries in by_unit.items():
        values: dict[str, object] = {}
        for entry in entries:
            if entry.unreadable:
                refused.append((entry.file, f"{entry.input}: {entry.unreadable}"))
                warnings.append(_no_admin(entry, arn, entry.unreadable))
                continue
            wanted = kms_lists.merged(entry.current, arn)
            if entry.current is None or list(entry.current) != wanted:
                values[entry.input] = wanted
        if not values:
            continue
        try:
            edit = plan_set_inputs(ctx.tree, unit, values, reason=f"the KMS administrator {arn}")
        except EditRefused as exc:
            for entry in entries:
                if entry.input not in values:
                    continue
                refused.append((entry.file, f"{entry.input}: {exc.reason}"))
                if entry.real_entries():
                    warnings.append(
                        f"{entry.input} in {entry.file} keeps its administrators but cannot get {arn} "
                        f"({exc.reason}): add it by hand"
                    )
                else:
                    warnings.append(_no_admin(entry, arn, exc.reason))
            continue
        if edit.new_text != edit.old_text:
            edits.append(edit)
    return edits, refused, warnings, lists


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    name = _user_name(answers)
    if not kms_lists.admin_lists(ctx.tree, ctx.state.account_names):
        kinds = " or ".join(kms_lists.ADMIN_INPUTS)
        return StepPlan(
            STEP_ID,
            ctx.account,
            dict(answers),
            not_applicable=f"no {kinds} unit in the live repo takes a KMS administrator list",
        )
    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    user = find_user(ctx, name)
    if user is not None:
        arn = str(user["Arn"])
        result.actions.append(f"reuse the existing IAM user {name} in {ctx.account}: {arn}")
        credentials = _credentials_of(ctx, name)
        if credentials:
            result.warnings.append(
                f"the existing user {name} has {' and '.join(credentials)}; refarch-tui leaves them as they "
                "are (administering the keys needs neither)"
            )
    else:
        arn = _expected_arn(ctx, name)
        result.actions.append(
            f"create IAM user {name} in {ctx.account} ({ctx.account_id or 'no ID'}): no access keys, no "
            f"console password, tagged managed-by=refarch-tui — its ARN will be {arn}"
        )
        result.commands.append(
            f"aws iam create-user --user-name {name} "
            + " ".join(f"--tags Key={t['Key']},Value={t['Value']}" for t in TAGS)
        )
    result.edits, _refused, warnings, lists = _edits(ctx, arn)
    result.warnings += warnings
    units = sorted({entry.unit for entry in lists})
    result.actions.append(
        f"its ARN goes into {len(lists)} administrator list(s) in {len(units)} unit(s) "
        "(placeholders replaced, other administrators kept)"
    )
    result.data = {"user_name": name}
    return result


def _ensure_user(ctx: StepContext, name: str) -> tuple[dict[str, Any], bool]:
    """(the user, created now)."""
    from botocore.exceptions import ClientError

    from refarch_tui.aws.errors import client_error_code

    user = find_user(ctx, name)
    if user is not None:
        return user, False
    ctx.check_cancel()
    ctx.progress(f"creating IAM user {name} in {ctx.account}")
    try:
        created = ctx.clients("iam").create_user(UserName=name, Tags=[dict(tag) for tag in TAGS])["User"]
    except ClientError as exc:
        if client_error_code(exc) == "EntityAlreadyExists":  # created meanwhile: reuse it
            user = find_user(ctx, name)
            if user is not None:
                return user, False
        raise StepError(f"CreateUser {name} in {ctx.account} failed: {exc}") from None
    return dict(created), True


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    name = str(plan.data["user_name"])
    user, created = _ensure_user(ctx, name)
    arn = str(user["Arn"])
    ctx.progress(f"{'created' if created else 'reusing'} {arn}")
    edits, refused, warnings, lists = _edits(ctx, arn)
    edited = {(edit.unit, check.path[-1]) for edit in edits for check in edit.checks}
    already = [e for e in lists if (e.unit, e.input) not in edited and arn in (e.current or ())]
    how = "created" if created else "reused the existing"
    message = (
        f"{how} IAM user {name} ({arn}); it administers {len(lists)} KMS key list(s): {len(edits)} unit(s) "
        f"to edit, {len(already)} list(s) already name it"
    )
    problems = [w for w in warnings if w.startswith(NO_ADMIN)]
    if warnings:
        message = " ".join([*problems, message, *(w for w in warnings if w not in problems)])
    return StepResult(
        # a list left without this administrator is not done: the operator must fix it by hand first
        status=Status.PENDING if refused else Status.DONE,
        facts={
            "user_name": name,
            "user_arn": arn,
            "created": created,
            "administrator_lists": [f"{e.file}: {e.input}" for e in lists],
        },
        evidence={
            "user_name": name,
            "user_arn": arn,
            "user_id": str(user.get("UserId", "")),
            "created": created,
        },
        edits=edits,
        refused=refused,
        message=message,
    )


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    name = str(record.evidence.get("user_name") or "")
    arn = str(record.evidence.get("user_arn") or "")
    if not name or not arn:
        return Verification.stale("the record names no IAM user: rerun kms_admin")
    user = find_user(ctx, name)
    if user is None:
        return Verification.stale(f"the IAM user {name} no longer exists in {ctx.account}: rerun kms_admin")
    if str(user["Arn"]) != arn:
        return Verification.stale(f"the IAM user {name} is now {user['Arn']}, not {arn}: rerun kms_admin")
    recorded_id = record.evidence.get("user_id")
    if recorded_id and user.get("UserId") != recorded_id:
        return Verification.stale(
            f"the IAM user {name} was deleted and created again (new user ID): key policies that named the "
            "old user no longer work; rerun kms_admin, then apply the kms-master-key and cloudtrail units"
        )
    for entry in kms_lists.admin_lists(ctx.load_tree(), ctx.state.account_names):
        if entry.unreadable:
            return Verification.stale(f"{entry.input} in {entry.file} cannot be read: {entry.unreadable}")
        if arn not in (entry.current or ()):
            return Verification.stale(f"{entry.input} in {entry.file} no longer names {arn}: rerun kms_admin")
    return Verification.ok()
