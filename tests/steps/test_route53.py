"""Route 53 zone import: one zone queues its import, several need a pick, none is left to Terraform."""

from __future__ import annotations

import pytest

from refarch_tui.state import Status
from refarch_tui.steps import route53
from refarch_tui.steps.contract import StepError
from tests.steps import helpers
from tests.steps.conftest import MakeCtx, add_zone, set_input

UNIT = "dev/us-east-1/networking/route53-public"


def test_no_zone_yet_leaves_it_to_terraform_with_a_follow_up_for_the_name_servers(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    result, record = helpers.run_and_record(route53, ctx)
    assert result.imports == []
    assert "no zone yet; Terraform creates it" in result.message
    assert result.facts["zones"] == [
        {"unit": UNIT, "domain": "acme-dev.com", "zone_id": "", "action": "no-zone", "name_servers": []}
    ]
    [followup] = result.followups
    assert followup.after == f"first successful apply of {UNIT}"
    assert followup.command.startswith("refarch-tui step route53 --workspace ")
    assert followup.command.endswith("--account dev")
    assert route53.verify(make_ctx("dev"), record).holds


def test_one_zone_queues_its_import_and_shows_its_name_servers(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    zone_id = add_zone(ctx, "acme-dev.com")
    result, record = helpers.run_and_record(route53, ctx)
    [spec] = result.imports
    assert (spec.unit, spec.address, spec.id) == (UNIT, "aws_route53_zone.primary_domain", zone_id)
    assert record.imports == [{"unit": UNIT, "address": "aws_route53_zone.primary_domain", "id": zone_id}]
    servers = result.facts["zones"][0]["name_servers"]
    assert len(servers) >= 2 and all("." in s and not s.endswith(".") for s in servers)
    assert f"point its registrar at {', '.join(servers)}" in result.message
    assert result.followups == []
    assert route53.verify(make_ctx("dev"), record).holds

    ctx.clients("route53").delete_hosted_zone(Id=zone_id)
    verdict = route53.verify(make_ctx("dev"), record)
    assert not verdict.holds and f"hosted zone {zone_id} (acme-dev.com) no longer exists" in verdict.reason


def test_several_zones_with_one_name_need_a_pick(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    first = add_zone(ctx, "acme-dev.com", "old one")
    second = add_zone(ctx, "acme-dev.com", "new one")
    with pytest.raises(StepError) as refused:
        helpers.run(route53, ctx)
    text = str(refused.value)
    assert "2 public hosted zones are named acme-dev.com in dev" in text
    assert first in text and second in text and "'old one'" in text and "--set zone_id=" in text
    assert ctx.state.record("route53", "dev").status is Status.PENDING

    result = helpers.run(route53, make_ctx("dev"), zone_id=[second])
    assert [i.id for i in result.imports] == [second]

    with pytest.raises(StepError, match="zone_id ZNOTMINE is not a public hosted zone"):
        helpers.run(route53, make_ctx("dev"), zone_id=["ZNOTMINE", second])


def test_a_private_zone_of_the_same_name_is_not_imported(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    vpc = ctx.clients("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ctx.clients("route53").create_hosted_zone(
        Name="acme-dev.com",
        CallerReference="private",
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc},
        HostedZoneConfig={"Comment": "private", "PrivateZone": True},
    )
    result = helpers.run(route53, ctx)
    assert result.imports == [] and result.facts["zones"][0]["action"] == "no-zone"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("acme_dev.com", "characters _ are not allowed"),
        ("acme-dev..com", "empty label"),
        ("-acme.com", "starts or ends with -"),
        ("localhost", "at least two labels"),
        ("*.acme-dev.com", "is a wildcard"),
        ("bücher.de", "punycode form xn--bcher-kva.de"),
    ],
)
def test_invalid_domain_names_are_refused_before_any_aws_call(
    make_ctx: MakeCtx, value: str, why: str
) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, UNIT, '"acme-dev.com"', f'"{value}"')
    with pytest.raises(StepError) as refused:
        helpers.run(route53, ctx)
    assert why in str(refused.value)
    assert f"primary_domain_name in {UNIT}/terragrunt.hcl" in str(refused.value)


def test_a_domain_that_is_an_expression_is_refused_with_the_reason(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    set_input(ctx, UNIT, '"acme-dev.com"', "dependency.x.outputs.domain")
    with pytest.raises(StepError, match="cannot read without running terragrunt"):
        helpers.run(route53, ctx)


def test_accounts_without_a_public_zone_unit_are_not_applicable(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    (ctx.live_root / UNIT / "terragrunt.hcl").unlink()
    (ctx.live_root / UNIT).rmdir()
    ctx._tree = None
    plan = route53.plan(ctx, {"zone_id": []})
    assert "no route53-public unit" in plan.not_applicable
