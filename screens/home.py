"""Home: the checklist. rows are the seed's steps in order, columns the accounts in deployment order."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from refarch_tui import checklist
from refarch_tui.state import Status, WorkspaceState
from screens.widgets.sandbox_banner import SandboxBanner
from screens.widgets.status_text import status_text


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "open_cell", "Open step", id="home.open"),
        Binding("g", "app.show_graph", "Graph", id="home.graph"),
        Binding("i", "app.show_authenticate", "AWS identity", id="home.auth"),
        Binding("a", "app.show_apply", "Run Terragrunt", id="home.apply"),
        Binding("t", "app.show_teardown", "Teardown (this account)", id="home.teardown"),
        Binding("r", "refresh", "Refresh", id="home.refresh"),
        Binding("x", "app.export_transcript", "Export transcript", id="home.export"),
        Binding("q", "app.quit", "Quit", id="home.quit"),
    ]

    class OpenStep(Message):
        def __init__(self, step_id: str, account: str) -> None:
            super().__init__()
            self.step_id = step_id
            self.account = account

    class AccountHighlighted(Message):
        def __init__(self, account: str) -> None:
            super().__init__()
            self.account = account

    def __init__(
        self,
        state: WorkspaceState,
        *,
        identities: dict[str, str] | None = None,
        blocked: set[str] | None = None,
        from_runs: Callable[[], Mapping[str, Status]] | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        # Run Terragrunt's cells as the newest run on disk tells them (the state may predate a kill -9)
        self.from_runs = from_runs
        self.identities = identities if identities is not None else {}
        self.blocked = blocked if blocked is not None else set()

    def compose(self) -> ComposeResult:
        yield Header()
        if self.state.mode.value == "sandbox":
            yield SandboxBanner()
        with Horizontal(id="home-body"):
            yield DataTable(id="checklist", cursor_type="cell", zebra_stripes=True, fixed_columns=1)
            yield Static(id="cell-detail")
        yield Footer()

    @property
    def accounts(self) -> list[str]:
        return self.state.account_names

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Step", key="step")
        for account in self.accounts:
            table.add_column(account, key=account)
        for step in checklist.STEPS:
            table.add_row(step.title, *self._row_cells(step.id), key=step.id)
        row, column = self._next_cell_to_do()
        table.move_cursor(row=row, column=column)
        table.focus()
        self._show_detail(*self._cursor_cell())

    def _next_cell_to_do(self) -> tuple[int, int]:
        """The table position of the cell the core says comes next (the first cell when all is done)."""
        found = self.state.next_cell()
        if found is None:
            return 0, 1
        step_id, account = found
        return checklist.STEP_IDS.index(step_id), self.accounts.index(account) + 1

    def _row_cells(self, step_id: str) -> list[Text]:
        return [self._cell_text(step_id, account) for account in self.accounts]

    def _cell_text(self, step_id: str, account: str) -> Text:
        if account in self.blocked and self.state.applies(step_id, account):
            return status_text("blocked")
        return status_text(self._status(step_id, account))

    def _status(self, step_id: str, account: str) -> str:
        if step_id == "terragrunt" and self.from_runs is not None:
            found = self.from_runs().get(account)
            if found is not None:
                return found.value
        return self.state.record(step_id, account).status.value

    def refresh_cells(self) -> None:
        table = self.query_one(DataTable)
        for step in checklist.STEPS:
            for account in self.accounts:
                table.update_cell(step.id, account, self._cell_text(step.id, account))
        self._show_detail(*self._cursor_cell())

    def _cursor_cell(self) -> tuple[str, str | None]:
        table = self.query_one(DataTable)
        row, column = table.cursor_coordinate
        step_id = checklist.STEPS[row].id
        account = self.accounts[column - 1] if column >= 1 and self.accounts else None
        return step_id, account

    def _show_detail(self, step_id: str, account: str | None) -> None:
        step = checklist.step(step_id)
        lines = [f"[b]{step.title}[/b]  [dim](seed: {step.seed_section})[/dim]", "", step.summary, ""]
        if account is not None:
            record = self.state.record(step_id, account)
            account_id = self.state.account(account).id or "no account ID"
            lines.append(f"Account: [b]{account}[/b] ({account_id})")
            status = self._status(step_id, account)
            blocked = account in self.blocked and self.state.applies(step_id, account)
            lines.append(f"Status: blocked (recorded: {status})" if blocked else f"Status: {status}")
            if status == "stale":
                lines.append(f"[b magenta]No longer holds:[/] {record.message}")
                lines.append("Enter opens the step: running it again repairs this.")
            if status == "n/a":
                lines.append(
                    f"[dim]Not applicable: {self.state.not_applicable_reason(step_id, account)}[/dim]"
                )
            if record.updated:
                lines.append(f"Updated: {record.updated}")
            if record.message and status != "stale":
                lines.append(record.message)
            for key, value in record.facts.items():
                lines.append(f"  {key} = {value}")
            if account in self.blocked:  # from the identity check's status, never from its wording
                reached = escape(self.identities.get(account, "another account"))
                lines.append(
                    f"[b red]Blocked: the identity reached is not this account ({reached}). Nothing runs "
                    "here until a check on the AWS identity screen (i) reaches it.[/]"
                )
        lines += ["", "[dim]Enter opens this step for the account.[/dim]"]
        self.query_one("#cell-detail", Static).update("\n".join(lines))

    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        step_id, account = self._cursor_cell()
        self._show_detail(step_id, account)
        if account is not None:
            self.post_message(self.AccountHighlighted(account))

    @on(DataTable.CellSelected)
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_open_cell()

    def action_open_cell(self) -> None:
        step_id, account = self._cursor_cell()
        if account is None:
            self.notify("Move to an account column to open this step for that account.")
            return
        self.post_message(self.OpenStep(step_id, account))

    def action_refresh(self) -> None:
        self.refresh_cells()

    def on_screen_resume(self) -> None:
        if self.is_mounted and self.query(DataTable):
            self.refresh_cells()
