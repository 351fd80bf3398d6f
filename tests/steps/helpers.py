"""Running a step module the way the spine does: answers -> plan -> execute, then recording the result."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from refarch_tui.state import Status, StepRecord
from refarch_tui.steps.contract import StepContext, StepResult, resolve_answers
from refarch_tui.steps.record import record_result


def run(module: ModuleType, ctx: StepContext, **answers: Any) -> StepResult:
    resolved = resolve_answers(module.ANSWERS, answers)
    plan = module.plan(ctx, resolved)
    result: StepResult = module.execute(ctx, plan)
    return result


def record(module: ModuleType, ctx: StepContext, result: StepResult) -> StepRecord:
    """Apply every proposed edit and record the outcome through the spine's one write path
    (what `refarch-tui step --apply-edits` does)."""
    return record_result(ctx, module.STEP_ID, result, accepted=result.edits).record


def run_and_record(module: ModuleType, ctx: StepContext, **answers: Any) -> tuple[StepResult, StepRecord]:
    result = run(module, ctx, **answers)
    assert result.status is Status.DONE, result.message
    return result, record(module, ctx, result)


def resolve(module: ModuleType, **answers: Any) -> dict[str, Any]:
    return resolve_answers(module.ANSWERS, answers)
