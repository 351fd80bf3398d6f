"""A step whose screen is not built yet says so plainly, and says how to do the step by hand."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from refarch_tui import checklist
from screens.widgets.sandbox_banner import SandboxBanner


class StepPlaceholderScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="placeholder.back")]

    def __init__(self, step_id: str, account: str, *, sandbox: bool) -> None:
        super().__init__()
        self.step = checklist.step(step_id)
        self.account = account
        self.sandbox = sandbox

    def compose(self) -> ComposeResult:
        yield Header()
        if self.sandbox:
            yield SandboxBanner()
        with Vertical(classes="placeholder-body"):
            yield Static(f"{self.step.title} — {self.account}", classes="placeholder-title")
            yield Static(
                "NOT BUILT YET: this step's screen has not been written. refarch-tui does not do this step "
                "for you yet and records nothing for it.",
                id="placeholder-notice",
            )
            yield Static("")
            yield Static(f"What the step is: {self.step.summary}")
            yield Static(
                f'Do it by hand for now, following the seed document\'s section "{self.step.seed_section}".'
            )
            yield Static("")
            yield Static("[dim]Escape goes back to the checklist.[/dim]")
        yield Footer()
