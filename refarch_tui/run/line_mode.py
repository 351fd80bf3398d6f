"""`refarch-tui apply --no-tui`: the same engine as the screen, one printed line per unit event (CI, SSH).

Exit codes: 0 every selected unit succeeded; 1 some did not; 2 the run could not start; 130 cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from refarch_tui import secrets
from refarch_tui.atomic import atomic_write_text
from refarch_tui.run import controller as ctl
from refarch_tui.run.model import EventKind, RunEvent
from refarch_tui.state import Workspace, WorkspaceState

_WORDS = {
    EventKind.RUN_STARTED: "run",
    EventKind.NOTICE: "note",
    EventKind.WAVE_STARTED: "wave",
    EventKind.ACCOUNT_STARTED: "account",
    EventKind.ACCOUNT_FINISHED: "account",
    EventKind.UNIT_STARTED: "started",
    EventKind.UNIT_PHASE: "",
    EventKind.UNIT_SUCCEEDED: "succeeded",
    EventKind.UNIT_FAILED: "FAILED",
    EventKind.UNIT_SKIPPED: "skipped",
    EventKind.UNIT_CANCELLED: "cancelled",
    EventKind.UNIT_RETRIED: "retry",
    EventKind.KNOWN_ERROR: "known-error",
    EventKind.PAUSED: "paused",
    EventKind.RESUMED: "resumed",
    EventKind.RUN_FINISHED: "done",
}


def format_event(event: RunEvent) -> str | None:
    if event.kind is EventKind.UNIT_RESOURCE:
        return None  # resource lines stay in the unit logs
    word = _WORDS.get(event.kind, event.kind.value) or event.message
    stamp = time.strftime("%H:%M:%S", time.localtime(event.time))
    parts = [stamp]
    if event.simulated:
        parts.append("SIMULATED")
    parts.append(f"{event.account or '-':<16}")
    if event.unit:
        parts.append(event.unit)
    parts.append(word)
    if event.attempt and event.kind in (
        EventKind.UNIT_STARTED,
        EventKind.UNIT_RETRIED,
        EventKind.UNIT_FAILED,
    ):
        parts.append(f"attempt {event.attempt}")
    if event.message and event.kind is not EventKind.UNIT_PHASE:
        parts.append("— " + event.message)
    return secrets.redact("  ".join(parts))


def main(
    *,
    workspace: Workspace,
    state: WorkspaceState,
    accounts: list[str] | None,
    report: Path | None,
    env_for_account: Callable[[str], Mapping[str, str]] | None,
    stdout: TextIO,
) -> int:
    return asyncio.run(
        run_line_mode(
            workspace=workspace,
            state=state,
            accounts=accounts,
            report=report,
            env_for_account=env_for_account,
            stdout=stdout,
        )
    )


async def run_line_mode(
    *,
    workspace: Workspace,
    state: WorkspaceState,
    accounts: list[str] | None,
    report: Path | None,
    env_for_account: Callable[[str], Mapping[str, str]] | None,
    stdout: TextIO,
    only_units: Mapping[str, list[str]] | None = None,
) -> int:
    def say(text: str) -> None:
        print(secrets.redact(text), file=stdout, flush=True)

    try:
        pre = await asyncio.to_thread(ctl.preflight, workspace, state, accounts)
    except ctl.PreflightError as exc:
        say(f"refarch-tui apply: {exc}")
        return 2
    for warning in pre.warnings:
        say(f"warning: {warning}")
    say(
        f"engine: {pre.engine}"
        + (
            f" ({pre.terragrunt.describe()})"
            if pre.terragrunt
            else " — SIMULATED, terragrunt is not installed"
        )
    )
    for account in pre.accounts:
        say(
            f"account {account.name}: {account.units} unit(s), region {account.region}"
            + (f", secrets to inject: {', '.join(account.secret_names)}" if account.secret_names else "")
        )
        for step in account.pending_steps:
            say(f"warning: {account.name}: step not done: {step} — running anyway")

    run = ctl.build_run(
        workspace,
        state,
        pre,
        accounts=[a.name for a in pre.accounts],
        only_units=only_units,
        env_for_account=env_for_account,
    )

    def printer(event: RunEvent) -> None:
        line = format_event(event)
        if line is not None:
            say(line)

    run.subscribe(printer)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if run.cancelled:
            say("second interrupt: stopping terragrunt now (SIGTERM, then SIGKILL)")
        run.cancel(force=run.cancelled)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)
    try:
        summary = await run.execute()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)

    say("")
    say(f"summary ({run.id}{', SIMULATED' if run.simulated else ''}):")
    for name, data in summary["accounts"].items():
        say(
            f"  {name:<16} {data['status']:<10} {data['succeeded']} succeeded, {data['failed']} failed, "
            f"{data['skipped']} skipped, {data['duration_s']:.0f}s"
            + (f" — {data['note']}" if data["note"] else "")
        )
    recovered = [r for r in run.known_errors if r.recovered]
    if recovered:
        say(f"  recovered known errors: {len(recovered)}")
    failed = run.not_succeeded()
    if failed:
        say("  not succeeded (rerun with the TUI's 'rerun failed', or --account):")
        for name, paths in failed.items():
            for path in paths:
                unit = run.accounts[name].units[path]
                say(f"    {path}: {unit.status.value} — {unit.note} (log: {unit.log_path})")
    say(f"  logs: {run.directory}")
    report_written = True
    if report is not None:
        text = json.dumps(run.report(), indent=2) + "\n"
        try:
            atomic_write_text(Path(report), secrets.redact(text))
        except OSError as exc:  # checked before the run; the disk may still fill up meanwhile
            report_written = False
            say(
                f"  report NOT written to {report}: {exc.strerror or exc}; "
                f"the run's outcome is in {run.directory}"
            )
        else:
            say(f"  report: {report}")
    if run.cancelled:
        return 130
    return 0 if run.succeeded() and report_written else 1
