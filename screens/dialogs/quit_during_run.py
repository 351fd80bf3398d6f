"""Quitting while a run is active: cancel it and quit, leave terragrunt running and quit, or stay."""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

QuitChoice = Literal["cancel", "leave", "stay"]


class QuitDuringRunDialog(ModalScreen[QuitChoice]):
    """Dismisses with "cancel", "leave" or "stay"."""

    DEFAULT_CSS = """
    QuitDuringRunDialog { align: center middle; }
    QuitDuringRunDialog > #quit-frame {
        width: 90; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    QuitDuringRunDialog #quit-what { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("c", "choose('cancel')", "Cancel the run and quit", id="quit-run.cancel"),
        Binding("l", "choose('leave')", "Leave terragrunt running and quit", id="quit-run.leave"),
        Binding("s", "choose('stay')", "Stay", id="quit-run.stay"),
        Binding("escape", "choose('stay')", "Stay", id="quit-run.escape"),
    ]

    def __init__(self, *, run_id: str, running: str, leave_refused: str | None) -> None:
        """`leave_refused` says why leaving terragrunt running is not offered (None: it is)."""
        super().__init__()
        self.run_id = run_id
        self.running = running
        self.leave_refused = leave_refused
        self.can_leave = leave_refused is None

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-frame"):
            yield Static(
                f"[b]Run {self.run_id} is still running[/b] ({self.running}).", id="quit-what", markup=True
            )
            yield Static(
                "[b]c[/b]  cancel the run and quit — terragrunt is stopped the usual way (SIGINT, then "
                "SIGTERM/SIGKILL); the app quits once it has stopped",
                id="quit-cancel",
            )
            if self.can_leave:
                yield Static(
                    "[b]l[/b]  leave terragrunt running and quit — it goes on changing AWS without the app; "
                    "its output goes on into the run's raw log, and reopening tells you what was left",
                    id="quit-leave",
                )
            else:
                yield Static(f"[dim]l  (not offered: {self.leave_refused})[/dim]", id="quit-leave")
            yield Static("[b]s[/b] or Escape  stay — the run goes on", id="quit-stay")

    def action_choose(self, choice: QuitChoice) -> None:
        if choice == "leave" and not self.can_leave:
            self.notify(f"Not offered: {self.leave_refused}. Cancel the run (c) or stay (s).")
            return
        self.dismiss(choice)
