"""The amis step against the emulator: template and consumer discovery, every preflight rule with its fix,
the sandbox copy of a template, and the real packer binary building the sample templates end to end
(AMI per region into each unit, shared accounts, verify), a failed build, a cancelled one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from refarch_tui.aws import emulator
from refarch_tui.state import Account, Status
from refarch_tui.steps import ami_templates, amis
from refarch_tui.steps.contract import StepCancelled, StepContext, StepError
from tests.aws.conftest import ACCOUNTS
from tests.steps import helpers
from tests.steps.conftest import MakeCtx

OWNER = "shared-services"
needs_packer = pytest.mark.skipif(shutil.which("packer") is None, reason="packer is not installed")


def seed_build_account(ctx: StepContext, *, vpc: bool = True, images: bool = True) -> dict[str, str]:
    """What `refarch-tui sandbox` seeds in shared-services: the tagged VPC and public subnet, base images."""
    facts = emulator._packer_vpc(ctx.clients("ec2", "us-east-1")) if vpc else {}
    if images:
        emulator.add_base_images(ACCOUNTS[OWNER], "us-east-1")
    return facts


def plan_error(ctx: StepContext, **answers: Any) -> str:
    with pytest.raises(StepError) as caught:
        amis.plan(ctx, helpers.resolve(amis, **answers))
    return str(caught.value)


def test_discovery_templates_consumers_and_units_no_template_feeds(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx)
    plan = amis.plan(ctx, helpers.resolve(amis))
    builds = {Path(b["template"]).name: b for b in plan.data["builds"]}
    assert set(builds) == {"ecs-node.json", "openvpn-server.json"}
    # every region with a consuming unit gets the AMI; shared with the accounts that use it
    assert builds["ecs-node.json"]["regions"] == ["us-east-1", "us-west-2"]  # prod runs ECS in us-west-2
    assert builds["openvpn-server.json"]["regions"] == ["us-east-1"]
    assert builds["ecs-node.json"]["account_ids"] == sorted(ACCOUNTS[a] for a in ("dev", "stage", "prod"))
    assert builds["openvpn-server.json"]["shared_with"] == ["dev", "prod", "stage"]
    assert plan.data["not_fed"] == ["shared-services/us-east-1/mgmt/jenkins"]
    assert any("mgmt/jenkins" in w and "set ami_id by hand" in w for w in plan.warnings)
    assert any("provisioning was skipped" in w for w in plan.warnings)  # sandbox
    assert any(a.startswith("✓ packer v") for a in plan.actions)
    assert any("then ami_id in prod/us-west-2/services/ecs-cluster (us-west-2)" in a for a in plan.actions)


def test_ami_inputs_are_ids_or_placeholders_only() -> None:
    from refarch_tui.live.model import Unit

    unit = Unit(
        "dev/us-east-1/x",
        "dev",
        (),
        True,
        inputs={
            "ami_id": "ami-REPLACE_ME",
            "cluster_instance_ami": "ami-0abc12345678def01",
            "bastion_ami_id": "",
            "ami_name": "ami-0abc12345678def01",  # not an AMI input by name
            "source_ami": "ubuntu",  # neither an AMI ID nor a placeholder
            "ami": "${data.aws_ami.x.id}",
        },
        unresolved=frozenset({"ami"}),
    )
    assert ami_templates.ami_inputs(unit) == ["ami_id", "bastion_ami_id", "cluster_instance_ami"]


def test_hcl2_templates_are_listed_only_when_packer_reads_them(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    assert ctx.modules_dir is not None
    hcl = ctx.modules_dir / "services" / "ecs-cluster" / "packer" / "ecs-node-arm.pkr.hcl"
    hcl.write_text('source "amazon-ebs" "arm" {\n  region = "us-east-1"\n}\n')
    assert [t.path for t in ami_templates.find_templates(ctx.modules_dir, hcl2=False) if t.hcl2] == []
    assert [t.path for t in ami_templates.find_templates(ctx.modules_dir, hcl2=True) if t.hcl2] == [hcl]
    (ctx.modules_dir / "package.json").write_text('{"name": "not a template"}')
    names = {t.path.name for t in ami_templates.find_templates(ctx.modules_dir, hcl2=False)}
    assert names == {"ecs-node.json", "openvpn-server.json"}
    if shutil.which("packer") is not None:
        seed_build_account(ctx)
        plan = amis.plan(ctx, helpers.resolve(amis))
        hcl_notes = [w for w in plan.warnings if "ecs-node-arm.pkr.hcl" in w]
        assert hcl_notes and "builds JSON templates only" in hcl_notes[0]
        assert "only partially" in hcl_notes[0] or "fully" in hcl_notes[0]


@needs_packer
def test_preflight_no_packer_vpc_points_at_vpc_mgmt(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx, vpc=False)
    said = plan_error(ctx)
    assert "no VPC tagged gruntwork.io/allow-packer=true in us-east-1" in said
    assert "deploy networking/vpc-mgmt in shared-services us-east-1" in said
    assert "shared-services/us-east-1/networking/vpc-mgmt" in said


@needs_packer
def test_preflight_needs_a_public_subnet_and_exactly_one_vpc(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx, vpc=False)
    ec2 = ctx.clients("ec2", "us-east-1")
    tag = [{"Key": "gruntwork.io/allow-packer", "Value": "true"}]
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tag}])
    vpc_id = vpc["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc_id, CidrBlock="10.1.0.0/24", TagSpecifications=[{"ResourceType": "subnet", "Tags": tag}]
    )["Subnet"]["SubnetId"]
    said = plan_error(ctx)
    assert f"no public subnet tagged gruntwork.io/allow-packer=true in {vpc_id}" in said
    assert f"tagged but private: {subnet}" in said and "networking/vpc-mgmt" in said
    emulator._packer_vpc(ec2)  # a second tagged VPC, this one with a public subnet
    assert "packer needs exactly one" in plan_error(ctx)
    ec2.delete_tags(Resources=[vpc_id], Tags=tag)
    amis.plan(ctx, helpers.resolve(amis))  # one VPC, public subnet: fine


@needs_packer
def test_preflight_refuses_encrypt_boot_with_sharing(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx)
    said = plan_error(ctx, encrypt_boot=True)
    assert "encrypt_boot together with ami_users" in said and "may not be shared" in said
    assert "choose one: share=false" in said
    plan = amis.plan(ctx, helpers.resolve(amis, encrypt_boot=True, share=False))  # one of the two: fine
    assert all(b["account_ids"] == [] and b["encrypt_boot"] for b in plan.data["builds"])
    # the template's own encrypt_boot counts too
    assert ctx.modules_dir is not None
    path = ctx.modules_dir / "services" / "ecs-cluster" / "packer" / "ecs-node.json"
    document = json.loads(path.read_text())
    document["builders"][0]["encrypt_boot"] = "{{user `encrypt`}}"
    document["variables"]["encrypt"] = "true"
    path.write_text(json.dumps(document))
    assert "ecs-node.json: encrypt_boot together with ami_users" in plan_error(ctx)


@needs_packer
def test_preflight_packer_missing_or_too_old_for_a_template(
    make_ctx: MakeCtx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx)
    monkeypatch.setenv("PATH", str(tmp_path))
    said = plan_error(ctx)
    assert "packer is not installed" in said and "apt-get install packer" in said
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert ctx.modules_dir is not None
    path = ctx.modules_dir / "mgmt" / "openvpn-server" / "packer" / "openvpn-server.json"
    document = json.loads(path.read_text())
    document["min_packer_version"] = "99.0.0"
    path.write_text(json.dumps(document))
    assert "openvpn-server.json needs packer ≥ 99.0.0" in plan_error(ctx)


@needs_packer
def test_preflight_identity_account_ids_and_base_image(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx, images=False)
    said = plan_error(ctx)
    assert "openvpn-server.json (openvpn-server): no base image in us-east-1 matches" in said
    assert "✓ ecs-node: base image ami-" in said  # what passed is listed too
    emulator.add_base_images(ACCOUNTS[OWNER], "us-east-1")
    ctx.account_id = "111111111111"
    said = plan_error(ctx)
    assert f"the credentials act in {ACCOUNTS[OWNER]}, not shared-services (111111111111)" in said
    ctx.account_id = ACCOUNTS[OWNER]
    ctx.state.accounts = [Account(a.name, None if a.name == "stage" else a.id) for a in ctx.state.accounts]
    assert "no account ID for stage" in plan_error(ctx)


def test_sandbox_copy_of_a_template(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    assert ctx.modules_dir is not None
    path = ctx.modules_dir / "services" / "ecs-cluster" / "packer" / "ecs-node.json"
    document = json.loads(path.read_text())
    document["provisioners"].append(
        {"type": "file", "source": "{{template_dir}}/files/x", "destination": "/x"}
    )
    path.write_text(json.dumps(document))
    template = ami_templates.read_template(ctx.modules_dir, path)
    assert template is not None and template.module == "services/ecs-cluster"
    kwargs: dict[str, Any] = {
        "region": "us-east-1",
        "ami_regions": ["us-east-1", "us-west-2"],
        "ami_users": ["368294012756"],
        "encrypt_boot": False,
    }
    real = ami_templates.build_copy(template, sandbox_endpoint=None, **kwargs)
    assert real["provisioners"][-1]["source"] == f"{path.parent}/files/x"  # template_dir still right
    builder = real["builders"][0]
    assert builder["ami_regions"] == ["us-west-2"] and builder["ami_users"] == ["368294012756"]
    assert "communicator" not in builder and builder["region"] == "us-east-1"
    sandbox = ami_templates.build_copy(template, sandbox_endpoint="http://127.0.0.1:1", **kwargs)
    assert "provisioners" not in sandbox
    assert sandbox["builders"][0]["communicator"] == "none"
    assert sandbox["builders"][0]["custom_endpoint_ec2"] == "http://127.0.0.1:1"
    assert json.loads(path.read_text()) == document  # the operator's template is never changed


def _ami_of(ctx: StepContext, unit: str) -> str:
    text = (ctx.live_root / unit / "terragrunt.hcl").read_text()
    (line,) = [line for line in text.splitlines() if line.strip().startswith("ami_id")]
    return line.split("=", 1)[1].strip().strip('"')


@needs_packer
def test_real_packer_builds_the_sample_templates_end_to_end(make_ctx: MakeCtx) -> None:
    progress: list[str] = []
    ctx = make_ctx(OWNER, progress=progress.append)
    seed_build_account(ctx)
    result, record = helpers.run_and_record(amis, ctx)
    assert record.status is Status.DONE, record.message
    built = {b["name"]: b for b in record.evidence["builds"]}
    ecs, vpn = built["ecs-node"]["amis"], built["openvpn-server"]["amis"]
    assert set(ecs) == {"us-east-1", "us-west-2"} and set(vpn) == {"us-east-1"}
    assert ecs["us-east-1"] != ecs["us-west-2"]
    assert built["ecs-node"]["shared_with"] == ["dev", "prod", "stage"]
    assert result.facts["amis"]["ecs-node"] == ecs and result.facts["provisioning_skipped"] is True
    assert "provisioning was skipped" in record.message
    assert any(line.startswith("[ecs-node] Copying to: us-west-2") for line in progress)  # per builder
    assert any(line.startswith("[openvpn-server] ") for line in progress)
    # each consuming unit got the AMI of its own region
    assert _ami_of(ctx, "prod/us-west-2/services/ecs-cluster") == ecs["us-west-2"]
    for account in ("dev", "stage", "prod"):
        assert _ami_of(ctx, f"{account}/us-east-1/services/ecs-cluster") == ecs["us-east-1"]
    for account in ("shared-services", "dev", "stage", "prod"):
        assert _ami_of(ctx, f"{account}/us-east-1/mgmt/openvpn-server") == vpn["us-east-1"]
    assert _ami_of(ctx, "shared-services/us-east-1/mgmt/jenkins") == "ami-REPLACE_ME"  # named, not edited
    assert "shared-services/us-east-1/mgmt/jenkins: no Packer template" in record.message
    # the AMIs exist and are shared in the emulator; verify holds, then notices what broke
    west = ctx.clients("ec2", "us-west-2")
    permissions = west.describe_image_attribute(ImageId=ecs["us-west-2"], Attribute="launchPermission")
    assert {p["UserId"] for p in permissions["LaunchPermissions"]} == {
        ACCOUNTS["dev"],
        ACCOUNTS["stage"],
        ACCOUNTS["prod"],
    }
    assert amis.verify(ctx, record).holds
    west.modify_image_attribute(
        ImageId=ecs["us-west-2"], LaunchPermission={"Remove": [{"UserId": ACCOUNTS["stage"]}]}
    )
    stale = amis.verify(ctx, record)
    assert (
        not stale.holds
        and f"{ecs['us-west-2']} in us-west-2 is no longer shared with {ACCOUNTS['stage']}" in stale.reason
    )
    west.modify_image_attribute(
        ImageId=ecs["us-west-2"], LaunchPermission={"Add": [{"UserId": ACCOUNTS["stage"]}]}
    )
    assert amis.verify(ctx, record).holds
    ctx.clients("ec2", "us-east-1").deregister_image(ImageId=vpn["us-east-1"])
    stale = amis.verify(ctx, record)
    assert not stale.holds and f"{vpn['us-east-1']} no longer exists in us-east-1" in stale.reason
    # the copy that was built is the sandbox copy
    copy = json.loads(Path(built["ecs-node"]["copy"]).read_text())
    assert copy["builders"][0]["communicator"] == "none" and "provisioners" not in copy


@needs_packer
def test_a_failed_build_shows_packers_errors_and_keeps_the_log(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    facts = seed_build_account(ctx)
    plan = amis.plan(ctx, helpers.resolve(amis, templates=["ecs-node"]))
    ctx.clients("ec2", "us-east-1").delete_tags(
        Resources=[facts["packer_vpc_id"]], Tags=[{"Key": "gruntwork.io/allow-packer"}]
    )
    with pytest.raises(StepError) as caught:
        amis.execute(ctx, plan)
    said = str(caught.value)
    assert "packer build of ecs-node.json failed (exit 1)" in said
    assert "Exactly one VPC should match the filter" in said and "nothing was recorded" in said
    logs = list((ctx.workspace.logs_dir / "builds").glob("amis-shared-services-ecs-node-*.log"))
    assert len(logs) == 1 and str(logs[0]) in said
    assert ",ecs-node,error,Exactly one VPC" in logs[0].read_text()  # the complete raw output


@needs_packer
def test_cancel_during_the_build_stops_packer_and_records_nothing(make_ctx: MakeCtx) -> None:
    def on_progress(line: str) -> None:
        if line.startswith("[ecs-node] "):
            ctx.cancel.set()  # as the screen's Ctrl+X does, mid-build

    ctx = make_ctx(OWNER, progress=on_progress)
    seed_build_account(ctx)
    plan = amis.plan(ctx, helpers.resolve(amis, templates=["ecs-node"]))
    with pytest.raises(StepCancelled):
        amis.execute(ctx, plan)
    (log,) = (ctx.workspace.logs_dir / "builds").glob("amis-shared-services-ecs-node-*.log")
    assert "cancelling" in log.read_text() and "(cancelled)" in log.read_text()
    assert ctx.workspace.load().record(amis.STEP_ID, OWNER).status is Status.PENDING


@needs_packer
def test_share_false_edits_only_the_owners_units_and_modules_dir_is_remembered(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(OWNER)
    seed_build_account(ctx)
    assert ctx.modules_dir is not None
    elsewhere = ctx.workspace.directory / "my-modules"
    shutil.copytree(ctx.modules_dir, elsewhere)
    result, record = helpers.run_and_record(
        amis, ctx, share=False, templates=["openvpn-server"], modules_dir=str(elsewhere)
    )
    assert record.status is Status.DONE
    (build,) = record.evidence["builds"]
    assert build["account_ids"] == [] and build["template"].startswith(str(elsewhere.resolve()))
    ami = build["amis"]["us-east-1"]
    assert _ami_of(ctx, "shared-services/us-east-1/mgmt/openvpn-server") == ami
    assert _ami_of(ctx, "dev/us-east-1/mgmt/openvpn-server") == "ami-REPLACE_ME"
    assert any(
        unit == "dev/us-east-1/mgmt/openvpn-server" and "not shared" in why for unit, why in result.refused
    )
    assert ctx.workspace.load().settings["modules_dir"] == str(elsewhere.resolve())
