"""The shape of a workspace's state.json (schema 2), checked on load before anything reads it.

A file of the wrong shape (`"steps": [1]`, `"regions": "us-east-1"`, a status nobody knows…) is treated like
corrupt JSON: it is explained and kept as it is, never half-read, coerced or overwritten. Each problem names
the place in the document (`steps.backends.dev.status`) and what was expected there.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

MAX_PROBLEMS = 5  # a message lists the first few; one is enough to refuse the file


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, where: str, expected: str, value: Any) -> None:
        self.problems.append(f"{where} should be {expected}, not {_kind(value)} ({_show(value)})")

    def string(self, where: str, value: Any, *, nullable: bool = False, non_empty: bool = False) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str) or (non_empty and not value.strip()):
            expected = "a non-empty string" if non_empty else "a string"
            self.bad(where, expected + (" or null" if nullable else ""), value)

    def one_of(self, where: str, value: Any, allowed: Collection[str]) -> None:
        if not isinstance(value, str) or value not in allowed:
            self.bad(where, "one of " + ", ".join(sorted(allowed)), value)

    def obj(self, where: str, value: Any) -> bool:
        if not isinstance(value, dict):
            self.bad(where, "an object", value)
            return False
        return True

    def string_map(self, where: str, value: Any) -> None:
        if self.obj(where, value):
            for key, item in value.items():
                self.string(f"{where}.{key}", item)

    def list_of_string_maps(self, where: str, value: Any) -> None:
        if not isinstance(value, list):
            self.bad(where, "a list", value)
            return
        for index, item in enumerate(value):
            self.string_map(f"{where}[{index}]", item)


def _record(check: _Checker, where: str, record: Any, statuses: Collection[str]) -> None:
    if not check.obj(where, record):
        return
    if "status" in record:
        check.one_of(f"{where}.status", record["status"], statuses)
    if "updated" in record:
        check.string(f"{where}.updated", record["updated"], nullable=True)
    for key in ("facts", "evidence"):
        if key in record:
            check.obj(f"{where}.{key}", record[key])
    if "message" in record:
        check.string(f"{where}.message", record["message"], nullable=True)
    for key in ("run_env", "secret_env"):
        if key in record:
            check.string_map(f"{where}.{key}", record[key])
    for key in ("imports", "followups"):
        if key in record:
            check.list_of_string_maps(f"{where}.{key}", record[key])


def problems(document: dict[str, Any], *, statuses: Collection[str], modes: Collection[str]) -> list[str]:
    """What is wrong with a (migrated) state document; empty when its shape is right."""
    check = _Checker()
    for key in ("live_dir", "mode", "accounts"):
        if key not in document:
            check.problems.append(f"{key} is missing")
    if "live_dir" in document:
        check.string("live_dir", document["live_dir"], non_empty=True)
    if "mode" in document:
        check.one_of("mode", document["mode"], modes)
    accounts = document.get("accounts")
    if "accounts" in document:
        if not isinstance(accounts, list):
            check.bad("accounts", "a list", accounts)
        else:
            seen: set[str] = set()
            for index, account in enumerate(accounts):
                where = f"accounts[{index}]"
                if not check.obj(where, account):
                    continue
                name = account.get("name")
                check.string(f"{where}.name", name, non_empty=True)
                check.string(f"{where}.id", account.get("id"), nullable=True)
                if isinstance(name, str):
                    if name in seen:
                        check.problems.append(f"{where}.name: the account {name!r} is listed twice")
                    seen.add(name)
    regions = document.get("regions", [])
    if not isinstance(regions, list):
        check.bad("regions", "a list of region names", regions)
    else:
        for index, region in enumerate(regions):
            check.string(f"regions[{index}]", region, non_empty=True)
    for key in ("ami_owner", "created"):
        if key in document:
            check.string(key, document[key], non_empty=True)
    if "settings" in document:
        check.obj("settings", document["settings"])
    steps = document.get("steps", {})
    if check.obj("steps", steps):
        for step_id, by_account in steps.items():
            if not check.obj(f"steps.{step_id}", by_account):
                continue
            for account, record in by_account.items():
                _record(check, f"steps.{step_id}.{account}", record, statuses)
    return check.problems


def summary(found: list[str]) -> str:
    shown = "; ".join(found[:MAX_PROBLEMS])
    more = len(found) - MAX_PROBLEMS
    return shown + (f"; and {more} more" if more > 0 else "")
