from __future__ import annotations

import pytest

from refarch_tui import checklist


def test_steps_follow_the_seed_document_order() -> None:
    assert checklist.STEP_IDS == (
        "amis",
        "docker_images",
        "lambdas",
        "keypairs",
        "backends",
        "vpn",
        "passwords",
        "route53",
        "certs",
        "kms_admin",
        "terragrunt",
    )


def test_accounts_are_ordered_security_first_then_shared_services_then_apps() -> None:
    assert checklist.order_accounts(["prod", "dev", "sandbox-x", "security", "stage", "shared-services"]) == [
        "security",
        "shared-services",
        "dev",
        "stage",
        "prod",
        "sandbox-x",
    ]
    assert checklist.deployment_waves(["prod", "security", "dev", "shared-services", "stage"]) == [
        ["security"],
        ["shared-services"],
        ["dev", "stage", "prod"],
    ]
    assert checklist.deployment_waves(["dev", "stage"]) == [["dev", "stage"]]


@pytest.mark.parametrize(
    ("step", "account", "expected"),
    [
        ("kms_admin", "security", True),
        ("kms_admin", "dev", False),
        ("amis", "shared-services", True),
        ("amis", "prod", False),
        ("backends", "security", True),
        ("keypairs", "security", False),
        ("keypairs", "stage", True),
        ("passwords", "shared-services", False),
        ("terragrunt", "prod", True),
    ],
)
def test_which_steps_apply_where(step: str, account: str, expected: bool) -> None:
    assert checklist.applies(step, account) is expected


def test_the_ami_owner_can_be_another_account() -> None:
    assert checklist.applies("amis", "dev", owner_account="dev")
    assert not checklist.applies("amis", "shared-services", owner_account="dev")
    assert "built once in dev" in checklist.not_applicable_reason("amis", "prod", owner_account="dev")


def test_unknown_step_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown step 'nope'"):
        checklist.step("nope")


def test_security_only_steps_run_in_the_sole_account_of_a_single_account_workspace() -> None:
    assert checklist.security_account_of(["main"]) == "main"
    assert checklist.security_account_of(["dev", "security"]) == "security"
    assert checklist.security_account_of(["dev", "prod"]) == "security"  # no security account: none
    assert checklist.applies("kms_admin", "main", security_account="main")
    assert not checklist.applies("kms_admin", "security", security_account="main")
    assert checklist.cells(["main"], security_account="main").count(("kms_admin", "main")) == 1
    assert "(main)" in checklist.not_applicable_reason("kms_admin", "other", security_account="main")
