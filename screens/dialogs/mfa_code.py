"""The MFA code dialog, and the `mfa_prompt` that lets a worker thread ask through it and wait."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

MFA_WAIT_SECONDS = 600.0


class MfaCodeDialog(ModalScreen[str]):
    """Asks for a 6-digit MFA code; dismisses with the code, or "" when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="mfa.cancel")]
    DEFAULT_CSS = """
    MfaCodeDialog { align: center middle; }
    #mfa-dialog { width: 64; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    #mfa-dialog Input { margin: 1 0; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="mfa-dialog"):
            yield Static(self.question, id="mfa-question")
            yield Input(placeholder="123456", id="mfa-code", max_length=6, restrict=r"\d*")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="mfa-ok", variant="primary")
                yield Button("Cancel", id="mfa-cancel")

    @on(Input.Submitted, "#mfa-code")
    @on(Button.Pressed, "#mfa-ok")
    def _ok(self) -> None:
        self.dismiss(self.query_one("#mfa-code", Input).value.strip())

    @on(Button.Pressed, "#mfa-cancel")
    def action_cancel(self) -> None:
        self.dismiss("")


def ask_mfa_code(app: App[Any], question: str) -> str:
    """From a worker thread: show the MFA dialog on the UI thread and wait for the code ("" = cancelled)."""
    answer: list[str] = []
    done = threading.Event()

    def answered(code: str | None) -> None:
        answer.append(code or "")
        done.set()

    app.call_from_thread(app.push_screen, MfaCodeDialog(question), answered)
    done.wait(MFA_WAIT_SECONDS)
    return answer[0] if answer else ""


def mfa_prompt_for(app: App[Any]) -> Callable[[str], str]:
    """The `mfa_prompt` to give AwsAccess so background checks and refreshes can ask through the dialog."""
    return partial(ask_mfa_code, app)
