"""The Teardown screen via Pilot, and every entry point refusing to destroy without the typed confirmation."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input, Static, Switch

from refarch_tui.app import make_app
from refarch_tui.run import teardown_line
from refarch_tui.run.controller import RunController
from refarch_tui.run.teardown_exec import Teardown
from refarch_tui.state import Workspace, WorkspaceState
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.dialogs.type_to_confirm import TypeToConfirmDialog
from screens.teardown import TeardownScreen
from tests.run.helpers import calls
from tests.run.test_teardown import FakeTerminal, destroy_calls, included

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
IDENTITY = "arn:aws:sts::368294012756:assumed-role/allow-full-access-from-other-accounts/op"


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")


def text_of(app: App[Any], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def type_into_dialog(pilot: Any, text: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, TypeToConfirmDialog))
    pilot.app.screen.query_one("#confirm-first", Input).focus()
    if text:
        await pilot.press(*text)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(pilot.app.screen, TypeToConfirmDialog))


@pytest.mark.slow
async def test_no_entry_point_destroys_without_the_confirmation(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, state = make_workspace(live_copy)
    hcl = (live_copy / "dev/us-east-1/networking/alb-public/terragrunt.hcl").read_text()

    # the CLI, without a terminal: no --confirm, or one that is not exactly the name
    for extra in ((), ("--confirm", "DEV"), ("--confirm", "")):
        result = subprocess.run(
            [sys.executable, "-m", "refarch_tui", "teardown", "--workspace", str(workspace.directory),
             "--account", "dev", *extra],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr

    # line mode on a terminal: wrong, empty and other-case names
    for typed in ("Dev", "", "stage"):
        code = await teardown_line.run_teardown(
            workspace=workspace, state=state, account="dev", action="destroy", confirm=None, as_json=False,
            report=None, access=lambda: (None, IDENTITY), out=io.StringIO(), err=io.StringIO(),
            prompter=FakeTerminal([typed]).prompter(),
        )  # fmt: skip
        assert code == 2

    # the screen, opened from the home screen with `t` on dev's column
    app = make_app(workspace, state)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for _ in range(8):
            if app.current_account == "dev":
                break
            await pilot.press(
                "right" if (app.current_account or "") in ("security", "shared-services") else "left"
            )
        assert app.current_account == "dev"
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TeardownScreen))
        screen = app.screen
        await until(pilot, lambda: "DESTROYS IN" in text_of(app, "#td-target"))
        target = text_of(app, "#td-target")
        assert "account dev (" in target and "region us-east-1" in target and "identity" in target
        assert "SANDBOX" in target
        plan_text = text_of(app, "#td-plan-text")
        assert plan_text.startswith("Findings") and plan_text.index("Findings") < plan_text.index("wave 1")
        assert screen.query_one("#td-rehearse-only", Switch).value is True, "rehearse mode is on by default"
        await pilot.press("2")  # rehearse mode refuses before any dialog
        await pilot.pause()
        assert not isinstance(app.screen, TypeToConfirmDialog)
        screen.query_one("#td-rehearse-only", Switch).value = False
        await pilot.press("1")  # phase 1: review, then cancel: nothing is written
        await until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TeardownScreen))
        screen.phase1_done = True  # as if phase 1 had nothing to do: the destroy's own gate is what is tested
        for typed in ("Dev", "", "de"):
            await pilot.press("2")
            await type_into_dialog(pilot, typed)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, TypeToConfirmDialog))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TeardownScreen))
        await pilot.press("x")  # cross-account inclusion needs its own phrase
        await type_into_dialog(pilot, "dev")
        assert app.run_controller().current is None

    assert calls(fake_tg) == [] and destroy_calls(fake_tg) == []
    assert not workspace.runs_dir.exists()
    assert (live_copy / "dev/us-east-1/networking/alb-public/terragrunt.hcl").read_text() == hcl


class TeardownTestApp(App[None]):
    def __init__(self, teardown: Teardown, controller: RunController) -> None:
        super().__init__()
        self.teardown = teardown
        self.controller = controller
        self.backends_deleted: list[Any] = []

    def on_mount(self) -> None:
        def deleter(backend: Any) -> list[str]:
            self.backends_deleted.append(backend)
            return ["deleted"]

        self.push_screen(
            TeardownScreen(self.teardown, self.controller, sandbox=True, backend_deleter=deleter)
        )


@pytest.mark.slow
async def test_rehearsal_then_both_confirmed_phases_from_the_screen(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, state = make_workspace(live_copy)
    controller = RunController(workspace, state, run_options={"backoff_base": 0})
    teardown = Teardown(workspace, state, "dev", identity=IDENTITY, run_options={"backoff_base": 0})
    app = TeardownTestApp(teardown, controller)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: "DESTROYS IN" in text_of(app, "#td-target"))
        assert IDENTITY in text_of(app, "#td-target")
        plan = teardown.plan
        assert plan is not None
        await pilot.press("r")
        await until(pilot, lambda: (workspace.directory / "teardown/dev/rehearsal.json").exists())
        assert destroy_calls(fake_tg) == [] and len(calls(fake_tg)) == 1
        rehearsal = json.loads((workspace.directory / "teardown/dev/rehearsal.json").read_text())
        assert {row["status"] for row in rehearsal["planned"]} == {"planned"}

        app.screen.query_one("#td-rehearse-only", Switch).value = False
        await pilot.press("2")  # phase 1 first
        await pilot.pause()
        assert not isinstance(app.screen, TypeToConfirmDialog)
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog))
        await pilot.press("A")
        await type_into_dialog(pilot, "dev")
        await until(pilot, lambda: app.screen.phase1_done and not controller.running)  # type: ignore[attr-defined]
        assert included(calls(fake_tg)[1], "dev") == set(plan.phase1_units)
        await pilot.press("2")
        await type_into_dialog(pilot, "dev")
        await until(pilot, lambda: (workspace.directory / "teardown/dev/report.json").exists(), timeout=120)
        await until(pilot, lambda: not controller.running)
        await pilot.press("b")  # the cross-account unit still has its state there (and no bucket is set)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, TypeToConfirmDialog) and app.backends_deleted == []
    destroys = destroy_calls(fake_tg)
    assert [included(c, "dev") for c in destroys] == [set(w) for w in plan.waves]
    report = json.loads((workspace.directory / "teardown/dev/report.json").read_text())
    assert set(report["destroyed"]) == set(plan.units) and report["not_destroyed"] == []
    assert (workspace.directory / "teardown/dev/report.md").is_file()
