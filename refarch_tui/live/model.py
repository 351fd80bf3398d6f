"""What the live-repo engine knows about an infrastructure-live tree (the types other packages rely on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LiveError:
    path: str  # file relative to the live root, POSIX
    line: int | None
    message: str


@dataclass(frozen=True)
class Unit:
    path: str  # unit dir relative to the live root, POSIX, "." for the root
    account: str | None  # top-level folder; None for the root itself
    dependencies: tuple[str, ...]  # unit paths, normalised, inside the tree
    runnable: bool  # has terraform { source } or *.tf/*.tofu beside it
    inputs: dict[str, Any] = field(
        default_factory=dict
    )  # resolved literals; unresolved kept as expression text
    unresolved: frozenset[str] = frozenset()  # input names whose value could not be resolved statically


@dataclass
class LiveTree:
    root: Path
    units: dict[str, Unit]  # by unit path
    errors: list[LiveError] = field(default_factory=list)
    stacks: list[str] = field(default_factory=list)  # dirs with terragrunt.stack.hcl
    notes: list[str] = field(default_factory=list)  # things worth telling the operator that are not errors

    def units_of(self, account: str) -> list[Unit]:
        return [u for u in self.units.values() if u.account == account]

    @property
    def accounts(self) -> list[str]:
        return sorted({u.account for u in self.units.values() if u.account})


class CycleError(Exception):
    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle: " + " -> ".join(cycle))
        self.cycle = cycle
