"""What the live view shows, computed without Textual: lanes per account, rows per unit grouped by wave.

Built from a live `Run` or from a `RunRecord` read back from disk (after a crash), so the screen renders
both the same way, and the benchmark can drive a headless consumer with exactly the screen's work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from refarch_tui.run.engine import Run
from refarch_tui.run.model import UnitRun, UnitStatus
from refarch_tui.run.store import RunRecord, from_iso

# status word -> style (a word and a colour, never colour alone)
WORD_STYLES = {
    "pending": "bright_white",
    "init": "yellow",
    "planning": "yellow",
    "applying": "bold yellow",
    "running": "bold yellow",
    "succeeded": "bold green",
    "failed": "bold red",
    "skipped": "cyan",
    "cancelled": "bold magenta",
    "interrupted": "bold magenta",
}
NOT_OK = frozenset({"failed", "skipped", "cancelled", "interrupted"})


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
            f" · {format_elapsed(account.duration())}" if account.started else ""
        )
        lanes.append(Lane(account.name, title, tuple(rows)))
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
        lanes.append(Lane(account.name, title, tuple(rows)))
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
