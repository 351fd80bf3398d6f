"""Verified resume in the app: after the first paint, done cells are verified again in a worker; what no
longer holds turns stale on the home screen, with the reason, and the cursor goes to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Static

from refarch_tui import cli
from refarch_tui.app import make_app
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.steps import registry
from screens.home import HomeScreen

UNIT_FILE = "dev/us-east-1/services/ecs-cluster/terragrunt.hcl"


@pytest.fixture(autouse=True)
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(registry.MODULES, "keypairs", "tests.steps.fake_step")
    yield


async def test_a_done_cell_whose_hcl_changed_turns_stale_with_the_reason(
    emulated_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, _ = emulated_workspace
    argv = ["step", "keypairs", "--workspace", str(workspace.directory), "--account", "dev", "--apply-edits"]
    assert cli.main(argv) == 0
    unit = workspace.directory / "live" / UNIT_FILE
    unit.write_text(unit.read_text().replace('"fake-key"', '"changed-by-hand"'))
    state = workspace.load()
    assert state.record("keypairs", "dev").status is Status.DONE

    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        home = app.screen
        assert isinstance(home, HomeScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = home.query_one(DataTable)
        assert str(table.get_cell("keypairs", "dev")) == "stale"
        record = state.record("keypairs", "dev")
        assert record.status is Status.STALE
        assert record.message == f"cluster_instance_keypair_name in {UNIT_FILE} was changed by hand"
        assert state.next_cell() == ("amis", "shared-services")
        # the cell's detail says why it is stale
        table.move_cursor(row=3, column=3)
        await pilot.pause()
        detail = str(home.query_one("#cell-detail", Static).render())
        assert "No longer holds" in detail and "was changed by hand" in detail
    assert Workspace(workspace.directory).load().record("keypairs", "dev").status is Status.STALE
