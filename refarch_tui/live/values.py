"""Values of the static evaluation: what is unknown and why, and the functions that need no context.

`Unknown` stands for a value only a terragrunt run knows; `src` keeps the expression as written. The pure
functions mirror the terraform/terragrunt ones real live repos use; any other function is Unknown.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable
from typing import Any

MAX_DATA_NODES = 100_000  # values in one decoded YAML/JSON file (YAML aliases can make a small file huge)


class Unknown:
    """A value the engine cannot compute statically: `src` is the expression as written, `reason` says why.

    `failed` marks what terragrunt itself would fail on; `cause_reported` marks a failure whose cause is
    already an error of its own (a file that does not parse), so it is not reported twice."""

    __slots__ = ("cause_reported", "failed", "reason", "src")

    def __init__(self, src: str, reason: str, *, failed: bool = False, cause_reported: bool = False) -> None:
        self.src = src
        self.reason = reason
        self.failed = failed
        self.cause_reported = cause_reported

    def __repr__(self) -> str:
        return f"Unknown({self.src!r}, {self.reason!r}{', failed' if self.failed else ''})"


def is_known(value: Any) -> bool:
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    items: Iterable[Any] = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for item in items:
        found = first_unknown(item)
        if found is not None:
            return found
    return None


def plain(value: Any) -> Any:
    """Unknown parts replaced by their expression text."""
    if isinstance(value, Unknown):
        return value.src
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def count_nodes(value: Any, budget: int) -> int:
    """How many values `value` holds, counting shared ones each time they appear; stops past `budget`."""
    count = 0
    stack = [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def plain_data(value: Any) -> Any:
    """YAML/JSON data as HCL would see it: maps with string keys, lists, strings, numbers, bools, null."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # dates and other YAML types become their text, as terragrunt's cty conversion does


def follow(value: Any, steps: tuple[Any, ...], src: str) -> Any:
    """`value.a[0]["b"]`: each step into a known object or list."""
    for step in steps:
        if isinstance(value, Unknown):
            return value
        in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value)
        if in_dict or in_list:
            value = value[step]
        else:
            return Unknown(src, f"has no {step!r} (as far as the engine can tell)")
    return value


def number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def decode(fname: str, text: str, src: str) -> Any:
    try:
        if fname == "jsondecode":
            data = json.loads(text)
        else:
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            data = yaml.load(text, Loader=loader)  # a safe loader: plain data only
    except RecursionError:
        return Unknown(src, f"{fname}(): the document nests too deeply", failed=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Unknown(
            src, f"{fname}(): not valid {'JSON' if fname == 'jsondecode' else 'YAML'} ({first})", failed=True
        )
    if count_nodes(data, MAX_DATA_NODES) > MAX_DATA_NODES:
        return Unknown(
            src, f"{fname}(): more than {MAX_DATA_NODES} values (YAML aliases?); not evaluated", failed=True
        )
    try:
        return plain_data(data)
    except RecursionError:
        return Unknown(src, f"{fname}(): the document nests too deeply", failed=True)


def pure_function(fname: str, args: list[Any], src: str) -> Any:
    unknown = Unknown(src, f"{fname}() is not evaluated statically")
    try:
        if fname == "dirname" and isinstance(args[0], str):
            return posixpath.dirname(args[0])
        if fname == "basename" and isinstance(args[0], str):
            return posixpath.basename(args[0])
        if fname == "abspath" and isinstance(args[0], str):
            return os.path.abspath(args[0])
        if fname == "lower" and isinstance(args[0], str):
            return args[0].lower()
        if fname == "upper" and isinstance(args[0], str):
            return args[0].upper()
        if fname == "trimspace" and isinstance(args[0], str):
            return args[0].strip()
        if fname == "trimprefix" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].removeprefix(args[1])
        if fname == "trimsuffix" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].removesuffix(args[1])
        if fname == "startswith" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].startswith(args[1])
        if fname == "endswith" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].endswith(args[1])
        if fname == "join" and isinstance(args[0], str) and isinstance(args[1], list):
            return args[0].join(str(x) for x in args[1])
        if fname == "split" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[1].split(args[0])
        if fname == "concat" and all(isinstance(a, list) for a in args):
            return [x for a in args for x in a]
        if fname == "contains" and isinstance(args[0], list):
            return args[1] in args[0]
        if fname == "length" and isinstance(args[0], list | dict | str):
            return len(args[0])
        if fname == "keys" and isinstance(args[0], dict):
            return sorted(args[0])
        if fname == "values" and isinstance(args[0], dict):
            return [args[0][k] for k in sorted(args[0])]
        if fname == "lookup" and isinstance(args[0], dict) and isinstance(args[1], str):
            if args[1] in args[0]:
                return args[0][args[1]]
            if len(args) > 2:
                return args[2]
            return Unknown(src, f"lookup(): no key {args[1]!r}", failed=True)
        if fname == "element" and isinstance(args[0], list) and isinstance(args[1], int) and args[0]:
            return args[0][args[1] % len(args[0])]
        if fname == "coalesce":
            return next((a for a in args if a not in (None, "")), unknown)
        if fname == "replace" and all(isinstance(a, str) for a in args[:3]) and len(args) == 3:
            if args[1].startswith("/") and args[1].endswith("/") and len(args[1]) > 1:
                return unknown  # regular-expression form
            return args[0].replace(args[1], args[2])
        if fname == "format" and isinstance(args[0], str):
            fmt = args[0]
            if "%" in fmt.replace("%s", "").replace("%d", "").replace("%%", ""):
                return unknown
            return fmt.replace("%d", "%s") % tuple(args[1:])
        if fname in ("tostring", "tonumber", "tolist", "toset", "tomap", "tobool") and len(args) == 1:
            return args[0]
    except (IndexError, TypeError, ValueError):
        return unknown
    return unknown
