"""Drive the real app in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid
from collections.abc import Sequence


class TmuxSession:
    def __init__(self, command: Sequence[str], *, width: int = 150, height: int = 40) -> None:
        self.socket = f"refarch-test-{uuid.uuid4().hex[:8]}"
        self.name = "app"
        subprocess.run(
            self._tmux(
                "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shlex.join(command)
            ),
            check=True,
            env=os.environ.copy(),
        )
        subprocess.run(self._tmux("set-option", "-t", self.name, "remain-on-exit", "on"), check=True)

    def _tmux(self, *args: str) -> list[str]:
        return ["tmux", "-L", self.socket, *args]

    def screen(self) -> str:
        return subprocess.run(
            self._tmux("capture-pane", "-p", "-t", self.name), capture_output=True, text=True
        ).stdout

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear within {timeout}s; screen was:\n{screen}")

    def send(self, *keys: str) -> None:
        subprocess.run(self._tmux("send-keys", "-t", self.name, *keys), check=True)

    def pane_dead(self) -> bool:
        out = subprocess.run(
            self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}"),
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out == "1"

    def wait_exit(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pane_dead():
                return
            time.sleep(0.05)
        raise AssertionError(f"the app did not exit; screen was:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(self._tmux("kill-server"), capture_output=True)
