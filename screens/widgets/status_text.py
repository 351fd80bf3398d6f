"""Status as a coloured word (never colour alone, as k9s does)."""

from __future__ import annotations

from rich.text import Text

STATUS_STYLES = {
    "pending": "bright_white",
    "running": "bold yellow",
    "done": "bold green",
    "failed": "bold red",
    "skipped": "cyan",
    "stale": "bold magenta",
    "n/a": "grey50",
    "rehearsed": "bold cyan",
    "blocked": "bold white on red",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))
