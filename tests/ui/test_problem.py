"""A corrupt or newer-schema state: refuse to overwrite, explain, keep the file, offer a new workspace."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static

from refarch_tui import cli
from refarch_tui.app import make_app
from refarch_tui.state import SCHEMA_VERSION, StateError, Workspace
from screens.welcome import ProblemScreen, WelcomeScreen


def _problem_for(directory: Path, text: str) -> tuple[Workspace, str]:
    ws = Workspace(directory)
    ws.directory.mkdir(parents=True)
    ws.state_path.write_text(text)
    try:
        ws.load()
    except StateError as exc:
        return ws, str(exc)
    raise AssertionError("expected the state to be refused")


async def test_newer_schema_explains_keeps_the_file_and_offers_a_new_workspace(tmp_path: Path) -> None:
    text = json.dumps({"schema_version": SCHEMA_VERSION + 5, "live_dir": "/x"})
    ws, problem = _problem_for(tmp_path / "ws", text)
    app = make_app(problem=problem)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProblemScreen)
        message = str(app.screen.query_one("#problem-message", Static).render())
        assert "newer refarch-tui" in message
        await pilot.click("#new")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
    assert ws.state_path.read_text() == text


async def test_corrupt_state_through_the_cli_path_keeps_the_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws, _ = _problem_for(tmp_path / "ws", "{ truncated")
    seen: dict[str, object] = {}

    def fake_run_app(workspace, state, problem, err):  # type: ignore[no-untyped-def]
        seen.update(workspace=workspace, state=state, problem=problem)
        return 0

    monkeypatch.setattr(cli, "run_app", fake_run_app)
    assert cli.main(["--workspace", str(ws.directory)]) == 0
    assert seen["state"] is None and seen["workspace"] is None
    assert "not valid JSON" in str(seen["problem"])
    assert ws.state_path.read_text() == "{ truncated"
