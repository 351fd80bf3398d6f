"""Pilot tests: the Review edits dialog and the Graph view, pushed by a tiny test app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import App
from textual.widgets import DataTable, SelectionList, Static, TabbedContent

from refarch_tui.live import edits, scan
from refarch_tui.live.edits import PlannedEdit
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.graph import GraphScreen
from tests.live.conftest import ACCOUNT_ROOT, TreeFactory, unit

ECS = "dev/us-east-1/services/ecs-cluster"
VPN = "dev/us-east-1/mgmt/openvpn-server"


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[Any] = []


def planned(live: Path) -> list[PlannedEdit]:
    return [
        edits.plan_set_input(live, ECS, "ami_id", "ami-0aaa", reason="ECS AMI from Packer"),
        edits.plan_set_input(live, VPN, "ami_id", "ami-0bbb", reason="OpenVPN AMI from Packer"),
        edits.plan_set_input(live, ECS, "cluster_min_size", 2, reason="unchanged"),
    ]


async def open_review(app: Host, items: list[PlannedEdit]) -> ReviewEditsDialog:
    dialog = ReviewEditsDialog(items)
    app.push_screen(dialog, app.results.append)
    return dialog


async def test_review_accept_all(live_copy: Path) -> None:
    items = planned(live_copy)
    app = Host()
    async with app.run_test(size=(140, 40)) as pilot:
        dialog = await open_review(app, items)
        await pilot.pause()
        shown = dialog.query_one("#review-diff-text", Static).content
        assert isinstance(shown, Syntax) and '+  ami_id                        = "ami-0aaa"' in shown.code
        await pilot.press("A")
        await pilot.pause()
    assert app.results == [items]


async def test_review_accept_some(live_copy: Path) -> None:
    items = planned(live_copy)
    app = Host()
    async with app.run_test(size=(140, 40)) as pilot:
        dialog = await open_review(app, items)
        await pilot.pause()
        selection = dialog.query_one(SelectionList)
        assert selection.selected == [0, 1, 2]
        await pilot.press("down", "space")  # untick the OpenVPN edit
        await pilot.pause()
        reason = str(dialog.query_one("#review-reason", Static).render())
        assert "OpenVPN AMI from Packer" in reason
        await pilot.press("y")
        await pilot.pause()
    assert app.results == [[items[0], items[2]]]


async def test_review_cancel_and_select_none(live_copy: Path) -> None:
    items = planned(live_copy)
    app = Host()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_review(app, items)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await open_review(app, items)
        await pilot.pause()
        await pilot.press("n", "y")
        await pilot.pause()
    assert app.results == [None, []]


async def test_review_buttons(live_copy: Path) -> None:
    items = planned(live_copy)[:1]
    app = Host()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_review(app, items)
        await pilot.pause()
        await pilot.click("#review-accept-selected")
        await pilot.pause()
    assert app.results == [items]


def table_text(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


async def test_graph_shows_waves_per_account_with_statuses(sample_live: Path, tmp_path: Path) -> None:
    tree = scan(sample_live, cache_dir=tmp_path / "c")
    app = Host()
    async with app.run_test(size=(200, 50)) as pilot:
        screen = GraphScreen(tree, {ECS: "failed", "dev/us-east-1/networking/vpc-app": "done"})
        app.push_screen(screen)
        await pilot.pause()
        tabs = screen.query_one(TabbedContent)
        assert tabs.tab_count == 5
        dev = screen.query_one("#graph-dev-table", DataTable)
        labels = [str(c.label) for c in dev.columns.values()]
        assert labels[0] == "wave 1" and len(labels) >= 3
        rows = table_text(dev)
        cells = [c for row in rows for c in row]
        assert "us-east-1/services/ecs-cluster failed" in cells
        assert "us-east-1/networking/vpc-app done" in cells
        assert "dev (root config, not run)" in cells
        column_of = {c: i for row in rows for i, c in enumerate(row) if c}
        assert (
            column_of["us-east-1/networking/vpc-app done"]
            < column_of["us-east-1/services/ecs-cluster failed"]
        )
        failed = next(
            dev.get_cell_at((r, c))
            for r in range(dev.row_count)
            for c in range(len(labels))
            if str(dev.get_cell_at((r, c))).endswith("failed")
        )
        assert isinstance(failed, Text) and any("red" in str(s.style) for s in failed.spans)

        screen.set_statuses({ECS: "running"})
        await pilot.pause()
        cells = [c for row in table_text(dev) for c in row]
        assert "us-east-1/services/ecs-cluster running" in cells

        await pilot.press("d")
        await pilot.pause()
        destroy_rows = table_text(dev)
        column_of = {c: i for row in destroy_rows for i, c in enumerate(row) if c}
        assert column_of["us-east-1/services/ecs-cluster running"] < column_of["us-east-1/networking/vpc-app"]


async def test_graph_names_a_cycle_and_errors(make_tree: TreeFactory, tmp_path: Path) -> None:
    root = make_tree(
        {
            "acct/terragrunt.hcl": ACCOUNT_ROOT,
            "acct/a/terragrunt.hcl": unit(deps=("../b",)),
            "acct/b/terragrunt.hcl": unit(deps=("../a", "../gone")),
        }
    )
    tree = scan(root, cache_dir=tmp_path / "c")
    app = Host()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = GraphScreen(tree)
        app.push_screen(screen)
        await pilot.pause()
        problems = str(screen.query_one("#graph-problems", Static).render())
        assert "acct/a -> acct/b -> acct/a" in problems
        assert "gone" in problems
