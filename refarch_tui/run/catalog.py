"""Known errors: a data file (assets/known_errors.json) of pattern -> explanation -> action.

Actions: `retry` (the runner reruns the failed units by itself, bounded, with backoff), `source_update`
(the same, with terragrunt's source update switched on), `suggest` (explained; the operator decides).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from refarch_tui import paths

CATALOG_FILE = "known_errors.json"


class Action(StrEnum):
    RETRY = "retry"
    SOURCE_UPDATE = "source_update"
    SUGGEST = "suggest"

    @property
    def automatic(self) -> bool:
        return self is not Action.SUGGEST

    @property
    def waits(self) -> bool:
        """Transient errors (throttling, network) deserve a pause before the rerun; a known fix does not."""
        return self is Action.RETRY


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class KnownError:
    id: str
    title: str
    pattern: re.Pattern[str]
    explanation: str
    action: Action
    terragrunt_retries: bool  # terragrunt itself already retried it (3 attempts) before reporting it
    seed: bool
    sample: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    errors: tuple[KnownError, ...]

    def match(self, lines: Iterable[str]) -> KnownError | None:
        text = "\n".join(lines)
        for error in self.errors:
            if error.pattern.search(text):
                return error
        return None

    def get(self, error_id: str) -> KnownError:
        for error in self.errors:
            if error.id == error_id:
                return error
        raise KeyError(error_id)


def load(path: Path | None = None) -> Catalog:
    path = path or paths.assets_dir() / CATALOG_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["errors"]
        errors = tuple(
            KnownError(
                id=str(e["id"]),
                title=str(e.get("title") or e["id"]),
                pattern=re.compile(str(e["pattern"])),
                explanation=str(e["explanation"]),
                action=Action(e["action"]),
                terragrunt_retries=bool(e.get("terragrunt_retries", False)),
                seed=bool(e.get("seed", False)),
                sample=tuple(str(line) for line in e.get("sample", [])),
            )
            for e in entries
        )
    except (OSError, ValueError, KeyError, TypeError, re.error) as exc:
        raise CatalogError(
            f"the known-errors catalog {path} is unreadable ({exc}); reinstall refarch-tui"
        ) from None
    return Catalog(errors)


_default: Catalog | None = None


def default() -> Catalog:
    global _default
    if _default is None:
        _default = load()
    return _default
