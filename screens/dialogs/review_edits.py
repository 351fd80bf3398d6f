"""Review edits: each planned change to the live repo, per file, with its diff; accept all, some or none."""

from __future__ import annotations

import threading
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, SelectionList, Static
from textual.widgets.selection_list import Selection

from refarch_tui.live.edits import PlannedEdit
from refarch_tui.steps.contract import StepCancelled


def _title(edit: PlannedEdit) -> str:
    return edit.label or str(edit.file)


class ReviewEditsDialog(ModalScreen[list[PlannedEdit] | None]):
    """Dismisses with the accepted edits (possibly empty), or None when cancelled."""

    DEFAULT_CSS = """
    ReviewEditsDialog { align: center middle; }
    ReviewEditsDialog > #review-frame {
        width: 95%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    ReviewEditsDialog #review-title { text-style: bold; height: auto; margin-bottom: 1; }
    ReviewEditsDialog #review-body { height: 1fr; }
    ReviewEditsDialog #review-files { width: 2fr; height: 1fr; }
    ReviewEditsDialog #review-diff { width: 3fr; height: 1fr; border: round $secondary; padding: 0 1; }
    ReviewEditsDialog #review-buttons { height: auto; align-horizontal: right; }
    ReviewEditsDialog #review-buttons Button { margin-left: 1; }
    """

    BINDINGS = [
        Binding("y", "accept_selected", "Apply selected", id="review.accept_selected"),
        Binding("A", "accept_all", "Apply all", id="review.accept_all"),
        Binding("n", "select_none", "Select none", id="review.select_none"),
        Binding("escape", "cancel", "Cancel", id="review.cancel"),
    ]

    def __init__(self, edits: list[PlannedEdit], *, title: str = "Review changes to the live repo") -> None:
        super().__init__()
        self.edits = list(edits)
        self.heading = title

    def compose(self) -> ComposeResult:
        files = len({e.file for e in self.edits})
        with Vertical(id="review-frame"):
            yield Static(
                f"{self.heading}: {len(self.edits)} change(s) in {files} file(s). Space toggles, "
                "y applies the selected ones, A applies all, Escape cancels (nothing is written).",
                id="review-title",
            )
            with Horizontal(id="review-body"):
                yield SelectionList[int](
                    *[Selection(self._prompt(e), i, True) for i, e in enumerate(self.edits)],
                    id="review-files",
                )
                with VerticalScroll(id="review-diff"):
                    yield Static(id="review-reason")
                    yield Static(id="review-diff-text")
            with Horizontal(id="review-buttons"):
                yield Button("Apply selected (y)", id="review-accept-selected", variant="primary")
                yield Button("Apply all (A)", id="review-accept-all", variant="success")
                yield Button("Cancel (Esc)", id="review-cancel", variant="error")
        yield Footer()

    @staticmethod
    def _prompt(edit: PlannedEdit) -> Text:
        title = _title(edit)
        short = title[: -len("/terragrunt.hcl")] if title.endswith("/terragrunt.hcl") else title
        text = Text(short, style="bold")
        if not edit.diff:
            text.append(" (no change)", style="italic")
        text.append(f" — {edit.reason}", style="dim")
        return text

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()
        if self.edits:
            self._show(0)

    def _show(self, index: int) -> None:
        edit = self.edits[index]
        self.query_one("#review-reason", Static).update(
            Text.assemble((_title(edit), "bold"), "\n", ("Why: ", "bold"), edit.reason, "\n")
        )
        body: Syntax | Text
        if edit.diff:
            body = Syntax(edit.diff, "diff", theme="ansi_dark", word_wrap=True)
        else:
            body = Text("No change: the file already has this value.", style="italic")
        self.query_one("#review-diff-text", Static).update(body)

    @on(SelectionList.SelectionHighlighted)
    def _highlighted(self, event: SelectionList.SelectionHighlighted[int]) -> None:
        self._show(event.selection.value)

    @property
    def selected(self) -> list[PlannedEdit]:
        chosen = set(self.query_one(SelectionList).selected)
        return [e for i, e in enumerate(self.edits) if i in chosen]

    def action_accept_selected(self) -> None:
        self.dismiss(self.selected)

    def action_accept_all(self) -> None:
        self.dismiss(list(self.edits))

    def action_select_none(self) -> None:
        self.query_one(SelectionList).deselect_all()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#review-accept-selected")
    def _accept_selected_pressed(self) -> None:
        self.action_accept_selected()

    @on(Button.Pressed, "#review-accept-all")
    def _accept_all_pressed(self) -> None:
        self.action_accept_all()

    @on(Button.Pressed, "#review-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


def ask_review(app: App[Any], edits: list[PlannedEdit], *, title: str) -> list[PlannedEdit] | None:
    """From a worker thread: show the dialog on the UI thread and wait for the operator's choice (None =
    cancelled: nothing is written). StepCancelled when the app closes before anyone answered."""
    answer: list[list[PlannedEdit] | None] = []
    done = threading.Event()

    def answered(accepted: list[PlannedEdit] | None) -> None:
        answer.append(accepted)
        done.set()

    app.call_from_thread(app.push_screen, ReviewEditsDialog(edits, title=title), answered)
    while not done.wait(0.25):
        if not app.is_running:
            raise StepCancelled("the app closed before the edits were reviewed; nothing was recorded")
    return answer[0]
