"""A form generated from a step's ANSWERS: one field per answer, prefilled with its default.

str/int/list → Input (lists comma-separated), bool → Checkbox, choice → Select, secret → two password
Inputs that must match (typed twice; empty keeps the step's default, e.g. "generate one"). Secret values are
registered with the redactor as soon as they are read and the fields are cleared after use.
"""

from __future__ import annotations

from typing import Any, Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Select

from refarch_tui import secrets
from refarch_tui.steps.contract import AnswerSpec
from refarch_tui.steps.present import answer_default, typed_answers


class AnswerForm(Vertical):
    DEFAULT_CSS = """
    AnswerForm { height: auto; }
    AnswerForm .answer-row { height: auto; }
    AnswerForm .answer-label { width: 32; padding-top: 0; }
    AnswerForm .answer-row Input, AnswerForm .answer-row Select { width: 1fr; }
    AnswerForm .answer-help { color: $text-muted; margin-left: 32; height: auto; }
    """

    def __init__(self, specs: tuple[AnswerSpec, ...], *, account: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.specs = specs
        self.account = account  # fills `{account}` in defaults such as "{account}-services"

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            with Horizontal(classes="answer-row"):
                yield Label(spec.key, classes="answer-label")
                yield from self._fields(spec)
            yield Label(spec.help, classes="answer-help")

    def _fields(self, spec: AnswerSpec) -> ComposeResult:
        field_id = f"answer-{spec.key}"
        if spec.kind == "bool":
            yield Checkbox("", bool(spec.default), id=field_id, compact=True)
        elif spec.kind == "choice" and spec.choices:
            options = [(choice, choice) for choice in spec.choices]
            default = spec.default if spec.default in spec.choices else spec.choices[0]
            yield Select[str](options, value=default, allow_blank=False, id=field_id, compact=True)
        elif spec.secret:
            hint = "empty: " + (spec.help.split(";")[0] if spec.default in (None, "") else "default")
            yield Input(placeholder=hint, password=True, id=field_id, compact=True)
            yield Input(placeholder="type it again", password=True, id=f"{field_id}-again", compact=True)
        else:
            placeholder = "derived (see below)" if spec.default is None else ""
            kind: Literal["integer", "text"] = "integer" if spec.kind == "int" else "text"
            yield Input(
                answer_default(spec, self.account),
                placeholder=placeholder,
                type=kind,
                id=field_id,
                compact=True,
            )

    def raw_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.specs:
            widget = self.query_one(f"#answer-{spec.key}")
            if isinstance(widget, Checkbox):
                values[spec.key] = widget.value
            elif isinstance(widget, Select):
                values[spec.key] = widget.value if isinstance(widget.value, str) else None
            elif isinstance(widget, Input):
                values[spec.key] = widget.value
                if spec.secret:
                    again = self.query_one(f"#answer-{spec.key}-again", Input).value
                    secrets.register_secret(widget.value)
                    if widget.value != again:
                        raise ValueError(f"the two {spec.key} fields differ; type it twice the same")
        return values

    def answers(self) -> dict[str, Any]:
        """The answers as the step takes them; ValueError says which field is wrong."""
        return typed_answers(self.specs, self.raw_values())

    def toggle_secrets(self) -> bool:
        """Show or mask every typed secret (only on the operator's explicit key press); True when shown."""
        inputs = [
            self.query_one(f"#answer-{spec.key}{suffix}", Input)
            for spec in self.specs
            if spec.secret
            for suffix in ("", "-again")
        ]
        shown = bool(inputs) and inputs[0].password
        for widget in inputs:
            widget.password = not shown
        return shown

    def clear_secrets(self) -> None:
        for spec in self.specs:
            if spec.secret:
                self.query_one(f"#answer-{spec.key}", Input).value = ""
                self.query_one(f"#answer-{spec.key}-again", Input).value = ""
