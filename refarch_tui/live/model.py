"""What the live-repo engine knows about an infrastructure-live tree (the types other packages rely on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LiveError:
    """Something really broken: a file that does not parse or is refused, a missing include or dependency
    target, a function terragrunt itself would fail on. An error in a file other units include names them."""

    path: str  # file relative to the live root, POSIX
    line: int | None
    message: str


@dataclass(frozen=True)
class Unresolved:
    """An expression the engine cannot evaluate without running terragrunt (not an error): the environment,
    another unit's outputs, AWS, a command."""

    path: str  # file relative to the live root, POSIX
    line: int | None
    expression: str  # as written
    reason: str


@dataclass(frozen=True)
class Unit:
    path: str  # unit dir relative to the live root, POSIX, "." for the root
    account: str | None  # top-level folder; None for the root itself
    dependencies: tuple[str, ...]  # unit paths, normalised, inside the tree
    runnable: bool  # has terraform { source } or *.tf/*.tofu beside it, is not skipped nor only included
    inputs: dict[str, Any] = field(
        default_factory=dict
    )  # resolved literals; unresolved kept as expression text
    unresolved: frozenset[str] = frozenset()  # input names whose value could not be resolved statically
    not_run_reason: str | None = None  # why a unit is not runnable, in words


@dataclass(frozen=True)
class Stack:
    path: str  # the terragrunt.stack.hcl's directory relative to the live root, POSIX
    units: tuple[str, ...]  # the names of its `unit` blocks, in file order


@dataclass
class LiveTree:
    root: Path
    units: dict[str, Unit]  # by unit path
    errors: list[LiveError] = field(default_factory=list)
    stacks: list[Stack] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things worth telling the operator that are not errors
    unresolved: list[Unresolved] = field(default_factory=list)

    def units_of(self, account: str) -> list[Unit]:
        return [u for u in self.units.values() if u.account == account]

    @property
    def accounts(self) -> list[str]:
        return sorted({u.account for u in self.units.values() if u.account})


class CycleError(Exception):
    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle: " + " -> ".join(cycle))
        self.cycle = cycle
