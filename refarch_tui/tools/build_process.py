"""Runs one external build program (packer, docker, a Lambda build.sh) with its output streamed live.

The API, for the build steps (blocking: steps already run in a worker thread):

    env = build_env(ctx.child_env(), region=ctx.region)           # explicit env, never os.environ as is
    result = run_build(
        ["packer", "build", "-machine-readable", "t.json"],
        env=env, cwd=folder,
        log_path=log_path_for(ctx.workspace, "amis", ctx.account),
        on_line=ctx.progress,                                      # each line, already redacted
        cancel=ctx.cancel,                                         # set: SIGINT, then TERM/KILL the group
        stdin_data=None,                                           # bytes for --password-stdin, never argv
    )
    if not result.ok: raise StepError(result.failure("packer build"))
    result.lines   # every redacted line (bounded: the last MAX_KEPT; the full log is result.log_path)

Every line is redacted (`secrets.redact`) before it goes to the callback, the in-memory list or the log.
The log file is 0600 in a private folder of the workspace (`logs/builds/`). The process runs in its own
session/process group with stdin closed (or fed `stdin_data` and closed), so a cancel reaches its children.
Line splitting and the over-long-line cut are the runner's (`run.terragrunt_exec.pump`), and so is the
cancel sequence (`stop_process_group`); the environment comes from `run.env.child_environment`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from refarch_tui import secrets
from refarch_tui.atomic import open_private_append
from refarch_tui.run.env import AccountEnvPlan, child_environment
from refarch_tui.run.terragrunt_exec import MAX_LINE, pump, stop_process_group

if TYPE_CHECKING:
    from refarch_tui.run.engine import AccountSession
    from refarch_tui.state import Workspace

TAIL_LINES = 20  # the last lines a failure shows
MAX_KEPT = 5000  # lines kept in memory for the step to parse (the log on disk has them all)
ERROR_WORDS = ("error", "fail", "fatal", "denied", "cannot", "could not", "no such")

LineCallback = Callable[[str], None]


def build_env(
    account_env: Mapping[str, str],
    *,
    region: str,
    extra: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child's environment: the operator's through the one scrubber (`tools/inherited_env`), plus the
    account's access (`ctx.child_env()`), its region, and `extra` (plain values only)."""
    plan = AccountEnvPlan(account="build", region=region, facts=dict(extra or {}))
    env = child_environment(plan, account_env=account_env, secret_values={}, base=base)
    env.pop("TF_IN_AUTOMATION", None)
    return env


def log_path_for(workspace: Workspace, step: str, account: str, label: str = "") -> Path:
    """A fresh log file name in the workspace: logs/builds/<step>-<account>[-label]-<UTC stamp>.log."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
    name = "-".join(part for part in (step, account, safe, stamp) if part)
    path = workspace.logs_dir / "builds" / f"{name}.log"
    counter = 1
    while path.exists():
        counter += 1
        path = path.with_name(f"{name}-{counter}.log")
    return path


@dataclass(frozen=True)
class BuildResult:
    argv: tuple[str, ...]
    exit_code: int | None  # None: it could not start (see `error`) or was killed before exiting
    log_path: Path
    lines: tuple[str, ...] = ()  # redacted, stdout and stderr interleaved as read (the last MAX_KEPT)
    stderr_tail: tuple[str, ...] = ()  # the last TAIL_LINES of stderr
    cancelled: bool = False
    error: str = ""  # why it could not start
    line_count: int = 0  # every line read, including those dropped from `lines`
    stdout: tuple[str, ...] = field(default=(), repr=False)  # stdout lines only (the last MAX_KEPT)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.cancelled and not self.error

    def last_error_lines(self, count: int = 10) -> list[str]:
        """The lines worth showing for a failure: stderr's tail, else the lines that look like errors,
        else the output's tail."""
        if self.stderr_tail:
            return list(self.stderr_tail[-count:])
        flagged = [line for line in self.lines if any(w in line.lower() for w in ERROR_WORDS)]
        return (flagged or list(self.lines))[-count:]

    def failure(self, what: str) -> str:
        """A message for StepError: what failed, how, its last error lines and where the full log is."""
        if self.error:
            return f"{what}: {self.error}"
        head = f"{what} was cancelled" if self.cancelled else f"{what} failed (exit {self.exit_code})"
        tail = "\n".join("  " + line for line in self.last_error_lines())
        return f"{head}; the full log is {self.log_path}" + (f"\n{tail}" if tail else "")


class _Collector:
    """The `session` side of `pump`: redacts each line, writes the log, calls back, keeps the tails."""

    def __init__(self, fd: int, on_line: LineCallback | None) -> None:
        self.fd = fd
        self.on_line = on_line
        self.lines: deque[str] = deque(maxlen=MAX_KEPT)
        self.stdout: deque[str] = deque(maxlen=MAX_KEPT)
        self.stderr: deque[str] = deque(maxlen=TAIL_LINES)
        self.count = 0
        self.callback_failed = False

    def write(self, text: str) -> None:
        data = (text + "\n").encode("utf-8", "replace")
        while data:
            written = os.write(self.fd, data)
            data = data[written:]

    def ingest(self, line: str, stream: str) -> None:
        line = secrets.redact(line.rstrip("\r"))
        self.count += 1
        self.write(line if stream == "stdout" else f"[stderr] {line}")
        self.lines.append(line)
        (self.stdout if stream == "stdout" else self.stderr).append(line)
        if self.on_line is not None and not self.callback_failed:
            try:
                self.on_line(line)
            except Exception:  # a screen gone away must not stop the build or lose its log
                self.callback_failed = True

    def ingest_block(self, block: str, stream: str) -> None:
        for line in block.split("\n"):
            self.ingest(line, stream)

    def flush(self) -> None:
        pass


async def _run(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    collector: _Collector,
    cancel: threading.Event | None,
    stdin_data: bytes | None,
    grace: float,
    term_grace: float,
) -> tuple[int | None, bool, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin_data is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=str(cwd),
            start_new_session=True,
            limit=MAX_LINE,
        )
    except OSError as exc:
        return None, False, f"could not start {argv[0]}: {exc.strerror or exc}"
    assert process.stdout is not None and process.stderr is not None
    if stdin_data is not None:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.write(stdin_data)
            await process.stdin.drain()
        process.stdin.close()
    cancelled = False

    async def watch() -> None:
        nonlocal cancelled
        while process.returncode is None:
            if cancel is not None and cancel.is_set():
                cancelled = True
                collector.ingest(f"cancelling {argv[0]}: SIGINT, then the process group is stopped", "stdout")
                await stop_process_group(process, grace, term_grace)
                return
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    session = cast("AccountSession", collector)  # pump needs only ingest/ingest_block/flush
    try:
        await asyncio.gather(pump(process.stdout, "stdout", session), pump(process.stderr, "stderr", session))
        code = await process.wait()
    finally:
        if not watcher.done():
            watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return code, cancelled, ""


def run_build(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    on_line: LineCallback | None = None,
    cancel: threading.Event | None = None,
    stdin_data: bytes | None = None,
    grace: float = 10.0,
    term_grace: float = 5.0,
) -> BuildResult:
    """Runs `argv` to the end (blocking) and returns what happened; see the module docstring."""
    argv = [str(part) for part in argv]
    fd = open_private_append(log_path)
    collector = _Collector(fd, on_line)
    try:
        collector.write("# " + secrets.redact(" ".join(argv)) + f"  (in {cwd})")
        coroutine = _run(argv, env, cwd, collector, cancel, stdin_data, grace, term_grace)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            code, cancelled, error = asyncio.run(coroutine)
        else:  # called from a thread with a running loop: run the build's own loop in another thread
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                code, cancelled, error = pool.submit(asyncio.run, coroutine).result()
        if error:
            collector.write(f"# {error}")
            if on_line is not None:
                with contextlib.suppress(Exception):
                    on_line(error)
        else:
            collector.write(f"# exit {code}" + (" (cancelled)" if cancelled else ""))
    finally:
        os.close(fd)
    return BuildResult(
        argv=tuple(secrets.redact(a) for a in argv),
        exit_code=code,
        log_path=log_path,
        lines=tuple(collector.lines),
        stderr_tail=tuple(collector.stderr),
        cancelled=cancelled,
        error=error,
        line_count=collector.count,
        stdout=tuple(collector.stdout),
    )
