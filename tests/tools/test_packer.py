"""Reading packer: its version, HCL2 support, and `-machine-readable` output. The fixtures are real output of
Debian's packer 1.6.6 building the sample templates against moto (tests/tools/fixtures/packer/):

- ecs-node-two-regions: a build with ami_regions us-east-1 + us-west-2 and two ami_users;
- no-packer-vpc: no VPC tagged gruntwork.io/allow-packer=true;
- encrypt-and-share: encrypt_boot with ami_users (packer refuses to prepare the build);
- no-source-ami: the openvpn-server template where no Ubuntu 18.04 image exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.tools import packer

FIXTURES = Path(__file__).parent / "fixtures" / "packer"


def lines(name: str) -> list[str]:
    return (FIXTURES / f"{name}.machine.txt").read_text().splitlines()


def test_version_and_hcl2_support() -> None:
    assert packer.parse_version("Packer v1.6.6\n") == (1, 6, 6)
    assert packer.parse_version("Packer v1.11.2\n\nYour version of Packer is out of date!") == (1, 11, 2)
    assert packer.parse_version("command not found") is None
    assert packer.hcl2_support((1, 6, 6)) == "partial"
    assert packer.hcl2_support((1, 5, 0)) == "partial"
    assert packer.hcl2_support((1, 7, 0)) == "full"
    assert packer.hcl2_support((1, 4, 5)) == "none"
    assert packer.hcl2_support(None) == "none"


def test_detect_runs_the_installed_packer(tmp_path: Path) -> None:
    import shutil

    if shutil.which("packer") is None:
        pytest.skip("packer is not installed")
    info = packer.detect({"PATH": "/usr/bin:/bin"})
    assert info is not None and info.version is not None and info.version >= packer.MIN_VERSION
    assert packer.detect({"PATH": str(tmp_path)}) is None  # no packer on that PATH


def test_artifact_of_a_real_two_region_build() -> None:
    amis = packer.artifact_amis(lines("ecs-node-two-regions"))
    assert amis == {"ecs-node": {"us-east-1": "ami-e07f1ca0e0ef7251b", "us-west-2": "ami-8c94eaf05eaaa7d16"}}
    assert packer.errors(lines("ecs-node-two-regions")) == []


def test_artifact_id_commas_arrive_escaped() -> None:
    value = "us-east-1:ami-0abc1234%!(PACKER_COMMA)us-west-2:ami-0def5678"
    assert packer.parse_artifact_id(value) == {"us-east-1": "ami-0abc1234", "us-west-2": "ami-0def5678"}
    assert packer.parse_artifact_id("eu-west-1:ami-1234abcd") == {"eu-west-1": "ami-1234abcd"}
    with pytest.raises(packer.PackerOutputError):
        packer.parse_artifact_id("not-an-artifact")
    with pytest.raises(packer.PackerOutputError):
        packer.parse_artifact_id("us-east-1:ami-1%!(PACKER_COMMA)us-east-1:ami-2")


def test_artifacts_of_several_builders_and_non_amazon_ones() -> None:
    output = [
        "1,east,artifact,0,builder-id,mitchellh.amazonebs",
        "1,east,artifact,0,id,us-east-1:ami-11111111",
        "1,west,artifact,0,builder-id,mitchellh.amazonebs",
        "1,west,artifact,0,id,us-west-2:ami-22222222",
        "1,manifest,artifact,0,builder-id,packer.post-processor.manifest",
        "1,manifest,artifact,0,id,packer-manifest.json",
    ]
    assert packer.artifact_amis(output) == {
        "east": {"us-east-1": "ami-11111111"},
        "west": {"us-west-2": "ami-22222222"},
    }


def test_parse_line_unescapes_and_skips_plain_lines() -> None:
    line = packer.parse_line("1796278040,,ui,say,No volumes to clean up%!(PACKER_COMMA) skipping")
    assert line is not None and line.type == "ui" and line.data == ("say", "No volumes to clean up, skipping")
    assert packer.parse_line("Error: something plain") is None
    multi = packer.parse_line("1,,ui,say,--> ecs-node: AMIs were created:\\nus-east-1: ami-1\\n")
    assert multi is not None and multi.data[1] == "--> ecs-node: AMIs were created:\nus-east-1: ami-1\n"


def test_progress_is_shown_per_builder() -> None:
    shown = [
        text
        for raw in lines("ecs-node-two-regions")
        if (text := packer.progress_text(raw, ["ecs-node"])) is not None
    ]
    assert shown[0] == "[ecs-node] Prevalidating any provided VPC information"
    assert "[ecs-node] Copying to: us-west-2" in shown
    assert "[ecs-node] Modifying: users" in shown
    assert all(",artifact," not in text for text in shown)  # bookkeeping lines are hidden
    assert packer.progress_text("plain text", ["ecs-node"]) == "plain text"


def test_errors_of_real_failures() -> None:
    (vpc,) = packer.errors(lines("no-packer-vpc"))
    assert vpc.startswith("ecs-node: Exactly one VPC should match the filter, but 0 VPC's was found")
    assert "tag:gruntwork.io/allow-packer" in vpc and "\n" not in vpc
    (encrypted,) = packer.errors(lines("encrypt-and-share"))
    assert "Cannot share AMI encrypted with default KMS key" in encrypted
    (source,) = packer.errors(lines("no-source-ami"))
    assert source.startswith("openvpn-server: No AMI was found matching filters")
    assert packer.artifact_amis(lines("no-packer-vpc")) == {}
    shown = [packer.progress_text(raw, ["ecs-node"]) for raw in lines("no-packer-vpc")]
    assert any(text and text.startswith("[ecs-node] ERROR Exactly one VPC") for text in shown)


def test_build_argv_is_machine_readable_with_vars_and_no_secrets() -> None:
    argv = packer.build_argv("/usr/bin/packer", "/w/t.json", {"aws_region": "us-east-1"})
    assert argv == [
        "/usr/bin/packer",
        "build",
        "-machine-readable",
        "-var",
        "aws_region=us-east-1",
        "/w/t.json",
    ]
