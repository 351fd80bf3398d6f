"""A minimal step for testing the spine itself (record path, runner, resume): it proposes one edit per
ecs-cluster unit of the account and records an SSM-free fact. Behaviour is steered through `BEHAVIOUR`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from refarch_tui.live.edits import plan_input_everywhere
from refarch_tui.state import StepRecord
from refarch_tui.steps.contract import (
    AnswerSpec,
    Followup,
    ImportSpec,
    StepCancelled,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.record import hcl_drift

STEP_ID = "keypairs"
ANSWERS = (AnswerSpec("name", "fake-key", "the value written into cluster_instance_keypair_name"),)
BEHAVIOUR: dict[str, Any] = {}
CALLS: list[str] = []


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    CALLS.append("plan")
    if BEHAVIOUR.get("plan_error"):
        raise StepError(str(BEHAVIOUR["plan_error"]))
    return StepPlan(STEP_ID, ctx.account, dict(answers), actions=[f"write {answers['name']}"])


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    CALLS.append("execute")
    if BEHAVIOUR.get("cancel"):
        raise StepCancelled("cancelled; nothing was recorded")
    if BEHAVIOUR.get("error"):
        raise StepError(str(BEHAVIOUR["error"]))
    if BEHAVIOUR.get("crash"):
        raise RuntimeError("boom")
    if BEHAVIOUR.get("build"):  # a real child process streamed through the shared build module
        from refarch_tui.tools import build_process

        result = build_process.run_build(
            BEHAVIOUR["build"],
            env=build_process.build_env(ctx.child_env(), region=ctx.region),
            cwd=ctx.workspace.directory,
            log_path=build_process.log_path_for(ctx.workspace, STEP_ID, ctx.account),
            on_line=ctx.progress,
            cancel=ctx.cancel,
        )
        BEHAVIOUR["build_result"] = result
        if result.cancelled:
            raise StepCancelled("cancelled; nothing was recorded")
        if not result.ok:
            raise StepError(result.failure("the fake build"))
    name = plan.answers["name"]
    edits = plan_input_everywhere(
        ctx.tree, ["cluster_instance_keypair_name"], name, reason="fake step", accounts=[ctx.account]
    )
    return StepResult(
        facts={"name": name},
        evidence={"name": name},
        edits=edits.edits,
        refused=edits.refused,
        run_env={"TF_VAR_fake": name},
        secret_env={"TF_VAR_fake_secret": "fake/entry"},
        imports=[ImportSpec("dev/us-east-1/networking/route53-public", "aws_route53_zone.primary", "Z1")],
        followups=[Followup("do it later", "refarch-tui step keypairs --account dev")],
        message=f"wrote {name}",
    )


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    drift = hcl_drift(ctx.live_root, record)
    return Verification.stale(drift) if drift else Verification.ok()
