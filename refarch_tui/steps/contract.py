"""The contract every preparation step implements.

A step module exposes:

- ``STEP_ID: str`` — a checklist step id;
- ``ANSWERS: tuple[AnswerSpec, ...]`` — the answer keys, their defaults and help (``step STEP --help``);
- ``plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan`` — what will be created or checked, the
  commands it will run (secrets masked) and the edits it already knows; talks to AWS read-only;
- ``execute(ctx: StepContext, plan: StepPlan) -> StepResult`` — does the work; the edits in the result are
  *proposed* (``live.edits.PlannedEdit``), applied only by ``steps.record`` once the operator accepted them;
- ``verify(ctx: StepContext, record: StepRecord) -> Verification`` — re-checks the record's evidence.

Blocking calls are fine in all three: callers run them in a worker thread. Long work reports through
``ctx.progress`` and stops early when ``ctx.cancelled()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from refarch_tui.state import Status, StepRecord

if TYPE_CHECKING:
    from refarch_tui.live.edits import PlannedEdit
    from refarch_tui.live.model import LiveTree
    from refarch_tui.state import Workspace, WorkspaceState


class StepError(Exception):
    """The step cannot go on; the message says what went wrong and what to do (shown as it is)."""


class StepCancelled(StepError):
    """The operator cancelled; nothing half-done was recorded."""


class StepRefused(StepError):
    """The step could not start (identity not confirmed, bad answers, not built); nothing was recorded."""


@dataclass(frozen=True)
class AnswerSpec:
    """One answer a step takes (a form field in the TUI, ``--set KEY=VALUE`` in line mode)."""

    key: str
    default: Any  # JSON-compatible; None when the step derives it (the help says how)
    help: str
    kind: str = "str"  # str | int | bool | choice | list
    choices: tuple[str, ...] = ()
    secret: bool = False  # typed secrets: never echoed, never stored outside the keyring

    def parse(self, text: str) -> Any:
        """A value typed on the command line, as this answer's kind."""
        if self.kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "y", "on"):
                return True
            if lowered in ("0", "false", "no", "n", "off"):
                return False
            raise ValueError(f"{self.key} takes true or false, not {text!r}")
        if self.kind == "int":
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{self.key} takes a whole number, not {text!r}") from None
        if self.kind == "list":
            return [part.strip() for part in text.split(",") if part.strip()]
        if self.kind == "choice" and self.choices and text not in self.choices:
            raise ValueError(f"{self.key} is one of {', '.join(self.choices)}, not {text!r}")
        return text


def resolve_answers(specs: Sequence[AnswerSpec], given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with what the operator gave; unknown keys are refused with the known ones named."""
    known = {spec.key: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise StepError(
            f"unknown answer {', '.join(unknown)}; this step takes: {', '.join(known) or 'no answers'}"
        )
    answers = {spec.key: spec.default for spec in specs}
    for key, value in given.items():
        spec = known[key]
        answers[key] = spec.parse(value) if isinstance(value, str) and spec.kind != "str" else value
    return answers


class AccountClients(Protocol):
    """boto3 clients acting in the step's account (identity already confirmed)."""

    def __call__(self, service: str, region: str | None = None) -> Any: ...


@dataclass
class StepContext:
    """Everything a step may use; built by `steps.services` for the TUI and line mode alike."""

    workspace: Workspace
    state: WorkspaceState
    account: str
    account_id: str | None
    regions: list[str]
    sandbox: bool
    clients: AccountClients
    live_root: Path
    load_tree: Callable[[], LiveTree]
    # environment for child processes that act in this account (packer, docker, build scripts)
    child_env: Callable[[], Mapping[str, str]] = dict
    modules_dir: Path | None = None
    allow_plaintext_keyring: bool = False
    progress: Callable[[str], None] = lambda _line: None
    cancel: threading.Event = field(default_factory=threading.Event)
    identity: str = ""  # the ARN the step acts as, for what the operator is shown
    # raises (AccountBlocked) when the account's identity is no longer confirmed; the runner calls it
    check_identity: Callable[[], None] = lambda: None
    _tree: LiveTree | None = field(default=None, repr=False)

    @property
    def tree(self) -> LiveTree:
        if self._tree is None:
            self._tree = self.load_tree()
        return self._tree

    @property
    def region(self) -> str:
        return self.regions[0] if self.regions else "us-east-1"

    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise StepCancelled("cancelled; nothing was recorded")

    def account_ids(self) -> dict[str, str]:
        return {a.name: a.id for a in self.state.accounts if a.id}


@dataclass(frozen=True)
class ImportSpec:
    """A `terragrunt import ADDRESS ID` the runner runs in `unit` before the account's apply."""

    unit: str  # unit path relative to the live repo
    address: str
    id: str

    def to_json(self) -> dict[str, str]:
        return {"unit": self.unit, "address": self.address, "id": self.id}


@dataclass(frozen=True)
class Followup:
    """Work to do later, with the exact refarch-tui command that does it."""

    message: str
    command: str
    after: str = ""  # a condition, e.g. "first successful apply of dev/us-east-1/mgmt/openvpn-server"

    def to_json(self) -> dict[str, str]:
        return {"message": self.message, "command": self.command, "after": self.after}


@dataclass
class StepPlan:
    step: str
    account: str
    answers: dict[str, Any]
    actions: list[str] = field(default_factory=list)  # "create key pair dev-services in us-east-1"
    commands: list[str] = field(default_factory=list)  # command lines, secrets masked
    edits: list[PlannedEdit] = field(default_factory=list)  # edits already known at plan time
    warnings: list[str] = field(default_factory=list)
    not_applicable: str = ""  # set when the step has nothing to do in this account, with the reason
    data: dict[str, Any] = field(default_factory=dict)  # the step's own notes for execute (never shown)


@dataclass
class StepResult:
    status: Status = Status.DONE  # DONE or FAILED; `record` turns DONE into PENDING when edits were declined
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    edits: list[PlannedEdit] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (unit or file, reason) not edited
    run_env: dict[str, str] = field(default_factory=dict)  # plain variables for the account's terragrunt
    secret_env: dict[str, str] = field(default_factory=dict)  # variable -> keyring entry name (no values)
    imports: list[ImportSpec] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class Verification:
    holds: bool
    reason: str = ""

    @classmethod
    def ok(cls) -> Verification:
        return cls(True)

    @classmethod
    def stale(cls, reason: str) -> Verification:
        return cls(False, reason)


class StepModule(Protocol):
    STEP_ID: str
    ANSWERS: tuple[AnswerSpec, ...]

    def plan(self, ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan: ...

    def execute(self, ctx: StepContext, plan: StepPlan) -> StepResult: ...

    def verify(self, ctx: StepContext, record: StepRecord) -> Verification: ...
