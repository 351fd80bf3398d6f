"""Creating a workspace: the welcome screen and `refarch-tui init`, bad input included."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, Static

from refarch_tui import cli
from refarch_tui.app import make_app
from refarch_tui.state import last_workspace
from screens.home import HomeScreen
from screens.welcome import WelcomeScreen


def bad_trees(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty"
    (empty / "dev").mkdir(parents=True)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a dir")
    no_id = tmp_path / "no-id"
    (no_id / "dev" / "us-east-1" / "vpc").mkdir(parents=True)
    (no_id / "dev" / "us-east-1" / "vpc" / "terragrunt.hcl").write_text('terraform { source = "x" }\n')
    (no_id / "dev" / "account.hcl").write_text('locals {\n  account_name = "dev"\n}\n')
    return {
        "no units": (empty, "terragrunt.hcl"),
        "not a directory": (a_file, "is not a folder"),
        "missing": (tmp_path / "nope", "does not exist"),
        "no account id": (no_id, "dev"),
    }


@pytest.mark.parametrize("case", ["no units", "not a directory", "missing", "no account id"])
def test_init_reports_bad_input_as_json_errors(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, expected = bad_trees(tmp_path)[case]
    code = cli.main(["init", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert document["errors"], document
    assert any(expected in error for error in document["errors"]), document["errors"]
    assert "Traceback" not in captured.err
    assert last_workspace() is None


def test_init_with_unreadable_account_file_is_a_clear_error(
    tmp_path: Path, live_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:
        # root reads anything, so make the file unreadable by making it a directory instead
        target = live_copy / "dev" / "account.hcl"
        target.unlink()
        target.mkdir()
    else:
        (live_copy / "dev" / "account.hcl").chmod(0)
    code = cli.main(["init", str(live_copy), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert any("dev" in error for error in document["errors"])


def test_init_creates_a_workspace_for_the_sample_repo(
    live_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["init", str(live_copy), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document
    assert [a["name"] for a in document["accounts"]] == [
        "security",
        "shared-services",
        "dev",
        "stage",
        "prod",
    ]
    assert document["accounts"][2]["id"] == "368294012756"
    assert document["regions"] == ["us-east-1", "us-west-2"]
    assert last_workspace() == Path(document["workspace"])


async def _scan(pilot, app, path: Path) -> WelcomeScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, WelcomeScreen)
    screen.query_one("#live-dir", Input).value = str(path)
    await pilot.click("#scan")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


@pytest.mark.parametrize("case", ["no units", "not a directory", "missing", "no account id"])
async def test_welcome_shows_bad_input_on_screen(case: str, tmp_path: Path) -> None:
    path, expected = bad_trees(tmp_path)[case]
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        screen = await _scan(pilot, app, path)
        problems = str(screen.query_one("#welcome-problems", Static).render())
        assert expected in problems
        assert screen.query_one("#create", Button).disabled


async def test_welcome_creates_a_workspace_and_opens_home(live_copy: Path) -> None:
    shutil.rmtree(live_copy / "prod" / "us-west-2")
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        screen = await _scan(pilot, app, live_copy)
        table = screen.query_one("#welcome-accounts", DataTable)
        assert table.row_count == 5
        assert not screen.query_one("#create", Button).disabled
        await pilot.click("#create")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.state is not None and app.workspace is not None
        assert app.state.regions == ["us-east-1"]
        assert app.workspace.lock_holder() == os.getpid()
    assert last_workspace() == app.workspace.directory


def test_init_json_prints_live_dir_absolute_as_stored(
    live_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from refarch_tui.state import Workspace

    monkeypatch.chdir(live_copy.parent)
    code = cli.main(["init", live_copy.name, "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document
    assert document["live_dir"] == str(live_copy.resolve())
    stored = Workspace(Path(document["workspace"])).load()
    assert stored.live_dir == document["live_dir"]
