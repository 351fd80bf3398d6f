"""The spine's one write path (steps.record) and the runner around it, driven by a minimal fake step."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from refarch_tui.aws.errors import AccountBlocked
from refarch_tui.state import Status, Workspace
from refarch_tui.steps import registry, runner
from refarch_tui.steps.contract import StepRefused
from refarch_tui.steps.record import HCL_EVIDENCE, hcl_drift
from tests.steps import fake_step
from tests.steps.conftest import MakeCtx

UNIT_FILE = "dev/us-east-1/services/ecs-cluster/terragrunt.hcl"


@pytest.fixture(autouse=True)
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(registry.MODULES, "keypairs", "tests.steps.fake_step")
    fake_step.BEHAVIOUR.clear()
    fake_step.CALLS.clear()
    yield
    fake_step.BEHAVIOUR.clear()


def edit_entries(workspace: Workspace) -> list[dict[str, object]]:
    return [e for e in workspace.read_journal() if e["action"] == "edit"]


def test_accepted_edits_are_applied_journalled_and_recorded(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    unit = ctx.live_root / UNIT_FILE
    outcome = runner.run_step(ctx, "keypairs", {"name": "dev-services"}, accept=runner.accept_all)
    assert outcome.status is Status.DONE, outcome.message
    assert 'cluster_instance_keypair_name = "dev-services"' in unit.read_text()
    backups = list((ctx.workspace.directory / "backups" / "keypairs").iterdir())
    assert len(backups) == 1 and "REPLACE_ME" in backups[0].read_text()
    [entry] = edit_entries(ctx.workspace)
    assert {k: entry[k] for k in ("file", "key", "old", "new", "step", "account", "outcome")} == {
        "file": UNIT_FILE,
        "key": "cluster_instance_keypair_name",
        "old": "REPLACE_ME",
        "new": "dev-services",
        "step": "keypairs",
        "account": "dev",
        "outcome": "applied",
    }
    assert entry["time"]
    assert any(e["action"] == "step.done" and e["step"] == "keypairs" for e in ctx.workspace.read_journal())
    saved = Workspace(ctx.workspace.directory).load().record("keypairs", "dev")
    assert saved.status is Status.DONE and saved.facts == {"name": "dev-services"}
    assert saved.run_env == {"TF_VAR_fake": "dev-services"}
    assert saved.secret_env == {"TF_VAR_fake_secret": "fake/entry"}
    assert saved.imports == [
        {"unit": "dev/us-east-1/networking/route53-public", "address": "aws_route53_zone.primary", "id": "Z1"}
    ]
    assert saved.followups[0]["command"] == "refarch-tui step keypairs --account dev"
    assert saved.evidence[HCL_EVIDENCE] == [
        {
            "file": UNIT_FILE,
            "key": "cluster_instance_keypair_name",
            "path": ["inputs", "cluster_instance_keypair_name"],
            "value": "dev-services",
        }
    ]
    document = outcome.to_json()
    assert document["edits"] == [
        {
            "file": UNIT_FILE,
            "key": "cluster_instance_keypair_name",
            "old": "REPLACE_ME",
            "new": "dev-services",
            "applied": True,
        }
    ]
    assert document["run_env"] == ["TF_VAR_fake", "TF_VAR_fake_secret"]

    # a rerun proposes nothing, stays done and keeps the HCL evidence of the first run
    again = runner.run_step(ctx, "keypairs", {"name": "dev-services"}, accept=runner.accept_all)
    assert again.status is Status.DONE and again.changes == []
    assert ctx.state.record("keypairs", "dev").evidence[HCL_EVIDENCE] == saved.evidence[HCL_EVIDENCE]
    assert len(edit_entries(ctx.workspace)) == 1


def test_declined_edits_leave_the_repo_alone_and_the_cell_pending(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    before = (ctx.live_root / UNIT_FILE).read_text()
    outcome = runner.run_step(ctx, "keypairs", {}, accept=runner.accept_none)
    assert outcome.status is Status.PENDING
    assert "1 of 1 proposed edit(s) were not applied" in outcome.message and "declined" in outcome.message
    assert (ctx.live_root / UNIT_FILE).read_text() == before
    assert edit_entries(ctx.workspace) == []
    assert [c.applied for c in outcome.changes] == [False]
    assert ctx.state.record("keypairs", "dev").status is Status.PENDING


def test_an_edit_refused_at_apply_time_makes_the_cell_pending(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    unit = ctx.live_root / UNIT_FILE

    def change_then_accept(edits: list) -> list:
        unit.write_text(unit.read_text() + "\n# edited meanwhile\n")
        return edits

    outcome = runner.run_step(ctx, "keypairs", {}, accept=change_then_accept)
    assert outcome.status is Status.PENDING and "changed on disk" in outcome.message
    assert "REPLACE_ME" in unit.read_text()


def test_step_errors_are_recorded_as_failed_and_cancel_records_nothing(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    fake_step.BEHAVIOUR["error"] = "key pair dev-services already exists — pick another name"
    outcome = runner.run_step(ctx, "keypairs", {}, accept=runner.accept_all)
    assert outcome.status is Status.FAILED and "pick another name" in outcome.message
    record = ctx.state.record("keypairs", "dev")
    assert record.status is Status.FAILED and record.run_env == {} and record.facts == {}

    fake_step.BEHAVIOUR.clear()
    fake_step.BEHAVIOUR["cancel"] = True
    before = ctx.workspace.state_path.read_text()
    outcome = runner.run_step(ctx, "keypairs", {}, accept=runner.accept_all)
    assert outcome.cancelled and ctx.workspace.state_path.read_text() == before
    assert ctx.workspace.read_journal()[-1]["action"] == "step.cancelled"

    fake_step.BEHAVIOUR.clear()
    fake_step.BEHAVIOUR["crash"] = True
    outcome = runner.run_step(ctx, "keypairs", {}, accept=runner.accept_all)
    assert outcome.status is Status.FAILED and "unexpected error: boom" in outcome.message
    assert "REPLACE_ME" in (ctx.live_root / UNIT_FILE).read_text()


def test_a_blocked_account_is_refused_before_plan(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")

    def blocked() -> None:
        raise AccountBlocked("dev", "the credentials reach 111111111111")

    ctx.check_identity = blocked
    with pytest.raises(StepRefused, match="blocked"):
        runner.run_step(ctx, "keypairs", {}, accept=runner.accept_all)
    assert fake_step.CALLS == []
    assert ctx.state.record("keypairs", "dev").status is Status.PENDING


def test_unknown_answers_and_cells_out_of_scope(make_ctx: MakeCtx) -> None:
    with pytest.raises(StepRefused, match="unknown answer colour"):
        runner.run_step(make_ctx("dev"), "keypairs", {"colour": "red"})
    outcome = runner.run_step(make_ctx("security"), "keypairs", {})
    assert outcome.status is Status.NOT_APPLICABLE and fake_step.CALLS == []


def test_hcl_drift_names_the_input_and_file(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    runner.run_step(ctx, "keypairs", {}, accept=runner.accept_all)
    record = ctx.state.record("keypairs", "dev")
    assert hcl_drift(ctx.live_root, record) is None
    unit = ctx.live_root / UNIT_FILE
    unit.write_text(unit.read_text().replace('"fake-key"', '"by-hand"'))
    expected = f"cluster_instance_keypair_name in {UNIT_FILE} was changed by hand"
    assert hcl_drift(ctx.live_root, record) == expected


def test_a_save_holds_the_workspace_lock_shared_by_every_object_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refarch_tui import state as state_module
    from refarch_tui.state import Account, Mode, WorkspaceState

    workspace = Workspace(tmp_path / "ws")
    state = WorkspaceState(
        live_dir=str(tmp_path), mode=Mode.SANDBOX, accounts=[Account("dev", "368294012756")], regions=[]
    )
    writing, go = threading.Event(), threading.Event()
    real_write = state_module.atomic_write_text

    def paused_write(*args: object, **kwargs: object) -> None:
        writing.set()
        assert go.wait(30)
        real_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(state_module, "atomic_write_text", paused_write)
    saver = threading.Thread(target=workspace.save, args=(state,))
    saver.start()
    assert writing.wait(30)
    taken: list[bool] = []
    other_object = Workspace(workspace.directory)
    other = threading.Thread(target=lambda: taken.append(other_object.save_lock.acquire(False)))
    other.start()
    other.join()
    go.set()
    saver.join()
    assert taken == [False]  # another thread (and another Workspace object) had to wait for the save


def test_saves_from_many_threads_keep_every_update(tmp_path: Path) -> None:
    from refarch_tui.state import Account, Mode, WorkspaceState

    threads_count, per_thread = 4, 10
    workspace = Workspace(tmp_path / "ws")
    accounts = [Account(f"app{i}", f"{i:012d}") for i in range(threads_count * per_thread)]
    state = WorkspaceState(live_dir=str(tmp_path), mode=Mode.SANDBOX, accounts=accounts, regions=[])
    workspace.save(state)
    errors: list[BaseException] = []

    def hammer(names: list[str]) -> None:
        try:
            for name in names:  # every update adds a cell while other threads serialise the state
                workspace.update_step(state, "passwords", name, Status.DONE, facts={"n": name})
        except BaseException as exc:
            errors.append(exc)

    names = [a.name for a in accounts]
    threads = [
        threading.Thread(target=hammer, args=(names[i * per_thread : (i + 1) * per_thread],))
        for i in range(threads_count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    saved = json.loads(workspace.state_path.read_text())
    assert {a: r["facts"]["n"] for a, r in saved["steps"]["passwords"].items()} == {n: n for n in names}


def test_resume_marks_cells_whose_evidence_no_longer_holds_stale(make_ctx: MakeCtx) -> None:
    from refarch_tui.steps import resume

    ctx = make_ctx("dev")
    runner.run_step(ctx, "keypairs", {}, accept=runner.accept_all)
    assert resume.cells_to_verify(ctx.state) == [("keypairs", "dev")]
    assert [c.to_json() for c in resume.verify_workspace(ctx.workspace, ctx.state, make_ctx)] == [
        {"step": "keypairs", "account": "dev", "status": "done", "reason": ""}
    ]
    unit = ctx.live_root / UNIT_FILE
    original = unit.read_text()
    unit.write_text(original.replace('"fake-key"', '"by-hand"'))
    [checked] = resume.verify_workspace(ctx.workspace, ctx.state, make_ctx)
    assert checked.status is Status.STALE and "was changed by hand" in checked.reason
    saved = Workspace(ctx.workspace.directory).load().record("keypairs", "dev")
    assert saved.status is Status.STALE and saved.message == checked.reason
    assert saved.evidence[HCL_EVIDENCE]  # the evidence stays, so a later check can clear it
    unit.write_text(original)
    [checked] = resume.verify_workspace(ctx.workspace, ctx.state, make_ctx)
    assert checked.status is Status.DONE
    assert ctx.state.record("keypairs", "dev").status is Status.DONE
