"""The rehearsal engine: without terragrunt (sandbox), walk the real dependency waves and tell the same story.

Every unit of the live repo is "applied" in the order terragrunt would use (the live-repo engine's waves),
by printing terragrunt 1.x-style lines that go through the very same parser, logs and events as a real
run. Everything it prints is labelled SIMULATED. A few transient errors from the known-errors catalog are
injected so the operator sees both recoveries: one that terragrunt's own retry absorbs, and one that the
runner reruns.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence

from refarch_tui.run.engine import AccountSession, ImportSpec, InvocationResult
from refarch_tui.run.model import UnitRun

# kinds of injected trouble
TERRAGRUNT_RECOVERS = "tls-timeout"  # fails once inside terragrunt, its built-in retry succeeds
RUNNER_RECOVERS = "alarm-in-progress"  # fails all 3 built-in attempts; the runner's rerun succeeds
FAILS = "state-lock"  # fails and stays failed (a suggestion for the operator); only when asked for


def _stamp() -> str:
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


def _resources(path: str, rng: random.Random) -> list[str]:
    name = path.rsplit("/", 1)[-1].replace("-", "_")
    kinds = [
        "aws_iam_role",
        "aws_security_group",
        "aws_cloudwatch_metric_alarm",
        "aws_ssm_parameter",
        "aws_kms_key",
    ]
    return [f"module.{name}.{rng.choice(kinds)}.r{i}" for i in range(rng.randint(2, 5))]


def planned_faults(
    seed: int, account: str, units: Sequence[str], already: Mapping[str, str]
) -> dict[str, str]:
    """The transient errors injected into one account's units, from a generator of that account alone."""
    rng = random.Random(f"{seed}:account:{account}")
    faults: dict[str, str] = {}
    for kind, chance in ((TERRAGRUNT_RECOVERS, 0.6), (RUNNER_RECOVERS, 0.45)):
        if rng.random() < chance:
            unit = rng.choice(list(units))
            if unit not in already and unit not in faults:
                faults[unit] = kind
    return faults


class RehearsalExecutor:
    name = "rehearsal"
    simulated = True

    def __init__(
        self,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        inject: Mapping[str, str] | None = None,
        inject_random: bool = True,
    ) -> None:
        """`inject` maps unit paths to an error kind above; otherwise a few units are picked at random.

        Accounts run concurrently, so no generator is shared: each account and each unit draws from its
        own generator derived from the seed, and the same seed gives the same faults, resources and ids
        whatever order the scheduler interleaves them in.
        """
        self.seed = random.SystemRandom().randrange(2**63) if seed is None else seed
        self._unit_rngs: dict[str, random.Random] = {}
        self.speed = speed
        self.inject: dict[str, str] = dict(inject or {})
        self.inject_random = inject_random and inject is None
        self._planned: set[str] = set()
        self._failures: dict[str, int] = {}
        self._cancelled = False

    def _plan(self, session: AccountSession) -> None:
        account = session.account.name
        if account in self._planned:
            return
        self._planned.add(account)
        if not self.inject_random:
            return
        units = sorted(session.account.units)
        if len(units) < 2:
            return
        self.inject.update(planned_faults(self.seed, account, units, self.inject))

    def _rng(self, unit_path: str) -> random.Random:
        """The unit's own generator; a unit's attempts and reruns run one after another, so it is never
        drawn by two tasks at once."""
        rng = self._unit_rngs.get(unit_path)
        if rng is None:
            rng = self._unit_rngs[unit_path] = random.Random(f"{self.seed}:unit:{unit_path}")
        return rng

    async def _pause(self, rng: random.Random, low: float, high: float) -> None:
        if self.speed <= 0:
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(self.speed * rng.uniform(low, high))

    def _line(
        self, session: AccountSession, level: str, unit: UnitRun | None, msg: str, tf: bool = True
    ) -> None:
        prefix = f"[{session.rel(unit.path)}] " if unit is not None else ""
        tool = "tofu: " if tf else ""
        session.ingest(
            f"{_stamp()} {level:<6} {prefix}{tool}{msg}", "stdout" if level == "STDOUT" else "stderr"
        )

    async def _unit(self, session: AccountSession, unit: UnitRun, failed: dict[str, str]) -> None:
        if self._cancelled:
            return
        rng = self._rng(unit.path)
        kind = self.inject.get(unit.path)
        verb = session.run.config.command
        shown = " ".join([verb, *session.run.config.tf_args])
        self._line(
            session, "INFO", unit, f"SIMULATED `tofu {shown}` (rehearsal: nothing real is touched)", tf=False
        )
        attempts_to_fail = 0
        if kind == TERRAGRUNT_RECOVERS and not self._failures.get(unit.path):
            attempts_to_fail = 1
        elif (kind == RUNNER_RECOVERS and not self._failures.get(unit.path)) or kind == FAILS:
            attempts_to_fail = 3
        catalog = session.run.catalog
        for attempt in range(1, 4):
            self._line(session, "STDOUT", unit, "Initializing the backend...")
            await self._pause(rng, 0.05, 0.2)
            if attempt <= attempts_to_fail:
                error_id = kind or TERRAGRUNT_RECOVERS
                for text in catalog.get(error_id).sample:
                    self._line(session, "STDERR", unit, f"│ {text}" if text else "│")
                await self._pause(rng, 0.05, 0.15)
                if attempt < 3 and error_id != FAILS:
                    self._line(session, "WARN", unit, "Encountered retryable error: default", tf=False)
                    session.ingest(
                        f"Attempt {attempt} of 3. Waiting 0 second(s) before retrying...", "stderr"
                    )
                    continue
                self._failures[unit.path] = self._failures.get(unit.path, 0) + 1
                failed[unit.path] = "\n".join(catalog.get(error_id).sample)
                return
            break
        if self._cancelled:
            return
        resources = _resources(unit.path, rng)
        destroying = verb == "destroy" or "-destroy" in session.run.config.tf_args
        self._line(session, "STDOUT", unit, "OpenTofu will perform the following actions:")
        if destroying:
            for resource in resources:
                self._line(session, "STDOUT", unit, f"  # {resource} will be destroyed")
        self._line(
            session,
            "STDOUT",
            unit,
            f"Plan: 0 to add, 0 to change, {len(resources)} to destroy."
            if destroying
            else f"Plan: {len(resources)} to add, 0 to change, 0 to destroy.",
        )
        if verb == "plan":
            return
        action, done, past = (
            ("Destroying...", "Destruction complete", "destroyed")
            if verb == "destroy"
            else ("Creating...", "Creation complete", "added")
        )
        for resource in resources:
            self._line(session, "STDOUT", unit, f"{resource}: {action}")
            await self._pause(rng, 0.1, 0.5)
            if self._cancelled:
                return
            self._line(
                session, "STDOUT", unit, f"{resource}: {done} after 1s [id=sim-{rng.randrange(16**8):08x}]"
            )
        if verb == "destroy":
            self._line(session, "STDOUT", unit, f"Destroy complete! Resources: {len(resources)} destroyed.")
        else:
            self._line(
                session,
                "STDOUT",
                unit,
                f"Apply complete! Resources: {len(resources)} {past}, 0 changed, 0 destroyed.",
            )

    async def invoke(self, session: AccountSession) -> InvocationResult:
        self._plan(session)
        targets = {u.path for u in session.targets}
        account = session.account
        root = session.working_dir
        failed: dict[str, str] = {}
        report: dict[str, tuple[str, str]] = {}
        for wave in account.waves:
            if self._cancelled:
                break
            ready: list[UnitRun] = []
            for path in wave:
                if path not in targets:
                    continue
                unit = account.units[path]
                bad = [d for d in unit.dependencies if d in failed or report.get(d, ("",))[0] == "early exit"]
                if bad:
                    report[path] = ("early exit", bad[0].rsplit("/", 1)[-1])
                    continue
                ready.append(unit)
            await asyncio.gather(*(self._unit(session, u, failed) for u in ready))
            for unit in ready:
                report[unit.path] = (
                    ("failed", failed[unit.path]) if unit.path in failed else ("succeeded", "")
                )
            if self._cancelled:
                break
            await session.run.pause_point()
        if self._cancelled:
            return InvocationResult(exit_code=130, report=None)
        if failed:
            count = len(failed) + sum(1 for r, _ in report.values() if r == "early exit")
            self._line(session, "ERROR", None, f"Run failed: {count} error(s) occurred:", tf=False)
            for path, cause in failed.items():
                session.ingest(
                    f'* Failed to execute "tofu apply" in ./{session.rel(path)}/.terragrunt-cache/sim'
                )
                for text in cause.splitlines():
                    session.ingest(f"  {text}")
            for path, (result, _dep) in report.items():
                if result == "early exit":
                    deps = [d for d in account.units[path].dependencies if d in failed or d in report]
                    dep = deps[0] if deps else path
                    session.ingest(
                        f"* Unit '{root / session.rel(path)}' did not run due to a failure in "
                        f"'{root / session.rel(dep)}'"
                    )
        return InvocationResult(exit_code=1 if failed else 0, report=report)

    async def run_imports(self, session: AccountSession, imports: Sequence[ImportSpec]) -> str | None:
        for spec in imports:
            session.ingest_unit_line(
                spec.unit, f"SIMULATED terragrunt import {spec.address} {spec.resource_id}"
            )
            session.ingest_unit_line(spec.unit, f'{spec.address}: Importing from ID "{spec.resource_id}"...')
            await self._pause(self._rng(f"{spec.unit}#import"), 0.05, 0.2)
            session.ingest_unit_line(spec.unit, "Import successful!")
        return None

    async def cancel(self, grace: float, term_grace: float) -> None:
        self._cancelled = True
