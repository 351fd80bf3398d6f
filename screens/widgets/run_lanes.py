"""The lanes of a run: one table per account, side by side, in rows, or one per tab when the terminal is
too small; each refresh updates only the cells that changed.

Status and time come first in each row, so a narrow lane cuts the unit's name, never its state.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import Container, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from refarch_tui.run import view

COLUMNS = ("status", "time", "unit")
# fixed widths, so a later, longer word ("interrupted", "1h02m") is never cut by a width set from "pending"
WIDTHS = {"status": max(len(word) for word in view.WORD_STYLES), "time": 6, "unit": None}
Cells = tuple[str, str, str]  # what a row showed last time, as plain text


def _cells(row: view.LaneRow) -> Cells:
    return (row.label, "", "") if row.is_wave else (row.word, row.elapsed, row.label)


def _rendered(row: view.LaneRow) -> tuple[Text | str, ...]:
    if row.is_wave:
        return Text(row.label, style="bold dim"), "", ""
    return Text(row.word, style=view.WORD_STYLES.get(row.word, "")), row.elapsed, row.label


class RunLanes(Widget):
    DEFAULT_CSS = """
    RunLanes { height: 1fr; }
    RunLanes > #lanes-grid { layout: grid; grid-gutter: 0; height: 1fr; }
    RunLanes > TabbedContent { height: 1fr; }
    RunLanes > TabbedContent > ContentSwitcher { height: 1fr; }
    RunLanes TabPane { height: 1fr; padding: 0; }
    RunLanes .lane { height: 1fr; border: round $secondary; }
    RunLanes .lane-title { text-style: bold; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    RunLanes .lane DataTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._source: object = None  # the run (or record) the lanes were built for
        self._layout: view.LaneLayout | None = None
        self._accounts: tuple[str, ...] = ()
        self._keys: dict[str, tuple[str, ...]] = {}  # account -> row keys in order
        self._rows: dict[str, Cells] = {}  # row key -> last shown cells
        self._building = False

    def layout_for(self, count: int) -> view.LaneLayout:
        size = self.size if self.size.height else self.app.size
        return view.lane_layout(count, size.width, size.height)

    async def show(self, source: object, lanes: list[view.Lane]) -> None:
        """Shows `lanes`, rebuilding only when the run, the accounts or the layout changed."""
        if self._building:
            return
        layout = self.layout_for(len(lanes))
        accounts = tuple(lane.account for lane in lanes)
        if source is not self._source or layout != self._layout or accounts != self._accounts:
            self._building = True
            try:
                await self._build(lanes, layout)
            finally:
                self._building = False
            self._source, self._layout, self._accounts = source, layout, accounts
            return
        for lane in lanes:
            self._update(lane)

    async def _build(self, lanes: list[view.Lane], layout: view.LaneLayout) -> None:
        await self.remove_children()
        self._keys.clear()
        self._rows.clear()
        boxes = [self._lane_box(lane) for lane in lanes]
        if layout.tabs:
            tabs = TabbedContent(id="lanes-tabs")
            await self.mount(tabs)
            for lane, box in zip(lanes, boxes, strict=True):
                await tabs.add_pane(TabPane(lane.tab_title or lane.account, box, id=f"tab-{lane.account}"))
        else:
            grid = Container(*boxes, id="lanes-grid")
            grid.styles.grid_size_columns = layout.columns
            await self.mount(grid)
        for lane in lanes:
            self._fill(lane)

    def _lane_box(self, lane: view.Lane) -> Vertical:
        table: DataTable[Text | str] = DataTable(id=f"lane-{lane.account}", cursor_type="row")
        for column in COLUMNS:
            table.add_column(column, key=column, width=WIDTHS[column])
        return Vertical(
            Static(lane.title, classes="lane-title", id=f"title-{lane.account}"), table, classes="lane"
        )

    def _fill(self, lane: view.Lane) -> None:
        table = self.query_one(f"#lane-{lane.account}", DataTable)
        table.clear()
        for row in lane.rows:
            table.add_row(*_rendered(row), key=row.key)
            self._rows[row.key] = _cells(row)
        self._keys[lane.account] = tuple(row.key for row in lane.rows)

    def _update(self, lane: view.Lane) -> None:
        self.query_one(f"#title-{lane.account}", Static).update(lane.title)
        if self._layout is not None and self._layout.tabs:
            tab = self.query_one("#lanes-tabs", TabbedContent).get_tab(f"tab-{lane.account}")
            if tab.label_text != lane.tab_title:
                tab.label = lane.tab_title
        if tuple(row.key for row in lane.rows) != self._keys.get(lane.account):
            self._fill(lane)  # units came or went (a filter, a rerun): refill this lane only
            return
        table = self.query_one(f"#lane-{lane.account}", DataTable)
        for row in lane.rows:
            cells = _cells(row)
            old = self._rows[row.key]
            if old == cells:
                continue
            rendered = _rendered(row)
            for index, column in enumerate(COLUMNS):
                if old[index] != cells[index]:
                    table.update_cell(row.key, column, rendered[index])
            self._rows[row.key] = cells

    def relayout(self) -> None:
        """After a resize: rebuild on the next `show` if the lanes would sit differently now."""
        if self._layout is not None and self.layout_for(len(self._accounts)) != self._layout:
            self._source = None
