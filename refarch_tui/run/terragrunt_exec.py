"""Runs one account's units with the real terragrunt: own process group, stdin closed, streamed output."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from refarch_tui import secrets
from refarch_tui.atomic import private_dir
from refarch_tui.run import drain, store
from refarch_tui.run.engine import AccountSession, ImportSpec, InvocationResult
from refarch_tui.tools import terragrunt as tg

ALREADY_MANAGED = "Resource already managed by Terraform"

log = logging.getLogger(__name__)

CHUNK = 1 << 16
MAX_LINE = 1 << 20  # a "line" longer than this is cut (tofu can print huge JSON plans)


async def pump(stream: asyncio.StreamReader, name: str, session: AccountSession) -> None:
    """Reads a stream in chunks and feeds whole lines (decoded, without the newline) to the session.

    A line longer than MAX_LINE is passed on in pieces, cut only where `secrets.safe_cut` says no secret
    straddles the cut, so the redactor sees every secret whole. Decoding is incremental, so a multi-byte
    character split by a read is not mangled either."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    while True:
        chunk = await stream.read(CHUNK)
        if not chunk:
            break
        text = decoder.decode(chunk)
        if pending:
            text = pending + text
        cut = text.rfind("\n")
        if cut == -1:
            pending = text
        else:
            pending = text[cut + 1 :]
            block = text[:cut]
            if "\r" in block:
                block = block.replace("\r\n", "\n")
            session.ingest_block(block, name)
            # a read with data waiting does not suspend: yield, so the UI's key presses are not starved
            await asyncio.sleep(0)
        if len(pending) > MAX_LINE:
            cut = secrets.safe_cut(pending)
            session.ingest(pending[:cut], name)
            pending = pending[cut:]
    pending += decoder.decode(b"", final=True)
    if pending:
        session.ingest(pending.rstrip("\r"), name)
    session.flush()


def signal_group(pgid: int, sig: int) -> bool:
    """True when the signal was delivered (the group still exists)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_members(pgid: int) -> list[int] | None:
    """Live (non-zombie) processes of a group, from /proc; None where /proc is not available."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies waiting for a reaper do not count)."""
    members = group_members(pgid)
    if members is None:
        return signal_group(pgid, 0)
    return bool(members)


async def stop_process_group(process: asyncio.subprocess.Process, grace: float, term_grace: float) -> None:
    """SIGINT (terragrunt passes it to tofu, which stops cleanly), then SIGTERM, then SIGKILL."""
    pgid = process.pid  # start_new_session=True: the child leads its own group
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, term_grace)):
        if not group_alive(pgid) or not signal_group(pgid, sig):
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=wait)
        if process.returncode is not None:
            # the leader is gone; give stragglers in its group the same grace, then move on
            loop = asyncio.get_running_loop()
            deadline = loop.time() + min(wait, 2.0)
            while group_alive(pgid) and loop.time() < deadline:
                await asyncio.sleep(0.05)
            if not group_alive(pgid):
                return
    signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), timeout=5)


class TerragruntExecutor:
    simulated = False

    def __init__(
        self, info: tg.TerragruntInfo, *, command: tg.Command = "apply", source: str | None = None
    ) -> None:
        self.info = info
        self.name = info.generation.value
        self.command: tg.Command = command
        self.source = source
        self._processes: set[asyncio.subprocess.Process] = set()
        self._sessions: dict[asyncio.subprocess.Process, AccountSession] = {}

    def argv(self, session: AccountSession, report_file: Path | None) -> list[str]:
        account = session.account
        include = [] if session.all_units else sorted(session.rel(u.path) for u in session.targets)
        exclude: list[str] = []
        if self.info.generation is tg.Generation.V1:
            # non-runnable configs (the account-level root terragrunt.hcl) are units to 1.x's discovery
            exclude = sorted(
                session.rel(path)
                for path, unit in session.run.config.tree.units.items()
                if unit.account == account.name and not unit.runnable
            )
            exclude = ["." if p == account.name else p for p in exclude]
        options = tg.RunOptions(
            command=self.command,
            working_dir=session.working_dir,
            source=self.source,
            source_update=session.source_update,
            include_dirs=include,
            exclude_dirs=exclude,
            report_file=report_file,
            extra_tf_args=tuple(session.run.config.tf_args),
        )
        return tg.build_command(self.info, options)

    async def _spawn(self, argv: list[str], session: AccountSession, cwd: Path) -> asyncio.subprocess.Process:
        env = tg.rename_role_keys(self.info, dict(session.env))
        env.update(tg.generation_env(self.info, source_update=session.source_update))
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(cwd),
            start_new_session=True,
            limit=MAX_LINE,
        )
        self._processes.add(process)
        self._sessions[process] = session
        session.account.pid = process.pid
        session.run._persist_account(session.account, "account_process", pid=process.pid)
        return process

    async def invoke(self, session: AccountSession) -> InvocationResult:
        report_file: Path | None = None
        if self.info.has_report_file and self.info.generation is tg.Generation.V1:
            report_file = session.run.directory / "reports" / f"{session.account.name}-{session.number}.json"
            private_dir(report_file.parent)
            with contextlib.suppress(FileNotFoundError):
                report_file.unlink()
        argv = self.argv(session, report_file)
        session.ingest_unit_line("", "# " + " ".join(argv))
        try:
            process = await self._spawn(argv, session, session.working_dir)
        except OSError as exc:
            return InvocationResult(
                exit_code=None, error=f"could not start terragrunt: {exc.strerror or exc}"
            )
        try:
            assert process.stdout is not None and process.stderr is not None
            await asyncio.gather(
                pump(process.stdout, "stdout", session), pump(process.stderr, "stderr", session)
            )
            code = await process.wait()
        finally:
            self._processes.discard(process)
            self._sessions.pop(process, None)
        report = None
        if report_file is not None:
            with contextlib.suppress(OSError):
                os.chmod(report_file, 0o600)  # terragrunt wrote it with its own umask
            report = read_report(report_file, session)
        return InvocationResult(exit_code=code, report=report)

    async def run_imports(self, session: AccountSession, imports: Sequence[ImportSpec]) -> str | None:
        root = session.run.config.live_root
        for spec in imports:
            argv = tg.build_import_command(self.info, root / spec.unit, spec.address, spec.resource_id)
            session.ingest_unit_line(spec.unit, "# " + " ".join(argv))
            try:
                process = await self._spawn(argv, session, root / spec.unit)
            except OSError as exc:
                return f"could not start terragrunt import: {exc.strerror or exc}"
            try:
                out, err = await process.communicate()
            finally:
                self._processes.discard(process)
                self._sessions.pop(process, None)
            text = (out + err).decode("utf-8", "replace")
            for line in text.splitlines():
                session.ingest_unit_line(spec.unit, line)
            if process.returncode == 0:
                continue
            if ALREADY_MANAGED.lower() in text.lower():  # imported by an earlier apply: nothing left to do
                session.ingest_unit_line(
                    spec.unit,
                    f"{spec.address} is already managed by Terraform: the queued import counts as done",
                )
                continue
            return (
                f"the queued import of {spec.address} ({spec.resource_id}) in {spec.unit} failed "
                f"(exit {process.returncode}); see {spec.unit}'s log"
            )
        return None

    async def leave_running(self) -> dict[str, int]:
        """The operator quits and leaves terragrunt running: every running terragrunt is let go of so that
        it outlives the app. Returns account -> PID (its process group) of each one left running."""
        left: dict[str, int] = {}
        for process in list(self._processes):
            session = self._sessions.get(process)
            if session is None or process.returncode is not None:
                continue
            if await release(process, session):
                left[session.account.name] = process.pid
        return left

    async def cancel(self, grace: float, term_grace: float) -> None:
        await asyncio.gather(
            *(stop_process_group(p, grace, term_grace) for p in list(self._processes)),
            return_exceptions=True,
        )


async def release(process: asyncio.subprocess.Process, session: AccountSession) -> bool:
    """Hands a running terragrunt's output pipes to a detached drain process, then lets go of the process.

    Without the drain, its next output line after the app exits would kill it (SIGPIPE). And asyncio's
    subprocess transport SIGKILLs a child it still owns when it is closed or collected, so the transport is
    marked closed once its pipes are handed over (CPython internals: checked, False when they differ)."""
    transport = getattr(process, "_transport", None)
    if transport is None or not hasattr(transport, "_closed"):
        log.warning("cannot leave terragrunt %s running: unknown asyncio subprocess internals", process.pid)
        return False
    pipes = [transport.get_pipe_transport(fd) for fd in (1, 2)]
    pipes = [pipe for pipe in pipes if pipe is not None and not pipe.is_closing()]
    for pipe in pipes:
        pipe.pause_reading()  # from here on only the drain reads, so no line is lost between the two
    await asyncio.sleep(0)  # the pumps handle what was already read
    session.ingest_unit_line("", "# the app quit; terragrunt was left running — its output follows below")
    session.flush()
    fds = [pipe.get_extra_info("pipe").fileno() for pipe in pipes]
    if fds:
        aws_secrets = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        secret_values = [*secrets.registered_values()]
        secret_values += [value for name in aws_secrets if (value := session.env.get(name))]
        try:
            drain.start(
                fds,
                raw_log=session.account.raw_log,
                outcomes=session.run.directory / store.OUTCOMES_FILE,
                account=session.account.name,
                secret_values=secret_values,
            )
        except OSError as exc:
            log.warning("cannot start the output drain for terragrunt %s: %s", process.pid, exc)
            for pipe in pipes:
                pipe.resume_reading()
            return False
    for pipe in pipes:
        pipe.close()
    transport._closed = True  # close() and __del__ would SIGKILL the child otherwise
    return True


def read_report(path: Path, session: AccountSession) -> dict[str, tuple[str, str]] | None:
    """1.x --report-file (JSON array of runs) -> unit path -> (Result, Cause); None if absent/unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, list):
        return None
    result: dict[str, tuple[str, str]] = {}
    for entry in document:
        if not isinstance(entry, dict) or "Name" not in entry:
            continue
        unit = session.parser.unit_path(str(entry["Name"]))
        result[unit] = (str(entry.get("Result", "")), str(entry.get("Cause", "") or ""))
    return result
