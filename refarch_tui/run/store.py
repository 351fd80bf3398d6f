"""Runs on disk, so the last run's outcome survives a crash or `kill -9` of the app.

`<workspace>/runs/<run-id>/`
- `run.json`        what the run was about (accounts, units, log paths), written atomically at start;
- `outcomes.jsonl`  one appended line per unit or account status change (a torn last line is skipped);
- `summary.json`    the report and per-account counts, written atomically at the end;
- `quit.json`       written when the operator quit the app during the run: what they chose, when, and the
                    terragrunt processes left running (absent for a run nobody quit);
- `logs/<unit path>.log`, `raw/<account>.log`  per-unit logs and the whole (redacted) raw output.
`<workspace>/runs/LAST` names the newest run.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refarch_tui import secrets
from refarch_tui.atomic import atomic_write_text, open_private_append
from refarch_tui.run.model import UnitStatus

RUN_FILE = "run.json"
OUTCOMES_FILE = "outcomes.jsonl"
SUMMARY_FILE = "summary.json"
QUIT_FILE = "quit.json"
LAST_FILE = "LAST"

QUIT_CANCELLED = "cancelled"  # the operator quit and the run was cancelled first (it finished cancelled)
QUIT_LEFT_RUNNING = "left-running"  # the operator quit and left terragrunt running without the app
QUIT_CHOICES = (QUIT_CANCELLED, QUIT_LEFT_RUNNING)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def write_json(path: Path, document: Any) -> None:
    text = json.dumps(document, indent=2) + "\n"
    atomic_write_text(path, secrets.redact(text), mode=0o600)


class OutcomeLog:
    """Append-only JSON lines; each line is one os.write of a complete line (O_APPEND)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = open_private_append(path)

    def append(self, entry: dict[str, Any], *, durable: bool = False) -> None:
        if self._fd is None:
            return
        line = secrets.redact(json.dumps(entry, separators=(",", ":"))) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        if durable:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


@dataclass
class UnitRecord:
    path: str
    wave: int
    log: str
    status: UnitStatus = UnitStatus.PENDING
    attempts: int = 0
    note: str = ""


@dataclass
class AccountRecord:
    name: str
    units: dict[str, UnitRecord]
    started: str | None = None
    finished: str | None = None
    status: str = "pending"
    pid: int | None = None


@dataclass
class QuitRecord:
    """What the operator chose when they quit the app while this run was active."""

    choice: str  # QUIT_CANCELLED | QUIT_LEFT_RUNNING
    time: str
    left_running: dict[str, int | None] = field(default_factory=dict)  # account -> terragrunt's PID
    reported: bool = False  # already told on a reopening


def record_quit(
    directory: Path, choice: str, *, left_running: dict[str, int | None] | None = None, reported: bool = False
) -> QuitRecord:
    """Writes `quit.json` (atomically) in the run's directory."""
    if choice not in QUIT_CHOICES:
        raise ValueError(f"unknown quit choice {choice!r}")
    record = QuitRecord(
        choice=choice,
        time=iso(datetime.now(UTC).timestamp()) or "",
        left_running=dict(left_running or {}),
        reported=reported,
    )
    _write_quit(directory, record)
    return record


def _write_quit(directory: Path, record: QuitRecord) -> None:
    write_json(
        directory / QUIT_FILE,
        {
            "choice": record.choice,
            "time": record.time,
            "left_running": record.left_running,
            "reported": record.reported,
        },
    )


def read_quit(directory: Path) -> QuitRecord | None:
    """The run's quit.json; None when nobody quit during the run (or the file cannot be read)."""
    try:
        document = json.loads((directory / QUIT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("choice") not in QUIT_CHOICES:
        return None
    left = document.get("left_running")
    return QuitRecord(
        choice=str(document["choice"]),
        time=str(document.get("time", "")),
        left_running={
            str(name): pid if isinstance(pid, int) and not isinstance(pid, bool) else None
            for name, pid in (left.items() if isinstance(left, dict) else ())
        },
        reported=document.get("reported") is True,
    )


def mark_quit_reported(record: RunRecord) -> None:
    """A reopening told the operator about the quit: from now on `quit_sentence` says it again only while a
    terragrunt left running still runs."""
    if record.quit is not None and not record.quit.reported:
        record.quit.reported = True
        _write_quit(record.directory, record.quit)


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _rerun_hint(record: RunRecord) -> str:
    if record.command == "destroy":
        return "Open the teardown (t) to see each unit's outcome and go on."
    return "Press a to see each unit's outcome and rerun what did not succeed."


def quit_sentence(record: RunRecord) -> str | None:
    """What a reopening says about a run the operator quit during; None when there is nothing to say.

    A cancel is told once; terragrunt left running is told every time while one of its processes lives."""
    choice = record.quit
    if choice is None:
        return None
    if choice.choice == QUIT_CANCELLED:
        if not record.complete:
            groups = record.running_pids()
            return (
                f"You quit during run {record.run_id} at {choice.time} and chose to cancel it, but the app "
                "stopped before the cancel finished. "
                + (
                    f"terragrunt still runs (process groups {', '.join(map(str, groups))}) — it may still be "
                    "changing AWS."
                    if groups
                    else "Nothing of it runs any more."
                )
                + f" {_rerun_hint(record)}"
            )
        if choice.reported:
            return None
        left = record.not_succeeded()
        count = sum(len(paths) for paths in left.values())
        return (
            f"You quit during run {record.run_id} at {choice.time} and cancelled it first; nothing was left "
            f"running. {count} unit(s) did not succeed. {_rerun_hint(record)}"
        )
    alive = {name: pid for name, pid in choice.left_running.items() if pid and process_group_alive(pid)}
    if choice.reported and not alive:
        return None
    names = ", ".join(choice.left_running) or "no account"
    pids = ", ".join(f"{name} {pid}" for name, pid in choice.left_running.items() if pid)
    if alive:
        now = (
            f"It still runs in {', '.join(alive)} — it may still be changing AWS; wait for it (its output "
            f"goes to {record.directory / 'raw'}/<account>.log) before you start another run."
        )
    else:
        now = (
            "It has ended since; its outcome was not watched, so check "
            f"{record.directory / 'raw'}/<account>.log. {_rerun_hint(record)}"
        )
    return (
        f"You quit during run {record.run_id} at {choice.time} and left terragrunt running in {names}"
        + (f" (PIDs {pids})" if pids else "")
        + f". {now}"
    )


@dataclass
class RunRecord:
    """A run as read back from disk; complete or not."""

    run_id: str
    directory: Path
    engine: str
    command: str
    simulated: bool
    started: str
    finished: str | None
    accounts: dict[str, AccountRecord] = field(default_factory=dict)
    quit: QuitRecord | None = None  # the operator quit the app during this run (quit.json)

    @property
    def complete(self) -> bool:
        return self.finished is not None

    def not_succeeded(self) -> dict[str, list[str]]:
        """Per account, the units to run again (failed, skipped, cancelled, interrupted, never started)."""
        result: dict[str, list[str]] = {}
        for name, account in self.accounts.items():
            units = [u.path for u in account.units.values() if u.status is not UnitStatus.SUCCEEDED]
            if units:
                result[name] = units
        return result

    def counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for name, account in self.accounts.items():
            tally = {"succeeded": 0, "failed": 0, "skipped": 0}
            for unit in account.units.values():
                tally[unit.status.report_status] += 1
            result[name] = tally
        return result

    def running_pids(self) -> list[int]:
        """Process groups a crashed run left behind that are still alive."""
        alive = []
        for account in self.accounts.values():
            if account.pid and account.finished is None:
                try:
                    os.killpg(account.pid, 0)
                except (ProcessLookupError, PermissionError):
                    continue
                alive.append(account.pid)
        return alive

    def report(self) -> dict[str, Any]:
        return report_document(
            self.engine,
            [
                (
                    a.name,
                    a.started or self.started,
                    a.finished or a.started or self.started,
                    [(u.path, u.status, u.attempts, u.log) for u in a.units.values()],
                )
                for a in self.accounts.values()
            ],
        )


def report_document(
    engine: str, accounts: list[tuple[str, str, str, list[tuple[str, UnitStatus, int, str]]]]
) -> dict[str, Any]:
    """The report contract: accounts[name, started, finished, units[path, status, attempts, log]], engine."""
    return {
        "accounts": [
            {
                "name": name,
                "started": started,
                "finished": finished,
                "units": [
                    {"path": path, "status": status.report_status, "attempts": attempts, "log": log}
                    for path, status, attempts, log in units
                ],
            }
            for name, started, finished, units in accounts
        ],
        "engine": engine,
    }


def last_run_id(runs_dir: Path) -> str | None:
    try:
        text = (runs_dir / LAST_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def set_last_run(runs_dir: Path, run_id: str) -> None:
    atomic_write_text(runs_dir / LAST_FILE, run_id + "\n")


def load_run(runs_dir: Path, run_id: str | None = None) -> RunRecord | None:
    """The run `run_id` (default: the newest) rebuilt from run.json + outcomes.jsonl; None if none."""
    run_id = run_id or last_run_id(runs_dir)
    if run_id is None:
        return None
    directory = runs_dir / run_id
    try:
        meta = json.loads((directory / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record = RunRecord(
        run_id=run_id,
        directory=directory,
        engine=str(meta.get("engine", "")),
        command=str(meta.get("command", "apply")),
        simulated=bool(meta.get("simulated", False)),
        started=str(meta.get("started", "")),
        finished=None,
        quit=read_quit(directory),
    )
    for account in meta.get("accounts", []):
        units = {
            u["path"]: UnitRecord(path=u["path"], wave=int(u.get("wave", 0)), log=str(u.get("log", "")))
            for u in account.get("units", [])
        }
        record.accounts[account["name"]] = AccountRecord(name=account["name"], units=units)
    try:
        lines = (directory / OUTCOMES_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a torn last line from a crash
        _apply(record, entry)
    # anything still open when the process died
    for account in record.accounts.values():
        for unit in account.units.values():
            if unit.status is UnitStatus.RUNNING:
                unit.status = UnitStatus.INTERRUPTED
                unit.note = unit.note or "the app stopped while this unit ran; check its log"
        if account.started and not account.finished and record.finished is None:
            left = record.quit is not None and account.name in record.quit.left_running
            account.status = "left running" if left else "interrupted"
            if left:
                for unit in account.units.values():
                    if unit.status is UnitStatus.INTERRUPTED:
                        unit.note = "left running when the app quit; its outcome was not watched"
    return record


def _apply(record: RunRecord, entry: dict[str, Any]) -> None:
    kind = entry.get("kind")
    if kind == "run_finished":
        record.finished = entry.get("time")
        return
    account = record.accounts.get(str(entry.get("account")))
    if account is None:
        return
    if kind == "unit":
        unit = account.units.get(str(entry.get("unit")))
        if unit is None:
            return
        with contextlib.suppress(ValueError):
            unit.status = UnitStatus(entry.get("status", unit.status))
        unit.attempts = int(entry.get("attempts", unit.attempts))
        unit.note = str(entry.get("note", unit.note) or "")
    elif kind == "account_started":
        account.started = account.started or entry.get("time")
        account.status = "running"
    elif kind == "account_process":
        account.pid = entry.get("pid")
    elif kind == "account_finished":
        account.finished = entry.get("time")
        account.status = str(entry.get("status", "finished"))


def list_runs(runs_dir: Path) -> list[str]:
    if not runs_dir.is_dir():
        return []
    return sorted(p.name for p in runs_dir.iterdir() if (p / RUN_FILE).is_file())
