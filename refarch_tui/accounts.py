"""Which AWS accounts (and regions) an infrastructure-live repo holds, found quickly and without surprises.

An account is a top-level folder of the live repo that holds Terragrunt units (or an ``account.hcl``).
Its ID comes from ``<account>/account.hcl`` (``locals { account_id = "..." }``, or ``aws_account_id``) or
from an optional ``accounts.json`` at the live root (``{"dev": "368294012756"}`` or
``[{"name": "dev", "id": "..."}]``).
Regions are ``<account>/<region>/region.hcl`` folders, or folders named like an AWS region.

Nothing here parses units: only ``account.hcl`` is read (with a small pattern, not the HCL parser), so the
welcome screen and ``refarch-tui status`` stay fast. Bad input never raises: it becomes a message in
``AccountDiscovery.problems`` that says what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch_tui import checklist
from refarch_tui.state import Account

ACCOUNT_FILE = "account.hcl"
REGION_FILE = "region.hcl"
ACCOUNTS_JSON = "accounts.json"
UNIT_FILE = "terragrunt.hcl"

# Gruntwork's examples name the local `aws_account_id`; both spellings are read
_ACCOUNT_ID_RE = re.compile(r"""(?<![\w.-])(?:aws_)?account_id[ \t]*=[ \t]*(?:"([^"\n]*)"|([0-9]+))""")
_COMMENT_RE = re.compile(r"""/\*.*?\*/|(?:#|//)[^\n]*""", re.DOTALL)
_TWELVE_DIGITS = re.compile(r"^[0-9]{12}$")
REGION_NAME_RE = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]$")


@dataclass
class AccountDiscovery:
    live_dir: Path
    accounts: list[Account] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)  # union over all accounts, sorted
    regions_by_account: dict[str, list[str]] = field(default_factory=dict)
    unit_counts: dict[str, int] = field(default_factory=dict)  # units (terragrunt.hcl) per account
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def account_names(self) -> list[str]:
        return [a.name for a in self.accounts]


def is_account_id(value: str) -> bool:
    # fullmatch: `$` would accept a trailing newline
    return bool(_TWELVE_DIGITS.fullmatch(value))


def _skipped(name: str) -> bool:
    """Hidden folders, Terragrunt caches and `_envcommon`-style shared folders are never accounts or units."""
    return name.startswith((".", "_")) or name == ".terragrunt-cache"


def _read_account_id(path: Path) -> tuple[str | None, str | None]:
    """(account_id, problem) from an account.hcl; (None, None) when the file has no account_id."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return None, f"Cannot read {path}: {exc.strerror or exc}. Check its permissions."
    text = _COMMENT_RE.sub("", text)
    # only the top-level local (brace depth 1, inside `locals { }`): a nested map's account_id is not it
    match = next((m for m in _ACCOUNT_ID_RE.finditer(text) if _depth(text[: m.start()]) == 1), None)
    if match is None:
        return None, None
    return (match.group(1) if match.group(1) is not None else match.group(2)), None


def _depth(prefix: str) -> int:
    without_strings = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', prefix)
    return without_strings.count("{") - without_strings.count("}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f'the key "{key}" appears twice')
        seen[key] = value
    return seen


def _read_accounts_json(path: Path, problems: list[str]) -> dict[str, str]:
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicates)
    except OSError as exc:
        problems.append(f"Cannot read {path}: {exc.strerror or exc}. Check its permissions.")
        return {}
    except ValueError as exc:
        problems.append(f"{path} is not valid JSON ({exc}). Fix it or remove it.")
        return {}
    ids: dict[str, str] = {}
    if isinstance(document, dict):
        for name, value in document.items():
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                ids[str(name)] = str(value)
            else:
                problems.append(f'{path}: the ID of account "{name}" must be a string of 12 digits.')
        return ids
    if isinstance(document, list):
        for index, item in enumerate(document):
            if isinstance(item, dict) and isinstance(item.get("name"), str) and "id" in item:
                ids[item["name"]] = str(item["id"])
            else:
                problems.append(
                    f'{path}: entry {index + 1} needs "name" and "id" (e.g. {{"name": "dev", '
                    f'"id": "368294012756"}}).'
                )
        return ids
    problems.append(
        f'{path} must map account names to IDs ({{"dev": "368294012756"}}) or list {{"name", "id"}} objects.'
    )
    return {}


def _scan_account(folder: Path, problems: list[str]) -> tuple[int, list[str], bool]:
    """(number of units, regions, whether account.hcl exists) for one top-level folder."""
    units = 0
    regions: set[str] = set()
    unreadable: list[str] = []

    def on_error(exc: OSError) -> None:
        unreadable.append(str(exc.filename or exc))

    for base, dirs, files in os.walk(folder, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != ".terragrunt-cache")
        here = Path(base)
        depth = len(here.relative_to(folder).parts)
        if depth == 0:
            # `_global` and the like are not regions, but the units inside them count
            for name in dirs:
                if not name.startswith("_") and (
                    REGION_NAME_RE.match(name) or (folder / name / REGION_FILE).is_file()
                ):
                    regions.add(name)
        elif UNIT_FILE in files and not any(
            part.startswith("_") and part != "_global" for part in here.relative_to(folder).parts
        ):
            units += 1
    for path in unreadable:
        problems.append(f"Cannot read {path}; units inside it are not counted. Check its permissions.")
    return units, sorted(regions), (folder / ACCOUNT_FILE).is_file()


def discover_accounts(live_dir: Path) -> AccountDiscovery:
    """Accounts, their IDs and regions in a live repo; every problem becomes a message, never an exception."""
    live = Path(live_dir).expanduser()
    result = AccountDiscovery(live_dir=live)
    problems = result.problems
    try:
        if not live.exists():
            problems.append(f"{live} does not exist. Choose the folder of your infrastructure-live repo.")
            return result
        if not live.is_dir():
            problems.append(f"{live} is not a folder. Choose the folder of your infrastructure-live repo.")
            return result
        try:
            entries = sorted(live.iterdir())
        except OSError as exc:
            problems.append(f"Cannot read {live}: {exc.strerror or exc}. Check its permissions.")
            return result
        if (live / ACCOUNT_FILE).is_file():
            problems.append(
                f"{live} looks like a single account folder (it has {ACCOUNT_FILE}). "
                f"Choose its parent, the root of the live repo."
            )

        json_ids: dict[str, str] = {}
        if (live / ACCOUNTS_JSON).is_file():
            json_ids = _read_accounts_json(live / ACCOUNTS_JSON, problems)

        found: dict[str, Account] = {}
        for folder in entries:
            if _skipped(folder.name) or not folder.is_dir():
                continue
            units, regions, has_account_file = _scan_account(folder, problems)
            if units == 0 and not has_account_file:
                continue  # docs/, modules/ and other folders that are not accounts
            name = folder.name
            result.unit_counts[name] = units
            result.regions_by_account[name] = regions
            account_id: str | None = None
            source = ""
            file_without_key = False
            if has_account_file:
                account_id, problem = _read_account_id(folder / ACCOUNT_FILE)
                if problem:
                    problems.append(problem)
                file_without_key = account_id is None and problem is None
                source = str(folder / ACCOUNT_FILE)
            if name in json_ids:
                if account_id is not None and account_id != json_ids[name]:
                    problems.append(
                        f'Account "{name}": {ACCOUNT_FILE} says {account_id} but {ACCOUNTS_JSON} says '
                        f"{json_ids[name]}. Make them agree; {ACCOUNT_FILE} is used."
                    )
                elif account_id is None:
                    account_id = json_ids[name]
                    source = str(live / ACCOUNTS_JSON)
            if account_id is None and file_without_key:
                problems.append(
                    f"{folder / ACCOUNT_FILE} has no account_id (or aws_account_id) in its locals. Add "
                    f'locals {{ account_id = "<12 digits>" }} to it, or list "{name}" in '
                    f"{live / ACCOUNTS_JSON}."
                )
            elif account_id is None:
                problems.append(
                    f'Account folder "{name}" has no account ID. Add {folder / ACCOUNT_FILE} with '
                    f'locals {{ account_id = "<12 digits>" }}, or list it in {live / ACCOUNTS_JSON}.'
                )
            elif not is_account_id(account_id):
                problems.append(
                    f'Account "{name}" has the ID "{account_id}" (in {source}), which is not 12 digits. '
                    f"Correct it: AWS account IDs are exactly 12 digits."
                )
                account_id = None
            found[name] = Account(name=name, id=account_id)

        for name in json_ids:
            if name not in found:
                problems.append(
                    f'{ACCOUNTS_JSON} names the account "{name}" but {live} has no folder "{name}".'
                )

        seen_ids: dict[str, str] = {}
        for account in found.values():
            if account.id is None:
                continue
            if account.id in seen_ids:
                problems.append(
                    f'Accounts "{seen_ids[account.id]}" and "{account.name}" have the same ID {account.id}. '
                    "Each account folder must be a different AWS account."
                )
            seen_ids.setdefault(account.id, account.name)

        if sum(result.unit_counts.values()) == 0:
            problems.append(
                f"No Terragrunt units in {live}: there is no terragrunt.hcl inside any account folder. "
                "Choose the root of your infrastructure-live repo (the folder holding security/, dev/, ...)."
            )
        result.accounts = [found[name] for name in checklist.order_accounts(found)]
        result.regions = sorted({r for regions in result.regions_by_account.values() for r in regions})
    except (OSError, ValueError) as exc:  # unforeseen: a folder vanishing mid-scan, a NUL in the path, ...
        reason = getattr(exc, "strerror", None) or exc
        problems.append(f"Cannot read {live}: {reason}. Check the folder and try again.")
    return result
