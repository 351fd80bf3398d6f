"""The apply view at real terminal sizes (issue 17): every account's tick, identity and warning on screen,
the preflight folded to one line during a run, status and time on every visible unit row, ticks as glyphs
kept while the workspace is open, focus on the first account, and "retrying" while a rerun is due.

Snapshots run the rehearsal engine at speed 0, paused after security's first wave, with its clock and the
run id pinned, so "during a run" looks the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, ProgressBar, Static

from refarch_tui.run.controller import Preflight, RunController
from refarch_tui.run.engine import Executor
from refarch_tui.run.model import EventKind, RunEvent
from refarch_tui.run.rehearsal import RUNNER_RECOVERS, RehearsalExecutor
from refarch_tui.state import Account, Mode, Workspace, WorkspaceState
from refarch_tui.workspaces import create_workspace
from screens.apply import ApplyScreen
from screens.widgets.tick_box import TICKED, UNTICKED, TickBox
from tests.run.test_apply_screen import VPC, cell, until

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
SIZES = [(80, 24), (120, 40), (160, 48), (200, 60)]
ACCOUNTS = [
    Account("security", "104983213567"),
    Account("shared-services", "235829751430"),
    Account("dev", "368294012756"),
    Account("stage", "481039572864"),
    Account("prod", "596120384729"),
]
# what the app's identity check hands the screen: the ARN and how long the credentials last
IDENTITIES = {
    a.name: f"arn:aws:sts::{a.id}:assumed-role/allow-full-access-from-other-accounts/refarch-tui (59m left)"
    for a in ACCOUNTS
}
T0 = 1_800_000_000.0  # the pinned clock of the "during" snapshots


class ApplyViewApp(App[None]):
    def __init__(self, controller: RunController, **screen_options: Any) -> None:
        super().__init__()
        self.animation_level = "none"  # the tabs' underline slides: a snapshot must not catch it mid-way
        self.controller = controller
        self.screen_options = screen_options

    def on_mount(self) -> None:
        self.push_screen(self.apply_screen())

    def apply_screen(self) -> ApplyScreen:
        return ApplyScreen(self.controller, sandbox=True, identities=IDENTITIES, **self.screen_options)

    async def on_unmount(self) -> None:
        self.controller.cancel()  # a paused run must not outlive the test's event loop
        if self.controller.task is not None:
            await self.controller.wait()


def rehearsal_controller(
    workspace: Workspace, state: WorkspaceState, inject: dict[str, str] | None = None, **run_options: Any
) -> RunController:
    def factory(pre: Preflight) -> Executor:
        return RehearsalExecutor(speed=0, inject=inject or {}, seed=7)

    return RunController(workspace, state, executor_factory=factory, run_options=run_options)


@pytest.fixture
def sample_workspace(tmp_path: Path, live_copy: Path) -> tuple[Workspace, WorkspaceState]:
    return create_workspace(
        live_copy, list(ACCOUNTS), ["us-east-1", "us-west-2"], mode=Mode.SANDBOX, directory=tmp_path / "ws"
    )


async def preflight_shown(pilot: Pilot[None]) -> ApplyScreen:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ApplyScreen)
    await until(pilot, lambda: len(screen.query(TickBox)) == len(ACCOUNTS))
    await pilot.pause()
    return screen


def _security_title(screen: ApplyScreen) -> str:
    titles = screen.query("#title-security")
    return str(titles.first(Static).render()) if titles else ""


async def paused_after_the_first_wave(pilot: Pilot[None]) -> None:
    """Every account ticked, the run started and paused after security's first wave, its clock pinned."""
    screen = await preflight_shown(pilot)
    for box in screen.query(TickBox):
        box.value = True
    await pilot.pause()

    def pause_at_the_first_success(event: RunEvent) -> None:
        # events are emitted inside the engine's step: the pause lands after this very wave, every time
        if event.kind is EventKind.UNIT_SUCCEEDED and screen.controller.current is not None:
            screen.controller.current.request_pause()

    unsubscribe = screen.controller.subscribe(pause_at_the_first_success)
    screen.action_start()
    run = screen.controller.current
    assert run is not None
    await until(pilot, lambda: run.paused)
    unsubscribe()
    assert [u.status.value for u in run.accounts["security"].units.values()][:3] == [
        "succeeded",
        "succeeded",
        "pending",
    ]
    for account in run.accounts.values():
        if account.started is not None:
            account.started = T0
        for unit in account.units.values():
            if unit.started is not None:
                unit.started, unit.finished = T0, (T0 + 3 if unit.finished is not None else None)
    screen.clock = lambda: T0 + 42
    # a refresh that began before the pinning may still be drawing: wait for one that drew after it
    # the lanes may be rebuilt once the folded preflight gives them its rows: read the title anew each time
    await until(pilot, lambda: "· 42s" in _security_title(screen))
    bar = screen.query_one(ProgressBar)
    await until(pilot, lambda: bar.progress == 2)
    # the bar's half-cell rounding differs from one draw to the next at some widths; its value is checked
    # above, so the picture keeps its place and leaves its cells blank
    bar.styles.visibility = "hidden"
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_apply_view_before_a_run_snapshot(
    snap_compare: Any, size: tuple[int, int], sample_workspace: tuple[Workspace, WorkspaceState], no_tg: None
) -> None:
    app = ApplyViewApp(rehearsal_controller(*sample_workspace))
    assert snap_compare(app, terminal_size=size, run_before=preflight_shown)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_apply_view_during_a_run_snapshot(
    snap_compare: Any,
    size: tuple[int, int],
    sample_workspace: tuple[Workspace, WorkspaceState],
    no_tg: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "refarch_tui.run.engine.new_run_id", lambda command: f"20270115T090000Z-{command}-snap"
    )
    app = ApplyViewApp(rehearsal_controller(*sample_workspace))
    assert snap_compare(app, terminal_size=size, run_before=paused_after_the_first_wave)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_account_tick_identity_and_warning_is_on_screen(
    size: tuple[int, int], sample_workspace: tuple[Workspace, WorkspaceState], no_tg: None
) -> None:
    app = ApplyViewApp(rehearsal_controller(*sample_workspace))
    async with app.run_test(size=size) as pilot:
        screen = await preflight_shown(pilot)
        visible = screen.region
        for account in ACCOUNTS:
            for prefix in ("run", "identity", "warning"):
                widget = screen.query_one(f"#{prefix}-{account.name}")
                assert visible.contains_region(widget.region), (prefix, account.name, widget.region)
            assert account.id in str(screen.query_one(f"#identity-{account.name}", Static).render())
            warning = str(screen.query_one(f"#warning-{account.name}", Static).render())
            assert "not done — tick to run anyway" in warning


async def test_focus_starts_on_the_first_account_and_space_ticks_it(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    app = ApplyViewApp(rehearsal_controller(*make_workspace(tiny_live)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await preflight_shown(pilot)
        first = screen.query_one("#run-security", TickBox)
        assert app.focused is first
        assert first.value is False and str(first.render()).startswith(UNTICKED)  # steps not done
        await pilot.press("space")
        assert first.value is True
        assert str(first.render()).startswith(TICKED)  # the glyph says it, not only the colour
        assert screen.query_one("#run-dev", TickBox).value is False


async def test_ticks_are_kept_after_leaving_the_screen_and_coming_back(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    app = ApplyViewApp(rehearsal_controller(*make_workspace(tiny_live)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await preflight_shown(pilot)
        await pilot.press("space")  # security on
        screen.query_one("#run-prod", TickBox).value = True
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ApplyScreen)
        app.push_screen(app.apply_screen())
        screen = await preflight_shown(pilot)
        ticked = {box.id for box in screen.query(TickBox) if box.value}
        assert ticked == {"run-security", "run-prod"}
        assert screen.selected_accounts() == ["security", "prod"]


async def test_units_waiting_for_an_automatic_rerun_are_counted_retrying_not_failed(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    # a long back-off holds the unit between its failure and the runner's rerun
    controller = rehearsal_controller(
        *make_workspace(tiny_live), inject={VPC: RUNNER_RECOVERS}, backoff_base=600
    )
    app = ApplyViewApp(controller)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await preflight_shown(pilot)
        for box in screen.query(TickBox):
            box.value = box.id == "run-dev"
        await pilot.press("s")
        counts = screen.query_one("#apply-counts", Static)
        await until(pilot, lambda: "1 retrying" in str(counts.render()))
        text = str(counts.render())
        assert "1 retrying" in text and "0 failed" in text, text
        await until(pilot, lambda: cell(app, "dev", VPC, "status") == "retrying")
        assert cell(app, "dev", VPC, "status") == "retrying"
        # the preflight folded to one line: the lanes have the room
        assert not screen.query_one("#apply-preflight").display
        assert "Running dev" in str(screen.query_one("#apply-running", Static).render())
        assert isinstance(app.focused, DataTable)
