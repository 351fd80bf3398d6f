"""The rehearsal engine: real DAG waves, SIMULATED events, injected transient errors, pause."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from pathlib import Path

from refarch_tui.run.engine import Run
from refarch_tui.run.model import EventKind, RunEvent, UnitStatus
from refarch_tui.run.rehearsal import (
    FAILS,
    RUNNER_RECOVERS,
    TERRAGRUNT_RECOVERS,
    RehearsalExecutor,
    planned_faults,
)
from refarch_tui.state import Workspace, WorkspaceState
from tests.run.helpers import attempts, make_run, statuses

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
VPC = "dev/us-east-1/networking/vpc"
APP = "dev/us-east-1/services/app"
IAM = "dev/_global/iam"


async def test_injected_errors_recover_with_honest_attempts(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    events: list[RunEvent] = []
    executor = RehearsalExecutor(speed=0, inject={VPC: RUNNER_RECOVERS, IAM: TERRAGRUNT_RECOVERS})
    run = make_run(workspace, state, accounts=["dev"], events=events, executor=executor)
    await run.execute()
    assert run.engine == "rehearsal" and run.simulated
    assert run.succeeded(), statuses(run)
    assert attempts(run) == {IAM: 2, VPC: 4, APP: 1}
    assert all(e.simulated for e in events)
    assert any(e.kind is EventKind.NOTICE and "SIMULATED" in e.message for e in events)
    log = run.accounts["dev"].units[VPC].log_path.read_text().splitlines()
    assert log and all(line.startswith(("SIMULATED", "#")) for line in log)
    # the dependency order of the real DAG: app starts only after vpc succeeded
    order = [(e.kind, e.unit) for e in events]
    assert order.index((EventKind.UNIT_STARTED, APP)) > order.index((EventKind.UNIT_SUCCEEDED, VPC))
    assert {(r.unit, r.by) for r in run.known_errors if r.recovered} >= {(VPC, "runner"), (IAM, "terragrunt")}


async def test_a_lasting_failure_skips_dependents(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    run = make_run(
        workspace, state, accounts=["dev"], executor=RehearsalExecutor(speed=0, inject={VPC: FAILS})
    )
    await run.execute()
    assert statuses(run) == {IAM: "succeeded", VPC: "failed", APP: "skipped"}
    assert run.accounts["dev"].units[VPC].known_error == "state-lock"


async def test_seeded_rehearsal_is_reproducible_on_the_sample_repo(
    sample_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    outcomes = []
    for _ in range(2):
        workspace, state = make_workspace(sample_live)
        run = make_run(workspace, state, executor=RehearsalExecutor(seed=7, speed=0))
        await run.execute()
        assert run.succeeded(), {p: s for p, s in statuses(run).items() if s != "succeeded"}
        assert len(run.units) == sum(1 for u in run.config.tree.units.values() if u.runnable)
        outcomes.append((attempts(run), sorted((r.unit, r.error_id) for r in run.known_errors)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1], "seed 7 injects at least one transient error"


class JitteredRehearsal(RehearsalExecutor):
    """Yields to the event loop a varying number of times at every pause, so the concurrent accounts and
    units interleave differently for each `jitter` seed."""

    def __init__(self, jitter: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._jitter = random.Random(jitter)

    async def _pause(self, rng: random.Random, low: float, high: float) -> None:
        await super()._pause(rng, low, high)
        for _ in range(self._jitter.randrange(8)):
            await asyncio.sleep(0)


def _story(run: Run) -> tuple[object, ...]:
    ids = {
        u.path: re.findall(r"\[id=sim-[0-9a-f]+\]", u.log_path.read_text())
        for u in run.units
        if u.log_path.exists()
    }
    return attempts(run), sorted((r.unit, r.error_id) for r in run.known_errors), ids


async def test_the_same_seed_gives_the_same_faults_whatever_the_interleaving(
    sample_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    stories = []
    for jitter in (1, 2, 3):
        workspace, state = make_workspace(sample_live)
        run = make_run(workspace, state, executor=JitteredRehearsal(jitter, seed=11, speed=0))
        await run.execute()
        assert run.succeeded(), {p: s for p, s in statuses(run).items() if s != "succeeded"}
        stories.append(_story(run))
    assert stories[0][1], "seed 11 injects at least one transient error"
    assert stories[0] == stories[1] == stories[2]


def test_an_accounts_faults_do_not_depend_on_the_other_accounts() -> None:
    units = [f"dev/us-east-1/unit-{i}" for i in range(6)]
    alone = planned_faults(5, "dev", units, {})
    assert alone == planned_faults(5, "dev", units, {"prod/x": FAILS})
    assert len({repr(planned_faults(seed, "dev", units, {})) for seed in range(20)}) > 1  # seeds matter


async def test_pause_after_the_current_wave_then_resume(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    events: list[RunEvent] = []
    run = make_run(
        workspace,
        state,
        accounts=["dev", "prod"],
        events=events,
        executor=RehearsalExecutor(speed=0, inject={}),
    )
    task = asyncio.create_task(run.execute())
    run.request_pause()
    while not run.paused:
        await asyncio.sleep(0.01)
    assert not task.done()
    assert any(u.status is UnitStatus.PENDING for u in run.units)
    started = [e for e in events if e.kind is EventKind.UNIT_STARTED]
    await asyncio.sleep(0.1)
    assert [e for e in events if e.kind is EventKind.UNIT_STARTED] == started  # nothing new while paused
    run.resume()
    await asyncio.wait_for(task, 20)
    assert run.succeeded()
    assert any(e.kind is EventKind.PAUSED for e in events) and any(
        e.kind is EventKind.RESUMED for e in events
    )


async def test_destroy_goes_through_accounts_and_waves_in_reverse(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(tiny_live)
    events: list[RunEvent] = []
    run = make_run(
        workspace, state, events=events, command="destroy", executor=RehearsalExecutor(speed=0, inject={})
    )
    await run.execute()
    assert run.succeeded()
    started = [e.account for e in events if e.kind is EventKind.ACCOUNT_STARTED]
    assert started[-2:] == ["shared-services", "security"] and set(started[:3]) == {"dev", "stage", "prod"}
    order = [(e.kind, e.unit) for e in events]
    assert order.index((EventKind.UNIT_STARTED, VPC)) > order.index((EventKind.UNIT_SUCCEEDED, APP))
    assert "Destroy complete!" in run.accounts["dev"].units[VPC].log_path.read_text()
    assert (
        workspace.load().record("terragrunt", "dev").status.value == "pending"
    )  # destroy does not mark apply


async def test_a_rehearsal_marks_run_terragrunt_rehearsed_never_done(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    """Issue 9 item 11: a SIMULATED run deploys nothing, so the checklist and `status --json` say so."""
    from refarch_tui.state import Status
    from refarch_tui.status import status_document

    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"], executor=RehearsalExecutor(speed=0, inject={}))
    await run.execute()
    assert run.simulated and run.succeeded(), statuses(run)
    fresh = workspace.load()
    assert fresh.record("terragrunt", "dev").status is Status.REHEARSED
    cells = [s for s in status_document(workspace, fresh)["steps"] if s["step"] == "terragrunt"]
    dev = next(c for c in cells if c["account"] == "dev")
    assert dev["status"] == "rehearsed"
    assert set(dev) == {"step", "account", "status", "updated", "facts"}  # the JSON contract's fields


async def test_status_follows_the_newest_runs_outcomes_on_disk_over_an_older_cell(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    """Issue 9 item 9: after a kill -9 the state keeps an older value; the run's outcomes.jsonl wins."""
    from refarch_tui.state import Status
    from refarch_tui.status import status_document

    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"], executor=RehearsalExecutor(speed=0, inject={}))
    await run.execute()
    assert run.succeeded(), statuses(run)
    # what a killed app leaves: the cell still holds an older run's failure
    older = workspace.load()
    workspace.update_step(older, "terragrunt", "dev", Status.FAILED)
    summary = run.directory / "summary.json"
    summary.unlink()  # the killed run never finished writing
    cells = status_document(workspace, workspace.load())["steps"]
    dev = next(c for c in cells if c["step"] == "terragrunt" and c["account"] == "dev")
    assert dev["status"] == "rehearsed"
