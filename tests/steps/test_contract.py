from __future__ import annotations

import pytest

from refarch_tui import checklist
from refarch_tui.steps import registry
from refarch_tui.steps.contract import AnswerSpec, StepError, resolve_answers
from tests.steps.conftest import MakeCtx


def test_every_checklist_step_is_registered_or_listed_as_not_built() -> None:
    for step in checklist.STEPS:
        if step.id == registry.RUNNER_STEP:
            continue
        assert (step.id in registry.MODULES) != (step.id in registry.NOT_BUILT), step.id
    for step_id in registry.MODULES:
        module = registry.module(step_id)
        assert step_id == module.STEP_ID
        for name in ("plan", "execute", "verify"):
            assert callable(getattr(module, name)), (step_id, name)


def test_answers_take_defaults_parse_kinds_and_refuse_unknown_keys() -> None:
    specs = (
        AnswerSpec("name", "x", "a name"),
        AnswerSpec("count", 2, "how many", kind="int"),
        AnswerSpec("share", True, "share it", kind="bool"),
    )
    assert resolve_answers(specs, {}) == {"name": "x", "count": 2, "share": True}
    assert resolve_answers(specs, {"count": "5", "share": "no"}) == {"name": "x", "count": 5, "share": False}
    with pytest.raises(StepError, match="unknown answer colour"):
        resolve_answers(specs, {"colour": "red"})
    with pytest.raises(ValueError, match="whole number"):
        resolve_answers(specs, {"count": "many"})


def test_context_acts_in_its_own_account(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    identity = ctx.clients("sts").get_caller_identity()
    assert identity["Account"] == ctx.account_id == "368294012756"
    assert ctx.sandbox and ctx.modules_dir is not None and ctx.modules_dir.is_dir()
    assert "dev" in ctx.tree.accounts


@pytest.mark.parametrize("step_id", sorted(registry.MODULES))
def test_every_registered_step_plans_executes_records_and_verifies_with_its_defaults(
    make_ctx: MakeCtx, step_id: str
) -> None:
    """The spine's contract for every step: in the sandbox the defaults alone complete it in every account
    it applies to; what it recorded verifies; a second run changes nothing and is done again."""
    from refarch_tui.state import Status
    from refarch_tui.steps import resume, runner

    ctx = make_ctx("security")
    accounts = [a for a in ctx.state.account_names if ctx.state.applies(step_id, a)]
    assert accounts, step_id
    for account in accounts:
        ctx = make_ctx(account)
        outcome = runner.run_step(ctx, step_id, {}, accept=runner.accept_all)
        assert outcome.status in (Status.DONE, Status.NOT_APPLICABLE), (account, outcome.message)
        if outcome.status is Status.NOT_APPLICABLE:
            continue
        assert all(change.applied for change in outcome.changes), (account, outcome.changes)
        verdict = resume.verify_cell(ctx, step_id)
        assert verdict.holds, (account, verdict.reason)
        again = runner.run_step(make_ctx(account), step_id, {}, accept=runner.accept_all)
        assert again.status is Status.DONE and again.changes == [], (account, again.message)
        assert resume.verify_cell(make_ctx(account), step_id).holds
