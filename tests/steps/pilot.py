"""Waiting in Pilot tests on a condition (never a fixed sleep): the UI is paused until it holds."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from refarch_tui import paths
from refarch_tui.state import WorkspaceState
from screens.step import StepScreen
from tests.steps.conftest import MakeCtx


async def wait_until(
    pilot: Pilot[None], holds: Callable[[], bool], *, what: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)


def identity_in(account_id: str) -> str:
    """The role ARN the sandbox's identity check reports for an account."""
    return f"arn:aws:sts::{account_id}:assumed-role/allow-full-access-from-other-accounts/refarch-tui"


class StepApp(App[None]):
    """An app that opens one step's screen for one account straight away, as the home screen would."""

    CSS_PATH = str(paths.assets_dir() / "app.tcss")

    def __init__(
        self, make_ctx: MakeCtx, state: WorkspaceState, *, step: str, account: str, account_id: str
    ) -> None:
        super().__init__()
        self.make_ctx = make_ctx
        self.state = state
        self.step = step
        self.account = account
        self.account_id = account_id

    def on_mount(self) -> None:
        self.push_screen(
            StepScreen(
                self.step,
                self.account,
                make_context=self.make_ctx,
                sandbox=True,
                account_id=self.account_id,
                identity=identity_in(self.account_id),
                regions=list(self.state.regions),
            )
        )


def text_of(screen: StepScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())
