"""The SANDBOX label every screen carries in sandbox mode."""

from __future__ import annotations

from textual.widgets import Static

SANDBOX_TEXT = "SANDBOX — local AWS emulator, sample live repo; nothing here touches real AWS"


class SandboxBanner(Static):
    def __init__(self) -> None:
        super().__init__(SANDBOX_TEXT, classes="sandbox-banner")
