"""A bounded live log for build output: lines arrive from a worker thread at any rate, the screen shows the
last `max_lines` of them and repaints a few times a second, so a flood cannot starve key presses.

`push(line)` is thread-safe and never blocks on the UI (no `call_from_thread` per line): lines go into a
bounded buffer that a timer drains. The complete (redacted) log is on disk, written by
`refarch_tui.tools.build_process`; this view is only the tail.
"""

from __future__ import annotations

import threading
from collections import deque

from textual.widgets import Log

FLUSH_SECONDS = 0.1


class BuildLog(Log):
    def __init__(self, *, max_lines: int = 500, id: str | None = None) -> None:
        super().__init__(max_lines=max_lines, id=id)
        self._pending: deque[str] = deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self.received = 0  # lines pushed so far (shown or dropped)
        self.dropped = 0  # lines that never reached the screen because newer ones replaced them

    def on_mount(self) -> None:
        self.set_interval(FLUSH_SECONDS, self.flush_pending)

    def push(self, line: str) -> None:
        """Queue a line (any thread)."""
        with self._lock:
            if len(self._pending) == self._pending.maxlen:
                self.dropped += 1
            self._pending.append(line)
            self.received += 1

    def flush_pending(self) -> None:
        """Write what is queued (UI thread): at most max_lines per repaint."""
        with self._lock:
            if not self._pending:
                return
            lines = list(self._pending)
            self._pending.clear()
        self.write_lines(lines)
