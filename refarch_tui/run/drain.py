"""Keeps reading a terragrunt the operator left running when they quit the app, so it never dies of a
broken pipe.

terragrunt writes into pipes the app reads. When the app exits those pipes lose their only reader, and
terragrunt's next line kills it with SIGPIPE (Go exits on EPIPE for stdout and stderr) — mid-apply, with
state locks held. So the app hands the pipes to this small detached process, which appends every line,
redacted, to the account's raw log until terragrunt closes them, then notes the end in `outcomes.jsonl`.

    python -m refarch_tui.run.drain --account NAME --raw FILE --outcomes FILE FD [FD ...]

Secrets to redact arrive in the environment (REFARCH_DRAIN_SECRET_<n>), never on the command line.
"""

from __future__ import annotations

import argparse
import codecs
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from refarch_tui import secrets
from refarch_tui.atomic import open_private_append

SECRET_ENV_PREFIX = "REFARCH_DRAIN_SECRET_"
CHUNK = 1 << 16
MAX_LINE = 1 << 20
ENDED_KIND = "account_output_ended"  # outcomes.jsonl: the left-running terragrunt closed its output


def _write(fd: int, text: str) -> None:
    data = text.encode("utf-8")
    while data:
        written = os.write(fd, data)
        data = data[written:]


def drain(fds: Iterable[int], raw_log: Path, outcomes: Path, account: str) -> None:
    """Reads every fd to its end, appending whole redacted lines to `raw_log`; then records the end."""
    log_fd = open_private_append(raw_log)
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _write(log_fd, f"# {now} the app quit; terragrunt was left running, its output follows:\n")
    selector = selectors.DefaultSelector()
    pending: dict[int, str] = {}
    decoders = {}
    for fd in fds:
        selector.register(fd, selectors.EVENT_READ)
        pending[fd] = ""
        decoders[fd] = codecs.getincrementaldecoder("utf-8")("replace")
    while selector.get_map():
        for key, _ in selector.select():
            fd = int(key.fd)
            try:
                chunk = os.read(fd, CHUNK)
            except OSError:
                chunk = b""
            if not chunk:
                selector.unregister(fd)
                os.close(fd)
                rest = pending.pop(fd) + decoders[fd].decode(b"", final=True)
                if rest:
                    _write(log_fd, secrets.redact(rest) + "\n")
                continue
            text = pending[fd] + decoders[fd].decode(chunk)
            cut = text.rfind("\n")
            if cut != -1:
                _write(log_fd, secrets.redact(text[: cut + 1]))
                text = text[cut + 1 :]
            if len(text) > MAX_LINE:  # cut only where no secret straddles the cut, as the app's pump does
                keep = secrets.safe_cut(text)
                _write(log_fd, secrets.redact(text[:keep]) + "\n")
                text = text[keep:]
            pending[fd] = text
    os.close(log_fd)
    from refarch_tui.run import store

    ended = store.OutcomeLog(outcomes)
    ended.append({"kind": ENDED_KIND, "time": store.iso(time.time()), "account": account}, durable=True)
    ended.close()


def start(
    fds: list[int], *, raw_log: Path, outcomes: Path, account: str, secret_values: Iterable[str]
) -> subprocess.Popen[bytes]:
    """Starts the detached drain process holding copies of `fds` (the caller may close its own)."""
    package_root = Path(__file__).resolve().parents[2]
    env: dict[str, str] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONPATH": str(package_root),  # this very copy of refarch_tui, not whatever else is installed
    }
    for index, value in enumerate(v for v in secret_values if v):
        env[f"{SECRET_ENV_PREFIX}{index}"] = value
    argv = [sys.executable, "-m", "refarch_tui.run.drain", "--account", account]
    argv += ["--raw", str(raw_log), "--outcomes", str(outcomes), *map(str, fds)]
    return subprocess.Popen(
        argv,
        pass_fds=tuple(fds),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=str(raw_log.parent),
        start_new_session=True,  # it outlives the app and ignores the terminal's Ctrl-C like terragrunt does
    )


def _register_secrets(environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if name.startswith(SECRET_ENV_PREFIX):
            secrets.register_secret(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="refarch_tui.run.drain")
    parser.add_argument("--account", required=True)
    parser.add_argument("--raw", required=True, type=Path)
    parser.add_argument("--outcomes", required=True, type=Path)
    parser.add_argument("fds", nargs="+", type=int)
    args = parser.parse_args(argv)
    _register_secrets(os.environ)
    drain(args.fds, args.raw, args.outcomes, args.account)
    return 0


if __name__ == "__main__":
    sys.exit(main())
