from __future__ import annotations

from textual.widgets import DataTable, Static

from refarch_tui.app import make_app
from refarch_tui.state import Status, Workspace, WorkspaceState
from screens.home import HomeScreen
from screens.placeholder import StepPlaceholderScreen


def cell(table: DataTable[object], step: str, account: str) -> str:
    return str(table.get_cell(step, account))


async def test_home_shows_the_checklist_matrix_in_deployment_order(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = sandbox_workspace
    workspace.update_step(state, "backends", "dev", Status.DONE)
    workspace.update_step(state, "backends", "prod", Status.FAILED)
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one(DataTable)
        labels = [str(column.label) for column in table.columns.values()]
        assert labels == ["Step", "security", "shared-services", "dev", "stage", "prod"]
        assert table.row_count == 11
        assert cell(table, "backends", "dev") == "done"
        assert cell(table, "backends", "prod") == "failed"
        assert cell(table, "kms_admin", "dev") == "n/a"
        assert cell(table, "kms_admin", "security") == "pending"
        assert cell(table, "amis", "shared-services") == "pending"
        assert cell(table, "amis", "prod") == "n/a"
        assert "SANDBOX" in app.title


async def test_enter_opens_the_step_and_escape_comes_back(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = sandbox_workspace
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        # the cursor starts on the first cell with work left: AMIs × shared-services (the AMI owner)
        assert "shared-services" in app.sub_title
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StepPlaceholderScreen)
        notice = app.screen.query_one("#placeholder-notice", Static)
        assert "NOT BUILT YET" in str(notice.render())
        assert app.screen.account == "shared-services"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_not_applicable_cells_say_why_instead_of_opening(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = sandbox_workspace
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await pilot.press("left", "enter")  # AMIs × security: n/a
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("built once in shared-services" in str(n.message) for n in app._notifications)


def test_home_snapshot(snap_compare, sandbox_workspace: tuple[Workspace, WorkspaceState]) -> None:  # type: ignore[no-untyped-def]
    workspace, state = sandbox_workspace
    app = make_app(workspace, state)

    assert snap_compare(app, terminal_size=(150, 40))


async def test_a_half_finished_setup_resumes_at_the_next_cell_to_do(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = sandbox_workspace
    workspace.update_step(state, "amis", "shared-services", Status.DONE)
    workspace.update_step(state, "docker_images", "shared-services", Status.SKIPPED)
    reopened = workspace.load()
    app = make_app(workspace, reopened)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.cursor_coordinate == (2, 3)  # Build Lambda packages × dev
        assert "account dev" in app.sub_title


async def test_g_opens_the_dependency_graph_of_the_workspace_repo(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    from screens.graph import GraphScreen

    workspace, state = sandbox_workspace
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, GraphScreen)
        assert "dev/us-east-1/networking/vpc-app" in app.screen.live_tree.units
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_x_exports_the_transcript_and_names_the_file(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = sandbox_workspace
    workspace.update_step(state, "backends", "dev", Status.DONE, facts={"bucket": "acme-dev-state"})
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [written] = list(workspace.directory.glob("transcript-*.md"))
        assert "acme-dev-state" in written.read_text()
        assert oct(written.stat().st_mode & 0o777) == "0o600"
        assert any(str(written) in str(n.message) for n in app._notifications)


async def test_at_80x24_the_step_names_stay_in_view_beside_the_last_account(
    sandbox_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    """Five account columns do not fit at 80 columns: moving to prod scrolls the table, the Step column
    stays put so every row still says which step it is."""
    from textual.geometry import Region

    workspace, state = sandbox_workspace
    app = make_app(workspace, state)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        await pilot.press("right", "right", "right", "right", "right")
        await pilot.pause()
        assert table.cursor_coordinate.column == 5  # prod
        assert table.scroll_x > 0
        lines = [strip.text for strip in table.render_lines(Region(0, 0, *table.size))]
        shown = "\n".join(lines)
        assert "prod" in shown
        for label in ("Build AMIs", "Configure state backends", "KMS admin IAM user", "Run Terragrunt"):
            assert label in shown, (label, shown)
