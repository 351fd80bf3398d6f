"""Waiting in Pilot tests on a condition (never a fixed sleep): the UI is paused until it holds."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot


async def wait_until(
    pilot: Pilot[None], holds: Callable[[], bool], *, what: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)
