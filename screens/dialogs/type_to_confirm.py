"""Type to confirm: the exact word (an account's name), for a production account twice, seconds apart."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from refarch_tui.run.teardown import SECOND_TYPING_DELAY, confirmation_matches


class TypeToConfirmDialog(ModalScreen[bool]):
    """Dismisses True only when `expected` was typed exactly (twice, `gap` seconds apart, if `twice`)."""

    DEFAULT_CSS = """
    TypeToConfirmDialog { align: center middle; }
    TypeToConfirmDialog > #confirm-frame {
        width: 90; height: auto; border: thick $error; background: $surface; padding: 1 2;
    }
    TypeToConfirmDialog #confirm-what { margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel (nothing runs)", id="confirm.cancel")]

    def __init__(
        self, *, what: str, target: str, expected: str, twice: bool = False, gap: float = SECOND_TYPING_DELAY
    ) -> None:
        super().__init__()
        self.what = what
        self.target = target
        self.expected = expected
        self.twice = twice
        self.gap = gap

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-frame"):
            yield Static(f"[b]{self.what}[/b]\n{self.target}", id="confirm-what")
            yield Static(f"Type [b]{self.expected}[/b] and press Enter; anything else, or Escape, stops.")
            yield Input(placeholder=self.expected, id="confirm-first")
            if self.twice:
                yield Static(
                    f"A production account: type it again once the second field opens "
                    f"({self.gap:.0f} seconds after the first).",
                    id="confirm-second-help",
                )
                yield Input(placeholder=self.expected, id="confirm-second", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-first", Input).focus()

    @on(Input.Submitted, "#confirm-first")
    def _first(self, event: Input.Submitted) -> None:
        if not confirmation_matches(self.expected, event.value):
            self.dismiss(False)
            return
        if not self.twice:
            self.dismiss(True)
            return
        event.input.disabled = True
        self.set_timer(self.gap, self._open_second)

    def _open_second(self) -> None:
        second = self.query_one("#confirm-second", Input)
        second.disabled = False
        second.focus()

    @on(Input.Submitted, "#confirm-second")
    def _second(self, event: Input.Submitted) -> None:
        self.dismiss(confirmation_matches(self.expected, event.value))

    def action_cancel(self) -> None:
        self.dismiss(False)
