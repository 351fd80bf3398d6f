"""The object the App owns for live applies: preflight, start, observe, cancel, rerun what did not succeed.

Screens get this controller, subscribe to it, and may be closed at any time: the run goes on in the
App's event loop, and subscribers simply stop hearing about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch_tui import checklist, live
from refarch_tui.live.model import CycleError, LiveTree
from refarch_tui.run import store
from refarch_tui.run.engine import Executor, ImportSpec, Run, RunConfig
from refarch_tui.run.env import AccountEnvPlan, EnvForAccount, plan_from_state
from refarch_tui.run.model import RunEvent
from refarch_tui.run.rehearsal import RehearsalExecutor
from refarch_tui.state import Mode, Status, Workspace, WorkspaceState
from refarch_tui.tools import terragrunt as tg
from refarch_tui.tools.hints import TOOL_HINTS

log = logging.getLogger(__name__)

REHEARSAL_SPEED_ENV = "REFARCH_REHEARSAL_SPEED"  # 0 = as fast as possible (tests), 1 = watchable
RETRY_BACKOFF_ENV = "REFARCH_RETRY_BACKOFF"  # seconds before the first automatic rerun (default 5)
INSTALL_HINT = TOOL_HINTS["terragrunt"]


class PreflightError(Exception):
    """The run cannot start; the message says what to do."""


@dataclass
class AccountPreflight:
    name: str
    account_id: str | None
    units: int
    region: str
    secret_names: list[str]  # env var names only, never values
    fact_names: list[str]
    pending_steps: list[str]  # titles of checklist steps that are not done for this account


@dataclass
class Preflight:
    engine: str  # terragrunt-1 | terragrunt-0 | rehearsal
    simulated: bool
    terragrunt: tg.TerragruntInfo | None
    accounts: list[AccountPreflight]
    tree: LiveTree
    warnings: list[str] = field(default_factory=list)

    def account(self, name: str) -> AccountPreflight:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)


def find_terragrunt() -> str | None:
    return shutil.which("terragrunt")


def rehearsal_speed(default: float = 1.0) -> float:
    try:
        return float(os.environ.get(REHEARSAL_SPEED_ENV, default))
    except ValueError:
        return default


def pending_steps(state: WorkspaceState, account: str) -> list[str]:
    pending = []
    for step in checklist.STEPS:
        if step.id == "terragrunt" or not state.applies(step.id, account):
            continue
        status = state.record(step.id, account).status
        if status not in (Status.DONE, Status.SKIPPED, Status.NOT_APPLICABLE):
            pending.append(f"{step.title} ({status.value})")
    return pending


def live_root(workspace: Workspace, state: WorkspaceState) -> Path:
    root = Path(state.live_dir).expanduser()
    return root if root.is_absolute() else (workspace.directory / root).resolve()


def imports_from_state(state: WorkspaceState) -> dict[str, list[ImportSpec]]:
    """Queued imports recorded by done steps (Route 53, certificates): record.imports."""
    result: dict[str, list[ImportSpec]] = {}
    for account in state.account_names:
        entries = [
            entry
            for step_id, by_account in state.steps.items()
            if (record := by_account.get(account)) is not None and record.status is Status.DONE
            for entry in record.imports
        ]
        for entry in entries:
            if isinstance(entry, dict) and {"unit", "address", "id"} <= set(entry):
                spec = ImportSpec(
                    unit=str(entry["unit"]), address=str(entry["address"]), resource_id=str(entry["id"])
                )
                queued = result.setdefault(account, [])
                if spec not in queued:  # two steps may queue one zone (Route 53 and TLS certificates)
                    queued.append(spec)
    return result


def preflight(
    workspace: Workspace,
    state: WorkspaceState,
    accounts: Sequence[str] | None = None,
    *,
    terragrunt_path: str | Callable[[], str | None] | None = find_terragrunt,
) -> Preflight:
    """Blocking (thread): scans the live repo, finds terragrunt and its generation, checks the accounts."""
    path = terragrunt_path() if callable(terragrunt_path) else terragrunt_path
    info: tg.TerragruntInfo | None = None
    warnings: list[str] = []
    if path:
        try:
            info = tg.detect_generation(path)
        except tg.TerragruntError as exc:
            raise PreflightError(f"{exc} — {INSTALL_HINT}") from None
    elif state.mode is not Mode.SANDBOX:
        raise PreflightError(f"terragrunt is not installed (not on PATH). {INSTALL_HINT}")
    root = live_root(workspace, state)
    if not root.is_dir():
        raise PreflightError(f"the live repo {root} is not there any more; check the workspace's live_dir.")
    tree = live.scan(root)
    for error in tree.errors:
        warnings.append(f"{error.path}{':' + str(error.line) if error.line else ''}: {error.message}")
    known = [a for a in state.account_names if a in tree.accounts] or tree.accounts
    if accounts:
        unknown = [a for a in accounts if a not in tree.accounts]
        if unknown:
            raise PreflightError(
                f"no account named {', '.join(unknown)} in {root}; accounts there: {', '.join(tree.accounts)}"
            )
        selected = checklist.order_accounts(accounts)
    else:
        selected = checklist.order_accounts(known)
    if not selected:
        raise PreflightError(f"{root} has no accounts with units; nothing to run.")
    result: list[AccountPreflight] = []
    for name in selected:
        try:
            live.waves(tree, account=name)
        except CycleError as exc:
            raise PreflightError(f"{name}: {exc}; fix the dependency blocks, then start again.") from None
        plan = plan_from_state(state, name)
        account_id = None
        with contextlib.suppress(KeyError):
            account_id = state.account(name).id
        result.append(
            AccountPreflight(
                name=name,
                account_id=account_id,
                units=sum(1 for u in tree.units_of(name) if u.runnable),
                region=plan.region,
                secret_names=sorted(plan.secret_names),
                fact_names=sorted(plan.facts),
                pending_steps=pending_steps(state, name),
            )
        )
    engine = info.generation.value if info is not None else "rehearsal"
    return Preflight(
        engine=engine, simulated=info is None, terragrunt=info, accounts=result, tree=tree, warnings=warnings
    )


def make_executor(
    pre: Preflight,
    *,
    command: tg.Command = "apply",
    source: str | None = None,
    seed: int | None = None,
    speed: float | None = None,
) -> Executor:
    if pre.terragrunt is not None:
        from refarch_tui.run.terragrunt_exec import TerragruntExecutor

        return TerragruntExecutor(pre.terragrunt, command=command, source=source)
    return RehearsalExecutor(seed=seed, speed=rehearsal_speed() if speed is None else speed)


def build_run(
    workspace: Workspace,
    state: WorkspaceState,
    pre: Preflight,
    *,
    accounts: Sequence[str] | None = None,
    only_units: Mapping[str, Collection[str]] | None = None,
    env_for_account: EnvForAccount | None = None,
    command: tg.Command = "apply",
    executor: Executor | None = None,
    **config: Any,
) -> Run:
    names = list(accounts) if accounts else [a.name for a in pre.accounts]
    if RETRY_BACKOFF_ENV in os.environ and "backoff_base" not in config:
        with contextlib.suppress(ValueError):
            config["backoff_base"] = float(os.environ[RETRY_BACKOFF_ENV])
    plans: dict[str, AccountEnvPlan] = {n: plan_from_state(state, n) for n in names}
    plans.update(config.pop("env_plans", None) or {})
    run_config = RunConfig(
        live_root=pre.tree.root,
        tree=pre.tree,
        accounts=names,
        command=command,
        only_units=only_units,
        env_for_account=env_for_account,
        env_plans=plans,
        imports=imports_from_state(state) if command == "apply" and only_units is None else {},
        **config,
    )
    return Run(
        run_config,
        executor or make_executor(pre, command=command),
        runs_dir=workspace.runs_dir,
        workspace=workspace,
        state=state,
    )


class RunController:
    """Owned by the App. One run at a time; subscribers hear about whichever run is current."""

    def __init__(
        self,
        workspace: Workspace,
        state: WorkspaceState,
        *,
        env_for_account: EnvForAccount | None = None,
        terragrunt_path: str | Callable[[], str | None] | None = find_terragrunt,
        run_options: Mapping[str, Any] | None = None,
        executor_factory: Callable[[Preflight], Executor] | None = None,
    ) -> None:
        self.workspace = workspace
        self.state = state
        self.env_for_account = env_for_account
        self.terragrunt_path = terragrunt_path
        self.run_options = dict(run_options or {})
        self.executor_factory = executor_factory
        self.current: Run | None = None
        self.task: asyncio.Task[dict[str, Any]] | None = None
        self._subscribers: list[Callable[[RunEvent], None]] = []
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def preflight(self, accounts: Sequence[str] | None = None) -> Preflight:
        """Blocking: call from a thread worker."""
        return preflight(self.workspace, self.state, accounts, terragrunt_path=self.terragrunt_path)

    def last_record(self) -> store.RunRecord | None:
        """The newest run on disk (also one a crashed app left behind). Blocking but quick."""
        return store.load_run(self.workspace.runs_dir)

    def subscribe(self, callback: Callable[[RunEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _forward(self, event: RunEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("controller subscriber failed")

    def start(
        self,
        pre: Preflight,
        *,
        accounts: Sequence[str] | None = None,
        only_units: Mapping[str, Collection[str]] | None = None,
        command: tg.Command = "apply",
    ) -> Run:
        """Starts a run in the running event loop (the App's); returns at once."""
        if self.running:
            raise PreflightError("a run is already in progress; cancel it or wait for it to finish")
        executor = self.executor_factory(pre) if self.executor_factory else None
        run = build_run(
            self.workspace,
            self.state,
            pre,
            accounts=accounts,
            only_units=only_units,
            env_for_account=self.env_for_account,
            command=command,
            executor=executor,
            **self.run_options,
        )
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.current = run
        self._unsubscribe = run.subscribe(self._forward)
        self.task = asyncio.get_running_loop().create_task(run.execute(), name=f"run {run.id}")
        return run

    def adopt(self, run: Run) -> Run:
        """Starts a run built elsewhere (a teardown phase) as the current one, in the App's event loop."""
        if self.running:
            raise PreflightError("a run is already in progress; cancel it or wait for it to finish")
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.current = run
        self._unsubscribe = run.subscribe(self._forward)
        self.task = asyncio.get_running_loop().create_task(run.execute(), name=f"run {run.id}")
        return run

    def rerun_targets(self) -> dict[str, list[str]]:
        """What did not succeed in the current run, or in the last run on disk (after a crash)."""
        if self.current is not None and self.current.done:
            return self.current.not_succeeded()
        record = self.last_record()
        return record.not_succeeded() if record is not None else {}

    def rerun_failed(self, pre: Preflight) -> Run | None:
        targets = self.rerun_targets()
        if not targets:
            return None
        return self.start(pre, accounts=list(targets), only_units=targets)

    def cancel(self) -> None:
        if self.current is not None:
            self.current.cancel()

    async def cancel_for_quit(self) -> None:
        """The operator quits and cancels the run: recorded first (so a reopening knows even if the app dies
        during the cancel), then the usual cancel, waited for until every terragrunt has stopped."""
        run = self.current
        if run is None or not self.running:
            return
        await asyncio.to_thread(store.record_quit, run.directory, store.QUIT_CANCELLED)
        run.cancel()
        try:
            await self.wait()
        except Exception:  # the run's own failure is in its records; quitting goes on
            log.exception("run %s failed while it was cancelled for quitting", run.id)

    async def leave_running_for_quit(self) -> dict[str, int]:
        """The operator quits and leaves terragrunt running: hand it over, then stop watching (the run is not
        recorded as finished). Returns account -> PID of each terragrunt left running."""
        run, task = self.current, self.task
        if run is None or task is None or task.done():
            return {}
        left = await run.leave_running()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return left

    async def wait(self) -> dict[str, Any] | None:
        if self.task is None:
            return None
        return await self.task
