"""`refarch-tui teardown`: the plan, the rehearsal, or the two confirmed phases of a real destroy, in lines.

Exit codes: 0 every planned unit destroyed (or planned, for --rehearse; or the plan printed); 1 some
were not; 2 it could not start — including a destroy without the typed confirmation (nothing runs then).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from refarch_tui import secrets
from refarch_tui.atomic import atomic_write_text
from refarch_tui.live import edits
from refarch_tui.run import controller as ctl
from refarch_tui.run import teardown_report
from refarch_tui.run.engine import Run
from refarch_tui.run.env import EnvForAccount
from refarch_tui.run.line_mode import format_event
from refarch_tui.run.model import RunEvent, UnitStatus
from refarch_tui.run.teardown import (
    SECOND_TYPING_DELAY,
    TeardownPlan,
    confirmation_matches,
    is_production,
    plan_lines,
)
from refarch_tui.run.teardown_exec import ExecutorFactory, Teardown
from refarch_tui.state import Workspace, WorkspaceState

Action = Literal["plan", "rehearse", "destroy"]
# AWS access, asked for only once a run is about to happen: the account env builder and the identity
AccessFactory = Callable[[], tuple[EnvForAccount | None, str]]


def terminal_ask(err: TextIO) -> Callable[[str], str]:
    """Asks on the terminal, the question on stderr (stdout may be carrying --json)."""

    def ask(question: str) -> str:
        err.write(question)
        err.flush()
        return sys.stdin.readline()

    return ask


@dataclass
class Prompter:
    """How the operator types a confirmation; `ask` is None without a terminal."""

    ask: Callable[[str], str] | None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


class Lines:
    def __init__(self, out: TextIO, err: TextIO, as_json: bool) -> None:
        self.out = out
        self.info = err if as_json else out  # with --json, stdout holds only the document
        self.err = err

    def say(self, text: str = "") -> None:
        print(secrets.redact(text), file=self.info, flush=True)

    def problem(self, text: str) -> None:
        print(secrets.redact(f"refarch-tui teardown: {text}"), file=self.err, flush=True)

    def document(self, doc: Any) -> None:
        print(secrets.redact(json.dumps(doc, indent=2)), file=self.out, flush=True)


def confirm_typed(account: str, *, given: str | None, prompter: Prompter, lines: Lines, what: str) -> bool:
    """The account's name, from --confirm or typed on a terminal (a production account: twice, 10 s apart)."""
    if given is not None:
        if confirmation_matches(account, given):
            return True
        lines.problem(f"not confirmed: --confirm {given!r} is not the account name {account!r}. Nothing ran.")
        return False
    if prompter.ask is None:
        lines.problem(
            f"nothing ran: {what} needs the account name typed. Pass --confirm {account}, or run this on a "
            "terminal and type it when asked."
        )
        return False
    first = prompter.ask(f"{what}. Type the account name ({account}) to confirm, anything else stops: ")
    if not confirmation_matches(account, first):
        lines.problem(f"not confirmed: {first.strip()!r} is not {account!r}. Nothing ran.")
        return False
    if is_production(account):
        typed_at = prompter.clock()
        lines.say(
            f"{account} is a production account: type its name once more in "
            f"{SECOND_TYPING_DELAY:.0f} seconds."
        )
        wait = SECOND_TYPING_DELAY - (prompter.clock() - typed_at)
        if wait > 0:
            prompter.sleep(wait)
        second = prompter.ask(f"Type {account} again to confirm: ")
        if prompter.clock() - typed_at < SECOND_TYPING_DELAY or not confirmation_matches(account, second):
            lines.problem(f"not confirmed the second time for {account}. Nothing ran.")
            return False
    return True


def print_plan(plan: TeardownPlan, lines: Lines) -> None:
    for line in plan_lines(plan):
        lines.say(line)


async def execute(run: Run, lines: Lines) -> None:
    """The same event lines as `apply --no-tui`; Ctrl-C cancels (twice: at once)."""

    def printer(event: RunEvent) -> None:
        line = format_event(event)
        if line is not None:
            lines.say(line)

    run.subscribe(printer)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if run.cancelled:
            lines.say("second interrupt: stopping terragrunt now (SIGTERM, then SIGKILL)")
        run.cancel(force=run.cancelled)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)
    try:
        await run.execute()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


def _write_run_report(run: Run | None, report: Path | None, lines: Lines) -> None:
    if report is None or run is None:
        return
    atomic_write_text(report, secrets.redact(json.dumps(run.report(), indent=2) + "\n"))
    lines.say(f"report: {report}")


async def run_teardown(
    *,
    workspace: Workspace,
    state: WorkspaceState,
    account: str,
    action: Action,
    confirm: str | None,
    as_json: bool,
    report: Path | None,
    access: AccessFactory,
    out: TextIO,
    err: TextIO,
    prompter: Prompter,
    executor_factory: ExecutorFactory | None = None,
    run_options: Mapping[str, Any] | None = None,
) -> int:
    lines = Lines(out, err, as_json)
    teardown = Teardown(workspace, state, account, executor_factory=executor_factory, run_options=run_options)
    try:
        plan = await asyncio.to_thread(teardown.prepare)
    except ctl.PreflightError as exc:
        lines.problem(str(exc))
        return 2
    if action == "plan":
        if as_json:
            lines.document(plan.to_json())
        else:
            lines.say(teardown.target.describe())
            print_plan(plan, lines)
        return 0
    print_plan(plan, lines)
    if action == "destroy" and (
        (confirm is not None and not confirmation_matches(account, confirm))
        or (confirm is None and prompter.ask is None)
    ):
        confirm_typed(account, given=confirm, prompter=prompter, lines=lines, what="a destroy")
        return 2
    env_for_account, identity = await asyncio.to_thread(access)
    teardown.env_for_account = env_for_account
    teardown.identity = identity
    lines.say(teardown.target.describe())
    if action == "rehearse":
        return await _rehearse(teardown, lines, report, as_json)
    return await _destroy(teardown, plan, lines, confirm, prompter, report, as_json)


async def _rehearse(teardown: Teardown, lines: Lines, report: Path | None, as_json: bool) -> int:
    run = teardown.rehearsal_run()
    if run is not None:
        lines.say("rehearsal: `plan -destroy` of every planned unit; nothing is destroyed")
        await execute(run, lines)
    doc = teardown_report.document(teardown, kind="rehearsal", run=run)
    json_path, md_path = await asyncio.to_thread(teardown_report.write, teardown, doc)
    lines.say("")
    lines.say(
        f"rehearsal of {teardown.account}{' (SIMULATED)' if doc['simulated'] else ''}: nothing was destroyed"
    )
    for row in doc["planned"]:
        what = f"{row['to_destroy']} to destroy" if row["to_destroy"] is not None else row["note"]
        lines.say(f"  {row['unit']:<56} {row['status']:<9} {what}")
    lines.say(f"teardown rehearsal report: {md_path} (and {json_path.name})")
    _write_run_report(run, report, lines)
    if as_json:
        lines.document(doc)
    return 0 if run is None or all(u.status is UnitStatus.SUCCEEDED for u in run.units) else 1


async def _destroy(
    teardown: Teardown,
    plan: TeardownPlan,
    lines: Lines,
    confirm: str | None,
    prompter: Prompter,
    report: Path | None,
    as_json: bool,
) -> int:
    account = teardown.account
    last: Run | None = None
    if plan.phase1_units:
        lines.say(f"Phase 1: set force_destroy and apply {len(plan.phase1_units)} unit(s) first:")
        for change in plan.phase1_edits:
            lines.say(change.diff.rstrip("\n"))
        pending = [c.unit for c in plan.force_destroy if c.edit is None and not c.refused]
        if pending:
            lines.say(f"  already in the HCL, to apply: {', '.join(pending)}")
        if not confirm_typed(
            account,
            given=confirm,
            prompter=prompter,
            lines=lines,
            what=f"Phase 1 edits and applies units in {account}",
        ):
            return 2
        try:
            applied = await asyncio.to_thread(teardown.apply_phase1_edits, plan.phase1_edits)
        except (edits.EditRefused, edits.EditFailed) as exc:
            lines.problem(f"phase 1 stopped: {exc}")
            return 1
        for item in applied:
            lines.say(f"edited {item.edit.label or item.edit.file} (backup {item.backup})")
        last = teardown.phase1_run()
        if last is not None:
            await execute(last, lines)
            if not last.succeeded():
                lines.problem(
                    "phase 1 did not succeed: the destroy does not start until force_destroy is applied. "
                    "See the failed units above, then run the teardown again."
                )
                return await _finish(teardown, last, lines, report, as_json, code=1)
        confirmed_phase2 = confirm is not None
    else:
        confirmed_phase2 = False
    if not confirmed_phase2 and not confirm_typed(
        account,
        given=confirm,
        prompter=prompter,
        lines=lines,
        what=f"Phase 2 destroys {len(plan.units)} unit(s) of {account}, wave by wave — there is no undo",
    ):
        return 2
    run = teardown.phase2_run()
    if run is None:
        lines.say(f"nothing left to destroy in {account}")
        return await _finish(teardown, last, lines, report, as_json, code=0)
    await execute(run, lines)
    destroyed = set(teardown.destroyed())
    code = 0 if all(u in destroyed for u in plan.units) else 1
    if run.cancelled:
        lines.say("cancelled: run the same command again to resume with what is not destroyed yet")
    return await _finish(teardown, run, lines, report, as_json, code=code)


async def _finish(
    teardown: Teardown, run: Run | None, lines: Lines, report: Path | None, as_json: bool, *, code: int
) -> int:
    doc = teardown_report.document(teardown, kind="destroy", run=run)
    json_path, md_path = await asyncio.to_thread(teardown_report.write, teardown, doc)
    lines.say("")
    lines.say(
        f"teardown of {teardown.account}{' (SIMULATED)' if doc['simulated'] else ''}: "
        f"{len(doc['destroyed'])} destroyed, {len(doc['not_destroyed'])} not destroyed, "
        f"{len(doc['skipped'])} skipped, {len(doc['left_behind'])} left behind"
    )
    for row in doc["not_destroyed"]:
        lines.say(f"  not destroyed: {row['unit']}: {row['status']} — {row['reason']}")
    if doc.get("state_backend"):
        lines.say(f"  state backend: {doc['state_backend']['status']}")
    lines.say(f"teardown report: {md_path} (and {json_path.name})")
    _write_run_report(run, report, lines)
    if as_json:
        lines.document(doc)
    return code


def main(**kwargs: Any) -> int:
    return asyncio.run(run_teardown(**kwargs))
