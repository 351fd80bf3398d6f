"""Plain-text views of a plan and of an outcome, shared by the step screen and line mode (no secrets:
commands are masked by the steps, and everything passes through the redactor here again)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refarch_tui import secrets
from refarch_tui.steps.contract import AnswerSpec, StepPlan
from refarch_tui.steps.record import changes_of
from refarch_tui.steps.runner import StepOutcome


def plan_lines(plan: StepPlan, live_root: Path) -> list[str]:
    if plan.not_applicable:
        return [f"Nothing to do here: {plan.not_applicable}."]
    lines = ["Will do:"]
    lines += [f"  • {action}" for action in plan.actions] or ["  (nothing: everything is in place)"]
    if plan.commands:
        lines += ["Commands (secrets masked):", *(f"  $ {command}" for command in plan.commands)]
    if plan.edits:
        lines.append("Edits to propose (shown as diffs for review before anything is written):")
        for edit in plan.edits:
            for change in changes_of(edit, live_root):
                lines.append(f"  {change.file}: {change.key} {_value(change.old)} → {_value(change.new)}")
    if plan.warnings:
        lines += ["Warnings:", *(f"  ! {warning}" for warning in plan.warnings)]
    return [secrets.redact(line) for line in lines]


def outcome_lines(outcome: StepOutcome) -> list[str]:
    if outcome.cancelled:
        return ["Cancelled: nothing was recorded."]
    lines = [f"{outcome.status.value.upper()}: {outcome.message}"]
    record = outcome.recorded.record if outcome.recorded is not None else None
    if record is not None and record.facts:
        lines.append("Facts:")
        lines += [f"  {key} = {_value(value)}" for key, value in record.facts.items()]
    if outcome.changes:
        lines.append("Edits:")
        for change in outcome.changes:
            word = "applied" if change.applied else f"NOT applied ({change.reason})"
            lines.append(f"  {change.file}: {change.key} = {_value(change.new)} — {word}")
    if record is not None and (record.run_env or record.secret_env):
        names = ", ".join(sorted({*record.run_env, *record.secret_env}))
        lines.append(f"The apply will set: {names}")
    for item in record.followups if record is not None else []:
        lines.append(f"Later: {item.get('message', '')} — {item.get('command', '')}")
    return [secrets.redact(line) for line in lines]


def answer_default(spec: AnswerSpec, account: str = "") -> str:
    """A default as a form shows it ("" for secrets and derived values; `{account}` filled in)."""
    if spec.secret or spec.default is None:
        return ""
    if spec.kind == "list" and isinstance(spec.default, list | tuple):
        return ", ".join(str(item) for item in spec.default)
    text = str(spec.default)
    return text.replace("{account}", account) if account else text


def typed_answers(specs: tuple[AnswerSpec, ...], typed: Mapping[str, Any]) -> dict[str, Any]:
    """Form values → answers: empty text keeps the default; the rest is parsed by the answer's kind
    (ValueError says what is wrong with a value)."""
    answers: dict[str, Any] = {}
    for spec in specs:
        value = typed.get(spec.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str) and spec.kind != "str":
            value = spec.parse(value.strip())
        answers[spec.key] = value
    return answers


def _value(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, default=str)
