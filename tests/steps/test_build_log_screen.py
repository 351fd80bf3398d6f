"""A build flooding the step screen's log: 100,000+ lines stream through, a key press is still handled
at once, the on-screen log stays bounded and the complete log is on disk."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from refarch_tui.app import make_app
from refarch_tui.state import Workspace, WorkspaceState
from refarch_tui.steps import registry
from screens.step import StepScreen
from screens.widgets.build_log import BuildLog
from tests.steps import fake_step
from tests.steps.pilot import wait_until

FLOOD = "import itertools\nfor i in itertools.count():\n    print(f'build line {i} ' + 'x' * 40)\n"


@pytest.fixture(autouse=True)
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(registry.MODULES, "keypairs", "tests.steps.fake_step")
    fake_step.BEHAVIOUR.clear()
    yield
    fake_step.BEHAVIOUR.clear()


@pytest.mark.slow
async def test_a_flood_keeps_keys_handled_and_the_screen_log_bounded(
    emulated_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = emulated_workspace
    fake_step.BEHAVIOUR["build"] = [sys.executable, "-c", FLOOD]
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.open_step("keypairs", "stage")
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the step screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        view = screen.query_one("#step-progress", BuildLog)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: view.received >= 100_000, what="100,000 streamed lines", timeout=120)
        assert screen.running  # still flooding
        pressed = time.monotonic()
        await pilot.press("escape")  # handled while the flood goes on: the screen says a run is going
        await wait_until(
            pilot,
            lambda: any("still running" in str(n.message) for n in app._notifications),
            what="the escape key to be handled",
            timeout=10,
        )
        latency = time.monotonic() - pressed
        assert app.screen is screen and screen.running
        assert view.line_count <= 500  # bounded on screen
        await pilot.press("ctrl+x")
        await wait_until(pilot, lambda: not screen.running, what="the cancelled build to stop", timeout=60)
        assert "cancel" in str(screen.query_one("#step-status", Static).render()).lower()
        assert view.line_count <= 500
    result = fake_step.BEHAVIOUR["build_result"]
    assert result.cancelled and result.line_count >= 100_000
    with result.log_path.open() as handle:
        on_disk = sum(1 for line in handle if line.startswith("build line "))
    assert on_disk == result.line_count or on_disk >= 100_000
    assert latency < 10
