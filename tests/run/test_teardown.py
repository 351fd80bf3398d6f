"""The guided teardown: destroy plan and guards, confirmations, rehearsal, wave-by-wave destroy, resume."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from refarch_tui import live
from refarch_tui.run import teardown_line
from refarch_tui.run.controller import Preflight
from refarch_tui.run.engine import Executor
from refarch_tui.run.model import EventKind, RunEvent, UnitStatus
from refarch_tui.run.rehearsal import RehearsalExecutor
from refarch_tui.run.teardown import (
    FINDING_KINDS,
    build_plan,
    confirmation_matches,
    cross_account_phrase,
    is_production,
)
from refarch_tui.run.teardown_exec import Teardown
from refarch_tui.state import Account, Mode, Workspace, WorkspaceState
from refarch_tui.tools.terragrunt import Command
from tests.run.helpers import calls, use_fake_version

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
IAM_X = "dev/_global/iam-cross-account"


def quiet_rehearsal(_pre: Preflight, _command: Command) -> Executor:
    return RehearsalExecutor(speed=0, inject={})


def tree_and_state(live_dir: Path) -> tuple[live.LiveTree, WorkspaceState]:
    tree = live.scan(live_dir)
    state = WorkspaceState(
        live_dir=str(live_dir),
        mode=Mode.SANDBOX,
        accounts=[Account(a) for a in tree.accounts],
        regions=["us-east-1"],
    )
    return tree, state


def wave_index(waves: list[list[str]]) -> dict[str, int]:
    return {path: n for n, wave in enumerate(waves) for path in wave}


def destroy_calls(state_dir: Path) -> list[dict[str, Any]]:
    """Fake terragrunt invocations whose tofu command is destroy (plan -destroy is not one)."""
    found = []
    for call in calls(state_dir):
        argv = call["argv"]
        tf = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:2]
        if "destroy" in tf or argv[:1] == ["destroy-all"]:
            found.append(call)
    return found


def included(call: dict[str, Any], account: str) -> set[str]:
    argv = call["argv"]
    flags = ("--queue-include-dir", "--terragrunt-include-dir")
    return {f"{account}/{argv[i + 1]}" for i, a in enumerate(argv) if a in flags}


# -- the plan ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["security", "shared-services", "dev", "stage", "prod"])
def test_every_dependent_goes_before_its_dependency(sample_live: Path, account: str) -> None:
    tree, state = tree_and_state(sample_live)
    plan = build_plan(tree, state, account)
    index = wave_index(plan.waves)
    assert plan.units and len(index) == len(plan.units), "each unit in exactly one wave"
    for path in plan.units:
        unit = tree.units[path]
        assert unit.account == account and unit.runnable
        for dep in unit.dependencies:
            if dep in index:
                assert index[path] < index[dep], f"{path} must be destroyed before its dependency {dep}"
    # every unit of the account is either destroyed by the plan or excluded, with a reason
    excluded = {e.unit: e.reason for e in plan.excluded}
    assert set(index) | set(excluded) == {p for p, u in tree.units.items() if u.account == account}
    assert all(excluded.values())


def test_plan_json_has_exactly_the_contract_shape(sample_live: Path) -> None:
    tree, state = tree_and_state(sample_live)
    document = json.loads(json.dumps(build_plan(tree, state, "prod").to_json()))
    assert set(document) == {"account", "waves", "excluded", "findings", "left_behind"}
    assert document["account"] == "prod"
    graph_paths = set(tree.units)
    for wave in document["waves"]:
        assert wave and all(p in graph_paths and "\\" not in p and not p.startswith("/") for p in wave)
    assert all(set(e) == {"unit", "reason"} for e in document["excluded"])
    assert all(set(f) == {"unit", "kind", "message"} for f in document["findings"])
    assert {f["kind"] for f in document["findings"]} <= set(FINDING_KINDS)
    assert all(set(item) == {"what", "where"} for item in document["left_behind"])


def test_every_finding_kind_on_prod(sample_live: Path) -> None:
    tree, state = tree_and_state(sample_live)
    plan = build_plan(tree, state, "prod")
    by_kind: dict[str, set[str]] = {}
    for finding in plan.findings:
        by_kind.setdefault(finding.kind, set()).add(finding.unit)
    assert set(by_kind) == set(FINDING_KINDS)
    assert by_kind["prevent_destroy"] == {
        "prod/us-east-1/data-stores/mysql",
        "prod/us-west-2/data-stores/mysql",
    }
    assert by_kind["never_destroy"] == {"prod/_global/iam-cross-account"}
    # inputs false in the HCL, and bucket modules (alb, openvpn-server) without the input at all
    assert {
        "prod/us-east-1/services/static-website",
        "prod/us-east-1/networking/route53-public",
        "prod/us-east-1/networking/alb-public",
        "prod/us-east-1/mgmt/openvpn-server",
    } <= by_kind["force_destroy"]
    assert by_kind["state_backend"] == {"prod"}
    # findings come grouped by kind, in the display order
    kinds = [f.kind for f in plan.findings]
    assert kinds == sorted(kinds, key=FINDING_KINDS.index)


def test_prevent_destroy_keeps_the_unit_and_what_it_depends_on(sample_live: Path) -> None:
    tree, state = tree_and_state(sample_live)
    plan = build_plan(tree, state, "prod")
    excluded = {e.unit: e.reason for e in plan.excluded}
    mysql = "prod/us-east-1/data-stores/mysql"
    assert "prevent_destroy" in excluded[mysql]
    for dep in tree.units[mysql].dependencies:
        assert dep in excluded and mysql in excluded[dep]
        assert dep not in plan.units
    assert "prod/us-east-1/services/sample-app-backend" in plan.units  # depends on mysql: it can go


def test_force_destroy_edits_are_reviewed_diffs_of_inputs_only(live_copy: Path) -> None:
    tree, state = tree_and_state(live_copy)
    plan = build_plan(tree, state, "prod")
    change = next(c for c in plan.force_destroy if c.unit == "prod/us-east-1/services/static-website")
    assert change.edit is not None and set(change.inputs) == {
        "force_destroy_website",
        "force_destroy_access_logs_bucket",
    }
    removed = [ln for ln in change.edit.diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln for ln in change.edit.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert all("= false" in ln for ln in removed) and all("= true" in ln for ln in added)
    assert len(removed) == len(added) == 2
    alb = next(c for c in plan.force_destroy if c.unit == "prod/us-east-1/networking/alb-public")
    assert alb.edit is not None and "+  force_destroy" in alb.edit.diff
    # dev's static website already has them true in its HCL: nothing to do there
    dev_plan = build_plan(tree, state, "dev")
    assert "dev/us-east-1/services/static-website" not in dev_plan.phase1_units


def test_cross_account_iam_is_excluded_unless_included_and_then_goes_last(sample_live: Path) -> None:
    tree, state = tree_and_state(sample_live)
    plan = build_plan(tree, state, "dev")
    assert IAM_X not in plan.units
    assert any(e.unit == IAM_X and "locks you out" in e.reason for e in plan.excluded)
    included_plan = build_plan(tree, state, "dev", include_cross_account=True)
    assert included_plan.waves[-1] == [IAM_X]
    assert any(f.unit == IAM_X and "INCLUDED" in f.message for f in included_plan.findings)


def test_state_backend_is_never_in_a_wave_and_waits_for_every_unit(
    live_copy: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    backend_file = live_copy / "dev" / "terragrunt.hcl"
    text = backend_file.read_text()
    text = text.replace("REPLACE_ME_TERRAFORM_STATE_BUCKET", "acme-dev-terraform-state")
    backend_file.write_text(text.replace("REPLACE_ME_TERRAFORM_LOCKS_TABLE", "acme-dev-terraform-locks"))
    workspace, state = make_workspace(live_copy)
    teardown = Teardown(workspace, state, "dev", executor_factory=quiet_rehearsal)
    plan = teardown.prepare()
    assert plan.backend is not None and plan.backend.bucket == "acme-dev-terraform-state"
    assert plan.backend.table == "acme-dev-terraform-locks"
    assert "dev" not in plan.units and plan.backend.config == "dev"
    assert any(f.kind == "state_backend" and f.unit == "dev" for f in plan.findings)
    assert any("acme-dev-terraform-state" in item.what for item in plan.left_behind)
    assert teardown.backend_ready()[0] is False
    run = teardown.phase2_run()
    assert run is not None
    asyncio.run(run.execute())
    ready, why = teardown.backend_ready()
    assert not ready and IAM_X in why, "the excluded cross-account unit still has its state in the bucket"
    teardown.prepare(include_cross_account=True)
    run = teardown.phase2_run()
    assert run is not None and [u.path for u in run.units] == [IAM_X]
    asyncio.run(run.execute())
    assert teardown.backend_ready()[0] is True


# -- typed confirmations --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [None, "", "  ", "Dev", "DEV", "de", "dev2", "stage", "prod"])
def test_only_the_exact_name_confirms(typed: str | None) -> None:
    assert not confirmation_matches("dev", typed)


def test_the_exact_name_confirms_with_blanks_around() -> None:
    assert confirmation_matches("dev", "dev") and confirmation_matches("dev", " dev\n")
    assert not confirmation_matches("", "")
    assert is_production("prod") and is_production("production") and not is_production("dev")
    assert cross_account_phrase("dev") == "dev cross-account"


class FakeTerminal:
    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.now = 1000.0
        self.slept: list[float] = []

    def ask(self, question: str) -> str:
        self.asked.append(question)
        return self.answers.pop(0)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def prompter(self) -> teardown_line.Prompter:
        return teardown_line.Prompter(ask=self.ask, sleep=self.sleep, clock=self.clock)


def confirm(account: str, terminal: FakeTerminal | None, given: str | None = None) -> tuple[bool, str]:
    err = io.StringIO()
    lines = teardown_line.Lines(io.StringIO(), err, False)
    prompter = terminal.prompter() if terminal else teardown_line.Prompter(ask=None)
    ok = teardown_line.confirm_typed(account, given=given, prompter=prompter, lines=lines, what="a destroy")
    return ok, err.getvalue()


def test_prod_is_typed_twice_ten_seconds_apart() -> None:
    terminal = FakeTerminal(["prod", "prod"])
    assert confirm("prod", terminal)[0]
    assert len(terminal.asked) == 2 and sum(terminal.slept) >= 10.0
    terminal = FakeTerminal(["prod", "Prod"])
    assert not confirm("prod", terminal)[0]
    terminal = FakeTerminal(["dev"])
    assert confirm("dev", terminal)[0] and len(terminal.asked) == 1 and not terminal.slept


@pytest.mark.parametrize("typed", ["", "Dev", "stage", "dev dev"])
def test_a_wrong_typed_name_never_proceeds(typed: str) -> None:
    ok, said = confirm("dev", FakeTerminal([typed]))
    assert not ok and "Nothing ran" in said


def test_without_a_terminal_the_flag_is_the_only_way() -> None:
    ok, said = confirm("dev", None)
    assert not ok and "--confirm dev" in said
    assert confirm("dev", None, given="dev")[0]
    assert not confirm("dev", None, given="DEV")[0]


# -- line mode runs -----------------------------------------------------------------------------------


def teardown(
    workspace: Workspace,
    state: WorkspaceState,
    account: str,
    action: teardown_line.Action,
    *,
    confirm: str | None = None,
    terminal: FakeTerminal | None = None,
    as_json: bool = False,
    report: Path | None = None,
    executor_factory: Any = None,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = teardown_line.main(
        workspace=workspace,
        state=state,
        account=account,
        action=action,
        confirm=confirm,
        as_json=as_json,
        report=report,
        access=lambda: (None, "arn:aws:iam::368294012756:role/allow-full-access-from-other-accounts"),
        out=out,
        err=err,
        prompter=terminal.prompter() if terminal else teardown_line.Prompter(ask=None),
        executor_factory=executor_factory,
        run_options={"backoff_base": 0.0, "cancel_grace": 5.0, "term_grace": 2.0},
    )
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("given", [None, "", "Dev", "stage"])
def test_a_destroy_without_the_confirmation_runs_nothing(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path, given: str | None
) -> None:
    workspace, state = make_workspace(live_copy)
    before = (live_copy / "dev/us-east-1/networking/alb-public/terragrunt.hcl").read_text()
    code, _out, err = teardown(workspace, state, "dev", "destroy", confirm=given)
    assert (code == 2 and "Nothing ran" in err) or "nothing ran" in err
    assert calls(fake_tg) == [], "terragrunt was not even started"
    assert not workspace.runs_dir.exists()
    assert (live_copy / "dev/us-east-1/networking/alb-public/terragrunt.hcl").read_text() == before


@pytest.mark.parametrize("version", ["1.1.3", "0.67.16"])
def test_the_rehearsal_plans_destroy_and_never_invokes_it(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    use_fake_version(monkeypatch, version)
    workspace, state = make_workspace(live_copy)
    code, out, _err = teardown(workspace, state, "dev", "rehearse")
    assert code == 0, out
    invocations = calls(fake_tg)
    assert len(invocations) == 1 and destroy_calls(fake_tg) == []
    argv = invocations[0]["argv"]
    if version.startswith("1."):
        assert argv[:3] == ["run", "--all", "--non-interactive"] and argv[-3:] == ["--", "plan", "-destroy"]
    else:
        assert argv[:3] == ["run-all", "plan", "-destroy"]
    assert IAM_X not in included(invocations[0], "dev") and included(invocations[0], "dev")
    assert not (fake_tg / "destroyed.json").exists()
    report = json.loads((workspace.directory / "teardown/dev/rehearsal.json").read_text())
    assert report["kind"] == "rehearsal" and not report["simulated"]
    assert {row["to_destroy"] for row in report["planned"]} == {3}
    assert "nothing was destroyed" in out
    assert (workspace.directory / "teardown/dev/rehearsal.md").read_text().startswith("# Teardown rehearsal")


def test_the_sandbox_rehearsal_without_terragrunt_is_simulated(
    live_copy: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(live_copy)
    code, out, _err = teardown(workspace, state, "dev", "rehearse", executor_factory=quiet_rehearsal)
    assert code == 0, out
    assert "SIMULATED" in out
    report = json.loads((workspace.directory / "teardown/dev/rehearsal.json").read_text())
    assert report["simulated"] and report["engine"] == "rehearsal"
    assert all(row["status"] == "planned" and row["to_destroy"] >= 2 for row in report["planned"])
    assert "SIMULATED" in (workspace.directory / "teardown/dev/rehearsal.md").read_text()


def test_the_sandbox_rehearsal_engine_is_used_without_a_factory(
    live_copy: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = make_workspace(live_copy)
    code, out, _err = teardown(workspace, state, "stage", "rehearse", as_json=True)
    document = json.loads(out)
    assert document["engine"] == "rehearsal" and document["simulated"] is True
    assert code in (0, 1)  # the rehearsal engine may inject an error that does not recover in a plan


@pytest.mark.parametrize("version", ["1.1.3", "0.67.16"])
def test_destroy_runs_phase1_then_one_invocation_per_wave(
    live_copy: Path,
    make_workspace: MakeWs,
    fake_tg: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    version: str,
) -> None:
    use_fake_version(monkeypatch, version)
    workspace, state = make_workspace(live_copy)
    plan = build_plan(live.scan(live_copy), state, "dev")
    report = tmp_path / "report.json"
    code, out, err = teardown(workspace, state, "dev", "destroy", confirm="dev", report=report)
    assert code == 0, out + err
    invocations = calls(fake_tg)
    # phase 1: one apply of exactly the force_destroy units, with the edited HCL
    first = invocations[0]["argv"]
    assert "apply" in first and "destroy" not in first
    assert (
        included(invocations[0], "dev")
        == set(plan.phase1_units)
        == {
            "dev/us-east-1/mgmt/openvpn-server",
            "dev/us-east-1/networking/alb-internal",
            "dev/us-east-1/networking/alb-public",
        }
    )
    assert re.search(
        r"force_destroy\s*=\s*true",
        (live_copy / "dev/us-east-1/mgmt/openvpn-server/terragrunt.hcl").read_text(),
    )
    # phase 2: one destroy per wave, in order, each with exactly that wave's units, one after the other
    destroys = destroy_calls(fake_tg)
    assert [included(c, "dev") for c in destroys] == [set(w) for w in plan.waves]
    for earlier, later in itertools.pairwise(destroys):
        assert earlier["end"] <= later["start"]
    assert all(IAM_X not in included(c, "dev") for c in invocations)
    document = json.loads((workspace.directory / "teardown/dev/report.json").read_text())
    assert set(document["destroyed"]) == set(plan.units) and document["not_destroyed"] == []
    assert {"dev", IAM_X} == {s["unit"] for s in document["skipped"]}
    assert document["state_backend"]["status"].startswith("kept")
    assert json.loads(report.read_text())["engine"] == (
        "terragrunt-1" if version == "1.1.3" else "terragrunt-0"
    )
    markdown = (workspace.directory / "teardown/dev/report.md").read_text()
    assert (
        "## Destroyed (14)" in markdown and "## Skipped, and why" in markdown and "## Left behind" in markdown
    )


def test_a_failing_wave_stops_the_destroy(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", "dev/us-east-1/services/sample-app-backend:generic:9")
    workspace, state = make_workspace(live_copy)
    plan = build_plan(live.scan(live_copy), state, "dev")
    code, out, _err = teardown(workspace, state, "dev", "destroy", confirm="dev")
    assert code == 1
    destroys = destroy_calls(fake_tg)
    assert [included(c, "dev") for c in destroys] == [set(plan.waves[0]), set(plan.waves[1])]
    document = json.loads((workspace.directory / "teardown/dev/report.json").read_text())
    assert set(document["destroyed"]) == set(plan.waves[0])
    reasons = {row["unit"]: row["reason"] for row in document["not_destroyed"]}
    assert set(reasons) == set(plan.units) - set(plan.waves[0])
    assert all("destroy wave 2 did not finish" in reasons[u] for w in plan.waves[2:] for u in w)
    assert "not destroyed: dev/us-east-1/services/sample-app-backend: failed" in out


def test_cancel_mid_destroy_then_resume_destroys_the_rest_once(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.05")
    workspace, state = make_workspace(live_copy)
    first = Teardown(workspace, state, "dev", run_options={"cancel_grace": 5.0, "term_grace": 2.0})
    plan = first.prepare()
    run = first.phase2_run()
    assert run is not None

    def cancel_in_wave_3(event: RunEvent) -> None:
        # once terragrunt of wave 3 prints, its process runs: the cancel has something to stop
        if event.kind is EventKind.UNIT_STARTED and event.unit in plan.waves[2]:
            run.cancel()

    run.subscribe(cancel_in_wave_3)
    asyncio.run(run.execute())
    assert run.cancelled
    done_first = set(first.destroyed())
    assert set(plan.waves[0]) | set(plan.waves[1]) <= done_first
    assert not set(plan.waves[-1]) & done_first
    assert all(u.status is not UnitStatus.SUCCEEDED for w in plan.waves[3:] for p in w if (u := run.unit(p)))
    assert len(destroy_calls(fake_tg)) == 3, "nothing after the cancelled wave was started"

    monkeypatch.delenv("FAKE_TG_SLOW")
    resumed = Teardown(workspace, state, "dev")
    resumed.prepare()
    rest = resumed.phase2_run()
    assert rest is not None
    assert {u.path for u in rest.units} == set(plan.units) - done_first
    asyncio.run(rest.execute())
    assert rest.succeeded(), {u.path: u.note for u in rest.units if u.status is not UnitStatus.SUCCEEDED}
    assert set(resumed.destroyed()) == set(plan.units)
    later = destroy_calls(fake_tg)[3:]
    assert not any(included(c, "dev") & set(plan.waves[0]) for c in later), "wave 1 is not destroyed again"
    assert resumed.phase2_run() is None


def test_a_unit_whose_dependent_is_still_deployed_is_not_destroyed(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, state = make_workspace(live_copy)
    teardown_ = Teardown(workspace, state, "dev")
    plan = teardown_.prepare()
    vpc = "dev/us-east-1/networking/vpc-mgmt"
    plan.waves = [[vpc]]  # as if the plan had gone stale: everything that uses the VPC is still there
    run = teardown_.phase2_run()
    assert run is not None
    asyncio.run(run.execute())
    unit = run.unit(vpc)
    assert unit is not None and unit.status is UnitStatus.SKIPPED and "still depends on it" in unit.note
    assert destroy_calls(fake_tg) == []


def test_a_repeated_destroy_of_an_empty_state_counts_as_destroyed(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_NIL_ON_REDESTROY", "1")
    lambda_unit = live_copy / "dev/us-east-1/lambda/long-running-scheduled"
    (fake_tg / "destroyed.json").write_text(json.dumps([str(lambda_unit)]))  # destroyed outside this app
    workspace, state = make_workspace(live_copy)
    teardown_ = Teardown(workspace, state, "dev", run_options={"backoff_base": 0.0})
    teardown_.prepare()
    run = teardown_.phase2_run()
    assert run is not None
    asyncio.run(run.execute())
    unit = run.unit("dev/us-east-1/lambda/long-running-scheduled")
    assert (
        unit is not None and unit.status is UnitStatus.SUCCEEDED and unit.note.startswith("already destroyed")
    )
    assert any(r.error_id == "destroy-state-empty" and r.recovered for r in run.known_errors)
    assert run.succeeded()


def test_bucket_not_empty_points_to_phase1(
    live_copy: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", "dev/us-east-1/services/static-website:bucket-not-empty:9")
    workspace, state = make_workspace(live_copy)
    teardown_ = Teardown(workspace, state, "dev")
    teardown_.prepare()
    run = teardown_.phase2_run()
    assert run is not None
    asyncio.run(run.execute())
    unit = run.unit("dev/us-east-1/services/static-website")
    assert unit is not None and unit.status is UnitStatus.FAILED and unit.known_error == "bucket-not-empty"
    assert "phase 1" in unit.note and "force_destroy" in unit.note


def test_missing_dependency_outputs_are_explained() -> None:
    from refarch_tui.run import catalog

    known = catalog.default().match(
        [
            "/live/dev/us-east-1/networking/vpc-app/terragrunt.hcl is a dependency of "
            "/live/dev/x/terragrunt.hcl but detected no outputs. Either the target module has not been "
            "applied yet, or the module has no outputs."
        ]
    )
    assert known is not None and known.id == "dependency-outputs-missing"
    assert "mock_outputs" in known.explanation and not known.action.automatic
