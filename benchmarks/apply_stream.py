"""Output throughput of the apply runner: the fake terragrunt floods 200,000 lines over 300 units.

Each measurement runs in its own process (so peak RSS is its own):
- `bare-readline`: a bare asyncio subprocess reader (`async for line in proc.stdout`), counting lines;
- `bare-chunked`: a bare reader that reads 64 KiB chunks and splits lines (the runner's read loop, no work);
- `runner`: the real runner (redaction, parsing, per-unit logs, events, persistence) + a headless view
  consumer that recomputes the screen's lanes and progress every 0.25 s;
- `screen`: the runner + the Textual apply screen in a headless app, pressing keys during the flood and
  timing how long each key press takes to be handled.

Prints lines/s, the runner/bare ratios (target >= 0.5) and peak RSS (target < 200 MB). Prints, no asserts.

    .venv/bin/python benchmarks/apply_stream.py [--lines 200000] [--units 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
FAKE_BIN = REPO / "tests" / "run" / "bin"

UNIT_HCL = 'terraform {\n  source = "git::git@github.com:acme/m.git//x?ref=v1"\n}\n'


def make_tree(root: Path, units: int) -> Path:
    (root / "dev").mkdir(parents=True, exist_ok=True)
    (root / "dev" / "terragrunt.hcl").write_text("# account root config\n")
    for i in range(units):
        unit = root / "dev" / "us-east-1" / f"group{i // 30:02d}" / f"unit{i:03d}"
        unit.mkdir(parents=True, exist_ok=True)
        (unit / "terragrunt.hcl").write_text(UNIT_HCL)
    return root


def fake_env(lines: int, state_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{FAKE_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["FAKE_TG_FLOOD"] = str(lines)
    env["FAKE_TG_STATE_DIR"] = str(state_dir)
    return env


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bare(root: Path, lines: int, chunked: bool) -> dict[str, Any]:
    env = fake_env(lines, root / "fake-state")
    argv = [
        str(FAKE_BIN / "terragrunt"),
        "run",
        "--all",
        "--non-interactive",
        "--working-dir",
        str(root / "dev"),
    ]
    argv += ["--queue-exclude-dir", ".", "--", "apply"]
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    count = 0

    async def read(stream: asyncio.StreamReader) -> None:
        nonlocal count
        if chunked:
            pending = b""
            while chunk := await stream.read(1 << 16):
                parts = (pending + chunk).split(b"\n")
                pending = parts.pop()
                for part in parts:
                    part.decode("utf-8", "replace")
                    count += 1
        else:
            async for line in stream:
                line.decode("utf-8", "replace")
                count += 1

    await asyncio.gather(read(proc.stdout), read(proc.stderr))
    await proc.wait()
    seconds = time.perf_counter() - start
    return {"lines": count, "seconds": seconds, "rss_mb": peak_rss_mb()}


def _workspace(root: Path) -> tuple[Any, Any]:
    from refarch_tui.state import Account, Mode, Workspace, WorkspaceState

    workspace = Workspace(root / "ws")
    state = WorkspaceState(
        live_dir=str(root / "live"), mode=Mode.SANDBOX, accounts=[Account("dev")], regions=["us-east-1"]
    )
    workspace.save(state)
    return workspace, state


async def runner(root: Path, lines: int) -> dict[str, Any]:
    from refarch_tui.run import controller as ctl
    from refarch_tui.run import view

    os.environ.update(fake_env(lines, root / "fake-state"))
    workspace, state = _workspace(root)
    pre = await asyncio.to_thread(ctl.preflight, workspace, state, None)
    run = ctl.build_run(workspace, state, pre, record_in_state=False)
    events = 0
    redraws = 0

    def on_event(_event: Any) -> None:
        nonlocal events
        events += 1

    run.subscribe(on_event)

    async def headless_view() -> None:
        nonlocal redraws
        while not run.done:
            view.lanes_from_run(run)
            view.progress(run)
            redraws += 1
            await asyncio.sleep(0.25)

    start = time.perf_counter()
    viewer = asyncio.create_task(headless_view())
    await run.execute()
    seconds = time.perf_counter() - start
    await viewer
    ingested = run.accounts["dev"].lines
    return {
        "lines": ingested,
        "seconds": seconds,
        "events": events,
        "redraws": redraws,
        "succeeded": run.succeeded(),
        "rss_mb": peak_rss_mb(),
    }


async def screen(root: Path, lines: int) -> dict[str, Any]:
    from textual import events
    from textual.app import App
    from textual.widgets import Checkbox

    from refarch_tui.run.controller import RunController
    from screens.apply import ApplyScreen

    os.environ.update(fake_env(lines, root / "fake-state"))
    workspace, state = _workspace(root)
    controller = RunController(workspace, state, run_options={"record_in_state": False})

    class BenchApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ApplyScreen(controller, sandbox=True))

    app = BenchApp()
    latencies: list[float] = []
    async with app.run_test(size=(200, 60)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        apply_screen = app.screen
        assert isinstance(apply_screen, ApplyScreen)
        apply_screen.query_one("#run-dev", Checkbox).value = True  # its checklist steps are not done
        start = time.perf_counter()
        await pilot.press("s")
        if controller.current is None:
            raise SystemExit("the screen did not start the run")
        while not controller.current.done:
            before = apply_screen.failed_only
            pressed = time.perf_counter()
            # a key press as the terminal driver delivers it; handled when the screen's flag flips
            app.post_message(events.Key("f", "f"))
            while apply_screen.failed_only == before:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - pressed)
            await asyncio.sleep(0.2)
        await controller.wait()
        seconds = time.perf_counter() - start
        run = controller.current
        assert run is not None
        ingested = run.accounts["dev"].lines
    latencies.sort()
    return {
        "lines": ingested,
        "seconds": seconds,
        "succeeded": run.succeeded(),
        "key_presses": len(latencies),
        "key_p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "key_max_ms": 1000 * latencies[-1] if latencies else None,
        "rss_mb": peak_rss_mb(),
    }


def child(mode: str, lines: int, units: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["XDG_DATA_HOME"] = str(root / "xdg-data")
        os.environ["XDG_CACHE_HOME"] = str(root / "xdg-cache")
        make_tree(root / "live", units)
        if mode == "bare-readline":
            result = asyncio.run(bare(root / "live", lines, chunked=False))
        elif mode == "bare-chunked":
            result = asyncio.run(bare(root / "live", lines, chunked=True))
        elif mode == "runner":
            result = asyncio.run(runner(root, lines))
        else:
            result = asyncio.run(screen(root, lines))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--child", choices=["bare-readline", "bare-chunked", "runner", "screen"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lines, args.units)
        return
    results: dict[str, dict[str, Any]] = {}
    for mode in ("bare-readline", "bare-chunked", "runner", "screen"):
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--lines",
                str(args.lines),
                "--units",
                str(args.units),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            print(f"{mode}: failed\n{completed.stderr[-2000:]}")
            continue
        results[mode] = json.loads(completed.stdout.strip().splitlines()[-1])
    print(f"apply_stream: {args.lines} lines over {args.units} units (fake terragrunt 1.x, flood mode)")
    for mode, r in results.items():
        rate = r["lines"] / r["seconds"]
        extra = ""
        if "key_presses" in r:
            extra = (
                f", {r['key_presses']} key presses handled during the flood "
                f"(p50 {r['key_p50_ms']:.0f} ms, max {r['key_max_ms']:.0f} ms)"
            )
        if "events" in r:
            extra = f", {r['events']} events, {r['redraws']} headless redraws"
        print(
            f"  {mode:<14} {r['lines']:>8} lines in {r['seconds']:6.2f} s = {rate:>9,.0f} lines/s, "
            f"peak RSS {r['rss_mb']:.0f} MB{extra}"
        )
    for name in ("runner", "screen"):
        if name in results:
            rate = results[name]["lines"] / results[name]["seconds"]
            for base in ("bare-readline", "bare-chunked"):
                if base in results:
                    base_rate = results[base]["lines"] / results[base]["seconds"]
                    print(f"  ratio {name}/{base}: {rate / base_rate:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
