"""The bundled sample live repo and sample modules are what the sandbox and the other tests build on."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from refarch_tui import checklist

REPO = Path(__file__).resolve().parents[2]
LIVE = REPO / "assets" / "sample-live"
MODULES = REPO / "assets" / "sample-modules"
OPTS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
ACCOUNT_IDS = {
    "security": "104983213567",
    "shared-services": "235829751430",
    "dev": "368294012756",
    "stage": "481039572864",
    "prod": "596120384729",
}
MODULE_SOURCE = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//"


def parse(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = hcl2.loads(path.read_text(), serialization_options=OPTS)
    return result


def unit_dirs() -> list[Path]:
    return sorted(
        p.parent for p in LIVE.rglob("terragrunt.hcl") if p.parent.parent != LIVE and p.parent != LIVE
    )


def dependency_paths(doc: dict[str, Any]) -> list[str]:
    paths: list[str] = []
    for block in doc.get("dependency", []):
        for body in block.values():
            paths.append(body["config_path"])
    for block in doc.get("dependencies", []):
        paths.extend(block["paths"])
    return paths


def test_accounts_have_fixed_ids_and_root_config() -> None:
    found = sorted(p.name for p in LIVE.iterdir() if p.is_dir())
    assert found == sorted(ACCOUNT_IDS)
    for name, account_id in ACCOUNT_IDS.items():
        locals_ = parse(LIVE / name / "account.hcl")["locals"][0]
        assert locals_ == {"account_name": name, "account_id": account_id}
        root = parse(LIVE / name / "terragrunt.hcl")
        assert "terraform" not in root, "the account root config must not be runnable"
        config = root["remote_state"][0]["config"]
        assert root["remote_state"][0]["backend"] == "s3"
        assert config["bucket"].startswith("REPLACE_ME")
        assert config["dynamodb_table"].startswith("REPLACE_ME")
        assert config["key"] == "${path_relative_to_include()}/terraform.tfstate"


def test_regions() -> None:
    regions = {
        name: sorted(p.parent.name for p in (LIVE / name).glob("*/region.hcl")) for name in ACCOUNT_IDS
    }
    assert regions == {name: ["us-east-1"] for name in ACCOUNT_IDS} | {"prod": ["us-east-1", "us-west-2"]}
    for region_file in LIVE.glob("*/*/region.hcl"):
        assert parse(region_file)["locals"][0] == {"aws_region": region_file.parent.name}


def test_every_unit_parses_and_is_well_formed() -> None:
    units = unit_dirs()
    assert 40 <= len(units) <= 80
    for unit in units:
        doc = parse(unit / "terragrunt.hcl")
        source = doc["terraform"][0]["source"]
        assert source.startswith(MODULE_SOURCE) and source.endswith("?ref=v0.4.0"), unit
        assert doc["include"][0]["path"] == "${find_in_parent_folders()}", unit
        assert "account.hcl" in doc["locals"][0]["account_vars"], unit
        assert isinstance(doc["inputs"], dict) and doc["inputs"], unit
        text = (unit / "terragrunt.hcl").read_text()
        assert "\n  # " in text.split("inputs = {", 1)[1], f"{unit}: inputs should be commented"


def test_dependency_targets_exist_and_form_a_dag() -> None:
    graph: dict[str, list[str]] = {}
    for unit in unit_dirs():
        rel = unit.relative_to(LIVE).as_posix()
        graph[rel] = []
        for dep in dependency_paths(parse(unit / "terragrunt.hcl")):
            target = (unit / dep).resolve()
            assert (target / "terragrunt.hcl").is_file(), f"{rel}: dependency {dep} does not exist"
            assert target.is_relative_to(LIVE.resolve())
            graph[rel].append(target.relative_to(LIVE.resolve()).as_posix())
    assert sum(len(v) for v in graph.values()) > 40
    # no cycles: Kahn's algorithm consumes every node
    indegree = {node: 0 for node in graph}
    for deps in graph.values():
        for dep in deps:
            indegree[dep] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for dep in graph[node]:
            indegree[dep] -= 1
            if indegree[dep] == 0:
                ready.append(dep)
    assert seen == len(graph), "dependency cycle in the sample repo"


def test_expected_units_and_placeholders() -> None:
    for account in ACCOUNT_IDS:
        assert (LIVE / account / "_global" / "iam-cross-account" / "terragrunt.hcl").is_file()
    for account in checklist.APP_ACCOUNTS:
        base = LIVE / account / "us-east-1"
        for unit in (
            "networking/vpc-mgmt",
            "networking/vpc-app",
            "networking/route53-public",
            "networking/route53-private",
            "networking/alb-public",
            "mgmt/openvpn-server",
            "services/ecs-cluster",
            "services/sample-app-frontend",
            "services/sample-app-backend",
            "services/static-website",
            "data-stores/mysql",
            "data-stores/kms-master-key",
            "lambda/long-running-scheduled",
        ):
            assert (base / unit / "terragrunt.hcl").is_file(), f"{account}/{unit}"
        vpn = parse(base / "mgmt/openvpn-server/terragrunt.hcl")["inputs"]
        assert vpn["instance_type"] == "t2.micro" and vpn["ami_id"] == "ami-REPLACE_ME"
        assert vpn["keypair_name"] == "REPLACE_ME"
        ecs = parse(base / "services/ecs-cluster/terragrunt.hcl")["inputs"]
        assert ecs["ami_id"] == "ami-REPLACE_ME" and ecs["cluster_instance_keypair_name"] == "REPLACE_ME"
        assert ecs["cluster_instance_type"]
        for app in ("frontend", "backend"):
            inputs = parse(base / f"services/sample-app-{app}/terragrunt.hcl")["inputs"]
            assert inputs["version"] == "REPLACE_ME" and inputs["image"].endswith(f"sample-app-{app}")
        mysql_text = (base / "data-stores/mysql/terragrunt.hcl").read_text()
        assert "TF_VAR_master_password" in mysql_text
        assert "password" not in parse(base / "data-stores/mysql/terragrunt.hcl")["inputs"]
        kms = parse(base / "data-stores/kms-master-key/terragrunt.hcl")["inputs"]
        assert kms["cmk_administrator_iam_arns"] == ["arn:aws:iam::104983213567:user/REPLACE_ME"]
        site = parse(base / "services/static-website/terragrunt.hcl")["inputs"]
        assert site["acm_certificate_domain_name"].startswith("*.")
    mgmt = parse(LIVE / "shared-services/us-east-1/networking/vpc-mgmt/terragrunt.hcl")["inputs"]
    assert mgmt["custom_tags"] == {"gruntwork.io/allow-packer": "true"}
    assert (LIVE / "prod/us-west-2/services/sample-app-backend/terragrunt.hcl").is_file()


def test_no_secrets_or_real_credentials_in_sample() -> None:
    for path in LIVE.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "AKIA" not in text and "master_password =" not in text, path


PACKER_TEMPLATES = [
    MODULES / "services/ecs-cluster/packer/ecs-node.json",
    MODULES / "mgmt/openvpn-server/packer/openvpn-server.json",
]


@pytest.mark.skipif(shutil.which("packer") is None, reason="packer is not installed")
@pytest.mark.parametrize("template", PACKER_TEMPLATES, ids=lambda p: p.name)
def test_packer_templates_validate(template: Path) -> None:
    text = template.read_text()
    assert "ami_users" in text and "tag:gruntwork.io/allow-packer" in text and '"amazon-ebs"' in text
    result = subprocess.run(
        [
            "packer",
            "validate",
            "-syntax-only",
            "-var",
            "ami_users=111111111111,222222222222",
            "-var",
            "custom_endpoint_ec2=http://127.0.0.1:5000",
            str(template),
        ],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_lambda_build_script(tmp_path: Path) -> None:
    script = MODULES / "lambda/long-running-scheduled/src/build.sh"
    assert os.access(script, os.X_OK)
    result = subprocess.run(
        ["sh", str(script), str(tmp_path / "build")],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    zip_path = tmp_path / "build" / "lambda.zip"
    assert zip_path.is_file()
    assert f"export TF_VAR_lambda_zip_path={zip_path}" in result.stdout.splitlines()
    import zipfile

    assert zipfile.ZipFile(zip_path).namelist() == ["index.py"]
