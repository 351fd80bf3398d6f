"""The apply/destroy engine: accounts in deployment order, per-unit status from output, known-error retries.

One `Run` is one press of "apply": it owns its accounts' progress, writes everything to
`<workspace>/runs/<run-id>/` as it goes (see store.py), and tells subscribers about every unit event. It
does not care how units are executed: an `Executor` runs one account's units (terragrunt, or the
rehearsal) and feeds each output line to an `AccountSession`, which turns lines into unit statuses.
The run belongs to whoever created it (the App), never to a screen: screens subscribe and unsubscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets as _random
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from refarch_tui import checklist, secrets
from refarch_tui.atomic import open_private_append, private_dir
from refarch_tui.live.model import LiveTree
from refarch_tui.run import catalog as catalog_mod
from refarch_tui.run import store
from refarch_tui.run.env import AccountEnvPlan, EnvForAccount, RunSetupError, child_environment, fetch_secrets
from refarch_tui.run.model import (
    AccountRun,
    AccountStatus,
    EventKind,
    KnownErrorRecord,
    RunEvent,
    UnitRun,
    UnitStatus,
)
from refarch_tui.run.parser import FAST_PROGRESS, OutputParser, Signal
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.tools.terragrunt import Command

log = logging.getLogger(__name__)

Subscriber = Callable[[RunEvent], None]
EVENT_HISTORY = 5000


@dataclass(frozen=True)
class ImportSpec:
    """A queued `terragrunt import ADDRESS ID` (e.g. an existing Route 53 zone), run before the account."""

    unit: str  # unit path relative to the live root
    address: str
    resource_id: str


@dataclass
class RunConfig:
    live_root: Path
    tree: LiveTree
    accounts: Sequence[str]
    command: Command = "apply"
    tf_args: Sequence[str] = ()  # after the command, e.g. ("-destroy",) for a destroy plan
    only_units: Mapping[str, Collection[str]] | None = None  # rerun: per account, the units to run
    max_auto_retries: int = 2  # runner retries of known transient errors, after terragrunt's own
    backoff_base: float = 5.0
    backoff_max: float = 60.0
    cancel_grace: float = 20.0  # after SIGINT, before SIGTERM
    term_grace: float = 10.0  # after SIGTERM, before SIGKILL
    env_for_account: EnvForAccount | None = None
    env_plans: Mapping[str, AccountEnvPlan] = field(default_factory=dict)
    default_region: str = "us-east-1"
    source: str | None = None
    stop_after_failed_account: bool = True
    imports: Mapping[str, Sequence[ImportSpec]] = field(default_factory=dict)
    allow_plaintext_keyring: bool = False
    record_in_state: bool = True


@dataclass
class InvocationResult:
    exit_code: int | None
    report: dict[str, tuple[str, str]] | None = None  # unit path -> (Result, Cause) from 1.x --report-file
    error: str = ""  # could not run at all (the message says why)


class Executor(Protocol):
    name: str  # the report's engine: terragrunt-1 | terragrunt-0 | rehearsal
    simulated: bool

    async def invoke(self, session: AccountSession) -> InvocationResult: ...

    async def run_imports(self, session: AccountSession, imports: Sequence[ImportSpec]) -> str | None:
        """Runs queued imports; returns an error message, or None when all went through."""
        ...

    async def cancel(self, grace: float, term_grace: float) -> None: ...


def new_run_id(command: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{command}-{_random.token_hex(2)}"


class AccountSession:
    """One executor invocation for one account: turns output lines into unit statuses and log files."""

    def __init__(
        self,
        run: Run,
        account: AccountRun,
        targets: list[UnitRun],
        *,
        working_dir: Path,
        env: dict[str, str],
        source_update: bool,
        number: int,
    ) -> None:
        self.run = run
        self.account = account
        self.targets = targets
        self.target_paths = {u.path for u in targets}
        # every runnable unit of the account in the live tree (not just this run's): no include filter needed
        runnable = {p for p, u in run.config.tree.units.items() if u.account == account.name and u.runnable}
        self.all_units = self.target_paths == runnable
        self.working_dir = working_dir
        self.env = env
        self.source_update = source_update
        self.number = number
        self.parser = OutputParser(str(working_dir), account.name)
        self.seen: set[str] = set()
        self._progress: dict[str, tuple[UnitRun, str]] = {}  # unit path -> (unit, latest progress line)
        self._progress_flushed = 0.0
        self.failures = 0
        self.lines = 0
        self._simulated = run.simulated
        self._raw: IO[str] = _open_append(account.raw_log)
        self._files: dict[str, IO[str]] = {}
        self._raw.write(
            f"# {datetime.now(UTC).isoformat(timespec='seconds')} invocation {number} of account "
            f"{account.name}: {len(targets)} unit(s){' SIMULATED' if self._simulated else ''}\n"
        )

    def rel(self, unit_path: str) -> str:
        """A unit path relative to this session's working dir (what terragrunt's flags expect)."""
        prefix = self.account.name + "/"
        return unit_path[len(prefix) :] if unit_path.startswith(prefix) else unit_path

    def unit_file(self, unit: UnitRun) -> IO[str]:
        handle = self._files.get(unit.path)
        if handle is None:
            handle = _open_append(unit.log_path)
            self._files[unit.path] = handle
        return handle

    def ingest(self, raw: str, stream: str = "stderr") -> None:
        """One line of output: redact, store, parse, update the unit."""
        line = secrets.redact(raw)
        self._raw.write(("SIMULATED " + line if self._simulated else line) + "\n")
        self._line(line, stream)
        self._flush_progress()

    def ingest_block(self, text: str, stream: str) -> None:
        """Many complete lines at once (no trailing newline): redacted once, stored once, parsed per line."""
        text = secrets.redact(text)
        lines = text.split("\n")
        if self._simulated:
            self._raw.write("\n".join("SIMULATED " + line for line in lines) + "\n")
        else:
            self._raw.write(text + "\n")
        handle_line = self._line
        fast = FAST_PROGRESS.match
        parser = self.parser
        unit_path = parser.unit_path
        units = self.account.units
        targets = self.target_paths
        simulated = self._simulated
        for line in lines:
            match = fast(line)
            if match is None:
                handle_line(line, stream)
                continue
            # fast path: a resource progress line, the bulk of any long apply (same effect as _line)
            self.lines += 1
            path = unit_path(match.group(1))
            parser.set_context(stream, path)
            if path not in targets:
                continue
            unit = units[path]
            shown = "SIMULATED " + line if simulated else line
            unit.log.append(shown)
            handle = self._files.get(path)
            if handle is None:
                handle = self.unit_file(unit)
            handle.write(shown + "\n")
            if path not in self.seen:
                self.seen.add(path)
                self.run._unit_started(unit)
            unit.resources += 1
            if unit.phase != "applying" and unit.status is UnitStatus.RUNNING:
                unit.phase = "applying"
                self.run._emit(EventKind.UNIT_PHASE, unit.account, unit.path, message="applying")
            self._progress[path] = (unit, match.group(2))
            unit.version += 1
        self._flush_progress()

    def _flush_progress(self, *, force: bool = False) -> None:
        """Resource-progress events: at most one per unit per PROGRESS_EVENT_INTERVAL, not one per line.

        Nothing reads status from these (views read the units themselves), so coalescing them only
        spares every subscriber tens of thousands of calls during a flood of output."""
        if not self._progress:
            return
        now = time.monotonic()
        if not force and now - self._progress_flushed < PROGRESS_EVENT_INTERVAL:
            return
        self._progress_flushed = now
        if self._progress:
            for unit, detail in self._progress.values():
                self.run._emit(
                    EventKind.UNIT_RESOURCE, unit.account, unit.path, message=detail, attempt=unit.attempts
                )
            self._progress.clear()

    def _line(self, line: str, stream: str) -> None:
        """The hot path: parse an already redacted line, route it to its unit, update the unit."""
        self.lines += 1
        parsed = self.parser.feed(line, stream)
        path = parsed.unit
        if path is None or path not in self.target_paths:
            return
        unit = self.account.units[path]
        shown = "SIMULATED " + line if self._simulated else line
        unit.log.append(shown)
        handle = self._files.get(path)
        if handle is None:
            handle = self.unit_file(unit)
        handle.write(shown + "\n")
        signals = parsed.signals
        if not signals or (len(signals) == 1 and signals[0][0] is Signal.RESOURCE):
            if path not in self.seen and parsed.prefixed:
                self.seen.add(path)
                self.run._unit_started(unit)
            if signals:
                unit.resources += 1
                if unit.phase != "applying" and unit.status is UnitStatus.RUNNING:
                    unit.phase = "applying"
                    self.run._emit(EventKind.UNIT_PHASE, unit.account, unit.path, message="applying")
                self._progress[path] = (unit, signals[0][1])
            unit.version += 1
            return
        if path not in self.seen and parsed.prefixed and not any(s is Signal.EARLY_EXIT for s, _ in signals):
            self.seen.add(path)
            self.run._unit_started(unit)
        for signal, detail in signals:
            self.run._unit_signal(self, unit, signal, detail)
        unit.version += 1

    def ingest_unit_line(self, unit_path: str, raw: str) -> None:
        """A line that belongs to one unit without a prefix (imports run in the unit's own directory)."""
        unit = self.account.units.get(unit_path)
        line = secrets.redact(raw)
        shown = "SIMULATED " + line if self._simulated else line
        self._raw.write(shown + "\n")
        if unit is not None:
            unit.log.append(shown)
            self.unit_file(unit).write(shown + "\n")

    def flush(self) -> None:
        self._raw.flush()
        for handle in self._files.values():
            handle.flush()

    def close(self) -> None:
        self._flush_progress(force=True)
        self.account.lines += self.lines
        with contextlib.suppress(OSError):
            self._raw.close()
        for handle in self._files.values():
            with contextlib.suppress(OSError):
                handle.close()
        self._files.clear()


PROGRESS_EVENT_INTERVAL = 0.1  # seconds between resource-progress events of one session


def _open_append(path: Path) -> IO[str]:
    fd = open_private_append(path)
    return os.fdopen(fd, "a", encoding="utf-8", buffering=1 << 16)


class Run:
    def __init__(
        self,
        config: RunConfig,
        executor: Executor,
        *,
        runs_dir: Path,
        workspace: Workspace | None = None,
        state: WorkspaceState | None = None,
        catalog: catalog_mod.Catalog | None = None,
        run_id: str | None = None,
    ) -> None:
        self.config = config
        self.executor = executor
        self.workspace = workspace
        self.state = state
        self.catalog = catalog or catalog_mod.default()
        self.id = run_id or new_run_id(config.command)
        self.directory = runs_dir / self.id
        self.runs_dir = runs_dir
        self.simulated = executor.simulated
        self.engine = executor.name
        self.accounts: dict[str, AccountRun] = {}
        self.known_errors: list[KnownErrorRecord] = []
        self.history: deque[RunEvent] = deque(maxlen=EVENT_HISTORY)
        self.started: float | None = None
        self.finished: float | None = None
        self.cancelled = False
        self.left_running = False  # the operator quit the app and left terragrunt running (never finished)
        self.pause_requested = False
        self.paused = False
        self._subscribers: list[Subscriber] = []
        self._wake = asyncio.Event()
        self._outcomes: store.OutcomeLog | None = None
        self._cancel_task: asyncio.Future[None] | None = None
        self._force_task: asyncio.Future[None] | None = None
        self._build()

    # -- setup -------------------------------------------------------------------------------------

    def _build(self) -> None:
        from refarch_tui.live import waves as live_waves

        tree = self.config.tree
        destroy = self.config.command == "destroy" or "-destroy" in self.config.tf_args
        selected = checklist.order_accounts(self.config.accounts)
        for name in selected:
            only = None if self.config.only_units is None else set(self.config.only_units.get(name, ()))
            if only is not None and not only:
                continue
            groups = live_waves(tree, account=name, destroy=destroy)
            units: dict[str, UnitRun] = {}
            kept_waves: list[list[str]] = []
            for index, group in enumerate(groups):
                kept: list[str] = []
                for path in group:
                    unit = tree.units[path]
                    if not unit.runnable or (only is not None and path not in only):
                        continue
                    units[path] = UnitRun(
                        path=path,
                        account=name,
                        wave=len(kept_waves),
                        log_path=self.directory / "logs" / f"{path}.log",
                        dependencies=unit.dependencies,
                    )
                    kept.append(path)
                del index
                if kept:
                    kept_waves.append(kept)
            self.accounts[name] = AccountRun(
                name=name, units=units, waves=kept_waves, raw_log=self.directory / "raw" / f"{name}.log"
            )

    @property
    def units(self) -> list[UnitRun]:
        return [u for a in self.accounts.values() for u in a.units.values()]

    def unit(self, path: str) -> UnitRun | None:
        for account in self.accounts.values():
            if path in account.units:
                return account.units[path]
        return None

    def progress(self) -> tuple[int, int]:
        units = self.units
        return sum(1 for u in units if u.status.finished), len(units)

    @property
    def done(self) -> bool:
        return self.finished is not None

    # -- observers ---------------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call `callback` for every event from now on (and the recent history first with replay=True)."""
        if replay:
            for event in list(self.history):
                callback(event)
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, kind: EventKind, account: str | None = None, unit: str | None = None, **kw: Any) -> None:
        event = RunEvent(kind=kind, account=account, unit=unit, simulated=self.simulated, **kw)
        if kind is not EventKind.UNIT_RESOURCE:  # replayable history keeps the events that change status
            self.history.append(event)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # an observer's bug must not stop a deployment
                log.exception("run subscriber failed on %s", event.kind)

    # -- control -----------------------------------------------------------------------------------

    def request_pause(self) -> None:
        """Stop starting new work after the current wave (account wave; DAG wave in rehearsal)."""
        self.pause_requested = True
        self._emit(EventKind.NOTICE, message="pause requested: the run stops after the current wave")

    def resume(self) -> None:
        self.pause_requested = False
        self._wake.set()

    def cancel(self, *, force: bool = False) -> None:
        """SIGINT to each running terragrunt's process group, then SIGTERM and SIGKILL after grace periods.

        `force` (e.g. a second Ctrl-C) skips the grace periods.
        """
        if self.finished is not None:
            return
        if self.cancelled:
            if force:
                self._emit(EventKind.NOTICE, message="cancel forced: SIGTERM/SIGKILL now")
                self._force_task = asyncio.ensure_future(self.executor.cancel(0.0, 0.5))
            return
        self.cancelled = True
        self._emit(
            EventKind.NOTICE, message="cancel requested: stopping terragrunt (SIGINT, then SIGTERM/SIGKILL)"
        )
        self._wake.set()
        self._cancel_task = asyncio.ensure_future(
            self.executor.cancel(self.config.cancel_grace, self.config.term_grace)
        )

    @property
    def leave_running_refusal(self) -> str | None:
        """Why quitting cannot leave this run's terragrunt running; None when it can."""
        if self.simulated:
            return "a SIMULATED rehearsal runs inside the app, it cannot go on without it"
        if not hasattr(self.executor, "leave_running"):
            return "the app starts each wave of this run itself (a teardown): it cannot go on without it"
        return None

    @property
    def can_leave_running(self) -> bool:
        return self.leave_running_refusal is None

    async def leave_running(self) -> dict[str, int]:
        """The operator quits and leaves terragrunt running: each running terragrunt is handed over so it
        outlives the app, `quit.json` says so, and the run is never recorded as finished — its lanes were
        not watched to their end. The caller then stops this run's task. Returns account -> PID."""
        if self.finished is not None or not self.can_leave_running:
            return {}
        self.left_running = True
        left: dict[str, int] = await self.executor.leave_running()  # type: ignore[attr-defined]
        await asyncio.to_thread(
            store.record_quit, self.directory, store.QUIT_LEFT_RUNNING, left_running=dict(left)
        )
        if self.workspace is not None:
            where = ", ".join(f"{name} (PID {pid})" for name, pid in left.items()) or "no account"
            self.workspace.journal(
                f"run.{self.config.command}.left-running",
                outcome="running",
                detail=f"run {self.id}: the app quit and left terragrunt running in {where}",
            )
        self._emit(EventKind.NOTICE, message=f"left terragrunt running in {', '.join(left) or 'no account'}")
        return left

    async def pause_point(self) -> None:
        if not self.pause_requested or self.cancelled:
            return
        self.paused = True
        self._emit(EventKind.PAUSED, message="paused after the wave; resume to continue")
        while self.pause_requested and not self.cancelled:
            self._wake.clear()
            await self._wake.wait()
        self.paused = False
        if not self.cancelled:
            self._emit(EventKind.RESUMED, message="resumed")

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0 or self.cancelled:
            await asyncio.sleep(0)
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    # -- persistence -------------------------------------------------------------------------------

    def _write_meta(self) -> None:
        private_dir(self.directory)
        store.write_json(
            self.directory / store.RUN_FILE,
            {
                "id": self.id,
                "engine": self.engine,
                "command": self.config.command,
                "simulated": self.simulated,
                "live_root": str(self.config.live_root),
                "started": store.iso(self.started),
                "accounts": [
                    {
                        "name": a.name,
                        "units": [
                            {"path": u.path, "wave": u.wave, "log": str(u.log_path)} for u in a.units.values()
                        ],
                    }
                    for a in self.accounts.values()
                ],
            },
        )
        self._outcomes = store.OutcomeLog(self.directory / store.OUTCOMES_FILE)
        store.set_last_run(self.runs_dir, self.id)

    def _persist_unit(self, unit: UnitRun) -> None:
        if self._outcomes is not None:
            self._outcomes.append(
                {
                    "kind": "unit",
                    "time": store.iso(time.time()),
                    "account": unit.account,
                    "unit": unit.path,
                    "status": unit.status.value,
                    "attempts": unit.attempts,
                    "note": unit.note,
                },
                durable=unit.status.finished,
            )

    def _persist_account(self, account: AccountRun, kind: str, **extra: Any) -> None:
        if self._outcomes is not None:
            self._outcomes.append(
                {"kind": kind, "time": store.iso(time.time()), "account": account.name, **extra}, durable=True
            )

    # -- unit transitions (called by sessions) -----------------------------------------------------

    def _set_status(self, unit: UnitRun, status: UnitStatus, note: str | None = None) -> None:
        if unit.status is status and note is None:
            return
        unit.status = status
        unit.retrying = False
        if note is not None:
            unit.note = note
        if status.finished:
            unit.finished = time.time()
        unit.version += 1
        self._persist_unit(unit)
        kind = {
            UnitStatus.SUCCEEDED: EventKind.UNIT_SUCCEEDED,
            UnitStatus.FAILED: EventKind.UNIT_FAILED,
            UnitStatus.SKIPPED: EventKind.UNIT_SKIPPED,
            UnitStatus.CANCELLED: EventKind.UNIT_CANCELLED,
            UnitStatus.INTERRUPTED: EventKind.UNIT_FAILED,
        }.get(status)
        if kind is not None:
            self._emit(kind, unit.account, unit.path, message=unit.note, attempt=unit.attempts)

    def _unit_started(self, unit: UnitRun) -> None:
        unit.retrying = False
        unit.attempts += 1
        unit.started = unit.started or time.time()
        unit.finished = None
        unit.phase = "init"
        unit.errors.clear()
        unit.status = UnitStatus.RUNNING
        unit.version += 1
        self._persist_unit(unit)
        self._emit(EventKind.UNIT_STARTED, unit.account, unit.path, attempt=unit.attempts)

    def _unit_signal(self, session: AccountSession, unit: UnitRun, signal: Signal, detail: str) -> None:
        if signal is Signal.RESOURCE:
            unit.resources += 1
            if unit.phase != "applying" and unit.status is UnitStatus.RUNNING:
                unit.phase = "applying"
                self._emit(EventKind.UNIT_PHASE, unit.account, unit.path, message="applying")
            self._emit(EventKind.UNIT_RESOURCE, unit.account, unit.path, message=detail)
        elif signal is Signal.ERROR_LINE:
            unit.errors.append(detail)
        elif signal in (Signal.INIT, Signal.PLANNING, Signal.APPLYING):
            if unit.phase != signal.value and unit.status is UnitStatus.RUNNING:
                unit.phase = signal.value
                self._emit(EventKind.UNIT_PHASE, unit.account, unit.path, message=signal.value)
        elif signal is Signal.SUCCEEDED:
            if unit.status is UnitStatus.RUNNING:
                self._set_status(unit, UnitStatus.SUCCEEDED, "")
        elif signal is Signal.PLAN_DONE:
            if self.config.command == "plan" and unit.status is UnitStatus.RUNNING:
                self._set_status(unit, UnitStatus.SUCCEEDED, detail)
        elif signal is Signal.FAILED:
            session.failures += 1
            if unit.status is not UnitStatus.FAILED:
                self._fail(unit, "")
        elif signal is Signal.EARLY_EXIT:
            session.failures += 1
            if unit.status in (UnitStatus.PENDING, UnitStatus.RUNNING):
                self._set_status(unit, UnitStatus.SKIPPED, "did not run: a dependency failed")
        elif signal is Signal.BUILTIN_RETRY:
            known = self.catalog.match(unit.errors)
            if known is not None:
                self._record_known(unit, known, by="terragrunt")
            unit.attempts += 1
            unit.errors.clear()
            self._persist_unit(unit)
            self._emit(
                EventKind.UNIT_RETRIED,
                unit.account,
                unit.path,
                message=f"terragrunt retried it itself ({known.title if known else 'retryable error'})",
                attempt=unit.attempts,
            )

    def _fail(self, unit: UnitRun, note: str) -> None:
        known = self.catalog.match(unit.errors)
        unit.known_error = known.id if known else None
        if known is not None and not note:
            note = f"{known.title}: {known.explanation}"
        elif not note:
            note = next(iter(e for e in unit.errors if e.startswith("Error")), "") or (
                unit.errors[-1] if unit.errors else "failed (see its log)"
            )
        self._set_status(unit, UnitStatus.FAILED, note)

    def _record_known(self, unit: UnitRun, known: catalog_mod.KnownError, *, by: str) -> KnownErrorRecord:
        """One record per unit, error and who handles it; a repeat only moves its attempt number."""
        for record in self.known_errors:
            if (record.unit, record.error_id, record.by, record.recovered) == (
                unit.path,
                known.id,
                by,
                False,
            ):
                record.attempt = unit.attempts
                return record
        record = KnownErrorRecord(
            account=unit.account,
            unit=unit.path,
            error_id=known.id,
            title=known.title,
            explanation=known.explanation,
            action=known.action.value,
            by=by,
            attempt=unit.attempts,
        )
        self.known_errors.append(record)
        handled = {
            "terragrunt": "terragrunt retries it itself",
            "runner": "the runner reruns the unit",
            "operator": "needs you",
        }[by]
        self._emit(
            EventKind.KNOWN_ERROR,
            unit.account,
            unit.path,
            message=f"{known.title} ({handled}): {known.explanation}",
            attempt=unit.attempts,
        )
        return record

    # -- the run -----------------------------------------------------------------------------------

    async def execute(self) -> dict[str, Any]:
        """Runs every selected account in deployment order; returns the summary (also saved to disk)."""
        self.started = time.time()
        await asyncio.to_thread(self._write_meta)
        total = sum(len(a.units) for a in self.accounts.values())
        self._emit(
            EventKind.RUN_STARTED,
            message=f"{self.config.command} of {total} unit(s) in {len(self.accounts)} account(s) "
            f"with {self.engine}; run {self.id}",
        )
        if self.simulated:
            self._emit(
                EventKind.NOTICE,
                message="SIMULATED: terragrunt is not installed, so this rehearsal walks the real dependency "
                "waves without deploying anything",
            )
        if self.workspace is not None:
            self.workspace.journal(
                f"run.{self.config.command}.start", outcome="running", detail=f"run {self.id} ({self.engine})"
            )
        blocked_by: str | None = None
        stopped = False  # the task was cancelled (the app quit or died): the run did not finish
        try:
            account_waves = checklist.deployment_waves(self.accounts)
            if self.config.command == "destroy":
                account_waves.reverse()  # the application accounts first, security last
            for wave in account_waves:
                if self.cancelled:
                    for name in wave:
                        self._skip_account(self.accounts[name], "cancelled before this account started", True)
                    continue
                if blocked_by is not None:
                    for name in wave:
                        self._skip_account(
                            self.accounts[name],
                            f"not started: {blocked_by} did not finish successfully",
                            False,
                        )
                    continue
                await self.pause_point()
                if self.cancelled:
                    for name in wave:
                        self._skip_account(self.accounts[name], "cancelled before this account started", True)
                    continue
                self._emit(EventKind.WAVE_STARTED, message="accounts: " + ", ".join(wave))
                await asyncio.gather(*(self._run_account_safely(self.accounts[name]) for name in wave))
                failed = [n for n in wave if self.accounts[n].status is not AccountStatus.SUCCEEDED]
                if failed and self.config.stop_after_failed_account and self.config.command != "plan":
                    blocked_by = ", ".join(failed)
        except asyncio.CancelledError:
            stopped = True
            raise
        finally:
            if stopped or self.left_running:
                # lanes may still be running (left so, or cut off): recording "finished" would be a lie;
                # reopening reads outcomes.jsonl (and quit.json) and says what did not finish
                if self._outcomes is not None:
                    self._outcomes.close()
            else:
                self.finished = time.time()
                summary = self.summary()
                await asyncio.to_thread(self._finish_on_disk, summary)
        self._emit(EventKind.RUN_FINISHED, message=self.summary_line())
        return summary

    def _skip_account(self, account: AccountRun, note: str, cancelled: bool) -> None:
        account.status = AccountStatus.CANCELLED if cancelled else AccountStatus.SKIPPED
        account.note = note
        account.started = account.finished = time.time()
        self._persist_account(account, "account_started")
        for unit in account.units.values():
            self._set_status(unit, UnitStatus.SKIPPED, note)
        self._persist_account(account, "account_finished", status=account.status.value)
        self._emit(EventKind.ACCOUNT_FINISHED, account.name, message=f"{account.status.value}: {note}")

    async def _prepare_env(self, account: AccountRun) -> dict[str, str]:
        plan = self.config.env_plans.get(account.name) or AccountEnvPlan(
            account=account.name, region=self.config.default_region
        )
        getter = self.config.env_for_account

        def build() -> dict[str, str]:
            access = dict(getter(account.name)) if getter is not None else {}
            values = fetch_secrets(plan, allow_plaintext=self.config.allow_plaintext_keyring)
            return child_environment(plan, account_env=access, secret_values=values)

        return await asyncio.to_thread(build)

    async def _run_account_safely(self, account: AccountRun) -> None:
        """A bug in one account's handling fails that account, with the log's details, not the whole app."""
        try:
            await self._run_account(account)
        except Exception as exc:
            log.exception("run %s: account %s failed unexpectedly", self.id, account.name)
            for unit in account.units.values():
                if not unit.status.finished:
                    self._set_status(
                        unit, UnitStatus.FAILED, f"internal error: {exc} (details in the log file)"
                    )
            self._finish_account(
                account, AccountStatus.FAILED, f"internal error: {exc} (details in the log file)"
            )

    async def _run_account(self, account: AccountRun) -> None:
        account.status = AccountStatus.RUNNING
        account.started = time.time()
        self._persist_account(account, "account_started")
        self._emit(EventKind.ACCOUNT_STARTED, account.name, message=f"{len(account.units)} unit(s)")
        try:
            env = await self._prepare_env(account)
        except (RunSetupError, Exception) as exc:
            message = str(exc) if isinstance(exc, RunSetupError) else f"cannot prepare the environment: {exc}"
            log.warning("account %s: %s", account.name, message)
            for unit in account.units.values():
                self._set_status(unit, UnitStatus.SKIPPED, message)
            self._finish_account(account, AccountStatus.FAILED, message)
            return

        targets = [u for u in account.units.values() if u.status is UnitStatus.PENDING]
        working_dir = self.config.live_root / account.name
        imports = [i for i in self.config.imports.get(account.name, ()) if i.unit in account.units]
        retries = 0
        source_update = False
        number = 0
        while targets and not self.cancelled:
            number += 1
            account.invocations = number
            session = AccountSession(
                self,
                account,
                targets,
                working_dir=working_dir,
                env=env,
                source_update=source_update,
                number=number,
            )
            try:
                if imports:
                    problem = await self.executor.run_imports(session, imports)
                    imports = []
                    if problem is not None:
                        for unit in targets:
                            self._set_status(unit, UnitStatus.SKIPPED, problem)
                        break
                result = await self.executor.invoke(session)
            finally:
                session.close()
            if result.exit_code is not None:
                account.exit_codes.append(result.exit_code)
            self._settle(session, result)
            if self.cancelled:
                break
            targets, source_update_needed = self._retry_set(account, targets)
            if not targets:
                break
            if retries >= self.config.max_auto_retries:
                for unit in targets:
                    if unit.status is UnitStatus.FAILED:
                        unit.note = f"{unit.note} (gave up after {retries} automatic rerun(s))"
                        self._persist_unit(unit)
                break
            retries += 1
            source_update = source_update or source_update_needed
            delay = self._rerun_delay(targets, retries)
            for unit in targets:
                if unit.status is UnitStatus.FAILED:
                    unit.retrying = True  # the counter says "retrying" until the rerun settles it
                    unit.version += 1
                if unit.status is UnitStatus.FAILED and unit.known_error:
                    known = self.catalog.get(unit.known_error)
                    self._record_known(unit, known, by="runner")
            self._emit(
                EventKind.NOTICE,
                account.name,
                message=f"rerunning {len(targets)} unit(s) {f'in {delay:.0f} s' if delay else 'now'}"
                f"{' with source update' if source_update else ''} (automatic rerun {retries} of "
                f"{self.config.max_auto_retries})",
            )
            await self._sleep(delay)
            if self.cancelled:
                break
            for unit in targets:
                unit.status = UnitStatus.PENDING
                unit.note = f"automatic rerun {retries}"
                unit.phase = ""
                unit.version += 1
                self._persist_unit(unit)
                self._emit(
                    EventKind.UNIT_RETRIED,
                    account.name,
                    unit.path,
                    message=f"automatic rerun {retries}" + (" with source update" if source_update else ""),
                    attempt=unit.attempts,
                )
        self._mark_recovered(account)
        for unit in account.units.values():
            if unit.status is UnitStatus.FAILED and unit.known_error:
                known = self.catalog.get(unit.known_error)
                if not known.action.automatic:
                    self._record_known(unit, known, by="operator")
            elif not unit.status.finished:
                self._set_status(
                    unit,
                    UnitStatus.SKIPPED,
                    "cancelled before it started" if self.cancelled else "did not run",
                )
        if self.cancelled:
            status = AccountStatus.CANCELLED
        elif all(u.status is UnitStatus.SUCCEEDED for u in account.units.values()):
            status = AccountStatus.SUCCEEDED
        else:
            status = AccountStatus.FAILED
        if status is AccountStatus.SUCCEEDED and account.exit_codes and account.exit_codes[-1] != 0:
            status = AccountStatus.FAILED
            account.note = f"terragrunt exited {account.exit_codes[-1]} although every unit reported success"
        self._finish_account(account, status, account.note)

    def _finish_account(self, account: AccountRun, status: AccountStatus, note: str) -> None:
        account.status = status
        account.note = note
        account.finished = time.time()
        self._persist_account(account, "account_finished", status=status.value)
        counts = account.counts()
        self._emit(
            EventKind.ACCOUNT_FINISHED,
            account.name,
            message=f"{status.value}: {counts['succeeded']} succeeded, {counts['failed']} failed, "
            f"{counts['skipped']} skipped" + (f" — {note}" if note else ""),
        )

    def _settle(self, session: AccountSession, result: InvocationResult) -> None:
        """Final statuses for this invocation's units: the report file first, then the parsed output."""
        report = result.report
        code = result.exit_code
        clean_exit = code == 0 and session.failures == 0 and not result.error
        for unit in session.targets:
            if report is not None and unit.path in report:
                outcome, cause = report[unit.path]
                if outcome == "succeeded":
                    self._set_status(unit, UnitStatus.SUCCEEDED)
                elif outcome == "failed":
                    if cause:
                        unit.errors.extend(line for line in cause.splitlines()[-20:] if line.strip())
                    if unit.status is not UnitStatus.FAILED:
                        self._fail(unit, "")
                elif outcome in ("early exit", "excluded") and unit.status is not UnitStatus.FAILED:
                    self._set_status(
                        unit,
                        UnitStatus.SKIPPED,
                        f"did not run: a dependency failed ({cause})" if cause else "did not run",
                    )
                continue
            if unit.status.finished:
                continue
            if unit.status is UnitStatus.RUNNING:
                if self.cancelled:
                    self._set_status(unit, UnitStatus.CANCELLED, "cancelled while it ran")
                elif clean_exit and self.config.command != "plan":
                    self._set_status(
                        unit, UnitStatus.SUCCEEDED, "no completion line seen; terragrunt exited 0"
                    )
                else:
                    self._fail(unit, "")
            elif self.cancelled:
                self._set_status(unit, UnitStatus.SKIPPED, "cancelled before it started")
            elif result.error:
                self._set_status(unit, UnitStatus.FAILED, result.error)
            elif clean_exit:
                self._set_status(unit, UnitStatus.SUCCEEDED, "terragrunt printed nothing for it and exited 0")
            elif session.failures:
                self._set_status(unit, UnitStatus.SKIPPED, "did not run (another unit failed)")
            else:
                self._set_status(unit, UnitStatus.FAILED, f"terragrunt exited {code} before running it")

    def _rerun_delay(self, targets: list[UnitRun], retries: int) -> float:
        """Back off only for transient errors; a deterministic fix (source update) reruns at once."""
        transient = any(
            unit.status is UnitStatus.FAILED
            and unit.known_error
            and self.catalog.get(unit.known_error).action.waits
            for unit in targets
        )
        if not transient:
            return 0.0
        return min(self.config.backoff_max, self.config.backoff_base * (2.0 ** (retries - 1)))

    def _retry_set(self, account: AccountRun, targets: list[UnitRun]) -> tuple[list[UnitRun], bool]:
        retry: set[str] = set()
        source_update = False
        for unit in targets:
            if unit.status is not UnitStatus.FAILED or not unit.known_error:
                continue
            known = self.catalog.get(unit.known_error)
            if known.action.automatic:
                retry.add(unit.path)
                source_update = source_update or known.action is catalog_mod.Action.SOURCE_UPDATE
        if not retry:
            return [], False
        # units that were skipped come along when everything that had to run before them is done or rerun
        # with them: their dependencies for an apply, the units that depend on them for a destroy
        before = self._destroy_predecessors(account) if self.config.command == "destroy" else None
        for unit in sorted(targets, key=lambda u: u.wave):
            if unit.status is not UnitStatus.SKIPPED:
                continue
            first = unit.dependencies if before is None else before.get(unit.path, ())
            if all(
                dep not in account.units or account.units[dep].status is UnitStatus.SUCCEEDED or dep in retry
                for dep in first
            ):
                retry.add(unit.path)
        return [u for u in targets if u.path in retry], source_update

    @staticmethod
    def _destroy_predecessors(account: AccountRun) -> dict[str, tuple[str, ...]]:
        """unit -> the units of this run that depend on it (a destroy must take them down first)."""
        result: dict[str, list[str]] = {path: [] for path in account.units}
        for path, unit in account.units.items():
            for dep in unit.dependencies:
                if dep in result:
                    result[dep].append(path)
        return {path: tuple(units) for path, units in result.items()}

    def _mark_recovered(self, account: AccountRun) -> None:
        titles: dict[str, list[str]] = {}
        for record in self.known_errors:
            if record.account != account.name or record.recovered:
                continue
            unit = account.units.get(record.unit)
            if unit is not None and unit.status is UnitStatus.SUCCEEDED:
                record.recovered = True
                names = titles.setdefault(unit.path, [])
                if record.title not in names:
                    names.append(record.title)
        for path, names in titles.items():
            unit = account.units[path]
            self._emit(
                EventKind.KNOWN_ERROR,
                account.name,
                path,
                message=f"recovered: {', '.join(names)} (succeeded after {unit.attempts} attempt(s))",
                attempt=unit.attempts,
            )

    # -- results -----------------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The report contract (see store.report_document)."""
        accounts = []
        for account in self.accounts.values():
            started = store.iso(account.started or self.started) or ""
            finished = store.iso(account.finished or account.started or self.started) or ""
            accounts.append(
                (
                    account.name,
                    started,
                    finished,
                    [(u.path, u.status, u.attempts, str(u.log_path)) for u in account.units.values()],
                )
            )
        return store.report_document(self.engine, accounts)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "command": self.config.command,
            "engine": self.engine,
            "simulated": self.simulated,
            "started": store.iso(self.started),
            "finished": store.iso(self.finished),
            "cancelled": self.cancelled,
            "accounts": {
                a.name: {
                    "status": a.status.value,
                    "note": a.note,
                    "duration_s": round(a.duration(), 1),
                    "invocations": a.invocations,
                    "exit_codes": a.exit_codes,
                    **{
                        k: v
                        for k, v in a.counts().items()
                        if k in ("succeeded", "failed", "skipped", "cancelled")
                    },
                }
                for a in self.accounts.values()
            },
            "known_errors": [
                {
                    "account": r.account,
                    "unit": r.unit,
                    "error": r.error_id,
                    "by": r.by,
                    "attempt": r.attempt,
                    "recovered": r.recovered,
                }
                for r in self.known_errors
            ],
            "report": self.report(),
        }

    def succeeded(self) -> bool:
        return bool(self.units) and all(u.status is UnitStatus.SUCCEEDED for u in self.units)

    def not_succeeded(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for account in self.accounts.values():
            paths = [u.path for u in account.units.values() if u.status is not UnitStatus.SUCCEEDED]
            if paths:
                result[account.name] = paths
        return result

    def summary_line(self) -> str:
        units = self.units
        # the operator's words: cancelled and not started are not failures (the report contract keeps its
        # three words; this line is for people)
        tally = {
            "succeeded": sum(1 for u in units if u.status is UnitStatus.SUCCEEDED),
            "failed": sum(1 for u in units if u.status in (UnitStatus.FAILED, UnitStatus.INTERRUPTED)),
            "cancelled": sum(1 for u in units if u.status is UnitStatus.CANCELLED),
            "skipped": sum(1 for u in units if u.status in (UnitStatus.SKIPPED, UnitStatus.PENDING)),
        }
        word = (
            "cancelled" if self.cancelled else ("succeeded" if self.succeeded() else "finished with problems")
        )
        return (
            f"run {word}: {tally['succeeded']} succeeded, {tally['failed']} failed, "
            + (f"{tally['cancelled']} cancelled, " if tally["cancelled"] else "")
            + f"{tally['skipped']} skipped"
            + (" (SIMULATED)" if self.simulated else "")
        )

    def _finish_on_disk(self, summary: dict[str, Any]) -> None:
        for unit in self.units:
            if not unit.log_path.exists():
                with _open_append(unit.log_path) as handle:
                    handle.write(f"# {unit.path}: {unit.status.value} — {unit.note or 'no output'}\n")
        store.write_json(self.directory / store.SUMMARY_FILE, summary)
        if self._outcomes is not None:
            self._outcomes.append({"kind": "run_finished", "time": store.iso(self.finished)}, durable=True)
            self._outcomes.close()
        if self.workspace is not None:
            self.workspace.journal(
                f"run.{self.config.command}.finish",
                outcome="cancelled" if self.cancelled else ("done" if self.succeeded() else "failed"),
                detail=f"run {self.id}: {self.summary_line()}",
            )
            if self.state is not None and self.config.record_in_state and self.config.command == "apply":
                self._record_state()

    def _record_state(self) -> None:
        assert self.workspace is not None and self.state is not None
        for account in self.accounts.values():
            if account.status is AccountStatus.SUCCEEDED:
                # a rehearsal deploys nothing: its success has a word of its own, so nobody reads "done"
                status = Status.REHEARSED if self.simulated else Status.DONE
            elif account.status in (AccountStatus.FAILED, AccountStatus.CANCELLED):
                status = Status.FAILED
            else:
                continue
            try:
                self.workspace.update_step(
                    self.state,
                    "terragrunt",
                    account.name,
                    status,
                    facts={"last_run": self.id, "engine": self.engine},
                    message=("SIMULATED rehearsal — " if self.simulated else "")
                    + (account.note or status.value),
                )
            except Exception:  # state problems must not hide the run's own outcome
                log.exception("could not record the run in the workspace state")
