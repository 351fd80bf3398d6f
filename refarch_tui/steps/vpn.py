"""Size the VPN server (seed: "Configure the VPN server").

The OpenVPN server generates its PKI on first boot; on a micro instance that exhausts the CPU burst and can
take hours, on a medium one it takes a minute or two. So every `openvpn-server` unit smaller than medium (or
without `instance_type`) gets its family's medium size for the first deploy, and the original is recorded.
Once the unit's first apply succeeded (read from the runs on disk), a follow-up offers the exact command
that downgrades it again: this step with `downgrade=true`, which plans and applies the reverse edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from refarch_tui.aws.errors import AwsAccessError, client_error_code, explain
from refarch_tui.live.edits import EditRefused, PlannedEdit, plan_set_inputs
from refarch_tui.live.model import Unit
from refarch_tui.state import StepRecord
from refarch_tui.steps import followups, units
from refarch_tui.steps.contract import (
    AnswerSpec,
    Followup,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)

STEP_ID = "vpn"
KIND = "openvpn-server"
INPUT = "instance_type"
WHEN_MISSING = "t2.micro"  # the seed's size; what the downgrade writes when the input was not set
SIZES = ("nano", "micro", "small", "medium")  # smaller than medium: everything before "medium"
WHY = (
    "the first boot generates the OpenVPN PKI, which exhausts a micro instance's CPU burst and can "
    "take hours; "
    "a medium instance does it in a minute or two"
)
_TYPE = re.compile(r"^(?P<family>[a-z][a-z0-9-]*)\.(?P<size>[a-z0-9]+)$")

ANSWERS: tuple[AnswerSpec, ...] = (
    AnswerSpec(
        "downgrade",
        False,
        "put instance_type back to the recorded original (only after the server's first successful apply)",
        kind="bool",
    ),
    AnswerSpec(
        "first_deploy_type", None, "instance type for the first deploy (default: the family's medium)"
    ),
)


@dataclass(frozen=True)
class Server:
    unit: str
    region: str
    current: str  # "" when the input is not set
    original: str
    first_deploy: str
    downgraded: bool = False
    edit: PlannedEdit | None = None
    note: str = ""


def split_type(value: str, where: str) -> tuple[str, str]:
    match = _TYPE.match(value)
    if match is None:
        raise StepError(f"{INPUT} in {where} is {value!r}, which is not an EC2 instance type like t2.micro")
    return match.group("family"), match.group("size")


def smaller_than_medium(size: str) -> bool:
    return size in SIZES[:-1]


def _recorded(ctx: StepContext) -> tuple[dict[str, dict[str, Any]], str | None]:
    record = ctx.state.record(STEP_ID, ctx.account)
    return dict(record.facts.get("servers") or {}), record.updated


def _check_offered(ctx: StepContext, instance_type: str, region: str, where: str) -> None:
    try:
        ctx.clients("ec2", region).describe_instance_types(InstanceTypes=[instance_type])
    except Exception as exc:
        if client_error_code(exc) in ("InvalidInstanceType", "InvalidParameterValue"):
            raise StepError(
                f"{instance_type} is not offered in {region} (for {where}); choose another size with "
                "--set first_deploy_type=<type>"
            ) from None
        raise StepError(str(explain(exc))) from None


def _edit(ctx: StepContext, unit: Unit, value: str, reason: str) -> PlannedEdit:
    try:
        return plan_set_inputs(ctx.tree, unit.path, {INPUT: value}, reason=reason)
    except EditRefused as exc:
        raise StepError(f"{units.config_file(unit)}: {exc.reason}") from None


def _upsize(ctx: StepContext, unit: Unit, answers: Mapping[str, Any], previous: dict[str, Any]) -> Server:
    where = units.config_file(unit)
    region = units.region_of(unit, ctx.region)
    current = units.string_input(unit, INPUT) or ""
    if previous and (current == previous.get("first_deploy") or previous.get("downgraded")):
        return Server(
            unit.path,
            region,
            current,
            str(previous.get("original", "")),
            str(previous.get("first_deploy", "")),
            downgraded=bool(previous.get("downgraded")),
            note="as recorded before",
        )
    family, size = split_type(current or WHEN_MISSING, where)
    if current and not smaller_than_medium(size):
        return Server(
            unit.path, region, current, current, current, note=f"{current} is big enough for the PKI"
        )
    target = str(answers.get("first_deploy_type") or f"{family}.medium")
    split_type(target, "first_deploy_type")
    _check_offered(ctx, target, region, unit.path)
    original = current or WHEN_MISSING
    missing = "" if current else f" (not set: the downgrade writes {WHEN_MISSING})"
    edit = _edit(
        ctx,
        unit,
        target,
        f"OpenVPN's first deploy on {target} instead of {current or 'the default'}{missing}: {WHY}",
    )
    return Server(unit.path, region, current, original, target, edit=edit)


def _downgrade(ctx: StepContext, unit: Unit, previous: dict[str, Any], recorded_at: str | None) -> Server:
    where = units.config_file(unit)
    region = units.region_of(unit, ctx.region)
    current = units.string_input(unit, INPUT) or ""
    if not previous or previous.get("original") == previous.get("first_deploy"):
        return Server(unit.path, region, current, current, current, note="nothing was upsized here")
    original, first_deploy = str(previous["original"]), str(previous["first_deploy"])
    if current == original:
        return Server(
            unit.path, region, current, original, first_deploy, downgraded=True, note="already downgraded"
        )
    if current != first_deploy:
        raise StepError(
            f"{INPUT} in {where} is {current or 'not set'}, not the {first_deploy} this step set: "
            "it was changed "
            "by hand, so the downgrade leaves it alone"
        )
    if followups.first_apply(ctx.workspace, unit.path, since=recorded_at) is None:
        raise StepError(
            f"{unit.path} has not been applied successfully on {first_deploy} yet; the PKI is "
            "generated on that "
            f"first boot. Run Terragrunt for {ctx.account} first, then downgrade"
        )
    edit = _edit(ctx, unit, original, f"downgrade OpenVPN back to {original}: its PKI exists now")
    return Server(unit.path, region, current, original, first_deploy, downgraded=True, edit=edit)


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    result = StepPlan(step=STEP_ID, account=ctx.account, answers=dict(answers))
    found = units.of_kind(ctx.tree, ctx.account, KIND)
    if not found:
        result.not_applicable = f"{ctx.account} has no {KIND} unit"
        return result
    recorded, recorded_at = _recorded(ctx)
    servers = []
    try:
        for unit in found:
            previous = recorded.get(unit.path) or {}
            if answers.get("downgrade"):
                servers.append(_downgrade(ctx, unit, previous, recorded_at))
            else:
                servers.append(_upsize(ctx, unit, answers, previous))
    except AwsAccessError as exc:
        raise StepError(str(exc)) from None
    for server in servers:
        if server.edit is not None:
            result.edits.append(server.edit)
            target = server.original if server.downgraded else server.first_deploy
            result.actions.append(
                f"set {INPUT} = {target} in {server.unit} (now {server.current or 'not set'})"
            )
        else:
            result.actions.append(f"{server.unit}: {server.note}")
    if not answers.get("downgrade") and any(s.edit for s in servers):
        result.warnings.append(f"why: {WHY}")
    result.data["servers"] = servers
    return result


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    servers: list[Server] = plan.data.get("servers", [])
    result = StepResult(edits=list(plan.edits))
    facts: dict[str, dict[str, Any]] = {}
    expected: dict[str, str] = {}
    sentences = []
    for server in servers:
        facts[server.unit] = {
            "original": server.original,
            "first_deploy": server.first_deploy,
            "downgraded": server.downgraded,
            "region": server.region,
        }
        expected[server.unit] = server.original if server.downgraded else server.first_deploy
        if server.original == server.first_deploy:
            sentences.append(f"{server.unit}: {server.note}.")
        elif server.downgraded:
            sentences.append(
                f"{server.unit}: {INPUT} back to {server.original}; apply {ctx.account} again to "
                "resize the server."
            )
        else:
            sentences.append(
                f"{server.unit}: first deploy on {server.first_deploy} (was {server.current or 'not set'}); "
                f"downgrade to {server.original} after its first successful apply."
            )
            result.followups.append(
                Followup(
                    message=f"downgrade OpenVPN in {ctx.account} to {server.original}",
                    command=followups.step_command(
                        ctx.workspace, STEP_ID, ctx.account, "downgrade=true", apply_edits=True
                    ),
                    after=followups.after_first_apply(server.unit),
                )
            )
    result.facts = {"servers": facts}
    result.evidence = {INPUT: expected}
    result.message = " ".join(sentences)
    return result


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    tree = ctx.load_tree()  # as the repo is now, not as the context first read it
    for unit_path, value in (record.evidence.get(INPUT) or {}).items():
        unit = tree.units.get(unit_path)
        if unit is None:
            return Verification.stale(f"{unit_path} is no longer in the live repo")
        try:
            current = units.string_input(unit, INPUT) or ""
        except StepError as exc:
            return Verification.stale(str(exc))
        if current != value:
            return Verification.stale(
                f"{INPUT} in {units.config_file(unit)} is {current or 'not set'}, not {value} as recorded "
                "(changed by hand?); run this step again"
            )
    return Verification.ok()
