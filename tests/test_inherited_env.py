"""One scrubber: every child environment builder drops the same inherited variables from the operator's shell.

The builders: `aws.child_env.environment_for` (packer, docker, terragrunt access), `run.env.child_environment`
(terragrunt per account), `tools.build_process.build_env` (build scripts) and the emulator's own environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import pytest

from refarch_tui.aws import emulator
from refarch_tui.aws.child_env import ChildCredentials, environment_for
from refarch_tui.aws.keys import AccessKeys
from refarch_tui.run.env import AccountEnvPlan, child_environment
from refarch_tui.tools import build_process
from refarch_tui.tools.inherited_env import DROPPED_PREFIXES, scrubbed

OPERATOR_SHELL = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/operator",
    "LANG": "C.UTF-8",
    "AWS_PROFILE": "prod-admin",
    "AWS_ACCESS_KEY_ID": "AKIAOPERATORKEY00000",
    "AWS_SECRET_ACCESS_KEY": "operator-secret-never-passed-on",
    "AWS_SESSION_TOKEN": "operator-token",
    "AWS_ENDPOINT_URL": "https://elsewhere.example",
    "aws_profile": "lower-case-prod",
    "TF_VAR_master_password": "operator-password",
    "tf_var_region": "eu-west-3",
    "TF_CLI_ARGS_apply": "-auto-approve",
    "TF_WORKSPACE": "prod",
    "TG_IAM_ASSUME_ROLE": "arn:aws:iam::999999999999:role/prod",
    "TERRAGRUNT_IAM_ROLE": "arn:aws:iam::999999999999:role/prod",
    "PKR_VAR_region": "eu-west-3",
}
KEPT = {"PATH", "HOME", "LANG"}
# what the builders add on purpose (the account's own access and settings), never the operator's values
OPERATOR_VALUES = {v for k, v in OPERATOR_SHELL.items() if k not in KEPT}

CREDENTIALS = ChildCredentials(
    account="dev",
    keys=AccessKeys("AKIAACCOUNTKEY000000", "account-secret", None),
    role_arn=None,
    region="us-east-1",
    endpoint_url=None,
)


def via_aws_child_env(base: Mapping[str, str]) -> dict[str, str]:
    return environment_for(CREDENTIALS, base_env=base)


def via_run_env(base: Mapping[str, str]) -> dict[str, str]:
    plan = AccountEnvPlan(account="dev", region="us-east-1")
    return child_environment(plan, account_env={}, secret_values={}, base=base)


def via_run_env_with_account_access(base: Mapping[str, str]) -> dict[str, str]:
    """The terragrunt path in full: the account's access env, itself built from the same parent."""
    plan = AccountEnvPlan(account="dev", region="us-east-1")
    return child_environment(plan, account_env=via_aws_child_env(base), secret_values={}, base=base)


def via_build_process(base: Mapping[str, str]) -> dict[str, str]:
    return build_process.build_env({}, region="us-east-1", base=base)


BUILDERS: dict[str, Callable[[Mapping[str, str]], dict[str, str]]] = {
    "aws.child_env": via_aws_child_env,
    "run.env": via_run_env,
    "run.env+access": via_run_env_with_account_access,
    "tools.build_process": via_build_process,
}


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=list(BUILDERS))
def test_every_builder_drops_the_operators_aws_tf_var_and_terragrunt_variables(
    builder: Callable[[Mapping[str, str]], dict[str, str]],
) -> None:
    env = builder(OPERATOR_SHELL)
    assert {name: env[name] for name in KEPT} == {name: OPERATOR_SHELL[name] for name in KEPT}
    leaked = {name: value for name, value in env.items() if value in OPERATOR_VALUES}
    assert leaked == {}
    for name in (
        "AWS_PROFILE",
        "aws_profile",
        "tf_var_region",
        "TF_VAR_master_password",
        "TF_CLI_ARGS_apply",
    ):
        assert name not in env
    for name in ("TF_WORKSPACE", "TG_IAM_ASSUME_ROLE", "TERRAGRUNT_IAM_ROLE", "PKR_VAR_region"):
        assert name not in env


def test_the_builders_agree_on_what_they_inherit() -> None:
    """Whatever a builder adds itself, what passes from the parent is exactly `scrubbed(parent)`."""
    inherited = scrubbed(OPERATOR_SHELL)
    assert set(inherited) == KEPT
    for name, builder in BUILDERS.items():
        env = builder(OPERATOR_SHELL)
        passed = {k: v for k, v in env.items() if k in OPERATOR_SHELL and env[k] == OPERATOR_SHELL[k]}
        assert passed == inherited, name


def test_the_emulator_drops_the_same_variables_and_moto_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in {**OPERATOR_SHELL, "MOTO_ACCOUNT_ID": "999999999999"}.items():
        monkeypatch.setenv(name, value)
    env = emulator.child_env()
    assert "MOTO_ACCOUNT_ID" not in env
    assert not any(value in OPERATOR_VALUES for value in env.values())
    assert all(not name.upper().startswith(DROPPED_PREFIXES) or name.startswith("AWS_") for name in env)


def test_the_run_env_keeps_the_accounts_own_facts_after_scrubbing() -> None:
    plan = AccountEnvPlan(account="dev", region="us-west-2", facts={"TF_VAR_lambda_zip_path": "/abs/app.zip"})
    env = child_environment(
        plan, account_env={}, secret_values={"TF_VAR_db_password": "s3cret"}, base=OPERATOR_SHELL
    )
    assert env["TF_VAR_lambda_zip_path"] == "/abs/app.zip"
    assert env["TF_VAR_db_password"] == "s3cret"
    assert env["AWS_REGION"] == "us-west-2"
    assert "TF_VAR_master_password" not in env
