"""Terraform state backends (seed: "Configure Terraform backends").

Per account: one S3 bucket for the state and one DynamoDB lock table, by default named after the account and
its ID (bucket names are global across AWS, so the ID keeps them unique), in the region already in the
account's `remote_state` config (else the workspace's first region). Names are checked against the naming
rules before any AWS call; the bucket's availability is checked with `aws.state_backend_setup` (404 free,
403 or not listed taken, ours only when the account owns it).

By default both are created now, idempotently (versioning, default encryption, the four public-access blocks,
a TLS-only policy; `LockID` string hash key, on-demand billing, point-in-time recovery): terragrunt 0.x would
create missing ones itself on the first apply, 1.x only with `--backend-bootstrap`, so creating them here
makes the first apply independent of the installed generation and of that flag.

In the sandbox the TLS-only policy is not put, and every message says so: the emulator speaks plain HTTP on
127.0.0.1 and enforces bucket policies, so a policy denying `aws:SecureTransport = false` would refuse every
request to the state objects (terraform's, and the teardown's). Against AWS it is always put.

Edits: the names and region into the account's `remote_state { config = { bucket, dynamodb_table, region } }`
through `live.edits.plan_set_remote_state` (in `root.hcl` layouts, the per-account file it reads; a literal
in a shared `root.hcl` is refused, and the step stays pending until it is changed by hand).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import Any

from refarch_tui.live.edits import EditRefused, PlannedEdit, plan_set_remote_state, read_value
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps import backend_names
from refarch_tui.steps.contract import (
    AnswerSpec,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.record import HCL_EVIDENCE, hcl_drift, hcl_entry, relative_file
from refarch_tui.steps.units import CONFIG

STEP_ID = "backends"
BUCKET_DEFAULT = "{account}-{account_id}-terraform-state"
TABLE_DEFAULT = "{account}-{account_id}-terraform-locks"

ANSWERS = (
    AnswerSpec(
        "bucket",
        BUCKET_DEFAULT,
        "S3 bucket for this account's Terraform state; names are global across AWS, so the default holds "
        "the account ID ({account} and {account_id} are filled in)",
    ),
    AnswerSpec("table", TABLE_DEFAULT, "DynamoDB lock table (hash key LockID) for this account"),
    AnswerSpec(
        "region",
        None,
        "region of the bucket and the table (default: the region in the account's remote_state config, "
        "else the workspace's first region)",
    ),
    AnswerSpec(
        "create",
        True,
        "create the bucket and table now (recommended: the first apply then needs no backend bootstrap); "
        "false only checks the names and edits the HCL",
        kind="bool",
    ),
)


def _fill(template: Any, ctx: StepContext) -> str:
    return (
        str(template or "")
        .replace("{account}", backend_names.bucket_safe(ctx.account))
        .replace("{account_id}", ctx.account_id or "")
        .strip()
    )


def _configured_region(ctx: StepContext) -> str | None:
    """The region literal in `<account>/terragrunt.hcl`'s remote_state config, when there is one."""
    try:
        text = (ctx.live_root / ctx.account / CONFIG).read_text(encoding="utf-8")
    except OSError:
        return None
    owned, value = read_value(text, ("remote_state", "config", "region"))
    return value if owned and isinstance(value, str) and "REPLACE_ME" not in value else None


def names(ctx: StepContext, answers: Mapping[str, Any]) -> tuple[str, str, str]:
    """(bucket, table, region) from the answers, each checked against its naming rule (StepError names it)."""
    if not ctx.account_id:
        raise StepError(f"{ctx.account} has no account ID yet: the bucket must be checked against its owner")
    bucket = _fill(answers.get("bucket") or BUCKET_DEFAULT, ctx)
    table = _fill(answers.get("table") or TABLE_DEFAULT, ctx)
    region = str(answers.get("region") or _configured_region(ctx) or ctx.region).strip()
    for what, value, rule in (
        ("bucket", bucket, backend_names.broken_bucket_rule(bucket)),
        ("table", table, backend_names.broken_table_rule(table)),
        ("region", region, backend_names.broken_region_rule(region)),
    ):
        if rule:
            raise StepError(f"{what} {value!r} is refused: {rule}")
    return bucket, table, region


def terragrunt_note() -> str:
    """Which terragrunt generation is installed and what it means for a missing backend (blocking)."""
    from refarch_tui.tools import terragrunt

    path = shutil.which("terragrunt")
    if path is None:
        found = "terragrunt is not on PATH yet"
        generation = None
    else:
        try:
            info = terragrunt.detect_generation(path)
        except terragrunt.TerragruntError as exc:
            found, generation = f"terragrunt could not be identified ({exc})", None
        else:
            found, generation = f"terragrunt {info.version_text}", info.generation
    if generation is terragrunt.Generation.V1:
        how = (
            "creates a missing bucket and table only with --backend-bootstrap "
            "(refarch-tui's apply does not pass it)"
        )
    elif generation is terragrunt.Generation.V0:
        how = "creates a missing bucket and table itself on the first apply"
    else:
        return (
            f"{found}: 0.x would create a missing bucket and table itself, 1.x only with --backend-bootstrap"
        )
    return f"{found} {how}"


def _edits(
    ctx: StepContext, bucket: str, table: str, region: str
) -> tuple[list[PlannedEdit], list[dict[str, Any]], list[tuple[str, str]]]:
    """(edits that change something, HCL evidence of values already in place, refusals)."""
    try:
        planned = plan_set_remote_state(
            ctx.live_root,
            ctx.account,
            bucket=bucket,
            table=table,
            region=region,
            reason=f"the Terraform state backend of {ctx.account}",
        )
    except EditRefused as exc:
        return [], [], [(f"{ctx.account}/{CONFIG}", exc.reason)]
    changing = [edit for edit in planned if edit.new_text != edit.old_text]
    already = [
        hcl_entry(relative_file(edit, ctx.live_root), check.path, check.value)
        for edit in planned
        if edit.new_text == edit.old_text
        for check in edit.checks
    ]
    return changing, already, []


SANDBOX_NO_TLS = (
    "sandbox: no TLS-only bucket policy — the emulator speaks plain HTTP and enforces bucket policies, so it "
    "would refuse every request; against AWS the policy is put"
)


def wants_tls_policy(ctx: StepContext) -> bool:
    return not ctx.sandbox


def _describe_existing(ctx: StepContext, bucket: str, table: str, region: str) -> tuple[list[str], Any, bool]:
    """Plan lines for what already exists (read-only), the bucket's ownership, whether the table exists."""
    from botocore.exceptions import ClientError

    from refarch_tui.aws import state_backend_setup as setup

    assert ctx.account_id
    lines: list[str] = []
    try:
        found = setup.bucket_ownership(ctx.clients, bucket, ctx.account_id, region)
    except setup.BackendSetupError as exc:
        raise StepError(str(exc)) from None
    if found.state == "taken":
        raise StepError(
            f"bucket {bucket!r} is taken by another AWS account ({found.how}); bucket names are global "
            "across AWS — choose another bucket name"
        )
    if found.state == "ours":
        if found.region != region:
            raise StepError(
                f"bucket {bucket} already exists in this account in {found.region}, not {region}: "
                f"set region={found.region} or choose another bucket name"
            )
        missing = setup.missing_bucket_settings(
            setup.bucket_settings(ctx.clients("s3", region), bucket, ctx.account_id),
            tls_only=wants_tls_policy(ctx),
        )
        lines.append(
            f"S3 bucket {bucket} already exists in {region} (this account's)"
            + (f"; will add: {', '.join(missing)}" if missing else ", every setting in place")
        )
    else:
        lines.append(
            f"create S3 bucket {bucket} in {region}: versioning, default encryption (SSE-S3), all four "
            "public-access blocks" + (", TLS-only policy" if wants_tls_policy(ctx) else "")
        )
    try:
        settings = setup.table_settings(ctx.clients("dynamodb", region), table)
    except ClientError as exc:
        raise StepError(f"cannot read DynamoDB table {table}: {exc}") from None
    if settings is None:
        lines.append(
            f"create DynamoDB lock table {table} in {region}: hash key LockID (string), on-demand billing, "
            "point-in-time recovery"
        )
    else:
        problem = setup.wrong_lock_key(table, settings)
        if problem:
            raise StepError(problem)
        missing = setup.missing_table_settings(settings)
        lines.append(
            f"DynamoDB lock table {table} already exists in {region}"
            + (f"; will turn on: {', '.join(missing)}" if missing else ", every setting in place")
        )
    return lines, found, settings is not None


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    bucket, table, region = names(ctx, answers)
    create = bool(answers.get("create", True))
    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    existing, found, table_exists = _describe_existing(ctx, bucket, table, region)
    note = terragrunt_note()
    if create:
        result.actions += existing
        if not wants_tls_policy(ctx):
            result.actions.append(SANDBOX_NO_TLS)
        result.actions.append(f"{note}; creating them here makes the first apply independent of that")
        if found.free:
            where = (
                "" if region == "us-east-1" else f" --create-bucket-configuration LocationConstraint={region}"
            )
            result.commands.append(f"aws s3api create-bucket --bucket {bucket} --region {region}{where}")
        if not table_exists:
            result.commands.append(
                f"aws dynamodb create-table --table-name {table} --region {region} "
                "--billing-mode PAY_PER_REQUEST --attribute-definitions AttributeName=LockID,AttributeType=S "
                "--key-schema AttributeName=LockID,KeyType=HASH"
            )
    else:
        result.actions.append(f"check only: bucket {bucket} ({found.state}) and table {table} in {region}")
        result.warnings.append(f"nothing is created now: {note}")
    result.warnings += backend_names.bucket_warnings(bucket)
    edits, _already, refused = _edits(ctx, bucket, table, region)
    result.edits = edits
    result.warnings += [f"{where}: {why}" for where, why in refused]
    result.actions.append(
        f"point {ctx.account}'s remote_state at bucket {bucket}, table {table}, region {region}"
    )
    result.data = {"bucket": bucket, "table": table, "region": region, "create": create, "terragrunt": note}
    return result


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    from refarch_tui.aws import state_backend_setup as setup

    bucket, table, region = plan.data["bucket"], plan.data["table"], plan.data["region"]
    create: bool = plan.data["create"]
    assert ctx.account_id
    done: list[str] = []
    try:
        if create:
            done += setup.ensure_bucket(
                ctx.clients,
                bucket,
                region=region,
                account_id=ctx.account_id,
                tls_only=wants_tls_policy(ctx),
                progress=ctx.progress,
            )
            if not wants_tls_policy(ctx):
                done.append(SANDBOX_NO_TLS)
            ctx.check_cancel()
            done += setup.ensure_table(ctx.clients, table, region=region, progress=ctx.progress)
        else:
            found = setup.bucket_ownership(ctx.clients, bucket, ctx.account_id, region)
            if found.state == "taken":
                raise StepError(f"bucket {bucket!r} was taken by another AWS account meanwhile ({found.how})")
            done.append(f"not created now ({plan.data['terragrunt']})")
    except setup.BackendSetupError as exc:
        raise StepError(str(exc)) from None
    for line in done:
        ctx.progress(line)
    edits, already, refused = _edits(ctx, bucket, table, region)
    status = Status.DONE
    message = "; ".join(done)
    if refused:
        # the account's backend is not configured until the HCL names it: pending, not done
        status = Status.PENDING
        message += " — the HCL was not edited, so the step is not finished"
    return StepResult(
        status=status,
        facts={
            "bucket": bucket,
            "table": table,
            "region": region,
            "created_here": create,
            "terragrunt": plan.data["terragrunt"],
        },
        evidence={
            "bucket": bucket,
            "table": table,
            "region": region,
            "account_id": ctx.account_id,
            "created": create,
            "tls_only_policy": create and wants_tls_policy(ctx),
            "done": done,
            HCL_EVIDENCE: already,
        },
        edits=edits,
        refused=refused,
        message=message,
    )


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    from botocore.exceptions import ClientError

    from refarch_tui.aws import state_backend_setup as setup

    evidence = record.evidence
    bucket, table, region = str(evidence["bucket"]), str(evidence["table"]), str(evidence["region"])
    account_id = str(evidence.get("account_id") or ctx.account_id or "")
    try:
        found = setup.bucket_ownership(ctx.clients, bucket, account_id, region)
        if found.state == "taken":
            return Verification.stale(f"bucket {bucket} belongs to another AWS account ({found.how})")
        if evidence.get("created"):
            if found.free:
                return Verification.stale(f"S3 bucket {bucket} no longer exists")
            if found.region != region:
                return Verification.stale(f"S3 bucket {bucket} is in {found.region}, not {region}")
            missing = setup.missing_bucket_settings(
                setup.bucket_settings(ctx.clients("s3", region), bucket, account_id),
                tls_only=bool(evidence.get("tls_only_policy", True)),
            )
            if missing:
                return Verification.stale(f"S3 bucket {bucket} lacks {', '.join(missing)}")
            settings = setup.table_settings(ctx.clients("dynamodb", region), table)
            if settings is None:
                return Verification.stale(f"DynamoDB lock table {table} no longer exists in {region}")
            problem = setup.wrong_lock_key(table, settings)
            missing = setup.missing_table_settings(settings)
            if problem or missing:
                return Verification.stale(
                    problem or f"DynamoDB lock table {table} lacks {', '.join(missing)}"
                )
    except (ClientError, setup.BackendSetupError) as exc:
        return Verification.stale(f"cannot check the state backend of {ctx.account}: {exc}")
    drift = hcl_drift(ctx.live_root, record)
    if drift:
        return Verification.stale(drift)
    if not record.evidence.get(HCL_EVIDENCE):
        return Verification.stale(f"no HCL names bucket {bucket} yet (the edit was not applied)")
    return Verification.ok()
