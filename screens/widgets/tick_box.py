"""A one-line checkbox whose state is a glyph, [x] or [ ], so it reads without colour."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

TICKED = "[x]"
UNTICKED = "[ ]"


class TickBox(Checkbox):
    DEFAULT_CSS = """
    TickBox, TickBox.-textual-compact { border: none; padding: 0; background: transparent; }
    TickBox:focus, TickBox.-textual-compact:focus { border: none; }
    TickBox > .toggle--button { background: transparent; color: $text-muted; text-style: bold; }
    TickBox.-on > .toggle--button { background: transparent; color: $text-success; }
    """

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:
        super().__init__(label, value, id=id, compact=True)

    @property
    def _button(self) -> Content:
        # the glyph carries the state; the colour only repeats it
        return Content.styled(TICKED if self.value else UNTICKED, self.get_visual_style("toggle--button"))
