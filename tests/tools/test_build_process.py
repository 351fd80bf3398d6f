"""The shared build process: a real child, streamed, redacted, logged 0600, cancellable (group)."""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from pathlib import Path

from refarch_tui import secrets
from refarch_tui.state import Workspace
from refarch_tui.tools import build_process

SECRET = "s3cr3t-token-value-XYZ"


def run(tmp_path: Path, script: str, **kwargs: object) -> tuple[build_process.BuildResult, list[str]]:
    seen: list[str] = []
    log = build_process.log_path_for(Workspace(tmp_path / "ws"), "test", "dev", "unit")
    result = build_process.run_build(
        [sys.executable, "-c", script],
        env=build_process.build_env({}, region="us-east-1"),
        cwd=tmp_path,
        log_path=log,
        on_line=seen.append,
        **kwargs,  # type: ignore[arg-type]
    )
    return result, seen


def test_lines_stream_redacted_to_callback_and_private_log(tmp_path: Path) -> None:
    secrets.register_secret(SECRET)
    script = (
        "import sys\n"
        "print('hello')\n"
        f"print('token is {SECRET}')\n"
        "print('oops: something failed', file=sys.stderr)\n"
        "print('AWS_SECRET_ACCESS_KEY=abcdefghijkl')\n"
        "sys.exit(3)\n"
    )
    result, seen = run(tmp_path, script)
    assert result.exit_code == 3 and not result.ok and not result.cancelled
    assert "hello" in seen and "oops: something failed" in seen
    assert all(SECRET not in line and "abcdefghijkl" not in line for line in seen)
    assert f"token is {secrets.REDACTED}" in seen
    text = result.log_path.read_text()
    assert SECRET not in text and "abcdefghijkl" not in text
    assert "hello" in text and "[stderr] oops: something failed" in text and "# exit 3" in text
    assert stat.S_IMODE(result.log_path.stat().st_mode) == 0o600
    assert result.log_path.parent == tmp_path / "ws" / "logs" / "builds"
    assert result.stderr_tail == ("oops: something failed",)
    message = result.failure("the test build")
    assert (
        "failed (exit 3)" in message
        and "oops: something failed" in message
        and str(result.log_path) in message
    )


def test_env_is_explicit_and_stdin_data_is_fed_not_argv(tmp_path: Path) -> None:
    shell = {"PATH": os.environ.get("PATH", ""), "TF_VAR_LEAK": "from-the-shell", "AWS_PROFILE": "mine"}
    env = build_process.build_env(
        {"AWS_ACCESS_KEY_ID": "AKIAFAKE"}, region="eu-west-1", extra={"X": "1"}, base=shell
    )
    assert (
        "TF_VAR_LEAK" not in env
        and "AWS_PROFILE" not in env
        and env["AWS_REGION"] == "eu-west-1"
        and env["X"] == "1"
    )
    seen: list[str] = []
    result = build_process.run_build(
        [
            sys.executable,
            "-c",
            "import os,sys; print(len(sys.stdin.read())); print(os.environ['AWS_ACCESS_KEY_ID'])",
        ],
        env=env,
        cwd=tmp_path,
        log_path=tmp_path / "logs" / "b.log",
        on_line=seen.append,
        stdin_data=b"password-from-stdin",
    )
    assert result.ok and seen == ["19", "AKIAFAKE"]
    assert "password-from-stdin" not in " ".join(result.argv)
    assert "password-from-stdin" not in result.log_path.read_text()


def test_a_program_that_cannot_start_says_so(tmp_path: Path) -> None:
    result = build_process.run_build(
        ["/nonexistent/packer", "build"], env={}, cwd=tmp_path, log_path=tmp_path / "l.log"
    )
    assert result.exit_code is None and not result.ok
    assert "could not start /nonexistent/packer" in result.failure("packer")


def test_cancel_sends_sigint_then_stops_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # the leader ignores SIGINT (so the TERM step is needed) and has a child in its group
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *a: print('got SIGINT', flush=True))\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(120)\n"
    )
    cancel = threading.Event()
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        if line == "started":
            cancel.set()

    started = time.monotonic()
    result = build_process.run_build(
        [sys.executable, "-c", script],
        env=build_process.build_env({}, region="us-east-1"),
        cwd=tmp_path,
        log_path=tmp_path / "l.log",
        on_line=on_line,
        cancel=cancel,
        grace=1.0,
        term_grace=1.0,
    )
    assert time.monotonic() - started < 30
    assert result.cancelled and not result.ok
    assert "got SIGINT" in seen
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        status = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        if status == "Z":
            break
        time.sleep(0.05)
    alive = Path(f"/proc/{child}/stat").exists() and (
        Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    )
    assert not alive, "the build's child survived the cancel"
    assert "was cancelled" in result.failure("the build")
