"""OpenVPN sizing: medium for the first deploy, the original recorded, the downgrade offered after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.state import Status
from refarch_tui.steps import followups, vpn
from refarch_tui.steps.contract import StepContext, StepError
from tests.run.helpers import make_run
from tests.steps import helpers
from tests.steps.conftest import MakeCtx, set_input

UNIT = "dev/us-east-1/mgmt/openvpn-server"
LINE = 'instance_type            = "t2.micro"'


def _instance_type(ctx: StepContext, unit: str = UNIT) -> str:
    text = (ctx.live_root / unit / "terragrunt.hcl").read_text()
    return next(line.split('"')[1] for line in text.splitlines() if line.strip().startswith("instance_type "))


def test_a_micro_server_gets_its_familys_medium_for_the_first_deploy(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    before = (ctx.live_root / UNIT / "terragrunt.hcl").read_text()
    result = helpers.run(vpn, ctx)
    [edit] = result.edits
    assert edit.unit == UNIT and "PKI" in edit.reason and "t2.medium" in edit.reason
    assert edit.new_text == before.replace(LINE, 'instance_type            = "t2.medium"')
    assert result.facts["servers"][UNIT] == {
        "original": "t2.micro",
        "first_deploy": "t2.medium",
        "downgraded": False,
        "region": "us-east-1",
    }
    [followup] = result.followups
    assert followup.message == "downgrade OpenVPN in dev to t2.micro"
    assert followup.command == (
        f"refarch-tui step vpn --workspace {ctx.workspace.directory} --account dev "
        "--set downgrade=true --apply-edits"
    )
    assert followup.after == f"first successful apply of {UNIT}"


@pytest.mark.parametrize(
    ("written", "wanted", "original"),
    [
        ('"t3.micro"', "t3.medium", "t3.micro"),
        ('"t3a.nano"', "t3a.medium", "t3a.nano"),
        ('"t4g.small"', "t4g.medium", "t4g.small"),
    ],
)
def test_the_medium_is_of_the_same_family(
    make_ctx: MakeCtx, written: str, wanted: str, original: str
) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, UNIT, '"t2.micro"', written)
    result = helpers.run(vpn, ctx)
    assert result.facts["servers"][UNIT]["first_deploy"] == wanted
    assert result.facts["servers"][UNIT]["original"] == original


def test_a_server_already_medium_or_larger_is_left_alone(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, UNIT, '"t2.micro"', '"m5.large"')
    result = helpers.run(vpn, ctx)
    assert result.edits == [] and result.followups == []
    assert "m5.large is big enough for the PKI" in result.message


def test_a_missing_instance_type_gets_a_medium_and_the_seeds_micro_as_the_original(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, UNIT, LINE, "")
    result = helpers.run(vpn, ctx)
    [edit] = result.edits
    assert (
        LINE.replace("micro", "medium") in edit.new_text
        and "not set: the downgrade writes t2.micro" in edit.reason
    )
    assert result.facts["servers"][UNIT]["original"] == "t2.micro"


def test_instance_types_that_cannot_be_read_or_offered_are_refused(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, UNIT, '"t2.micro"', '"tiny"')
    with pytest.raises(StepError, match="'tiny', which is not an EC2 instance type"):
        helpers.run(vpn, ctx)
    set_input(ctx, UNIT, '"tiny"', "local.size")
    with pytest.raises(StepError, match="cannot read without running terragrunt"):
        helpers.run(vpn, ctx)
    set_input(ctx, UNIT, "local.size", '"t2.micro"')
    with pytest.raises(StepError, match=r"t2\.huge is not offered in us-east-1"):
        helpers.run(vpn, ctx, first_deploy_type="t2.huge")


async def test_the_downgrade_follow_up_appears_after_the_first_apply_and_reverses_the_edit(
    make_ctx: MakeCtx, fake_tg: Path
) -> None:
    ctx = make_ctx("dev")
    result, record = helpers.run_and_record(vpn, ctx)
    assert _instance_type(ctx) == "t2.medium" and record.followups
    assert vpn.verify(make_ctx("dev"), record).holds
    assert not [f for f in followups.due(ctx.workspace, ctx.state) if f["step"] == "vpn"]
    with pytest.raises(StepError, match=r"has not been applied successfully on t2\.medium yet"):
        helpers.run(vpn, make_ctx("dev"), downgrade=True)

    again = helpers.run(vpn, make_ctx("dev"))  # a second run changes nothing and keeps the original
    assert again.edits == [] and again.facts == result.facts and again.followups == result.followups

    run = make_run(ctx.workspace, ctx.state, accounts=["dev"])
    await run.execute()
    assert run.succeeded()
    [due] = [f for f in followups.due(ctx.workspace, ctx.state) if f["step"] == "vpn"]
    assert due == {
        "step": "vpn",
        "account": "dev",
        "message": "downgrade OpenVPN in dev to t2.micro",
        "command": result.followups[0].command,
    }

    down, down_record = helpers.run_and_record(vpn, make_ctx("dev"), downgrade=True)
    assert [e.unit for e in down.edits] == [UNIT] and "its PKI exists now" in down.edits[0].reason
    assert _instance_type(ctx) == "t2.micro"
    assert down_record.followups == [] and down_record.status is Status.DONE
    assert down.facts["servers"][UNIT]["downgraded"] is True
    assert "apply dev again to resize the server" in down.message
    assert not [f for f in followups.due(ctx.workspace, ctx.state) if f["step"] == "vpn"]
    assert vpn.verify(make_ctx("dev"), down_record).holds
    assert helpers.run(vpn, make_ctx("dev")).edits == []  # not upsized again after the downgrade

    set_input(ctx, UNIT, '"t2.micro"', '"t3.nano"')
    verdict = vpn.verify(make_ctx("dev"), down_record)
    assert not verdict.holds and "is t3.nano, not t2.micro as recorded" in verdict.reason


def test_a_hand_edited_size_is_not_downgraded(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    helpers.run_and_record(vpn, ctx)
    set_input(ctx, UNIT, '"t2.medium"', '"t3.large"')
    with pytest.raises(StepError, match="changed by hand, so the downgrade leaves it alone"):
        helpers.run(vpn, make_ctx("dev"), downgrade=True)


def test_accounts_without_an_openvpn_unit_are_not_applicable(make_ctx: MakeCtx) -> None:
    plan = vpn.plan(make_ctx("prod"), helpers.resolve(vpn))
    assert plan.not_applicable == "" and plan.edits
    ctx = make_ctx("stage")
    (ctx.live_root / "stage/us-east-1/mgmt/openvpn-server/terragrunt.hcl").unlink()
    ctx._tree = None
    assert "no openvpn-server unit" in vpn.plan(ctx, helpers.resolve(vpn)).not_applicable
