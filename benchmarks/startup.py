"""Time from launch to the home screen being drawn, versus a bare Textual app showing one label.

Both run in tmux in the same run; the screen is polled with capture-pane. Prints the ratio (target <= 1.3):
the emulator, boto3's import and AWS calls must not block the first paint.

    .venv/bin/python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_APP = """
from textual.app import App
from textual.widgets import Label

class Bare(App[None]):
    def compose(self):
        yield Label("bare app ready")

Bare().run()
"""


def time_until(command: str, marker: str, env: dict[str, str], timeout: float = 30.0) -> float:
    session = f"bench-{os.getpid()}-{time.monotonic_ns()}"
    started = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "40", command], env=env, check=True
    )
    try:
        while time.perf_counter() - started < timeout:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, env=env
            ).stdout
            if marker in screen:
                return time.perf_counter() - started
            time.sleep(0.005)
        raise TimeoutError(f"{marker!r} never appeared; last screen:\n{screen}")
    finally:
        # quit the app the way a person would, so it releases its workspace lock before the next launch
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], env=env, capture_output=True)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], env=env, capture_output=True)
            if alive.returncode != 0:
                break
            time.sleep(0.05)
        subprocess.run(["tmux", "kill-session", "-t", session], env=env, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is needed (apt-get install tmux)")
        return 2
    python = sys.executable
    scratch = Path(tempfile.mkdtemp(prefix="refarch-startup-"))
    env = {**os.environ, "HOME": str(scratch / "home"), "TMUX_TMPDIR": str(scratch)}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(scratch / name.lower())
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    env.pop("TMUX", None)
    bare = scratch / "bare.py"
    bare.write_text(BARE_APP)
    app_command = f"{python} -m refarch_tui sandbox"
    try:
        # first launch creates the sandbox workspace (copy of the sample repo); it is not what we measure
        time_until(app_command, "Build AMIs", env, timeout=60)
        bare_times, app_times = [], []
        for _ in range(args.runs):
            bare_times.append(time_until(f"{python} {bare}", "bare app ready", env))
            app_times.append(time_until(app_command, "Build AMIs", env))
    finally:
        subprocess.run([python, "-m", "refarch_tui", "sandbox", "--stop"], env=env, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    bare_median = statistics.median(bare_times)
    app_median = statistics.median(app_times)
    print(f"bare Textual app to first paint: median {bare_median * 1000:.0f} ms over {args.runs} runs")
    print(f"refarch-tui sandbox to home:     median {app_median * 1000:.0f} ms over {args.runs} runs")
    print(f"ratio {app_median / bare_median:.2f} (target <= 1.30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
