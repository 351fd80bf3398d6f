"""Verified resume: re-run `verify` for the cells a workspace says are done, and save what no longer holds
as `stale` with the reason (a stale cell that holds again is done again).

Used by `refarch-tui verify` and by the app after its first paint. Blocking: call from a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from refarch_tui import secrets
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.steps import registry
from refarch_tui.steps.contract import StepContext, Verification

log = logging.getLogger(__name__)

VERIFIED = (Status.DONE, Status.STALE)
ContextFor = Callable[[str], StepContext]  # account -> context (raises AccountBlocked)


@dataclass(frozen=True)
class Checked:
    step: str
    account: str
    status: Status  # DONE or STALE after the check
    reason: str = ""
    checked: bool = True  # False: could not be checked (identity not confirmed, AWS unreachable)

    def to_json(self) -> dict[str, Any]:
        status = self.status.value
        return {"step": self.step, "account": self.account, "status": status, "reason": self.reason}


def cells_to_verify(state: WorkspaceState, accounts: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(step, account) of every done or stale cell of a built step, in checklist and deployment order."""
    selected = set(accounts) if accounts else None
    return [
        (step_id, account)
        for step_id, account in state.cells()
        if registry.is_built(step_id)
        and (selected is None or account in selected)
        and state.record(step_id, account).status in VERIFIED
    ]


def verify_cell(ctx: StepContext, step_id: str) -> Verification:
    """The step's own verify of the cell's record (exceptions are the caller's: they mean "not checked")."""
    return registry.module(step_id).verify(ctx, ctx.state.record(step_id, ctx.account))


def verify_workspace(
    workspace: Workspace,
    state: WorkspaceState,
    context_for: ContextFor,
    *,
    accounts: Sequence[str] | None = None,
    on_checked: Callable[[Checked], None] | None = None,
) -> list[Checked]:
    """Verify every done/stale cell; save each change of status (done ↔ stale) with its reason."""
    from refarch_tui.aws.errors import AwsAccessError

    contexts: dict[str, StepContext | str] = {}
    checked: list[Checked] = []
    for step_id, account in cells_to_verify(state, accounts):
        if account not in contexts:
            try:
                contexts[account] = context_for(account)
            except AwsAccessError as exc:
                contexts[account] = str(exc)
        ctx = contexts[account]
        previous = state.record(step_id, account)
        if isinstance(ctx, str):
            entry = Checked(step_id, account, previous.status, f"not checked: {ctx}", checked=False)
        else:
            entry = _check(workspace, state, ctx, step_id)
        checked.append(entry)
        if on_checked is not None:
            on_checked(entry)
    return checked


def _check(workspace: Workspace, state: WorkspaceState, ctx: StepContext, step_id: str) -> Checked:
    from refarch_tui.aws.errors import AwsAccessError

    account = ctx.account
    previous = state.record(step_id, account)
    try:
        verdict = verify_cell(ctx, step_id)
    except AwsAccessError as exc:
        return Checked(step_id, account, previous.status, f"not checked: {exc}", checked=False)
    except Exception as exc:
        log.exception("verify of %s in %s failed", step_id, account)
        reason = secrets.redact(f"not checked: {exc}")
        return Checked(step_id, account, previous.status, reason, checked=False)
    if verdict.holds:
        if previous.status is Status.STALE:
            workspace.update_step(
                state, step_id, account, Status.DONE, message="verified again: the evidence holds"
            )
        return Checked(step_id, account, Status.DONE)
    reason = secrets.redact(verdict.reason or "the recorded evidence no longer holds")
    if previous.status is not Status.STALE or previous.message != reason:
        workspace.update_step(state, step_id, account, Status.STALE, message=reason)
    return Checked(step_id, account, Status.STALE, reason)
