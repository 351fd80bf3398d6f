"""Running one step in one account: plan → execute → (the operator accepts edits) → record.

The TUI and line mode both come through here. `prepare` makes the plan (read-only; the preview), `run_planned`
executes it and records the outcome through `steps.record`; `run_step` does both. Blocking: call from a
worker thread.

- The account's identity is checked before `plan`: a blocked account raises `StepRefused` (nothing runs,
  nothing is recorded); so do unknown or malformed answers and steps that are not built.
- `StepCancelled` (the operator cancelled) records nothing; the journal says it was cancelled.
- `StepError` (and AWS access errors) record the cell as failed with the message, nothing else.
- Anything unexpected is logged with its traceback and recorded as failed, pointing at the log file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from refarch_tui import secrets
from refarch_tui.live.edits import PlannedEdit
from refarch_tui.state import Status
from refarch_tui.steps import record as recording
from refarch_tui.steps import registry
from refarch_tui.steps.contract import (
    StepCancelled,
    StepContext,
    StepError,
    StepPlan,
    StepRefused,
    StepResult,
    resolve_answers,
)

log = logging.getLogger(__name__)

# Given the proposed edits, returns the ones the operator accepted (None or [] = none). May block (a dialog).
Accept = Callable[[list[PlannedEdit]], Sequence[PlannedEdit] | None]


def accept_all(edits: list[PlannedEdit]) -> list[PlannedEdit]:
    return list(edits)


def accept_none(_edits: list[PlannedEdit]) -> list[PlannedEdit]:
    return []


@dataclass
class StepOutcome:
    step: str
    account: str
    status: Status  # DONE, FAILED, PENDING or NOT_APPLICABLE (the cell's status after recording)
    message: str
    plan: StepPlan | None = None
    result: StepResult | None = None
    recorded: recording.Recorded | None = None
    cancelled: bool = False
    changes: list[recording.EditChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `step --json` result entry. Never a secret value: run_env lists variable names only."""
        record = self.recorded.record if self.recorded is not None else None
        names = sorted({*(record.run_env if record else {}), *(record.secret_env if record else {})})
        return {
            "account": self.account,
            "status": self.status.value,
            "facts": dict(record.facts) if record else {},
            "evidence": dict(record.evidence) if record else {},
            "edits": [change.to_json() for change in self.changes],
            "run_env": names,
            "message": secrets.redact(self.message),
            "warnings": [secrets.redact(w) for w in (self.plan.warnings if self.plan else [])],
        }


def prepare(ctx: StepContext, step_id: str, answers: Mapping[str, Any]) -> StepPlan:
    """The step's plan for `ctx.account` (read-only). StepRefused when it cannot start; StepError from the
    step when its plan fails (e.g. a name already taken)."""
    if not registry.is_built(step_id):
        raise StepRefused(f"step {step_id} is not built yet; do it by hand (seed document)")
    module = registry.module(step_id)
    try:
        resolved = resolve_answers(module.ANSWERS, answers)
    except ValueError as exc:
        raise StepRefused(str(exc)) from None
    except StepError as exc:
        raise StepRefused(str(exc)) from None
    if not ctx.state.applies(step_id, ctx.account):
        reason = ctx.state.not_applicable_reason(step_id, ctx.account)
        return StepPlan(step=step_id, account=ctx.account, answers=resolved, not_applicable=reason)
    _require_identity(ctx)
    plan = module.plan(ctx, resolved)
    plan.step, plan.account = step_id, ctx.account
    return plan


def _require_identity(ctx: StepContext) -> None:
    from refarch_tui.aws.errors import AwsAccessError

    try:
        ctx.check_identity()
    except AwsAccessError as exc:
        raise StepRefused(str(exc)) from None


def run_planned(ctx: StepContext, plan: StepPlan, accept: Accept = accept_none) -> StepOutcome:
    """Execute a prepared plan, ask `accept` about the proposed edits, record the outcome."""
    from refarch_tui.aws.errors import AwsAccessError

    step_id = plan.step
    if plan.not_applicable:
        recording.record_not_applicable(ctx, step_id, plan.not_applicable)
        return StepOutcome(step_id, ctx.account, Status.NOT_APPLICABLE, plan.not_applicable, plan=plan)
    _require_identity(ctx)
    module = registry.module(step_id)
    try:
        ctx.check_cancel()
        result = module.execute(ctx, plan)
    except StepCancelled as exc:
        return _cancelled(ctx, step_id, plan, str(exc))
    except (StepError, AwsAccessError) as exc:
        return _failed(ctx, step_id, plan, str(exc))
    except Exception as exc:
        log.exception("step %s failed unexpectedly in %s", step_id, ctx.account)
        from refarch_tui import logsetup

        return _failed(ctx, step_id, plan, f"unexpected error: {exc}. Details are in {logsetup.log_file()}")
    accepted: Sequence[PlannedEdit] | None = []
    if result.status is not Status.FAILED and result.edits:
        try:
            accepted = accept(list(result.edits))
        except StepCancelled as exc:  # e.g. the app closed while the review was open
            return _cancelled(ctx, step_id, plan, str(exc))
    recorded = recording.record_result(ctx, step_id, result, accepted)
    return StepOutcome(
        step_id,
        ctx.account,
        recorded.status,
        recorded.message,
        plan=plan,
        result=result,
        recorded=recorded,
        changes=recorded.changes,
    )


def run_step(
    ctx: StepContext,
    step_id: str,
    answers: Mapping[str, Any],
    accept: Accept = accept_none,
    *,
    on_plan: Callable[[StepPlan], None] | None = None,
) -> StepOutcome:
    """plan → execute → record. StepRefused (nothing recorded) when the step cannot start. `on_plan` sees
    the plan before it runs (line mode prints its warnings before asking about edits)."""
    from refarch_tui.aws.errors import AwsAccessError

    try:
        plan = prepare(ctx, step_id, answers)
    except StepRefused:
        raise
    except StepCancelled as exc:
        return _cancelled(ctx, step_id, None, str(exc))
    except (StepError, AwsAccessError) as exc:
        return _failed(ctx, step_id, None, str(exc))
    if on_plan is not None:
        on_plan(plan)
    return run_planned(ctx, plan, accept)


def _failed(ctx: StepContext, step_id: str, plan: StepPlan | None, message: str) -> StepOutcome:
    record = recording.record_failure(ctx, step_id, message)
    recorded = recording.Recorded(step_id, ctx.account, Status.FAILED, record, [], message)
    return StepOutcome(step_id, ctx.account, Status.FAILED, message, plan=plan, recorded=recorded)


def _cancelled(ctx: StepContext, step_id: str, plan: StepPlan | None, message: str) -> StepOutcome:
    ctx.workspace.journal("step.cancelled", outcome="cancelled", account=ctx.account, step=step_id)
    status = ctx.state.record(step_id, ctx.account).status
    return StepOutcome(step_id, ctx.account, status, message, plan=plan, cancelled=True)
