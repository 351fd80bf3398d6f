"""Workspace state: one JSON file per workspace (atomic, versioned, locked) and an append-only journal.

Nothing secret is ever written here: `save` refuses, and `journal` redacts, any value the secrets
registry knows.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from refarch_tui import checklist, secrets, state_schema
from refarch_tui.atomic import atomic_write_text, open_private_append, private_dir
from refarch_tui.paths import last_workspace_file

SCHEMA_VERSION = 2
STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = "state.lock"


def _v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 carried the run settings as magic keys inside `facts`; version 2 has fields for them."""
    steps = document.get("steps")
    if not isinstance(steps, dict):
        return document  # a wrong shape: the validation after the migrations explains it
    for by_account in steps.values():
        if not isinstance(by_account, dict):
            continue
        for record in by_account.values():
            if not isinstance(record, dict) or not isinstance(record.get("facts"), dict):
                continue
            facts = record["facts"]
            for key in ("run_env", "secret_env", "imports", "followups"):
                if key in facts:
                    record[key] = facts.pop(key)
    return document


# version n -> function turning a version-n document into version n+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Status(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    STALE = "stale"
    NOT_APPLICABLE = "n/a"
    REHEARSED = "rehearsed"  # a SIMULATED run went through it: nothing was deployed, so never "done"


class Mode(StrEnum):
    SANDBOX = "sandbox"
    REAL = "real"


class StateError(Exception):
    """A state file the product will not overwrite; the message says why and what to do."""


class CorruptState(StateError):
    pass


class NewerSchema(StateError):
    pass


class WorkspaceLocked(StateError):
    def __init__(self, path: Path, pid: int) -> None:
        super().__init__(
            f"Workspace {path} is open in another refarch-tui (PID {pid}). Close that one first, "
            f"or if PID {pid} is not refarch-tui, delete {path / LOCK_FILE}."
        )
        self.pid = pid


class SecretInState(StateError):
    pass


@dataclass
class Account:
    name: str
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id}


@dataclass
class StepRecord:
    status: Status = Status.PENDING
    updated: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    # what the apply needs from this step (see refarch_tui.steps.contract.StepResult)
    run_env: dict[str, str] = field(default_factory=dict)  # variable -> plain value
    secret_env: dict[str, str] = field(default_factory=dict)  # variable -> keyring entry name, never a value
    imports: list[dict[str, str]] = field(default_factory=list)  # [{unit, address, id}]
    followups: list[dict[str, str]] = field(default_factory=list)  # [{message, command, after}]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "updated": self.updated,
            "facts": self.facts,
            "evidence": self.evidence,
            "message": self.message,
            "run_env": self.run_env,
            "secret_env": self.secret_env,
            "imports": self.imports,
            "followups": self.followups,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        return cls(
            status=Status(data.get("status", "pending")),
            updated=data.get("updated"),
            facts=dict(data.get("facts") or {}),
            evidence=dict(data.get("evidence") or {}),
            message=str(data.get("message") or ""),
            run_env={str(k): str(v) for k, v in (data.get("run_env") or {}).items()},
            secret_env={str(k): str(v) for k, v in (data.get("secret_env") or {}).items()},
            imports=[{str(k): str(v) for k, v in item.items()} for item in data.get("imports") or []],
            followups=[{str(k): str(v) for k, v in item.items()} for item in data.get("followups") or []],
        )


@dataclass
class WorkspaceState:
    live_dir: str
    mode: Mode
    accounts: list[Account]
    regions: list[str]
    ami_owner: str = checklist.SHARED_SERVICES
    steps: dict[str, dict[str, StepRecord]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=now_iso)

    @property
    def account_names(self) -> list[str]:
        return checklist.order_accounts(a.name for a in self.accounts)

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(f"no account named {name!r} in this workspace")

    @property
    def security_account(self) -> str:
        """Where security-only steps run: `security`, or the sole account of a single-account workspace."""
        return checklist.security_account_of(a.name for a in self.accounts)

    def applies(self, step_id: str, account: str) -> bool:
        return checklist.applies(
            step_id, account, owner_account=self.ami_owner, security_account=self.security_account
        )

    def not_applicable_reason(self, step_id: str, account: str) -> str:
        return checklist.not_applicable_reason(
            step_id, account, owner_account=self.ami_owner, security_account=self.security_account
        )

    def cells(self) -> list[tuple[str, str]]:
        """Every (step, account) cell that applies in this workspace, in checklist order."""
        return checklist.cells(
            self.account_names, owner_account=self.ami_owner, security_account=self.security_account
        )

    def record(self, step_id: str, account: str) -> StepRecord:
        """The record of a cell; cells that do not apply read as n/a and are never stored."""
        if not self.applies(step_id, account):
            return StepRecord(status=Status.NOT_APPLICABLE)
        return self.steps.get(step_id, {}).get(account) or StepRecord()

    def next_cell(self) -> tuple[str, str] | None:
        """Where a half-finished setup resumes: the first cell, in checklist order and deployment order of
        the accounts, that still needs work (pending, failed, stale, running); None when all is done."""
        finished = (Status.DONE, Status.SKIPPED, Status.NOT_APPLICABLE)
        for step in checklist.STEPS:
            for account in self.account_names:
                if self.record(step.id, account).status not in finished:
                    return step.id, account
        return None

    def set_record(self, step_id: str, account: str, record: StepRecord) -> None:
        checklist.step(step_id)
        if not self.applies(step_id, account):
            raise ValueError(f"step {step_id} does not apply to account {account}")
        record.updated = record.updated or now_iso()
        self.steps.setdefault(step_id, {})[account] = record

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "live_dir": self.live_dir,
            "mode": self.mode.value,
            "accounts": [a.to_json() for a in self.accounts],
            "regions": list(self.regions),
            "ami_owner": self.ami_owner,
            "created": self.created,
            "settings": self.settings,
            "steps": {
                step_id: {account: rec.to_json() for account, rec in by_account.items()}
                for step_id, by_account in self.steps.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkspaceState:
        return cls(
            live_dir=str(data["live_dir"]),
            mode=Mode(data["mode"]),
            accounts=[Account(name=str(a["name"]), id=a.get("id")) for a in data["accounts"]],
            regions=[str(r) for r in data.get("regions", [])],
            ami_owner=str(data.get("ami_owner", checklist.SHARED_SERVICES)),
            created=str(data.get("created") or now_iso()),
            settings=dict(data.get("settings") or {}),
            steps={
                step_id: {account: StepRecord.from_json(rec) for account, rec in by_account.items()}
                for step_id, by_account in (data.get("steps") or {}).items()
            },
        )


def migrate(document: dict[str, Any], path: Path) -> dict[str, Any]:
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:  # True is an int to Python
        raise CorruptState(f"{path} has no valid schema_version; it was kept as it is.")
    if version > SCHEMA_VERSION:
        raise NewerSchema(
            f"{path} was written by a newer refarch-tui (schema {version}, this one reads up to "
            f"{SCHEMA_VERSION}). It was kept as it is: upgrade refarch-tui, or start a new workspace."
        )
    while version < SCHEMA_VERSION:
        document = MIGRATIONS[version](document)
        version += 1
        document["schema_version"] = version
    return document


_SAVE_LOCKS: dict[Path, threading.RLock] = {}
_SAVE_LOCKS_GUARD = threading.Lock()


def _save_lock(directory: Path) -> threading.RLock:
    """One lock per workspace directory, shared by every `Workspace` object of it in this process."""
    with _SAVE_LOCKS_GUARD:
        lock = _SAVE_LOCKS.get(directory)
        if lock is None:
            lock = _SAVE_LOCKS[directory] = threading.RLock()
        return lock


# flocks this process holds, by lock path: (descriptor, how many Workspace objects share it)
_HELD: dict[str, tuple[int, int]] = {}
_HELD_LOCK = threading.Lock()


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return True
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def _write_all(fd: int, data: bytes, path: Path) -> None:
    """os.write may write only part (a full disk): loop, and fail loudly with the path on no progress."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(28, f"No space left: could not write to {path}", str(path))
        view = view[written:]


def _pid_in(raw: bytes) -> int | None:
    try:
        return int(json.loads(raw.decode("utf-8"))["pid"])
    except (ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Workspace:
    """A workspace directory: state.json, journal.jsonl, the lock, logs and run records."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser().resolve()
        self._locked = False

    @property
    def save_lock(self) -> threading.RLock:
        """Serialises changes to the state: AWS access saves from worker threads, the engine from the event
        loop, steps from their workers. Hold it around a change *and* its save (it is re-entrant)."""
        return _save_lock(self.directory)

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def journal_path(self) -> Path:
        return self.directory / JOURNAL_FILE

    @property
    def lock_path(self) -> Path:
        return self.directory / LOCK_FILE

    @property
    def logs_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def runs_dir(self) -> Path:
        return self.directory / "runs"

    def exists(self) -> bool:
        return self.state_path.exists()

    def load(self) -> WorkspaceState:
        try:
            raw = self.state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StateError(f"{self.directory} is not a refarch-tui workspace (no {STATE_FILE}).") from None
        except OSError as exc:
            raise StateError(f"Cannot read {self.state_path}: {exc.strerror}.") from None
        try:
            document = json.loads(raw)
            if not isinstance(document, dict):
                raise ValueError("top level is not an object")
        except ValueError as exc:
            raise CorruptState(
                f"{self.state_path} is not valid JSON ({exc}); it was kept as it is. "
                "Start a new workspace, or repair the file by hand."
            ) from None
        document = migrate(document, self.state_path)
        found = state_schema.problems(
            document, statuses=[s.value for s in Status], modes=[m.value for m in Mode]
        )
        if found:
            raise CorruptState(
                f"{self.state_path} does not have the shape of a workspace state: "
                f"{state_schema.summary(found)}. It was kept as it is: start a new workspace, or repair "
                "the file by hand."
            )
        try:
            return WorkspaceState.from_json(document)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorruptState(
                f"{self.state_path} is missing or has a bad field ({exc}); it was kept."
            ) from None

    def save(self, state: WorkspaceState) -> None:
        with self.save_lock:
            text = json.dumps(state.to_json(), indent=2, sort_keys=False) + "\n"
            if secrets.contains_secret(text):
                raise SecretInState("refusing to save workspace state: it would contain a secret value")
            self._refuse_to_clobber_unreadable()
            private_dir(self.directory)
            atomic_write_text(self.state_path, text, mode=0o600)

    def _refuse_to_clobber_unreadable(self) -> None:
        if not self.state_path.exists():
            return
        try:
            document = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise CorruptState(f"{self.state_path} is unreadable; refusing to overwrite it.") from None
        version = document.get("schema_version") if isinstance(document, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise NewerSchema(f"{self.state_path} has a newer schema ({version}); refusing to overwrite it.")
        if not isinstance(document, dict) or state_schema.problems(
            document, statuses=[s.value for s in Status], modes=[m.value for m in Mode]
        ):
            raise CorruptState(f"{self.state_path} has a wrong shape; refusing to overwrite it.")

    def journal(
        self,
        action: str,
        *,
        outcome: str,
        account: str | None = None,
        step: str | None = None,
        detail: str = "",
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one entry. `fields` adds structured keys beside the standard ones (e.g. an edit's
        `file`, `key`, `old`, `new`); they may not replace a standard key."""
        entry: dict[str, Any] = {
            "time": now_iso(),
            "action": action,
            "account": account,
            "step": step,
            "outcome": outcome,
            "detail": detail,
        }
        if fields:
            clash = sorted(set(fields) & set(entry))
            if clash:
                raise ValueError(f"journal fields may not replace {', '.join(clash)}")
            entry.update(fields)
        line = secrets.redact(json.dumps(entry, sort_keys=False, default=str)) + "\n"
        data = line.encode("utf-8")
        fd = open_private_append(self.journal_path)
        try:
            # a line torn by an earlier failed write must not swallow this entry: start on a fresh line
            if not _ends_with_newline(self.journal_path):
                data = b"\n" + data
            _write_all(fd, data, self.journal_path)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        if not self.journal_path.exists():
            return entries
        for line in self.journal_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                # a line torn by a crash or a full disk: reported, never silently dropped
                entries.append(
                    {
                        "time": None,
                        "action": "journal-torn-line",
                        "account": None,
                        "step": None,
                        "outcome": "unreadable",
                        "detail": f"an incomplete line in {self.journal_path}: {line[:200]}",
                    }
                )
        return entries

    # -- lock ------------------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the workspace lock: an exclusive flock on the lock file, so exactly one process holds it.

        The PID written into the file is for people (and for older versions' lock files); the flock is the
        truth. A lock left by a dead process holds no flock and is taken over under our flock, so two
        processes can never both see it as stale. Held by this process already: shared, counted."""
        private_dir(self.directory)
        key = str(self.lock_path)
        with _HELD_LOCK:
            held = _HELD.get(key)
            if held is not None:
                _HELD[key] = (held[0], held[1] + 1)
                self._locked = True
                return
            for _ in range(20):
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    holder = self.lock_holder()
                    raise WorkspaceLocked(self.directory, holder if holder and holder > 0 else -1) from None
                except BaseException:
                    os.close(fd)
                    raise
                # the holder before us unlinks the file on release: a flock on that old inode is no lock
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
                holder = _pid_in(os.pread(fd, 4096, 0))
                if holder is not None and holder != os.getpid() and _pid_alive(holder):
                    # a lock file of an older refarch-tui (no flock) whose process still runs
                    os.close(fd)
                    raise WorkspaceLocked(self.directory, holder)
                me = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now_iso()})
                os.ftruncate(fd, 0)
                os.pwrite(fd, me.encode("utf-8"), 0)
                _HELD[key] = (fd, 1)
                self._locked = True
                self._remove_orphan_temp_files()
                return
        raise StateError(f"could not take the lock {self.lock_path}; another process keeps recreating it")

    def _remove_orphan_temp_files(self) -> None:
        """Temp files of a writer killed mid-save; only the lock holder may remove them."""
        for orphan in self.directory.glob(f".{STATE_FILE}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                orphan.unlink()

    def lock_holder(self) -> int | None:
        try:
            return int(json.loads(self.lock_path.read_text(encoding="utf-8"))["pid"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return -1  # unreadable lock: treated as stale

    def release(self) -> None:
        if not self._locked:
            return
        self._locked = False
        key = str(self.lock_path)
        with _HELD_LOCK:
            held = _HELD.get(key)
            if held is None:
                return
            fd, count = held
            if count > 1:
                _HELD[key] = (fd, count - 1)
                return
            del _HELD[key]
            # unlink while still holding the flock; a waiter on this inode sees it gone and retries
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.lock_path)
            os.close(fd)

    @contextlib.contextmanager
    def locked(self) -> Iterator[Workspace]:
        self.acquire()
        try:
            yield self
        finally:
            self.release()

    # -- changes ---------------------------------------------------------------------------------------

    def update_step(
        self,
        state: WorkspaceState,
        step_id: str,
        account: str,
        status: Status,
        *,
        facts: dict[str, Any] | None = None,
        evidence: dict[str, Any] | None = None,
        message: str = "",
        run_env: dict[str, str] | None = None,
        secret_env: dict[str, str] | None = None,
        imports: list[dict[str, str]] | None = None,
        followups: list[dict[str, str]] | None = None,
        merge: bool = True,
    ) -> StepRecord:
        """Record a step outcome in state and journal, then save.

        Facts and evidence merge with the previous record (or replace it: `merge=False`); the run settings
        (run_env, secret_env, imports, followups) are replaced when given and kept otherwise."""
        with self.save_lock:
            previous = state.record(step_id, account)
            record = StepRecord(
                status=status,
                updated=now_iso(),
                facts={**(previous.facts if merge else {}), **(facts or {})},
                evidence={**(previous.evidence if merge else {}), **(evidence or {})},
                message=message,
                run_env=previous.run_env if run_env is None else dict(run_env),
                secret_env=previous.secret_env if secret_env is None else dict(secret_env),
                imports=previous.imports if imports is None else list(imports),
                followups=previous.followups if followups is None else list(followups),
            )
            state.set_record(step_id, account, record)
            self.save(state)
        self.journal(
            f"step.{status.value}", account=account, step=step_id, outcome=status.value, detail=message
        )
        return record


def remember_last(directory: Path) -> None:
    atomic_write_text(last_workspace_file(), str(Path(directory).resolve()) + "\n")


def last_workspace() -> Path | None:
    try:
        text = last_workspace_file().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None
