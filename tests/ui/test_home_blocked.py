"""A blocked account: its cells say blocked, its detail shows the red Blocked line, and `a` still opens the
apply view (which leaves the blocked account unticked) — from the identity status, not from its wording."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Checkbox, DataTable, Static

from refarch_tui import checklist
from refarch_tui.app import make_app
from refarch_tui.aws.auth import IdentityResult
from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.apply import ApplyScreen
from screens.home import HomeScreen

OTHER_ACCOUNT = "999988887777"


def results(state: WorkspaceState, blocked: str) -> dict[str, IdentityResult]:
    found = {}
    for account in state.accounts:
        reached = OTHER_ACCOUNT if account.name == blocked else account.id
        arn = f"arn:aws:sts::{reached}:assumed-role/x/y"
        found[account.name] = IdentityResult(account.name, account.id, reached_id=reached, arn=arn)
    return found


def detail(app: Any) -> str:
    return str(app.screen.query_one("#cell-detail", Static).render())


def move_to(app: Any, step_id: str, account: str) -> None:
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=checklist.STEP_IDS.index(step_id), column=app.screen.accounts.index(account) + 1)


async def test_a_blocked_account_shows_blocked_and_the_apply_view_still_opens(
    sandbox_workspace: tuple[Workspace, WorkspaceState], monkeypatch: Any
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no terragrunt: the preflight offers the rehearsal
    workspace, state = sandbox_workspace
    workspace.update_step(state, "backends", "dev", Status.DONE)
    app = make_app(workspace, state)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.record_identities(results(state, "dev"))
        assert "dev" in app.blocked
        move_to(app, "backends", "dev")
        await pilot.pause()
        assert str(app.screen.query_one(DataTable).get_cell("backends", "dev")) == "blocked"
        text = detail(app)
        assert "Status: blocked (recorded: done)" in text
        assert "Blocked: the identity reached is not this account" in text
        assert OTHER_ACCOUNT in text
        move_to(app, "backends", "stage")
        await pilot.pause()
        assert "Blocked" not in detail(app)

        move_to(app, "terragrunt", "dev")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ApplyScreen), "a must open the apply view from a blocked account"
        await app.workers.wait_for_complete()
        deadline = time.monotonic() + 30
        while not app.screen.query("#run-dev") and time.monotonic() < deadline:
            await pilot.pause(0.05)
        summary = str(app.screen.query_one("#preflight-summary", Static).render())
        assert app.screen.query("#run-dev"), summary
        dev = app.screen.query_one("#run-dev", Checkbox)
        warning = str(app.screen.query_one("#warning-dev", Static).render())
        assert dev.value is False and "BLOCKED" in warning
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
