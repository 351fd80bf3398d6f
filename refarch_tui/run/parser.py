"""terragrunt output -> per-unit signals, for both CLI generations and every log format.

Line shapes handled (see the README's apply section for where they come from):
- pretty (1.x and late 0.x): `HH:MM:SS.mmm LEVEL  [unit/rel] tofu: message`; continuation lines are raw;
- key-value: `time=… level=info prefix=unit tf-path=tofu msg=…`; older 0.x logrus `… msg=… prefix=[/abs]`;
- json: `{"time": …, "level": "stdout", "prefix"|"working-dir": …, "msg": …}`.

The parser only reads; the engine decides what the signals mean for a unit's status.
"""

from __future__ import annotations

import json
import posixpath
import re
from enum import StrEnum
from pathlib import PurePosixPath
from typing import NamedTuple

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_PRETTY = re.compile(
    r"^(?:\d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\S+)\s+(?P<level>[A-Z]+)\s+"
    r"(?:\[(?P<prefix>[^\]]*)\]\s+)?(?:(?P<tf>tofu|terraform|[\w.-]*(?:tofu|terraform)): )?(?P<msg>.*)$"
)
_KV_FIELD = re.compile(r'(?P<key>[\w-]+)=(?P<value>"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S*)')

_RESOURCE = re.compile(
    r"^(?P<addr>[A-Za-z0-9_.\-\[\]\"/:]+): (?P<what>Creating\.\.\.|Modifying\.\.\.|Destroying\.\.\.|"
    r"Still creating|Still modifying|Still destroying|Creation complete|Modifications complete|"
    r"Destruction complete|Import prepared|Importing from ID|Import complete)"
)
# the commonest line of a long apply, matched whole in one go (the engine's fast path): prefix, message
FAST_PROGRESS = re.compile(
    r"\d\d:\d\d:\d\d\.\d+ STDOUT +\[([^\]]+)\] (?:tofu|terraform): ([A-Za-z0-9_.\-\[\]\"/:]+: "
    r"(?:Still creating|Still modifying|Still destroying|Creating\.\.\.|Modifying\.\.\.|Destroying\.\.\.|"
    r"Creation complete|Modifications complete|Destruction complete).*)$"
)
_PLAN_DONE = re.compile(r"^(?:Plan: \d+ to add|No changes\.)")
_FAILED_EXEC = re.compile(r"Failed to execute \"[^\"]*\" in (?P<path>\S+)")
_DID_NOT_RUN = re.compile(r"Unit '(?P<unit>[^']+)' did not run due to a failure in '(?P<dep>[^']+)'")
_V0_FINISHED_ERROR = re.compile(r"Module (?P<path>\S+) has finished with an error")
_V0_DEP_ERROR = re.compile(r"Dependency \S+ of module (?P<path>\S+) just finished with an error")
_V0_CANNOT_PROCESS = re.compile(r"Cannot process module Module (?P<path>\S+) \(")


class Signal(StrEnum):
    INIT = "init"
    PLANNING = "planning"
    APPLYING = "applying"
    RESOURCE = "resource"  # detail: "<address>: <what>"; implies the applying phase
    SUCCEEDED = "succeeded"  # Apply/Destroy complete
    PLAN_DONE = "plan_done"  # a plan finished (success for `plan` runs)
    ERROR_LINE = "error_line"  # detail: the line, kept for the unit's error summary
    FAILED = "failed"
    EARLY_EXIT = "early_exit"  # did not run because a dependency failed
    BUILTIN_RETRY = "builtin_retry"  # terragrunt retried a tofu run of this unit by itself
    RETRIES_EXHAUSTED = "retries_exhausted"


class ParsedLine(NamedTuple):
    unit: str | None  # unit dir relative to the live root, or None for run-level lines
    level: str  # INFO, WARN, ERROR, STDOUT, STDERR, or "" for continuation/raw lines
    message: str
    signals: tuple[tuple[Signal, str], ...]
    prefixed: bool = False  # the unit came from the line's own [prefix] (not from a previous line)


_NO_SIGNALS: tuple[tuple[Signal, str], ...] = ()


class OutputParser:
    """Feed lines of one terragrunt process (one account); get per-unit signals back.

    `working_dir` is the directory terragrunt ran in and `live_prefix` its path relative to the live root
    (e.g. "dev"), so unit paths come back relative to the live root like everywhere else in the product.
    """

    def __init__(self, working_dir: str, live_prefix: str) -> None:
        self.working_dir = PurePosixPath(working_dir)
        self.live_prefix = live_prefix.strip("/") if live_prefix not in ("", ".") else ""
        self._context: dict[str, str | None] = {"stdout": None, "stderr": None}
        self._paths: dict[str, str] = {}
        self._in_error_box: dict[str | None, bool] = {}

    # -- paths -------------------------------------------------------------------------------------

    def set_context(self, stream: str, unit: str | None) -> None:
        """What a structured line does to the context of the raw lines that may follow it."""
        self._context[stream] = unit

    def unit_path(self, raw: str) -> str:
        """A prefix or a path from a message -> unit path relative to the live root (memoised)."""
        known = self._paths.get(raw)
        if known is None:
            known = self._paths[raw] = self._unit_path(raw)
        return known

    def _unit_path(self, raw: str) -> str:
        text = raw.strip().strip("[]").strip("'\"")
        cache = text.find("/.terragrunt-cache")
        if cache != -1:
            text = text[:cache]
        if text.startswith("/"):
            try:
                text = str(PurePosixPath(text).relative_to(self.working_dir))
            except ValueError:
                return posixpath.normpath(text)
        text = posixpath.normpath(text) if text else "."
        if self.live_prefix:
            return posixpath.normpath(posixpath.join(self.live_prefix, text))
        return text

    # -- lines -------------------------------------------------------------------------------------

    def feed(self, line: str, stream: str = "stderr") -> ParsedLine:
        if "\x1b" in line:
            line = _ANSI.sub("", line)
        level = ""
        prefix: str | None = None
        tf = False
        message = line
        structured = False
        first = line[:1]
        if "0" <= first <= "9":
            match = _PRETTY.match(line)
            if match is not None:
                structured = True
                level, prefix, tool, message = match.group("level", "prefix", "tf", "msg")
                tf = tool is not None
        elif line.startswith("time=") or line.startswith("level="):
            fields = {m.group("key"): m.group("value") for m in _KV_FIELD.finditer(line)}
            if "msg" in fields:
                structured = True
                level = _unquote(fields.get("level", "")).upper()
                prefix = _unquote(fields.get("prefix", "")) or None
                tf = "tf-path" in fields
                message = _unquote(fields["msg"])
        elif line.startswith("{"):
            try:
                document = json.loads(line)
            except ValueError:
                document = None
            if isinstance(document, dict) and "msg" in document:
                structured = True
                level = str(document.get("level", "")).upper()
                raw_prefix = document.get("prefix") or document.get("working-dir")
                prefix = str(raw_prefix) if raw_prefix else None
                tf = "tf-path" in document
                message = str(document["msg"])

        prefixed = False
        if structured:
            unit = self.unit_path(prefix) if prefix else None
            prefixed = unit is not None
            if unit == (self.live_prefix or "."):
                unit = None  # the working dir itself: run-level
                prefixed = False
            self._context[stream] = unit
        else:
            unit = self._context.get(stream)

        signals, named = self._classify(message, level, tf, unit, structured)
        if named is not None:
            # a line naming its unit itself ("* Failed to execute … in ./x"); in a multi-line error the
            # raw lines after it belong to that unit
            if not structured:
                self._context[stream] = named
            prefixed = prefixed and named == unit
            unit = named
        return ParsedLine(unit, level, message, signals, prefixed)

    def _classify(
        self, message: str, level: str, tf: bool, unit: str | None, structured: bool
    ) -> tuple[tuple[tuple[Signal, str], ...], str | None]:
        text = message.strip()
        if not text:
            return _NO_SIGNALS, None
        # the commonest line by far in a long apply: resource progress ("x: Still creating... [10s elapsed]")
        if unit is not None and _RESOURCE.match(text):
            return ((Signal.RESOURCE, text),), None
        # run-level multi-line errors name their units themselves
        if "Failed to execute" in text:
            match = _FAILED_EXEC.search(text)
            if match:
                return ((Signal.FAILED, text),), self.unit_path(match.group("path"))
        if "did not run due to a failure" in text:
            match = _DID_NOT_RUN.search(text)
            if match:
                dep = self.unit_path(match.group("dep"))
                return ((Signal.EARLY_EXIT, dep),), self.unit_path(match.group("unit"))
        if "has finished with an error" in text:
            match = _V0_FINISHED_ERROR.search(text)
            if match:
                return ((Signal.FAILED, text),), self.unit_path(match.group("path"))
        if "just finished with an error" in text:
            match = _V0_DEP_ERROR.search(text)
            if match:
                return ((Signal.EARLY_EXIT, text),), self.unit_path(match.group("path"))
        if text.startswith("Cannot process module"):
            match = _V0_CANNOT_PROCESS.search(text)
            if match:
                return ((Signal.EARLY_EXIT, text),), self.unit_path(match.group("path"))
        if unit is None:
            return _NO_SIGNALS, None

        if "Encountered retryable error" in text or "Encountered an error eligible for retrying" in text:
            return ((Signal.BUILTIN_RETRY, text),), None
        if "max retry attempts" in text or "Exhausted retries" in text:
            return ((Signal.RETRIES_EXHAUSTED, text),), None

        first = text[0]
        if first in "│╷╵|" or text.startswith("Error") or level in ("STDERR", "ERROR"):
            box = first in "│╷╵"
            inner = text.lstrip("│╷╵| ").strip() if box else text
            if not inner:
                return _NO_SIGNALS, None
            if level in ("STDERR", "ERROR") or box or inner.startswith("Error") or not structured:
                return ((Signal.ERROR_LINE, inner),), None

        if first == "A" and (text.startswith("Apply complete!") or text.startswith("Destroy complete!")):
            return ((Signal.SUCCEEDED, text),), None
        if first == "D" and text.startswith("Destroy complete!"):
            return ((Signal.SUCCEEDED, text),), None
        if _PLAN_DONE.match(text):
            return ((Signal.PLANNING, ""), (Signal.PLAN_DONE, text)), None
        if text.startswith("Initializing"):
            return ((Signal.INIT, ""),), None
        if (
            "will perform the following actions" in text
            or ": Refreshing state..." in text
            or ": Reading..." in text
            or text.startswith("Terraform used the selected providers")
            or text.startswith("OpenTofu used the selected providers")
        ):
            return ((Signal.PLANNING, ""),), None
        return _NO_SIGNALS, None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            result = json.loads(value)
        except ValueError:
            return value[1:-1]
        return str(result)
    return value
