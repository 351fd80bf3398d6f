"""The administrator lists of the KMS keys in a live repo, and how the kms_admin step's ARN joins each.

Every runnable `kms-master-key` unit takes `cmk_administrator_iam_arns`, every `cloudtrail` unit takes
`kms_key_administrator_iam_arns` (its bucket's CMK); a unit of another kind that has one of these inputs
is included too. A list's placeholder entries (`…/REPLACE_ME`, CHANGEME, dummy account IDs, blanks) are
replaced by the ARN; real entries are kept in their order; the ARN is never added twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from refarch_tui.live.model import LiveTree

# unit folder name -> the input holding its key's administrators
ADMIN_INPUTS: dict[str, str] = {
    "kms-master-key": "cmk_administrator_iam_arns",
    "cloudtrail": "kms_key_administrator_iam_arns",
}
_MARKERS = ("REPLACE_ME", "REPLACEME", "CHANGE_ME", "CHANGEME")
DUMMY_ACCOUNT_IDS = ("000000000000", "123456789012")  # the ones documentation examples use
_ARN_ACCOUNT = re.compile(r"^arn:[\w-]+:iam::(?P<account>\d{12}):")


@dataclass(frozen=True)
class AdminList:
    unit: str  # unit path relative to the live repo
    account: str
    input: str
    current: tuple[Any, ...] | None  # None when the unit does not set the input (it will be added)
    unreadable: str = ""  # why the value cannot be read (an expression, not a list); then it is not edited

    @property
    def file(self) -> str:
        return f"{self.unit}/terragrunt.hcl"

    def real_entries(self) -> list[Any]:
        return [item for item in self.current or () if not is_placeholder(item)]


def is_placeholder(value: Any) -> bool:
    """Whether a list entry stands for "fill me in" rather than naming a real principal."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or ("<" in text and ">" in text):
        return True
    upper = text.upper()
    if any(marker in upper for marker in _MARKERS):
        return True
    match = _ARN_ACCOUNT.match(text)
    return bool(match and match.group("account") in DUMMY_ACCOUNT_IDS)


def merged(current: Iterable[Any] | None, arn: str) -> list[Any]:
    """The list with its placeholders replaced by `arn`: real entries kept in order, `arn` once."""
    kept = [item for item in current or () if not is_placeholder(item)]
    return kept if arn in kept else [*kept, arn]


def admin_lists(tree: LiveTree, accounts: Iterable[str]) -> list[AdminList]:
    """Every administrator list of the runnable units of `accounts`, by unit path."""
    wanted = set(accounts)
    found: list[AdminList] = []
    for path, unit in sorted(tree.units.items()):
        if not unit.runnable or unit.account not in wanted:
            continue
        kind = path.rsplit("/", 1)[-1]
        names = [name for folder, name in ADMIN_INPUTS.items() if folder == kind or name in unit.inputs]
        for name in names:
            found.append(_read(unit.path, str(unit.account), name, unit.inputs, unit.unresolved))
    return found


def _read(
    unit: str, account: str, name: str, inputs: dict[str, Any], unresolved: frozenset[str]
) -> AdminList:
    if name not in inputs:
        return AdminList(unit, account, name, None)
    value = inputs[name]
    if name in unresolved:
        why = f"it is `{value}`, which refarch-tui cannot read without running terragrunt"
        return AdminList(unit, account, name, None, unreadable=why)
    if not isinstance(value, list):
        return AdminList(unit, account, name, None, unreadable=f"it is {value!r}, not a list")
    return AdminList(unit, account, name, tuple(value))
