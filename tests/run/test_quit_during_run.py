"""Quitting while a run is active asks first: cancel the run and quit, leave terragrunt running and quit, or
stay. The choice is recorded in the run's folder (quit.json) and reopening the workspace says what happened
(issue 9 item 10)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from refarch_tui.app import RefarchApp, make_app
from refarch_tui.run import store
from refarch_tui.run.controller import Preflight, RunController
from refarch_tui.run.engine import Executor
from refarch_tui.run.model import UnitStatus
from refarch_tui.run.rehearsal import RehearsalExecutor
from refarch_tui.run.terragrunt_exec import group_alive
from refarch_tui.state import Workspace, WorkspaceState
from refarch_tui.status import status_document
from screens.dialogs.quit_during_run import QuitDuringRunDialog
from screens.home import HomeScreen
from tests.run.helpers import calls_for

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
FAST = {"backoff_base": 0.0, "cancel_grace": 5.0, "term_grace": 2.0, "record_in_state": False}


def alive(pgid: int) -> bool:
    """Any live (non-zombie) process in the group."""
    return group_alive(pgid)


@pytest.fixture
def started_groups() -> Iterator[list[int]]:
    """Process groups a test left running on purpose; ended (by PID) whatever the test's outcome."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


def rehearsal_controller(workspace: Workspace, state: WorkspaceState) -> RunController:
    def factory(pre: Preflight) -> Executor:
        return RehearsalExecutor(speed=1.0, inject={})  # watchable speed: the run lasts while the test looks

    return RunController(workspace, state, executor_factory=factory, run_options=FAST)


async def start_run(app: RefarchApp, controller: RunController, pilot: Any, accounts: list[str]) -> None:
    app._run_controller = controller
    pre = await asyncio.to_thread(controller.preflight, accounts)
    run = controller.start(pre, accounts=accounts)
    await until(pilot, lambda: any(u.status is UnitStatus.RUNNING for u in run.units))


async def reopen_messages(workspace: Workspace) -> list[str]:
    app = make_app(workspace, workspace.load())
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        return [str(n.message) for n in app._notifications]


def test_the_store_records_and_reads_the_quit_choice(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    directory = runs / "apply-1"
    directory.mkdir(parents=True)
    store.write_json(
        directory / store.RUN_FILE,
        {
            "id": "apply-1",
            "engine": "terragrunt-1",
            "command": "apply",
            "started": "2026-12-03T06:00:00+00:00",
            "accounts": [{"name": "dev", "units": [{"path": "dev/a", "wave": 0, "log": "x"}]}],
        },
    )
    (directory / store.OUTCOMES_FILE).write_text(
        '{"kind":"account_started","account":"dev","time":"t"}\n'
        '{"kind":"unit","account":"dev","unit":"dev/a","status":"running","attempts":1}\n'
    )
    store.set_last_run(runs, "apply-1")
    assert store.load_run(runs).quit is None  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        store.record_quit(directory, "walked away")

    dead_pid = 2**22 + 12345  # above the default pid_max: no such process group
    store.record_quit(directory, store.QUIT_LEFT_RUNNING, left_running={"dev": dead_pid})
    record = store.load_run(runs)
    assert record is not None and record.quit is not None
    assert record.quit.choice == store.QUIT_LEFT_RUNNING and record.quit.left_running == {"dev": dead_pid}
    assert not record.complete and record.accounts["dev"].status == "left running"
    assert record.accounts["dev"].units["dev/a"].status is UnitStatus.INTERRUPTED  # never "finished"
    sentence = store.quit_sentence(record)
    assert sentence is not None and "left terragrunt running in dev" in sentence and str(dead_pid) in sentence
    assert "ended since" in sentence
    store.mark_quit_reported(record)
    assert store.quit_sentence(store.load_run(runs)) is None  # type: ignore[arg-type]  # told once, now gone

    store.record_quit(directory, store.QUIT_LEFT_RUNNING, left_running={"dev": os.getpgrp()})
    record = store.load_run(runs)
    assert record is not None
    store.mark_quit_reported(record)
    # a left-running terragrunt that still lives is told every time
    sentence = store.quit_sentence(store.load_run(runs))  # type: ignore[arg-type]
    assert sentence is not None and "may still be changing AWS" in sentence

    store.record_quit(directory, store.QUIT_CANCELLED)
    assert json.loads((directory / store.QUIT_FILE).read_text())["choice"] == "cancelled"
    record = store.load_run(runs)
    assert record is not None and record.quit is not None and record.quit.choice == store.QUIT_CANCELLED
    sentence = store.quit_sentence(record)
    assert sentence is not None and "before the cancel finished" in sentence  # no run_finished line


async def test_q_without_a_run_quits_at_once(tiny_live: Path, make_workspace: MakeWs, no_tg: None) -> None:
    workspace, state = make_workspace(tiny_live)
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, QuitDuringRunDialog)
    assert app.return_code == 0


async def test_stay_keeps_the_run_going(tiny_live: Path, make_workspace: MakeWs, no_tg: None) -> None:
    workspace, state = make_workspace(tiny_live)
    controller = rehearsal_controller(workspace, state)
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await start_run(app, controller, pilot, ["security"])
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitDuringRunDialog))
        assert "cancel the run and quit" in str(app.screen.query_one("#quit-cancel").render())
        await pilot.press("l")  # a rehearsal lives inside the app: leaving it running is not offered
        await pilot.pause()
        assert isinstance(app.screen, QuitDuringRunDialog) and app.is_running
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.is_running and controller.running
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitDuringRunDialog))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.is_running and controller.running
        assert controller.current is not None
        assert not (controller.current.directory / store.QUIT_FILE).exists()
        controller.cancel()  # end the test's run the ordinary way
        await asyncio.wait_for(controller.wait(), 30)


async def test_cancel_and_quit_records_a_cancelled_run_with_nothing_left_running(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.3")
    monkeypatch.setenv("FAKE_TG_CHILD", "1")  # a tofu-like child in terragrunt's process group
    workspace, state = make_workspace(tiny_live)
    controller = RunController(workspace, state, run_options=FAST)
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await start_run(app, controller, pilot, ["security"])
        run = controller.current
        assert run is not None
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitDuringRunDialog))
        await pilot.press("c")
        await until(pilot, lambda: not app.is_running, timeout=30)
    assert run.cancelled and run.done
    record = store.load_run(workspace.runs_dir)
    assert record is not None and record.complete and record.quit is not None
    assert record.quit.choice == store.QUIT_CANCELLED
    summary = json.loads((run.directory / store.SUMMARY_FILE).read_text())
    assert summary["cancelled"] is True
    assert status_document(workspace, workspace.load())["last_run_quit"]["choice"] == "cancelled"
    assert all(account.status != "running" for account in record.accounts.values())
    (call,) = calls_for(fake_tg, "security")
    (child_file,) = list(fake_tg.glob("child-*.pid"))
    assert not alive(call["pid"]) and not alive(int(child_file.read_text()))

    messages = await reopen_messages(workspace)
    assert any(f"You quit during run {run.id}" in m and "cancelled it" in m for m in messages), messages
    assert not any("did not finish" in m for m in messages)
    assert not any("You quit" in m for m in await reopen_messages(workspace))  # said once


async def test_leave_running_and_quit_keeps_terragrunt_alive_and_reopening_reports_it(
    tiny_live: Path,
    make_workspace: MakeWs,
    fake_tg: Path,
    monkeypatch: pytest.MonkeyPatch,
    started_groups: list[int],
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.3")
    workspace, state = make_workspace(tiny_live)
    controller = RunController(workspace, state, run_options=FAST)
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await start_run(app, controller, pilot, ["security"])
        run = controller.current
        assert run is not None
        pid = run.accounts["security"].pid
        assert pid is not None
        started_groups.append(pid)
        # asyncio's own handle on terragrunt: closing it (as the interpreter's shutdown may) kills the child
        (process,) = run.executor._processes  # type: ignore[attr-defined]
        transport = process._transport
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitDuringRunDialog))
        assert "leave terragrunt running" in str(app.screen.query_one("#quit-leave").render())
        await pilot.press("l")
        await until(pilot, lambda: not app.is_running, timeout=30)
    raw_log = run.accounts["security"].raw_log
    size_at_quit = raw_log.stat().st_size
    transport.close()
    del controller, run, process, transport
    gc.collect()
    await asyncio.sleep(1.5)  # several output lines later: no broken pipe, no SIGKILL
    assert alive(pid), "terragrunt was killed when the app quit"
    assert raw_log.stat().st_size > size_at_quit  # its output goes on into the raw log

    record = store.load_run(workspace.runs_dir)
    assert record is not None and not record.complete  # never recorded as finished
    assert record.quit is not None and record.quit.choice == store.QUIT_LEFT_RUNNING
    assert record.quit.left_running == {"security": pid}
    assert record.accounts["security"].status == "left running"
    assert not (record.directory / store.SUMMARY_FILE).exists()
    quit_status = status_document(workspace, workspace.load())["last_run_quit"]
    assert quit_status["choice"] == "left-running" and quit_status["still_running"] == ["security"]
    assert quit_status["left_running"] == {"security": pid}

    messages = await reopen_messages(workspace)
    assert any(
        f"You quit during run {record.run_id}" in m
        and "left terragrunt running in security" in m
        and str(pid) in m
        and "may still be changing AWS" in m
        for m in messages
    ), messages

    # terragrunt ends on its own; the drain notes the end of its output and exits
    deadline = time.monotonic() + 60
    while alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not alive(pid)
    deadline = time.monotonic() + 10
    outcomes = record.directory / store.OUTCOMES_FILE
    while "account_output_ended" not in outcomes.read_text() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert "account_output_ended" in outcomes.read_text()
    assert "Apply complete" in raw_log.read_text() or "Run Summary" in raw_log.read_text()
