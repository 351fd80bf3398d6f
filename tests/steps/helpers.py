"""Running a step module the way the spine does: answers -> plan -> execute, then recording the result."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from refarch_tui.live.edits import apply_edits
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps.contract import StepContext, StepResult, resolve_answers


def run(module: ModuleType, ctx: StepContext, **answers: Any) -> StepResult:
    resolved = resolve_answers(module.ANSWERS, answers)
    plan = module.plan(ctx, resolved)
    result: StepResult = module.execute(ctx, plan)
    return result


def record(module: ModuleType, ctx: StepContext, result: StepResult) -> StepRecord:
    """Apply the proposed edits and record the outcome (what `refarch-tui step --apply-edits` does)."""
    apply_edits(result.edits)
    return ctx.workspace.update_step(
        ctx.state,
        module.STEP_ID,
        ctx.account,
        result.status,
        facts=result.facts,
        evidence=result.evidence,
        message=result.message,
        run_env=result.run_env,
        secret_env=result.secret_env,
        imports=[i.to_json() for i in result.imports],
        followups=[f.to_json() for f in result.followups],
    )


def run_and_record(module: ModuleType, ctx: StepContext, **answers: Any) -> tuple[StepResult, StepRecord]:
    result = run(module, ctx, **answers)
    assert result.status is Status.DONE, result.message
    return result, record(module, ctx, result)


def resolve(module: ModuleType, **answers: Any) -> dict[str, Any]:
    return resolve_answers(module.ANSWERS, answers)
