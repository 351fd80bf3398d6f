"""What a teardown leaves behind, read from the account's step records whatever their fact names."""

from __future__ import annotations

from refarch_tui.run.left_behind import collect
from refarch_tui.state import Account, Mode, Status, StepRecord, WorkspaceState


def state_with(records: dict[str, dict[str, StepRecord]]) -> WorkspaceState:
    return WorkspaceState(
        live_dir="/live",
        mode=Mode.SANDBOX,
        accounts=[
            Account("security", "104983213567"),
            Account("shared-services", "235829751430"),
            Account("dev", "368294012756"),
        ],
        regions=["us-east-1"],
        steps=records,
    )


def test_everything_the_steps_made_outside_terraform_is_listed_with_where() -> None:
    state = state_with(
        {
            "keypairs": {
                "dev": StepRecord(
                    status=Status.DONE,
                    facts={"openvpn_key_name": "dev-openvpn", "services": {"key_pair_name": "dev-services"}},
                    evidence={"private_key_file": "/home/op/.ssh/dev-openvpn.pem"},
                    secret_env={"TF_VAR_unused": "keypairs/dev/openvpn-passphrase"},
                )
            },
            "certs": {
                "dev": StepRecord(
                    status=Status.DONE,
                    facts={"wildcard": "arn:aws:acm:us-east-1:368294012756:certificate/abc-123"},
                )
            },
            "route53": {
                "dev": StepRecord(
                    status=Status.DONE,
                    imports=[
                        {
                            "unit": "dev/us-east-1/networking/route53-public",
                            "address": "aws_route53_zone.primary_domain",
                            "id": "Z0123456789ABC",
                        }
                    ],
                )
            },
            "passwords": {
                "dev": StepRecord(
                    status=Status.DONE, secret_env={"TF_VAR_master_password": "passwords/dev/mysql"}
                )
            },
            "kms_admin": {
                "security": StepRecord(
                    status=Status.DONE,
                    facts={"user_arn": "arn:aws:iam::104983213567:user/kms-admin"},
                    # an administrator kept in a key's list is the repo's, not made by the step
                    evidence={
                        "hcl": [
                            {
                                "file": "dev/us-east-1/data-stores/kms-master-key/terragrunt.hcl",
                                "key": "cmk_administrator_iam_arns",
                                "value": [
                                    "arn:aws:iam::104983213567:user/alice",
                                    "arn:aws:iam::104983213567:user/kms-admin",
                                ],
                            }
                        ]
                    },
                )
            },
            "amis": {
                "shared-services": StepRecord(
                    status=Status.DONE, facts={"openvpn": "us-east-1:ami-0123456789abcdef0"}
                )
            },
            "docker_images": {
                "shared-services": StepRecord(
                    status=Status.DONE,
                    facts={"frontend": "235829751430.dkr.ecr.us-east-1.amazonaws.com/sample-app-frontend:v1"},
                )
            },
        }
    )
    dev = {item.what: item.where for item in collect(state, "dev")}
    assert dev["EC2 key pair dev-openvpn"] == "EC2 key pairs of account dev (368294012756), us-east-1"
    assert "EC2 key pair dev-services" in dev
    assert (
        dev["local key file /home/op/.ssh/dev-openvpn.pem"] == "this machine: /home/op/.ssh/dev-openvpn.pem"
    )
    assert dev["ACM certificate arn:aws:acm:us-east-1:368294012756:certificate/abc-123"].endswith("us-east-1")
    zone = next(
        where for what, where in dev.items() if what.startswith("Route 53 hosted zone Z0123456789ABC")
    )
    assert "terragrunt state rm aws_route53_zone.primary_domain" in zone
    assert dev["keyring entry passwords/dev/mysql (for TF_VAR_master_password)"].startswith("OS keyring")
    assert "keyring entry keypairs/dev/openvpn-passphrase (for TF_VAR_unused)" in dev
    security = {item.what: item.where for item in collect(state, "security")}
    assert security == {"KMS admin IAM user kms-admin": "IAM (global) of account security (104983213567)"}
    shared = {item.what: item.where for item in collect(state, "shared-services")}
    assert (
        shared["AMI ami-0123456789abcdef0"] == "EC2 AMIs of account shared-services (235829751430), us-east-1"
    )
    assert shared["ECR image sample-app-frontend:v1"].startswith("ECR repository sample-app-frontend")


def test_a_done_step_with_nothing_recognisable_still_gets_a_line_and_pending_steps_none() -> None:
    state = state_with(
        {
            "certs": {"dev": StepRecord(status=Status.DONE, facts={"count": "2"})},
            "keypairs": {"dev": StepRecord(status=Status.PENDING, facts={"key_name": "never-made"})},
        }
    )
    items = collect(state, "dev")
    assert [i.what for i in items] == ["what the step 'TLS certificates' created (see its record)"]
