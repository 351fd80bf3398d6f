"""Welcome: create a workspace — pick the infrastructure-live directory, confirm accounts, pick regions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, SelectionList, Static

from refarch_tui.accounts import AccountDiscovery, discover_accounts
from refarch_tui.state import Account
from screens.worker_failures import ReportsWorkerFailures


@dataclass(frozen=True)
class NewWorkspace:
    live_dir: Path
    accounts: list[Account]
    regions: list[str]


class WelcomeScreen(ReportsWorkerFailures, Screen[NewWorkspace | str | None]):
    """Dismisses with a NewWorkspace, the string "sandbox" to open the sandbox instead, or None to quit."""

    BINDINGS = [
        Binding("ctrl+s", "scan", "Scan directory", id="welcome.scan"),
        Binding("escape", "quit", "Quit", id="welcome.quit"),
    ]

    def __init__(self, *, initial_dir: Path | None = None, note: str = "") -> None:
        super().__init__()
        self.initial_dir = initial_dir or Path.cwd()
        self.note = note
        self.discovery: AccountDiscovery | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="welcome-body"):
            yield Static("[b]Welcome to refarch-tui[/b]")
            if self.note:
                yield Static(self.note, id="welcome-note")
            yield Static(
                "Pick your infrastructure-live directory (the folder that holds one folder per AWS account)."
            )
            yield Input(str(self.initial_dir), placeholder="/path/to/infrastructure-live", id="live-dir")
            with Horizontal(classes="buttons"):
                yield Button("Scan", id="scan", variant="primary")
                yield Button("Open the sandbox instead", id="sandbox")
            yield Static("", id="welcome-problems")
            yield Static("Accounts found (folder name → account ID):")
            yield DataTable(id="welcome-accounts", cursor_type="row")
            yield Static("Regions to deploy:")
            yield SelectionList[str](id="welcome-regions")
            yield Button("Create workspace", id="create", variant="success", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#welcome-accounts", DataTable)
        table.add_columns("account", "id")
        self.query_one("#live-dir", Input).focus()

    @on(Input.Submitted, "#live-dir")
    @on(Button.Pressed, "#scan")
    def action_scan(self) -> None:
        self.query_one("#create", Button).disabled = True
        self.query_one("#welcome-problems", Static).update("Scanning…")
        self._scan(Path(self.query_one("#live-dir", Input).value.strip() or ".").expanduser())

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def _scan(self, live_dir: Path) -> None:
        discovery = discover_accounts(live_dir)
        self.app.call_from_thread(self._show_discovery, discovery)

    def _show_discovery(self, discovery: AccountDiscovery) -> None:
        self.discovery = discovery
        table = self.query_one("#welcome-accounts", DataTable)
        table.clear()
        for account in discovery.accounts:
            table.add_row(account.name, account.id or "MISSING")
        regions = self.query_one("#welcome-regions", SelectionList)
        regions.clear_options()
        for region in discovery.regions:
            regions.add_option((region, region, True))
        problems = "\n".join(f"• {p}" for p in discovery.problems)
        self.query_one("#welcome-problems", Static).update(problems or "No problems found.")
        usable = bool(discovery.accounts) and all(a.id for a in discovery.accounts)
        self.query_one("#create", Button).disabled = not usable

    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        if self.discovery is None:
            return
        regions = list(self.query_one("#welcome-regions", SelectionList).selected)
        if not regions:
            self.notify("Pick at least one region.", severity="warning")
            return
        self.dismiss(NewWorkspace(self.discovery.live_dir, self.discovery.accounts, regions))

    @on(Button.Pressed, "#sandbox")
    def _sandbox(self) -> None:
        self.dismiss("sandbox")

    def action_quit(self) -> None:
        self.dismiss(None)


class ProblemScreen(Screen[str | None]):
    """A state file the product refuses to overwrite: explain, keep it, offer a new workspace."""

    BINDINGS = [Binding("escape", "quit", "Quit", id="problem.quit")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="problem-body"):
            yield Static("This workspace cannot be opened", classes="problem-title")
            yield Static(self.message, id="problem-message")
            yield Static("The file was kept exactly as it is.")
            with Horizontal(classes="buttons"):
                yield Button("Start a new workspace", id="new", variant="primary")
                yield Button("Quit", id="quit")
        yield Footer()

    @on(Button.Pressed, "#new")
    def _new(self) -> None:
        self.dismiss("new")

    @on(Button.Pressed, "#quit")
    def action_quit(self) -> None:
        self.dismiss(None)
