"""The destroy plan of one account and its guards (the Reference Architecture's undeploy guidance).

- Waves: the live-repo engine's destroy waves (dependents first), only the units that will be destroyed.
- `prevent_destroy = true` units stay (change them by hand first), and so does everything they depend on.
- Cross-account IAM units (`iam-cross-account`) stay unless explicitly included with a second typed
  confirmation: destroying them locks the operator out of the account.
- Units with S3 buckets refuse to delete non-empty buckets unless `force_destroy = true` was *applied*
  before the destroy: phase 1 sets those inputs (reviewed diffs through `live.edits`) and applies them.
- The account's state bucket and lock table are never in a wave: they go last, separately, and only
  once every unit of the account is destroyed.
- What the steps made outside Terraform is listed as left behind (`left_behind.py`).

Nothing here runs anything; `teardown_exec.py` runs the rehearsal and the two phases.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch_tui import live
from refarch_tui.live import edits
from refarch_tui.live.hclparse import Body, Expr, summarise_file
from refarch_tui.live.model import LiveTree, Unit
from refarch_tui.run.left_behind import LeftBehind, collect
from refarch_tui.state import WorkspaceState

PREVENT_DESTROY = "prevent_destroy"
FORCE_DESTROY = "force_destroy"
NEVER_DESTROY = "never_destroy"
STATE_BACKEND = "state_backend"
FINDING_KINDS = (PREVENT_DESTROY, NEVER_DESTROY, FORCE_DESTROY, STATE_BACKEND)  # also the display order

# modules whose S3 buckets need force_destroy before a destroy (the last part of the module source path)
BUCKET_MODULES: dict[str, tuple[str, ...]] = {
    "alb": ("force_destroy",),  # access logs bucket
    "openvpn-server": ("force_destroy",),  # backups bucket
    "cloudtrail": ("force_destroy",),  # trail bucket
    "static-website": ("force_destroy_website", "force_destroy_access_logs_bucket"),
}
CROSS_ACCOUNT = re.compile(r"(^|[/_-])(iam-)?cross-account([/_-]|$)")
PROD_NAMES = re.compile(r"^(prod|production)([-_].*)?$")
SECOND_TYPING_DELAY = 10.0  # seconds between the two typings of a production account's name
PHASE1_REASON = (
    "teardown phase 1: force_destroy = true must be applied before the destroy, or non-empty S3 buckets "
    "refuse to be deleted (bucketNotEmpty)"
)


# -- typed confirmations ----------------------------------------------------------------------------


def confirmation_matches(account: str, typed: str | None) -> bool:
    """Exactly the account's name (surrounding blanks aside): wrong, empty or other-case never match."""
    return bool(account) and typed is not None and typed.strip() == account


def is_production(account: str) -> bool:
    """Production accounts have their name typed twice, SECOND_TYPING_DELAY seconds apart."""
    return PROD_NAMES.match(account) is not None


def cross_account_phrase(account: str) -> str:
    """The second typed confirmation that includes the cross-account IAM units."""
    return f"{account} cross-account"


# -- the plan -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    unit: str
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"unit": self.unit, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Excluded:
    unit: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"unit": self.unit, "reason": self.reason}


@dataclass(frozen=True)
class ForceDestroyChange:
    """Phase 1 for one unit: the inputs to set to true and the reviewed edit (None: already in the HCL)."""

    unit: str
    inputs: tuple[str, ...]
    edit: edits.PlannedEdit | None
    refused: str = ""  # why the tool will not edit it (the operator does it by hand)


@dataclass(frozen=True)
class StateBackend:
    config: str  # unit path of the file holding remote_state ("dev" for dev/terragrunt.hcl)
    bucket: str | None
    table: str | None
    region: str | None

    @property
    def configured(self) -> bool:
        return bool(self.bucket) and "REPLACE_ME" not in (self.bucket or "")

    def describe(self) -> str:
        if not self.configured:
            return "the state backend (not configured yet: the bucket name is a placeholder)"
        table = f" and DynamoDB lock table {self.table}" if self.table else ""
        return f"S3 state bucket {self.bucket}{table} ({self.region or 'region unknown'})"


@dataclass(frozen=True)
class History:
    """What earlier runs did to the account's units (read from the workspace's runs on disk)."""

    destroyed: frozenset[str] = frozenset()
    force_destroy_pending: frozenset[str] = frozenset()  # edited by phase 1, apply not succeeded yet


@dataclass
class TeardownPlan:
    account: str
    account_id: str | None
    region: str
    live_root: Path
    waves: list[list[str]]
    excluded: list[Excluded]
    findings: list[Finding]
    left_behind: list[LeftBehind]
    force_destroy: list[ForceDestroyChange]
    backend: StateBackend | None
    include_cross_account: bool = False
    notes: list[str] = field(default_factory=list)
    already_destroyed: list[str] = field(default_factory=list)

    @property
    def units(self) -> list[str]:
        return [path for wave in self.waves for path in wave]

    @property
    def phase1_units(self) -> list[str]:
        return [c.unit for c in self.force_destroy if not c.refused]

    @property
    def phase1_edits(self) -> list[edits.PlannedEdit]:
        return [c.edit for c in self.force_destroy if c.edit is not None and not c.refused]

    def to_json(self) -> dict[str, Any]:
        """The `teardown --plan --json` contract."""
        return {
            "account": self.account,
            "waves": [list(wave) for wave in self.waves],
            "excluded": [e.to_json() for e in self.excluded],
            "findings": [f.to_json() for f in self.findings],
            "left_behind": [item.to_json() for item in self.left_behind],
        }


def _literal(expr: Expr | None) -> Any:
    return expr[2] if expr is not None and expr[0] == "lit" else None


def _attr(body: Body | None, name: str) -> Expr | None:
    if body is None or name not in body.attrs:
        return None
    return body.attrs[name][1]


def _unit_body(root: Path, unit: str) -> Body | None:
    config = root / unit / "terragrunt.hcl" if unit != "." else root / "terragrunt.hcl"
    return summarise_file(os.fspath(config)).body


def module_of(body: Body | None) -> str:
    """`git::…//networking/alb?ref=v1` -> `networking/alb` ("" when there is no literal source)."""
    if body is None:
        return ""
    for _labels, _line, block in body.blocks_of("terraform"):
        source = _literal(_attr(block, "source"))
        if isinstance(source, str):
            tail = source.split("//", 2)[-1] if "//" in source.split("::", 1)[-1] else source
            return tail.split("?", 1)[0].strip("/")
    return ""


def is_cross_account(unit: Unit, module: str) -> bool:
    return bool(CROSS_ACCOUNT.search(unit.path.rsplit("/", 1)[-1]) or CROSS_ACCOUNT.search(module))


def find_backend(root: Path, account: str, state: WorkspaceState) -> StateBackend | None:
    """The account's remote_state bucket/table: the backends step's facts, else the account's HCL literals."""
    facts = state.steps.get("backends", {}).get(account)
    for candidate, unit in ((root / account / "terragrunt.hcl", account), (root / "root.hcl", ".")):
        if not candidate.is_file():
            continue
        body = summarise_file(os.fspath(candidate)).body
        if body is None:
            continue
        for _labels, _line, block in body.blocks_of("remote_state"):
            config = _attr(block, "config")
            values: dict[str, Any] = {}
            if config is not None and config[0] == "obj":
                values = {key: _literal(value) for key, value, _ in config[2] if key}
            known = dict(facts.facts) if facts is not None else {}
            return StateBackend(
                config=unit,
                bucket=str(known.get("bucket") or values.get("bucket") or "") or None,
                table=str(
                    known.get("table") or known.get("dynamodb_table") or values.get("dynamodb_table") or ""
                )
                or None,
                region=str(known.get("region") or values.get("region") or "") or None,
            )
    return None


def _force_destroy_inputs(unit: Unit, module: str) -> tuple[str, ...]:
    """The force_destroy inputs this unit has or needs (its own, plus those its module is known for)."""
    names = [name for name in unit.inputs if name.startswith("force_destroy")]
    for name in BUCKET_MODULES.get(module.rsplit("/", 1)[-1], ()):
        if name not in names:
            names.append(name)
    return tuple(names)


def _dependents(tree: LiveTree) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {path: set() for path in tree.units}
    for path, unit in tree.units.items():
        for dep in unit.dependencies:
            result.setdefault(dep, set()).add(path)
    return result


def build_plan(
    tree: LiveTree,
    state: WorkspaceState,
    account: str,
    *,
    include_cross_account: bool = False,
    history: History | None = None,
) -> TeardownPlan:
    """Blocking (reads the account's HCL files). Raises live.CycleError for a dependency cycle."""
    history = history or History()
    root = tree.root
    account_id = next((a.id for a in state.accounts if a.name == account), None)
    region = state.regions[0] if state.regions else "us-east-1"
    own = {path: unit for path, unit in tree.units.items() if unit.account == account}
    dependents = _dependents(tree)
    findings: list[Finding] = []
    excluded: list[Excluded] = []
    kept: dict[str, str] = {}  # unit -> why it stays
    bodies = {path: _unit_body(root, path) for path, unit in own.items() if unit.runnable}
    modules = {path: module_of(body) for path, body in bodies.items()}
    for path in sorted(own):
        unit = own[path]
        if not unit.runnable:
            continue
        if _literal(_attr(bodies[path], "prevent_destroy")) is True:
            findings.append(
                Finding(
                    path,
                    PREVENT_DESTROY,
                    "prevent_destroy = true: terragrunt refuses to destroy it. It stays, with everything it "
                    "depends on; to tear it down, set prevent_destroy = false in its terragrunt.hcl and run "
                    "the teardown again.",
                )
            )
            kept[path] = "prevent_destroy = true in its terragrunt.hcl"
        if is_cross_account(unit, modules[path]):
            if include_cross_account:
                message = (
                    "cross-account IAM roles: INCLUDED after the second typed confirmation. Destroying "
                    "them removes the roles you use to reach this account: it is the last thing destroyed."
                )
            else:
                message = (
                    "cross-account IAM roles: never destroyed by default, because destroying them locks "
                    "you out of the account (the roles you assume into it go away). Excluded unless "
                    "included explicitly, with a second typed confirmation."
                )
                kept.setdefault(path, "cross-account IAM: destroying it locks you out of the account")
            findings.append(Finding(path, NEVER_DESTROY, message))

    # whatever a kept unit depends on stays too, or the kept unit breaks
    pending = list(kept)
    while pending:
        path = pending.pop()
        for dep in own[path].dependencies:
            if dep in own and dep not in kept and own[dep].runnable:
                kept[dep] = f"{path} depends on it and stays"
                pending.append(dep)
    # a unit another account still uses stays while that account is deployed
    for path in sorted(own):
        if path in kept or not own[path].runnable:
            continue
        users = sorted(
            d
            for d in dependents.get(path, ())
            if tree.units[d].account != account and d not in history.destroyed and tree.units[d].runnable
        )
        if users:
            kept[path] = f"{users[0]} (another account) depends on it; tear that account down first"

    for path in sorted(own):
        unit = own[path]
        if not unit.runnable:
            excluded.append(
                Excluded(
                    path,
                    "not a runnable unit (no terraform source): "
                    + (
                        "the account's root config, which holds the state backend settings"
                        if path == account
                        else "nothing to destroy"
                    ),
                )
            )
        elif path in kept:
            excluded.append(Excluded(path, kept[path]))
    destroyed = sorted(p for p in own if p in history.destroyed and p not in kept and own[p].runnable)
    for path in destroyed:
        excluded.append(Excluded(path, "already destroyed by an earlier teardown run"))

    planned = {p for p, u in own.items() if u.runnable and p not in kept and p not in history.destroyed}
    waves = [[p for p in wave if p in planned] for wave in live.waves(tree, account=account, destroy=True)]
    # included cross-account roles go after everything else: they are how the operator reaches the account
    lockout = sorted(
        p
        for p in planned
        if is_cross_account(own[p], modules[p]) and not any(d in planned for d in own[p].dependencies)
    )
    waves = [[p for p in wave if p not in lockout] for wave in waves]
    waves = [wave for wave in waves if wave] + ([lockout] if lockout else [])

    changes: list[ForceDestroyChange] = []
    for path in sorted(planned):
        unit = own[path]
        names = _force_destroy_inputs(unit, modules[path])
        if not names:
            continue
        wanted = {
            name: True for name in names if unit.inputs.get(name) is not True or name in unit.unresolved
        }
        if not wanted:
            if path in history.force_destroy_pending:
                changes.append(ForceDestroyChange(path, names, None))
                findings.append(
                    Finding(
                        path,
                        FORCE_DESTROY,
                        f"{', '.join(names)} = true is in its terragrunt.hcl but was not applied yet: "
                        "phase 1 applies this unit before the destroy.",
                    )
                )
            continue
        shown = ", ".join(f"{name} (now {_shown(unit, name)})" for name in wanted)
        try:
            edit: edits.PlannedEdit | None = edits.plan_set_inputs(tree, path, wanted, reason=PHASE1_REASON)
            refused = ""
        except edits.EditRefused as exc:
            edit, refused = None, exc.reason
        changes.append(ForceDestroyChange(path, tuple(wanted), edit, refused))
        guarded = (
            "its S3 buckets refuse to be deleted while they hold objects (bucketNotEmpty)"
            if modules[path].rsplit("/", 1)[-1] in BUCKET_MODULES
            else "what force_destroy guards (objects in a bucket, records in a hosted zone, keys and "
            "passwords of IAM users) refuses to be deleted while it is not empty"
        )
        message = (
            f"{guarded[:1].upper()}{guarded[1:]} unless force_destroy = true was applied before the destroy: "
            "phase 1 "
            f"sets {shown} to true and applies this unit."
        )
        if refused:
            message += f" The tool cannot edit it ({refused}); set it by hand and apply the unit first."
        findings.append(Finding(path, FORCE_DESTROY, message))

    backend = find_backend(root, account, state)
    left = collect(state, account)
    if backend is not None:
        findings.append(
            Finding(
                backend.config,
                STATE_BACKEND,
                f"{backend.describe()} holds the state of every unit of {account}: it is never in a "
                "destroy wave. It goes last, in a separate step, only once every unit of the account is "
                "confirmed destroyed (terragrunt 1.x `backend delete` removes state files, not the bucket "
                "or the table).",
            )
        )
        if backend.configured:
            left.append(
                LeftBehind(
                    backend.describe(),
                    f"account {account}{f' ({account_id})' if account_id else ''}: deleted only by the "
                    "separate state-backend step, after everything else is destroyed",
                )
            )
    order = {kind: index for index, kind in enumerate(FINDING_KINDS)}
    findings.sort(key=lambda f: (order[f.kind], f.unit))
    notes = _account_order_notes(state, account)
    return TeardownPlan(
        account=account,
        account_id=account_id,
        region=region,
        live_root=root,
        waves=waves,
        excluded=excluded,
        findings=findings,
        left_behind=left,
        force_destroy=changes,
        backend=backend,
        include_cross_account=include_cross_account,
        notes=notes,
        already_destroyed=destroyed,
    )


def _shown(unit: Unit, name: str) -> str:
    if name not in unit.inputs:
        return "not set"
    value = unit.inputs[name]
    if name in unit.unresolved:
        return f"`{value}`"
    return "true" if value is True else "false" if value is False else repr(value)


def _account_order_notes(state: WorkspaceState, account: str) -> list[str]:
    """Accounts go down in reverse deployment order: the application accounts, shared-services, security."""
    from refarch_tui import checklist

    later = {
        checklist.SECURITY: "shared-services, dev, stage and prod",
        checklist.SHARED_SERVICES: "dev, stage and prod",
    }
    if account in later:
        return [
            f"Accounts are torn down in reverse deployment order: {later[account]} before {account}"
            + (" (security last)." if account != checklist.SECURITY else ".")
        ]
    return []


def plan_lines(plan: TeardownPlan) -> list[str]:
    """The plan as the operator reads it: findings first, then the waves, what stays, what is left behind."""
    lines = [f"Findings ({len(plan.findings)}):"]
    lines += [f"  [{f.kind}] {f.unit}: {f.message}" for f in plan.findings]
    lines.append(f"Destroy order, dependents first: {len(plan.units)} unit(s) in {len(plan.waves)} wave(s)")
    lines += [f"  wave {n}: {', '.join(wave)}" for n, wave in enumerate(plan.waves, start=1)]
    lines.append(f"Not destroyed ({len(plan.excluded)}):")
    lines += [f"  {item.unit} — {item.reason}" for item in plan.excluded]
    lines.append(f"Left behind ({len(plan.left_behind)}):")
    lines += [f"  {item.what} — {item.where}" for item in plan.left_behind]
    lines += [f"note: {note}" for note in plan.notes]
    return lines
