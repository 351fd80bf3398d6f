"""Running one account's teardown through the existing runner: the rehearsal, phase 1 and phase 2.

- Rehearsal: one `plan -destroy` run of the planned units (1.x `run --all … -- plan -destroy`, 0.x
  `run-all plan -destroy`; the rehearsal engine when terragrunt is missing). It never invokes destroy.
- Phase 1: the reviewed force_destroy edits (`live.edits`), then an apply of only those units.
- Phase 2: the destroy, one dependency wave per terragrunt invocation (`--queue-include-dir` for the
  wave's units), stopping at the first wave that does not fully succeed — `run --all destroy` is not
  trusted to order the units by itself (terragrunt issue #5035).

Progress is not kept here but read back from the workspace's runs on disk (`runs/<id>/`), so a cancel,
a crash or `kill -9` mid-destroy resumes with the units that are not destroyed yet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refarch_tui.live import edits
from refarch_tui.run import controller as ctl
from refarch_tui.run import store
from refarch_tui.run.engine import AccountSession, Executor, ImportSpec, InvocationResult, Run
from refarch_tui.run.env import EnvForAccount
from refarch_tui.run.model import EventKind, UnitRun, UnitStatus
from refarch_tui.run.teardown import History, TeardownPlan, build_plan
from refarch_tui.state import Mode, Workspace, WorkspaceState
from refarch_tui.tools.terragrunt import Command

log = logging.getLogger(__name__)

SETTINGS_KEY = "teardown"  # state.settings[SETTINGS_KEY][account] = {"force_destroy_edited": {unit: time}}
ALREADY_DESTROYED = "destroy-state-empty"  # catalog id: a repeated destroy of an empty state
ExecutorFactory = Callable[[ctl.Preflight, Command], Executor]


def teardown_dir(workspace: Workspace, account: str) -> Path:
    return workspace.directory / "teardown" / account


# -- history from the runs on disk --------------------------------------------------------------------


def _runs_in_order(runs_dir: Path) -> list[store.RunRecord]:
    """Every run on disk, oldest first (by when its run.json was written; ids only have seconds)."""
    stamped: list[tuple[int, store.RunRecord]] = []
    for run_id in store.list_runs(runs_dir):
        record = store.load_run(runs_dir, run_id)
        if record is None:
            continue
        try:
            stamp = (record.directory / store.RUN_FILE).stat().st_mtime_ns
        except OSError:
            continue
        stamped.append((stamp, record))
    stamped.sort(key=lambda item: item[0])
    return [record for _stamp, record in stamped]


def load_history(workspace: Workspace, state: WorkspaceState, account: str) -> History:
    """Destroyed = the last successful apply/destroy of the unit was a destroy (any account)."""
    deployed: dict[str, bool] = {}
    applied_at: dict[str, int] = {}
    for record in _runs_in_order(workspace.runs_dir):
        if record.command not in ("apply", "destroy"):
            continue
        stamp = (record.directory / store.RUN_FILE).stat().st_mtime_ns
        for run_account in record.accounts.values():
            for unit in run_account.units.values():
                if unit.status is UnitStatus.SUCCEEDED:
                    deployed[unit.path] = record.command == "apply"
                    if record.command == "apply":
                        applied_at[unit.path] = stamp
    edited: Mapping[str, Any] = (
        state.settings.get(SETTINGS_KEY, {}).get(account, {}).get("force_destroy_edited", {})
    )
    pending = {
        unit for unit, when in edited.items() if applied_at.get(unit, 0) <= int(float(when) * 1_000_000_000)
    }
    return History(
        destroyed=frozenset(path for path, is_deployed in deployed.items() if not is_deployed),
        force_destroy_pending=frozenset(pending),
    )


# -- wave by wave ---------------------------------------------------------------------------------------


class WaveByWaveExecutor:
    """Runs a destroy one dependency wave at a time (one invocation each), stopping at a failing wave.

    A unit only goes when every unit that depends on it is destroyed (earlier in this run, or before).
    A repeated destroy of an already empty state (`variable "x" is nil`) counts as destroyed."""

    def __init__(
        self, inner: Executor, *, destroyed_before: Collection[str], dependents: Mapping[str, Collection[str]]
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.simulated = inner.simulated
        self.destroyed_before = frozenset(destroyed_before)
        self.dependents = dependents
        self.waves_run = 0

    def _still_deployed_dependents(self, session: AccountSession, unit: UnitRun) -> list[str]:
        units = session.account.units
        return sorted(
            d
            for d in self.dependents.get(unit.path, ())
            if d not in self.destroyed_before and not (d in units and units[d].status is UnitStatus.SUCCEEDED)
        )

    async def invoke(self, session: AccountSession) -> InvocationResult:
        run, account = session.run, session.account
        targets = {u.path for u in session.targets}
        waves = [[account.units[p] for p in wave if p in targets] for wave in account.waves]
        waves = [wave for wave in waves if wave]
        session.flush()
        code = 0
        stopped: str | None = None
        for index, wave in enumerate(waves, start=1):
            if run.cancelled:
                break
            if index > 1:
                await run.pause_point()
                if run.cancelled:
                    break
            ready = []
            for unit in wave:
                blockers = self._still_deployed_dependents(session, unit)
                if blockers:
                    run._set_status(
                        unit, UnitStatus.SKIPPED, f"not destroyed: {blockers[0]} still depends on it"
                    )
                else:
                    ready.append(unit)
            if not ready:
                stopped = f"destroy wave {index} had nothing it could destroy"
                break
            run._emit(
                EventKind.NOTICE,
                account.name,
                message=f"destroy wave {index} of {len(waves)}: {', '.join(u.path for u in ready)}",
            )
            sub = AccountSession(
                run,
                account,
                ready,
                working_dir=session.working_dir,
                env=session.env,
                source_update=session.source_update,
                number=session.number * 100 + index,
            )
            try:
                result = await self.inner.invoke(sub)
            finally:
                sub.close()
            self.waves_run += 1
            run._settle(sub, result)  # the engine's own reading of the invocation's outcome
            self._adopt_already_destroyed(run, ready)
            if result.exit_code and any(u.status is not UnitStatus.SUCCEEDED for u in ready):
                code = result.exit_code
            if run.cancelled:
                break
            failed = [u for u in wave if u.status is not UnitStatus.SUCCEEDED]
            if failed:
                stopped = f"destroy wave {index} did not finish ({failed[0].path}: {failed[0].status.value})"
                code = code or 1
                break
        if stopped is not None:
            for unit in session.targets:
                if not unit.status.finished:
                    run._set_status(unit, UnitStatus.SKIPPED, f"not started: {stopped}")
        return InvocationResult(exit_code=code if not run.cancelled else 130, report=None)

    @staticmethod
    def _adopt_already_destroyed(run: Run, units: Sequence[UnitRun]) -> None:
        for unit in units:
            if unit.status is UnitStatus.FAILED and unit.known_error == ALREADY_DESTROYED:
                known = run.catalog.get(ALREADY_DESTROYED)
                run._record_known(unit, known, by="runner")
                unit.known_error = None
                run._set_status(unit, UnitStatus.SUCCEEDED, f"already destroyed: {known.explanation}")

    async def run_imports(self, session: AccountSession, imports: Sequence[ImportSpec]) -> str | None:
        return None  # a destroy imports nothing

    async def cancel(self, grace: float, term_grace: float) -> None:
        await self.inner.cancel(grace, term_grace)


# -- the teardown of one account ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What every teardown screen and line says: which account, identity and region it will destroy."""

    account: str
    account_id: str | None
    identity: str
    region: str
    engine: str
    simulated: bool
    sandbox: bool

    def describe(self) -> str:
        words = [
            f"account {self.account} ({self.account_id or 'no account ID'})",
            f"identity {self.identity or 'not checked'}",
            f"region {self.region}",
            f"engine {self.engine}" + (" — SIMULATED, terragrunt is not installed" if self.simulated else ""),
        ]
        return ("SANDBOX · " if self.sandbox else "") + " · ".join(words)


class Teardown:
    """One account's teardown. `prepare()` first (blocking); then build runs and `await run.execute()`."""

    def __init__(
        self,
        workspace: Workspace,
        state: WorkspaceState,
        account: str,
        *,
        env_for_account: EnvForAccount | None = None,
        identity: str = "",
        terragrunt_path: str | Callable[[], str | None] | None = ctl.find_terragrunt,
        executor_factory: ExecutorFactory | None = None,
        run_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.workspace = workspace
        self.state = state
        self.account = account
        self.env_for_account = env_for_account
        self.identity = identity
        self.terragrunt_path = terragrunt_path
        self.executor_factory = executor_factory
        self.run_options = dict(run_options or {})
        self.preflight: ctl.Preflight | None = None
        self.plan: TeardownPlan | None = None
        self.history = History()
        self.include_cross_account = False
        self.runs: list[tuple[str, Run]] = []  # (phase, run) started by this object

    # -- plan --------------------------------------------------------------------------------------

    def prepare(self, *, include_cross_account: bool | None = None) -> TeardownPlan:
        """Blocking: scan the repo, find terragrunt, read the runs on disk, build the plan."""
        if include_cross_account is not None:
            self.include_cross_account = include_cross_account
        self.preflight = ctl.preflight(
            self.workspace, self.state, [self.account], terragrunt_path=self.terragrunt_path
        )
        self.history = load_history(self.workspace, self.state, self.account)
        self.plan = build_plan(
            self.preflight.tree,
            self.state,
            self.account,
            include_cross_account=self.include_cross_account,
            history=self.history,
        )
        return self.plan

    @property
    def target(self) -> Target:
        pre = self._pre()
        plan = self._plan()
        return Target(
            account=self.account,
            account_id=plan.account_id,
            identity=self.identity,
            region=pre.account(self.account).region,
            engine=pre.engine,
            simulated=pre.simulated,
            sandbox=self.state.mode is Mode.SANDBOX,
        )

    def _pre(self) -> ctl.Preflight:
        if self.preflight is None:
            raise RuntimeError("Teardown.prepare() first")
        return self.preflight

    def _plan(self) -> TeardownPlan:
        if self.plan is None:
            raise RuntimeError("Teardown.prepare() first")
        return self.plan

    # -- runs --------------------------------------------------------------------------------------

    def _executor(self, command: Command) -> Executor:
        pre = self._pre()
        if self.executor_factory is not None:
            return self.executor_factory(pre, command)
        return ctl.make_executor(pre, command=command)

    def _build(
        self, phase: str, command: Command, units: Sequence[str], executor: Executor, **config: Any
    ) -> Run:
        options = {**self.run_options, **config}
        run = ctl.build_run(
            self.workspace,
            self.state,
            self._pre(),
            accounts=[self.account],
            only_units={self.account: list(units)},
            env_for_account=self.env_for_account,
            command=command,
            executor=executor,
            record_in_state=False,
            **options,
        )
        self.runs.append((phase, run))
        self.workspace.journal(
            f"teardown.{phase}",
            outcome="running",
            account=self.account,
            detail=f"run {run.id}: {len(units)} unit(s)",
        )
        return run

    def rehearsal_run(self) -> Run | None:
        """`plan -destroy` of every planned unit; None when nothing is left to destroy."""
        units = self._plan().units
        if not units:
            return None
        return self._build("rehearsal", "plan", units, self._executor("plan"), tf_args=("-destroy",))

    def apply_phase1_edits(self, accepted: Sequence[edits.PlannedEdit]) -> list[edits.AppliedEdit]:
        """Writes the accepted force_destroy edits (backups under the workspace) and remembers them."""
        backups = teardown_dir(self.workspace, self.account) / "backups"
        applied = edits.apply_edits(accepted, backup_dir=backups)
        now = time.time()
        by_account = self.state.settings.setdefault(SETTINGS_KEY, {}).setdefault(self.account, {})
        edited = by_account.setdefault("force_destroy_edited", {})
        for item in applied:
            if item.edit.unit:
                edited[item.edit.unit] = now
        self.workspace.save(self.state)
        for item in applied:
            self.workspace.journal(
                "teardown.force_destroy_edit",
                outcome="done",
                account=self.account,
                detail=f"{item.edit.label or item.edit.file} (backup {item.backup})",
            )
        return applied

    def phase1_run(self, units: Sequence[str] | None = None) -> Run | None:
        """An apply of the units whose force_destroy is set but not applied; None when there is nothing."""
        self.history = load_history(self.workspace, self.state, self.account)
        chosen = [u for u in (units if units is not None else self._plan().phase1_units)]
        chosen = [u for u in chosen if u in self.history.force_destroy_pending]
        if not chosen:
            return None
        return self._build("phase1", "apply", chosen, self._executor("apply"))

    def phase2_run(self) -> Run | None:
        """The destroy of the planned units not destroyed yet, wave by wave; None when nothing is left."""
        self.history = load_history(self.workspace, self.state, self.account)
        units = [u for u in self._plan().units if u not in self.history.destroyed]
        if not units:
            return None
        tree = self._pre().tree
        dependents: dict[str, list[str]] = {}
        for path, unit in tree.units.items():
            if unit.runnable:
                for dep in unit.dependencies:
                    dependents.setdefault(dep, []).append(path)
        executor = WaveByWaveExecutor(
            self._executor("destroy"), destroyed_before=self.history.destroyed, dependents=dependents
        )
        return self._build("destroy", "destroy", units, executor)

    def destroyed(self) -> list[str]:
        """Units of the account destroyed so far (this run and earlier ones), from the runs on disk."""
        self.history = load_history(self.workspace, self.state, self.account)
        tree = self._pre().tree
        return sorted(
            p for p in self.history.destroyed if p in tree.units and tree.units[p].account == self.account
        )

    def backend_ready(self) -> tuple[bool, str]:
        """The state backend goes only when every runnable unit of the account is destroyed."""
        tree = self._pre().tree
        destroyed = set(self.destroyed())
        left = sorted(
            p
            for p, u in tree.units.items()
            if u.account == self.account and u.runnable and p not in destroyed
        )
        if left:
            return False, (
                f"{len(left)} unit(s) of {self.account} are not destroyed (e.g. {left[0]}); their state "
                "is in the bucket, so the state backend stays until they are gone"
            )
        return True, "every unit of the account is destroyed"
