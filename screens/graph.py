"""Graph: per account, the dependency waves as columns (what terragrunt runs together), with run status."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from refarch_tui import checklist
from refarch_tui.live.graph import waves
from refarch_tui.live.model import CycleError, LiveTree
from screens.widgets.status_text import status_text

TOP_LEVEL = "(top level)"


def _pane_id(account: str) -> str:
    return "graph-" + "".join(c if c.isalnum() else "-" for c in account)


class GraphScreen(Screen[None]):
    DEFAULT_CSS = """
    GraphScreen #graph-summary { height: auto; padding: 0 1; }
    GraphScreen #graph-tabs { height: 1fr; }
    GraphScreen TabPane { height: 1fr; padding: 0; }
    GraphScreen DataTable { height: 1fr; }
    GraphScreen #graph-problems { height: auto; max-height: 8; padding: 0 1; color: $error; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="graph.back"),
        Binding("d", "toggle_destroy", "Apply/destroy order", id="graph.toggle_order"),
    ]

    def __init__(self, tree: LiveTree, statuses: dict[str, str] | None = None) -> None:
        super().__init__()
        self.live_tree = tree
        self.statuses = dict(statuses or {})
        self.destroy = False

    @property
    def groups(self) -> list[str]:
        top = [TOP_LEVEL] if any(u.account is None for u in self.live_tree.units.values()) else []
        return top + checklist.order_accounts(self.live_tree.accounts)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="graph-summary")
        if not self.live_tree.units:
            yield Static("No units found in this live repo.", id="graph-empty")
        else:
            with TabbedContent(id="graph-tabs"):
                for account in self.groups:
                    with TabPane(account, id=_pane_id(account)):
                        yield DataTable(
                            id=f"{_pane_id(account)}-table", cursor_type="cell", zebra_stripes=True
                        )
        yield Static(id="graph-problems")
        yield Footer()

    def on_mount(self) -> None:
        self._render_all()

    def set_statuses(self, statuses: dict[str, str]) -> None:
        """Show new run statuses (unit path -> status word such as running, done, failed)."""
        self.statuses = dict(statuses)
        self._render_all()

    def action_toggle_destroy(self) -> None:
        self.destroy = not self.destroy
        self._render_all()

    def _render_all(self) -> None:
        runnable = sum(1 for u in self.live_tree.units.values() if u.runnable)
        order = "destroy order: dependents first" if self.destroy else "apply order: dependencies first"
        self.query_one("#graph-summary", Static).update(
            f"{self.live_tree.root} — {len(self.live_tree.units)} units ({runnable} runnable), {order}. "
            "Each column is a wave: its units run in parallel once the columns to the left are done."
        )
        problems = [
            f"{e.path}{':' + str(e.line) if e.line else ''}: {e.message}" for e in self.live_tree.errors
        ]
        problems += [f"note: {n}" for n in self.live_tree.notes]
        if self.live_tree.unresolved:
            problems.append(
                f"note: {len(self.live_tree.unresolved)} expression(s) are known only when terragrunt runs "
                "(not errors; `refarch-tui graph LIVE_DIR` lists them)"
            )
        for account in self.groups:
            problem = self._render_account(account)
            if problem:
                problems.append(problem)
        self.query_one("#graph-problems", Static).update(Text("\n".join(problems)))

    def _account_waves(self, account: str) -> list[list[str]]:
        if account == TOP_LEVEL:
            return [sorted(p for p, u in self.live_tree.units.items() if u.account is None)]
        return waves(self.live_tree, account=account, destroy=self.destroy)

    def _render_account(self, account: str) -> str | None:
        table = self.query_one(f"#{_pane_id(account)}-table", DataTable)
        table.clear(columns=True)
        try:
            account_waves = self._account_waves(account)
        except CycleError as cycle:
            table.add_column("problem")
            table.add_row(Text(f"dependency cycle: {' -> '.join(cycle.cycle)}", style="bold red"))
            return f"{account}: dependency cycle: {' -> '.join(cycle.cycle)}"
        for index, _wave in enumerate(account_waves, start=1):
            table.add_column(f"wave {index}", key=f"wave-{index}")
        depth = max((len(w) for w in account_waves), default=0)
        for row in range(depth):
            cells = [self._cell(w[row], account) if row < len(w) else Text("") for w in account_waves]
            table.add_row(*cells)
        return None

    def _cell(self, path: str, account: str) -> Text:
        unit = self.live_tree.units[path]
        prefix = account + "/"
        name = path[len(prefix) :] if path.startswith(prefix) else path
        if not unit.runnable:
            return Text(f"{name or path} ({_not_run_label(unit.not_run_reason)})", style="dim")
        text = Text(name)
        status = self.statuses.get(path)
        if status:
            text.append(" ")
            text.append_text(status_text(status))
        return text


def _not_run_label(reason: str | None) -> str:
    if reason and reason.startswith("root configuration"):
        return "root config, not run"
    if reason and reason.startswith(("skip", "exclude")):
        return "skipped, not run"
    return "not run"
