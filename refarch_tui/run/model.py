"""What a run is made of: per-unit and per-account progress, and the events observers receive."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

UNIT_LOG_LINES = 400  # lines of each unit's log kept in memory (the full log is on disk)
UNIT_ERROR_LINES = 60


class UnitStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # did not run: a dependency failed, an earlier account failed, or not selected
    CANCELLED = "cancelled"  # stopped by the operator while it ran
    INTERRUPTED = "interrupted"  # the app died while it ran (seen when a run is reloaded from disk)

    @property
    def finished(self) -> bool:
        return self not in (UnitStatus.PENDING, UnitStatus.RUNNING)

    @property
    def report_status(self) -> str:
        """The three words of the report contract."""
        if self is UnitStatus.SUCCEEDED:
            return "succeeded"
        if self in (UnitStatus.PENDING, UnitStatus.SKIPPED):
            return "skipped"
        return "failed"


class AccountStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class EventKind(StrEnum):
    RUN_STARTED = "run_started"
    NOTICE = "notice"  # warnings and facts for the operator (pending steps, SIMULATED, …)
    WAVE_STARTED = "wave_started"  # an account wave (security | shared-services | dev+stage+prod)
    ACCOUNT_STARTED = "account_started"
    ACCOUNT_FINISHED = "account_finished"
    UNIT_STARTED = "unit_started"
    UNIT_PHASE = "unit_phase"  # init | planning | applying
    UNIT_RESOURCE = "unit_resource"  # a resource progress line
    UNIT_SUCCEEDED = "unit_succeeded"
    UNIT_FAILED = "unit_failed"
    UNIT_SKIPPED = "unit_skipped"
    UNIT_CANCELLED = "unit_cancelled"
    UNIT_RETRIED = "unit_retried"  # terragrunt's own retry, or the runner's
    KNOWN_ERROR = "known_error"  # a catalogued error was seen (recovered or not)
    PAUSED = "paused"
    RESUMED = "resumed"
    RUN_FINISHED = "run_finished"


@dataclass(slots=True)
class RunEvent:
    """One thing that happened (treat as immutable; not frozen only because that costs per event)."""

    kind: EventKind
    account: str | None = None
    unit: str | None = None
    message: str = ""
    attempt: int = 0
    simulated: bool = False
    time: float = field(default_factory=time.time)


@dataclass
class KnownErrorRecord:
    account: str
    unit: str
    error_id: str
    title: str
    explanation: str
    action: str
    by: str  # "terragrunt" (its built-in retry) or "runner" (our retry) or "operator" (suggestion)
    attempt: int
    recovered: bool = False
    time: float = field(default_factory=time.time)


@dataclass
class UnitRun:
    path: str  # relative to the live root
    account: str
    wave: int
    log_path: Path
    dependencies: tuple[str, ...] = ()
    status: UnitStatus = UnitStatus.PENDING
    phase: str = ""
    attempts: int = 0  # tofu runs of this unit, terragrunt's own retries included
    started: float | None = None
    finished: float | None = None
    resources: int = 0  # resource progress lines seen
    note: str = ""
    known_error: str | None = None
    retrying: bool = False  # failed, and an automatic rerun is scheduled: not (yet) a failure
    log: deque[str] = field(default_factory=lambda: deque(maxlen=UNIT_LOG_LINES))
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=UNIT_ERROR_LINES))
    version: int = 0  # bumped on every change; views redraw when it moves

    def elapsed(self, now: float | None = None) -> float:
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else (now or time.time())
        return max(0.0, end - self.started)


@dataclass
class AccountRun:
    name: str
    units: dict[str, UnitRun]  # in wave order
    waves: list[list[str]]
    raw_log: Path
    status: AccountStatus = AccountStatus.PENDING
    started: float | None = None
    finished: float | None = None
    invocations: int = 0
    lines: int = 0  # output lines ingested, all invocations
    exit_codes: list[int] = field(default_factory=list)
    note: str = ""
    pid: int | None = None

    def counts(self) -> dict[str, int]:
        result = {status.value: 0 for status in UnitStatus}
        for unit in self.units.values():
            result[unit.status.value] += 1
        return result

    def duration(self, now: float | None = None) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, (self.finished or now or time.time()) - self.started)
