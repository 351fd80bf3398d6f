"""The one write path of a step's result: accepted edits into the repo, each edit and the outcome into the
journal, the cell into state.

Edits go through `live.edits.apply_edit` (backup under the workspace, atomic write, re-parse, read-back);
each applied one is journalled as ``{"action": "edit", "file", "key", "old", "new", "step", "account"}``
(`file` relative to the live repo). A DONE result whose proposed edits were not all applied is recorded as
PENDING, saying which and why. The HCL values written join the record's evidence (``evidence["hcl"]``)
so `verify` can tell when one was changed by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refarch_tui.live.edits import EditFailed, EditRefused, PlannedEdit, apply_edit, read_value
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps.contract import StepContext, StepResult

HCL_EVIDENCE = "hcl"  # evidence key: [{"file", "key", "path", "value"}] — values a step wrote (or found)


@dataclass(frozen=True)
class EditChange:
    """One value one edit changes: the export and the `step --json` document show these."""

    file: str  # relative to the live repo, POSIX
    key: str  # the input name, or the dotted path for anything else (remote_state.config.bucket)
    path: tuple[str, ...]
    old: Any  # None when the key was not there (or was not a literal)
    new: Any
    applied: bool = False
    reason: str = ""  # why it was not applied

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "old": self.old, "new": self.new, "applied": self.applied}


@dataclass(frozen=True)
class Recorded:
    step: str
    account: str
    status: Status
    record: StepRecord
    changes: list[EditChange]
    message: str


def relative_file(edit: PlannedEdit, live_root: Path) -> str:
    try:
        return edit.file.resolve().relative_to(live_root.resolve()).as_posix()
    except ValueError:
        return edit.label or str(edit.file)


def key_of(path: tuple[str, ...]) -> str:
    return path[1] if len(path) == 2 and path[0] == "inputs" else ".".join(path)


def changes_of(edit: PlannedEdit, live_root: Path) -> list[EditChange]:
    """What an edit changes, value by value (old values read from the text the edit was planned on)."""
    file = relative_file(edit, live_root)
    changes = []
    for check in edit.checks:
        owned, old = read_value(edit.old_text, check.path)
        changes.append(EditChange(file, key_of(check.path), check.path, old if owned else None, check.value))
    return changes


def hcl_entry(file: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    return {"file": file, "key": key_of(path), "path": list(path), "value": value}


def merge_hcl(*groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """HCL evidence entries, one per (file, path); later groups win."""
    merged: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for group in groups:
        for entry in group:
            merged[(str(entry["file"]), tuple(entry.get("path") or ("inputs", entry["key"])))] = entry
    return [merged[key] for key in sorted(merged)]


def _is_proposed(edit: PlannedEdit, proposed: Sequence[PlannedEdit]) -> bool:
    return any(edit is p for p in proposed) or edit in proposed


def record_result(
    ctx: StepContext, step_id: str, result: StepResult, accepted: Sequence[PlannedEdit] | None
) -> Recorded:
    """Apply the accepted edits of `result` and record the cell. Blocking (file I/O): call from a worker."""
    workspace, state, account = ctx.workspace, ctx.state, ctx.account
    chosen = [e for e in (accepted or []) if _is_proposed(e, result.edits)]
    changes: list[EditChange] = []
    written: list[dict[str, Any]] = []
    not_applied: list[str] = []
    backup_dir = workspace.directory / "backups" / step_id
    with workspace.save_lock:
        status = result.status if result.status in (Status.DONE, Status.PENDING) else Status.FAILED
        for edit in result.edits if status is not Status.FAILED else []:
            planned = changes_of(edit, ctx.live_root)
            if not any(edit is c for c in chosen) and edit not in chosen:
                reason = "declined"
                not_applied.append(f"{planned[0].file if planned else edit.label}: declined")
            else:
                try:
                    apply_edit(edit, backup_dir=backup_dir)
                except (EditRefused, EditFailed) as exc:
                    reason = exc.reason
                    not_applied.append(f"{relative_file(edit, ctx.live_root)}: {exc.reason}")
                else:
                    reason = ""
            for change in planned:
                applied = not reason
                changes.append(
                    EditChange(change.file, change.key, change.path, change.old, change.new, applied, reason)
                )
                _journal_edit(ctx, step_id, change, applied=applied, reason=reason or edit.reason)
                if applied:
                    written.append(hcl_entry(change.file, change.path, change.new))

        message = result.message
        if status is Status.DONE and not_applied:
            status = Status.PENDING
            total = len(result.edits)
            message = (
                f"{message} — not finished: {len(not_applied)} of {total} proposed edit(s) were not applied "
                f"({'; '.join(not_applied)}). Run the step again and accept them."
            ).lstrip(" —")
        if result.refused:
            refused = "; ".join(f"{where}: {why}" for where, why in result.refused)
            message = f"{message} Not edited (change by hand): {refused}".strip()
        if status is Status.FAILED:
            record = workspace.update_step(state, step_id, account, Status.FAILED, message=message)
        else:
            previous = state.record(step_id, account)
            evidence = dict(result.evidence)
            evidence[HCL_EVIDENCE] = merge_hcl(
                previous.evidence.get(HCL_EVIDENCE) or [], result.evidence.get(HCL_EVIDENCE) or [], written
            )
            record = workspace.update_step(
                state,
                step_id,
                account,
                status,
                facts=dict(result.facts),
                evidence=evidence,
                message=message,
                run_env=dict(result.run_env),
                secret_env=dict(result.secret_env),
                imports=[item.to_json() for item in result.imports],
                followups=[item.to_json() for item in result.followups],
                merge=False,
            )
    return Recorded(step_id, account, status, record, changes, message)


def _journal_edit(ctx: StepContext, step_id: str, change: EditChange, *, applied: bool, reason: str) -> None:
    ctx.workspace.journal(
        "edit" if applied else "edit.not-applied",
        outcome="applied" if applied else "not applied",
        account=ctx.account,
        step=step_id,
        detail=reason,
        fields={"file": change.file, "key": change.key, "old": change.old, "new": change.new},
    )


def record_failure(ctx: StepContext, step_id: str, message: str) -> StepRecord:
    """The step failed before it had a result: the cell says so; its earlier facts and settings stay."""
    return ctx.workspace.update_step(ctx.state, step_id, ctx.account, Status.FAILED, message=message)


def record_not_applicable(ctx: StepContext, step_id: str, reason: str) -> StepRecord | None:
    """The step has nothing to do in this account (no unit takes its values); cells outside the step's
    scope are never stored."""
    if not ctx.state.applies(step_id, ctx.account):
        return None
    return ctx.workspace.update_step(
        ctx.state,
        step_id,
        ctx.account,
        Status.NOT_APPLICABLE,
        message=reason,
        run_env={},
        secret_env={},
        imports=[],
        followups=[],
        merge=False,
    )


def hcl_drift(live_root: Path, record: StepRecord) -> str | None:
    """The first HCL value of the record's evidence that no longer holds, said plainly; None when all do."""
    for entry in record.evidence.get(HCL_EVIDENCE) or []:
        file = str(entry["file"])
        path = tuple(entry.get("path") or ("inputs", entry["key"]))
        try:
            text = (live_root / file).read_text(encoding="utf-8")
        except FileNotFoundError:
            return f"{file} no longer exists"
        except OSError as exc:
            return f"{file} cannot be read ({exc.strerror or exc})"
        owned, value = read_value(text, path)
        if not owned or value != entry["value"]:
            return f"{entry['key']} in {file} was changed by hand"
    return None
