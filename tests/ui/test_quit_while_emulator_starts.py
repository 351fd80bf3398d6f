"""Quitting while the sandbox emulator is still starting exits at once instead of waiting out its start
timeout (a loaded machine's `q` on the first start used to leave a blank terminal for up to 90 s)."""

from __future__ import annotations

import os
import threading

import pytest

from refarch_tui import sandbox
from refarch_tui.app import make_app
from refarch_tui.aws import emulator
from screens.home import HomeScreen


async def test_quit_abandons_the_wait_for_a_still_starting_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, state = sandbox.open_sandbox(start_emulator=False)
    starting = emulator.EmulatorInfo(
        endpoint="http://127.0.0.1:9", pid=os.getpid(), port=9, started="now", log_path="", seeded=False
    )
    monkeypatch.setattr(emulator, "ensure_running", lambda directory: starting)
    monkeypatch.setattr(emulator, "read_record", lambda directory: starting)  # never seeded
    monkeypatch.setattr(emulator, "pid_alive", lambda pid: True)

    waiting = threading.Event()
    abandoned = threading.Event()
    real_wait_ready = emulator.wait_ready

    def observed_wait_ready(directory: object, **kwargs: object) -> emulator.EmulatorInfo:
        waiting.set()
        try:
            return real_wait_ready(directory, **kwargs)  # type: ignore[arg-type]
        except emulator.WaitAbandoned:
            abandoned.set()
            raise

    monkeypatch.setattr(emulator, "wait_ready", observed_wait_ready)
    app = make_app(workspace, state)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert await _event_within(waiting, 10), "the app never waited for the emulator"
        await pilot.press("q")
    # the start timeout is 90 s: without the abandon check the worker thread would still be polling
    assert await _event_within(abandoned, 10)


async def _event_within(event: threading.Event, seconds: float) -> bool:
    import asyncio

    return await asyncio.to_thread(event.wait, seconds)
