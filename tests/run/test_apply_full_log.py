"""`o` on the apply screen shows the end of the selected unit's log, however long the log grew."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Log

from refarch_tui.run.rehearsal import FAILS, RehearsalExecutor
from screens.apply import ApplyScreen
from tests.run.helpers import make_run
from tests.run.test_apply_screen import VPC, ApplyTestApp, MakeWs, cell, controller_for, until


async def test_open_log_shows_the_last_2000_lines_of_a_long_unit_log(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    broken = make_run(
        workspace, state, accounts=["dev"], executor=RehearsalExecutor(speed=0, inject={VPC: FAILS})
    )
    await broken.execute()
    unit = broken.unit(VPC)
    assert unit is not None
    with unit.log_path.open("a", encoding="utf-8") as handle:
        handle.writelines(f"flood line {i} — ✓\n" for i in range(50_000))

    app = ApplyTestApp(controller_for(workspace, workspace.load(), {}))
    async with app.run_test(size=(180, 50)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await until(pilot, lambda: "failed" in cell(app, "dev", VPC, "status"))
        screen = app.screen
        assert isinstance(screen, ApplyScreen)
        table = screen.query_one("#lane-dev", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(VPC))
        await until(pilot, lambda: screen.selected == VPC)
        await pilot.press("o")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        shown = screen.query_one("#apply-unit-log", Log)
        assert shown.lines == [f"flood line {i} — ✓" for i in range(48_000, 50_000)]
        assert str(unit.log_path) in str(shown.border_title)
