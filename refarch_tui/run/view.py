"""What the live view shows, computed without Textual: the preflight's account choices and summary, lanes
per account with rows per unit grouped by wave, the counters, and how the lanes share the terminal.

Built from a live `Run` or from a `RunRecord` read back from disk (after a crash), so the screen renders
both the same way, and the benchmark can drive a headless consumer with exactly the screen's work.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from refarch_tui.run.engine import Run
from refarch_tui.run.model import UnitRun, UnitStatus
from refarch_tui.run.store import RunRecord, from_iso

if TYPE_CHECKING:
    from refarch_tui.run.controller import Preflight

# status word -> style (a word and a colour, never colour alone)
WORD_STYLES = {
    "pending": "bright_white",
    "init": "yellow",
    "planning": "yellow",
    "applying": "bold yellow",
    "running": "bold yellow",
    "succeeded": "bold green",
    "retrying": "yellow",
    "failed": "bold red",
    "skipped": "cyan",
    "cancelled": "bold magenta",
    "interrupted": "bold magenta",
}
# what "filter failed" keeps: a unit waiting for its automatic rerun failed once, so it stays in view
NOT_OK = frozenset({"failed", "retrying", "skipped", "cancelled", "interrupted"})


@dataclass(frozen=True)
class LaneRow:
    key: str  # unit path, or "wave:<account>:<n>" for a wave header
    label: str
    word: str  # status word ("" for wave headers)
    elapsed: str
    attempts: int = 0
    is_wave: bool = False


@dataclass(frozen=True)
class Lane:
    account: str
    title: str
    rows: tuple[LaneRow, ...]
    tab_title: str = ""  # shorter, for a tab when the lanes do not fit side by side


def format_elapsed(seconds: float) -> str:
    if seconds <= 0:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def unit_word(unit: UnitRun) -> str:
    if unit.retrying:
        return "retrying"  # failed once, the runner reruns it: not (yet) a failure
    if unit.status is UnitStatus.RUNNING:
        return unit.phase or "running"
    return unit.status.value


def short_label(path: str, account: str) -> str:
    return path[len(account) + 1 :] if path.startswith(account + "/") else path


def lanes_from_run(run: Run, *, failed_only: bool = False, now: float | None = None) -> list[Lane]:
    now = now or time.time()
    lanes = []
    for account in run.accounts.values():
        rows: list[LaneRow] = []
        for index, wave in enumerate(account.waves):
            units = [account.units[p] for p in wave]
            if failed_only:
                units = [u for u in units if unit_word(u) in NOT_OK]
                if not units:
                    continue
            rows.append(LaneRow(f"wave:{account.name}:{index}", f"wave {index + 1}", "", "", is_wave=True))
            for unit in units:
                retry = f" ×{unit.attempts}" if unit.attempts > 1 else ""
                rows.append(
                    LaneRow(
                        unit.path,
                        short_label(unit.path, account.name) + retry,
                        unit_word(unit),
                        format_elapsed(unit.elapsed(now)),
                        unit.attempts,
                    )
                )
        counts = account.counts()
        title = f"{account.name} · {account.status.value} · {counts['succeeded']}/{len(account.units)}" + (
            f" · {format_elapsed(account.duration(now))}" if account.started else ""
        )
        tab = f"{account.name} {counts['succeeded']}/{len(account.units)} {account.status.value}"
        lanes.append(Lane(account.name, title, tuple(rows), tab))
    return lanes


def lanes_from_record(record: RunRecord, *, failed_only: bool = False) -> list[Lane]:
    lanes = []
    for account in record.accounts.values():
        rows: list[LaneRow] = []
        waves: dict[int, list[LaneRow]] = {}
        for unit in account.units.values():
            word = unit.status.value
            if failed_only and word not in NOT_OK and word != "pending":
                continue
            retry = f" ×{unit.attempts}" if unit.attempts > 1 else ""
            waves.setdefault(unit.wave, []).append(
                LaneRow(unit.path, short_label(unit.path, account.name) + retry, word, "", unit.attempts)
            )
        for index in sorted(waves):
            rows.append(LaneRow(f"wave:{account.name}:{index}", f"wave {index + 1}", "", "", is_wave=True))
            rows.extend(waves[index])
        started, finished = from_iso(account.started), from_iso(account.finished)
        took = format_elapsed(finished - started) if started and finished else ""
        ok = sum(1 for u in account.units.values() if u.status is UnitStatus.SUCCEEDED)
        title = f"{account.name} · {account.status} · {ok}/{len(account.units)}" + (
            f" · {took}" if took else ""
        )
        tab = f"{account.name} {ok}/{len(account.units)} {account.status}"
        lanes.append(Lane(account.name, title, tuple(rows), tab))
    return lanes


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    succeeded: int
    failed: int
    skipped: int
    running: int
    cancelled: int = 0  # stopped by the operator: not a failure
    retrying: int = 0  # failed once, an automatic rerun is scheduled: not (yet) a failure

    def text(self) -> str:
        extra = "".join(
            f" · {n} {word}" for n, word in ((self.retrying, "retrying"), (self.cancelled, "cancelled")) if n
        )
        return (
            f"{self.done}/{self.total} finished · {self.succeeded} succeeded · {self.failed} failed · "
            f"{self.skipped} skipped · {self.running} running{extra}"
        )


def progress(run: Run) -> Progress:
    units = run.units
    return Progress(
        done=sum(1 for u in units if u.status.finished and not u.retrying),
        total=len(units),
        succeeded=sum(1 for u in units if u.status is UnitStatus.SUCCEEDED),
        failed=sum(
            1 for u in units if u.status in (UnitStatus.FAILED, UnitStatus.INTERRUPTED) and not u.retrying
        ),
        skipped=sum(1 for u in units if u.status is UnitStatus.SKIPPED),
        running=sum(1 for u in units if u.status is UnitStatus.RUNNING),
        cancelled=sum(1 for u in units if u.status is UnitStatus.CANCELLED),
        retrying=sum(1 for u in units if u.retrying),
    )


# -- the preflight: one choice per account --------------------------------------------------------


@dataclass(frozen=True)
class AccountChoice:
    """One account of the preflight as the screen shows it: a tick line, an identity line, a warning."""

    name: str
    label: str  # next to the tick: name, id, units, region
    identity: str  # who the run acts as there, how long the credentials last, what it injects
    warning: str  # "" when nothing stands in the way
    ticked: bool  # the default tick: only accounts with nothing standing in the way


def account_choices(
    pre: Preflight,
    *,
    identities: Mapping[str, str],
    time_left: Mapping[str, str],
    blocked: Collection[str],
) -> list[AccountChoice]:
    choices = []
    for account in pre.accounts:
        identity = f"identity {identities.get(account.name, 'not checked')}"
        if account.name in time_left and not identity.endswith(" left)"):  # the summary may carry it
            identity += f" · credentials {time_left[account.name]} left"
        if account.secret_names:
            identity += f" · injects {', '.join(account.secret_names)}"
        if account.name in blocked:
            warning = "BLOCKED: the credentials reach another account — fix it with i; it would fail"
        elif account.pending_steps:
            warning = f"⚠ {len(account.pending_steps)} step(s) not done — tick to run anyway: " + "; ".join(
                account.pending_steps
            )
        else:
            warning = ""
        choices.append(
            AccountChoice(
                account.name,
                f"{account.name} ({account.account_id or '?'}) · {account.units} units · {account.region}",
                identity,
                warning,
                ticked=not account.pending_steps and account.name not in blocked,
            )
        )
    return choices


def engine_text(pre: Preflight) -> str:
    if pre.terragrunt is None:
        return "SIMULATED rehearsal (terragrunt is not installed)"
    return pre.terragrunt.describe()


def preflight_lines(pre: Preflight, record: RunRecord | None, *, running: bool) -> list[str]:
    """The preflight's summary: the engine, the live repo's warnings, a run a crash left running."""
    lines = [f"Engine: {engine_text(pre)}", *(f"warning: {w}" for w in pre.warnings[:5])]
    leftover = record.running_pids() if record is not None and not record.complete else []
    if record is not None and leftover and not running:
        lines.append(
            f"warning: terragrunt from the interrupted run {record.run_id} still runs (process group "
            f"{', '.join(map(str, leftover))}); let it finish before rerunning"
        )
    return lines


def running_line(pre: Preflight | None, run: Run) -> str:
    """The preflight folded to one line while a run goes: the lanes need the room."""
    engine = engine_text(pre) if pre is not None else run.engine
    return (
        f"Running {', '.join(run.accounts)} · engine: {engine} · "
        "the account choice comes back when the run ends"
    )


def counts_line(run: Run) -> str:
    state = "PAUSED · " if run.paused else ""
    label = "SIMULATED · " if run.simulated else ""
    return f"{label}{state}{progress(run).text()} · run {run.id}"


def record_line(record: RunRecord) -> str:
    ending = "unfinished (the app stopped)" if not record.complete else "finished"
    return f"last run {record.run_id} ({ending}, from disk): r reruns what did not succeed"


def outcome_severity(message: str) -> Literal["information", "warning"]:
    """How loud the run's final notice is: a plain notice for success, a warning otherwise."""
    return "information" if "succeeded:" in message else "warning"


def unit_log_path(unit_path: str | None, run: Run | None, record: RunRecord | None) -> Path | None:
    """The log file of a unit, from the live run or else from the last run on disk."""
    if unit_path is None:
        return None
    if run is not None:
        unit = run.unit(unit_path)
        return unit.log_path if unit is not None else None
    if record is None:
        return None
    for account in record.accounts.values():
        if unit_path in account.units:
            return Path(account.units[unit_path].log)
    return None


# -- how the lanes share the terminal ---------------------------------------------------------------

# a lane narrower than this cuts the unit names to nothing (status 11 + time 6 + a readable name + padding)
LANE_MIN_WIDTH = 48
# border, title, column header and a handful of units
LANE_MIN_HEIGHT = 9


@dataclass(frozen=True)
class LaneLayout:
    columns: int  # lanes side by side
    tabs: bool  # one lane per tab: the lanes do not fit on the screen together


def lane_layout(count: int, width: int, height: int) -> LaneLayout:
    """Side by side when every lane gets a readable width; in rows when they also get a useful height;
    otherwise one lane per tab."""
    if count <= 1:
        return LaneLayout(1, False)
    per_row = max(1, min(count, width // LANE_MIN_WIDTH))
    rows = -(-count // per_row)
    if rows * LANE_MIN_HEIGHT > height:
        return LaneLayout(1, True)
    return LaneLayout(-(-count // rows), False)  # balanced: 3+2 rather than 4+1
