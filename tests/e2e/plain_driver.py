"""Drive `refarch-tui plain` through a pty, the way a person at an SSH prompt would (pexpect)."""

from __future__ import annotations

import os
import re
import sys

import pexpect

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class PlainDriver:
    def __init__(self, *args: str, timeout: float = 90) -> None:
        env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "NO_COLOR": "1"}
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "refarch_tui", "plain", *args],
            env=env,
            encoding="utf-8",
            timeout=timeout,
            dimensions=(50, 160),
        )
        self.transcript = ""

    def expect(self, pattern: str) -> str:
        """Wait for `pattern` (a regex) in the output; returns the plain text seen up to it."""
        self.child.expect(pattern)
        seen = ANSI.sub("", (self.child.before or "") + (self.child.after or ""))
        self.transcript += seen
        return seen

    def expect_any(self, *patterns: str) -> tuple[int, str]:
        """Wait for whichever of `patterns` comes first; returns its index and the plain text up to it."""
        index = int(self.child.expect(list(patterns)))
        seen = ANSI.sub("", (self.child.before or "") + (self.child.after or ""))
        self.transcript += seen
        return index, seen

    def choose(self, number: int) -> None:
        self.child.send(str(number))
        self.child.send("\r")

    def enter(self, text: str = "") -> None:
        self.child.send(text + "\r")

    def yes(self) -> None:
        self.child.send("y")

    def no(self) -> None:
        self.child.send("n")

    def interrupt(self) -> None:
        self.child.sendintr()

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.transcript += ANSI.sub("", self.child.before or "")
        self.child.close()
        return int(
            self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 1)
        )

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def menu_number(screen: str, label: str) -> int:
    """The number questionary shows before a menu entry (its order may change as steps get built)."""
    match = re.search(r"(\d+)\) " + re.escape(label), screen)
    assert match, f"{label!r} not in the menu:\n{screen}"
    return int(match.group(1))
