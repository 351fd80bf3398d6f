"""Where credentials come from and where they go: keyring only, env, profiles, sandbox keys, child envs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from refarch_tui import logsetup, secrets
from refarch_tui.aws import emulator
from refarch_tui.aws import keys as aws_keys
from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod, ChildEnvMode, default_role_arn
from refarch_tui.aws.child_env import environment_for
from refarch_tui.aws.doctor import aws_report
from refarch_tui.aws.errors import AwsAccessError, ErrorKind
from refarch_tui.aws.profiles import ProfileKind, list_profiles
from refarch_tui.state import Workspace, WorkspaceState

from .conftest import ACCESS_KEY, ACCOUNTS, SECRET_KEY


def test_sandbox_keys_match_the_emulator() -> None:
    assert aws_keys.SANDBOX_ACCESS_KEY_ID == emulator.SANDBOX_ACCESS_KEY_ID
    assert aws_keys.SANDBOX_SECRET_ACCESS_KEY == emulator.SANDBOX_SECRET_ACCESS_KEY


def test_typed_keys_live_in_the_keyring_only(
    make_real_access: Callable[..., AwsAccess], workspace: Workspace, tmp_path: Path
) -> None:
    access = make_real_access()
    access.configure_keys(AuthConfig(method=AuthMethod.KEYS, assume_roles=True), ACCESS_KEY, SECRET_KEY)
    stored = aws_keys.load_keys(access.workspace_id)
    assert stored is not None and stored.secret_access_key == SECRET_KEY
    assert all(r.ok for r in access.check_all().values())
    settings = workspace.load().settings["auth"]
    assert settings["method"] == "keys" and settings["assume_roles"] is True
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET_KEY.encode() not in path.read_bytes(), path


def test_sandbox_ignores_typed_keys_and_never_stores_them(sandbox_access: AwsAccess) -> None:
    typed_key, typed_secret = "AKIAIOSFODNN7TYPEDKY", "typedSecretKeyThatMustNeverBeStored000000"
    sandbox_access.configure_keys(
        AuthConfig(method=AuthMethod.KEYS, assume_roles=True), typed_key, typed_secret
    )
    assert aws_keys.load_keys(sandbox_access.workspace_id) is None
    source = sandbox_access._source(None).get_credentials()
    assert source is not None and source.access_key == aws_keys.SANDBOX_ACCESS_KEY_ID
    assert all(r.ok for r in sandbox_access.check_all().values())


def test_sandbox_never_uses_aws_environment_variables(
    sandbox_access: AwsAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7ENVKEY1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envSecretKeyThatMustNeverBeUsedInSandbox0")
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://real.example.invalid")
    sandbox_access.configure(AuthConfig(method=AuthMethod.ENV, assume_roles=True))
    assert all(r.ok for r in sandbox_access.check_all().values())
    source = sandbox_access._source(None).get_credentials()
    assert source is not None and source.access_key == aws_keys.SANDBOX_ACCESS_KEY_ID


def test_env_keys_method(make_real_access: Callable[..., AwsAccess]) -> None:
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    access = make_real_access(env=env)
    access.configure(AuthConfig(method=AuthMethod.ENV, assume_roles=True))
    assert all(r.ok for r in access.check_all().values())
    empty = make_real_access(env={})
    with pytest.raises(AwsAccessError, match="not set in the environment") as caught:
        empty.configure(AuthConfig(method=AuthMethod.ENV))
    assert caught.value.kind is ErrorKind.NO_CREDENTIALS


def test_profiles_are_listed_with_their_kind(isolated_home: Path) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text(
        "[default]\nregion = us-east-1\n"
        "[profile sec]\nregion = us-east-1\n"
        "[profile dev-admin]\nrole_arn = arn:aws:iam::368294012756:role/admin\nsource_profile = sec\n"
        "mfa_serial = arn:aws:iam::104983213567:mfa/op\n"
        "[profile corp]\nsso_session = corp\nsso_account_id = 104983213567\nsso_role_name = Admin\n"
        "[profile legacy-sso]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
        "[profile vault]\ncredential_process = aws-vault exec sec --json\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
    )
    (aws / "credentials").write_text(f"[sec]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = x\n")
    kinds = {p.name: p.kind for p in list_profiles()}
    assert kinds == {
        "default": ProfileKind.OTHER,
        "sec": ProfileKind.KEYS,
        "dev-admin": ProfileKind.ROLE,
        "corp": ProfileKind.SSO,
        "legacy-sso": ProfileKind.SSO,
        "vault": ProfileKind.PROCESS,
    }
    corp = next(p for p in list_profiles() if p.name == "corp")
    assert corp.sso_start_url == "https://corp.awsapps.com/start"
    assert "role" in next(p for p in list_profiles() if p.name == "dev-admin").describe()


def test_role_profile_with_mfa_uses_the_prompt(
    moto: str, make_real_access: Callable[..., AwsAccess], isolated_home: Path
) -> None:
    aws = isolated_home / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text(
        f"[profile sec]\nendpoint_url = {moto}\n"
        f"[profile admin]\nrole_arn = arn:aws:iam::{ACCOUNTS['security']}:role/admin\nsource_profile = sec\n"
        f"mfa_serial = arn:aws:iam::{ACCOUNTS['security']}:mfa/op\nendpoint_url = {moto}\n"
    )
    (aws / "credentials").write_text(
        f"[sec]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    asked: list[str] = []
    answers = iter(["nope", "246810"])
    access = make_real_access(mfa_prompt=lambda q: asked.append(q) or next(answers))
    access.configure(AuthConfig(method=AuthMethod.PROFILE, profile="admin", assume_roles=True))
    results = access.check_all()
    assert all(r.ok for r in results.values()), [r.explanation for r in results.values()]
    assert len(asked) == 2 and "6 digits" in asked[1]


# -- child environments ----------------------------------------------------------------------------------

PARENT_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/op",
    "AWS_PROFILE": "prod-admin",
    "AWS_DEFAULT_PROFILE": "prod-admin",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7PARENT1",
    "AWS_SECRET_ACCESS_KEY": "parentSecretThatMustNotReachChildren0000",
    "AWS_SESSION_TOKEN": "parent-token",
    "AWS_ROLE_ARN": "arn:aws:iam::999999999999:role/x",
    "AWS_ENDPOINT_URL": "https://elsewhere.example",
    "TG_IAM_ASSUME_ROLE": "arn:aws:iam::999999999999:role/x",
    "TERRAGRUNT_IAM_ROLE": "arn:aws:iam::999999999999:role/x",
    "TF_VAR_db_password": "operator-shell-value",
}


def test_child_env_never_holds_another_accounts_credentials(sandbox_access: AwsAccess) -> None:
    assert all(r.ok for r in sandbox_access.check_all().values())
    envs = {name: sandbox_access.environment_for(name, base_env=PARENT_ENV) for name in ACCOUNTS}
    own = {
        name: {env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]}
        for name, env in envs.items()
    }
    assert len({env["AWS_ACCESS_KEY_ID"] for env in envs.values()}) == len(ACCOUNTS)
    for name, env in envs.items():
        values = set(env.values())
        for other, creds in own.items():
            if other != name:
                assert not (values & creds), f"{name}'s environment holds {other}'s credentials"
        for key, value in PARENT_ENV.items():
            if key.startswith(("AWS_", "TG_", "TERRAGRUNT_", "TF_VAR_")):
                assert value not in values, f"{key} leaked into {name}'s environment"
        assert (
            "AWS_PROFILE" not in env and "AWS_DEFAULT_PROFILE" not in env and "TG_IAM_ASSUME_ROLE" not in env
        )
        assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
        assert env["AWS_ENDPOINT_URL"] == sandbox_access.endpoint_url
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
        # the one scrubber (tools/inherited_env) drops the shell's TF_VAR_*: the runner adds the account's own
        assert env["PATH"] == "/usr/bin" and "TF_VAR_db_password" not in env
        assert secrets.contains_secret(env["AWS_SECRET_ACCESS_KEY"])
    # and each environment really reaches its own account
    import boto3

    for name, env in envs.items():
        sts = boto3.client(
            "sts",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env["AWS_SESSION_TOKEN"],
        )
        assert sts.get_caller_identity()["Account"] == ACCOUNTS[name]


@pytest.mark.parametrize(("generation", "variable"), [(0, "TERRAGRUNT_IAM_ROLE"), (1, "TG_IAM_ASSUME_ROLE")])
def test_terragrunt_assumes_the_role_itself_when_chosen(
    sandbox_access: AwsAccess, generation: int, variable: str
) -> None:
    sandbox_access.configure(
        AuthConfig(method=AuthMethod.KEYS, assume_roles=True, child_env=ChildEnvMode.TERRAGRUNT_ROLE)
    )
    sandbox_access.check_all()
    env = environment_for(
        sandbox_access.child_credentials("stage", terragrunt=True),
        base_env=PARENT_ENV,
        terragrunt_generation=generation,
    )
    assert env[variable] == default_role_arn(ACCOUNTS["stage"])
    other = "TG_IAM_ASSUME_ROLE" if variable == "TERRAGRUNT_IAM_ROLE" else "TERRAGRUNT_IAM_ROLE"
    assert other not in env
    assert env["AWS_ACCESS_KEY_ID"] == aws_keys.SANDBOX_ACCESS_KEY_ID  # the security-account (source) keys
    # packer/docker for the same account still get the account's own session
    packer = environment_for(sandbox_access.child_credentials("stage"), base_env=PARENT_ENV)
    assert variable not in packer and packer["AWS_ACCESS_KEY_ID"].startswith("ASIA")


# -- nothing secret in logs, journal or state -----------------------------------------------------------


@pytest.fixture
def app_log_file() -> Iterator[Path]:
    """The app's redacting log file for this test; its handler is removed afterwards."""
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    path = logsetup.configure(debug=False)
    yield path
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_no_fault_leaves_a_secret_in_logs_journal_or_state(
    moto: str,
    make_real_access: Callable[..., AwsAccess],
    real_state: WorkspaceState,
    workspace: Workspace,
    caplog: pytest.LogCaptureFixture,
    isolated_home: Path,
    app_log_file: Path,
) -> None:
    log_file = app_log_file
    caplog.set_level(logging.INFO)
    # typed keys, then faults of several kinds, then a good check that handles session tokens
    access = make_real_access(mfa_prompt=lambda _q: "123456")
    with pytest.raises(AwsAccessError):
        access.configure_keys(AuthConfig(method=AuthMethod.KEYS), ACCESS_KEY, SECRET_KEY[:-2])
    access.configure_keys(
        AuthConfig(
            method=AuthMethod.KEYS,
            assume_roles=True,
            mfa_serial=f"arn:aws:iam::{ACCOUNTS['security']}:mfa/op",
        ),
        ACCESS_KEY,
        SECRET_KEY,
    )
    assert all(r.ok for r in access.check_all().values())
    sessions = [access.environment_for(name, base_env={}) for name in ACCOUNTS]
    with pytest.raises(AwsAccessError):
        access.configure(AuthConfig(method=AuthMethod.PROFILE, profile="missing"))
    unreachable = AwsAccess(real_state, workspace=workspace, endpoint_url="http://127.0.0.1:9")
    unreachable.check_all()
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True, role_arns={"dev": ""}))
    access.check_all()  # dev blocked: reaches the wrong account
    aws_report(access)

    secret_values = {SECRET_KEY, SECRET_KEY[:-2]}
    for env in sessions:
        secret_values |= {env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]}
    written = {
        "caplog": caplog.text,
        "log file": log_file.read_text(encoding="utf-8"),
        "journal": workspace.journal_path.read_text(encoding="utf-8"),
        "state": workspace.state_path.read_text(encoding="utf-8"),
    }
    assert "aws.identity" in written["journal"] and "blocked" in written["journal"]
    for where, text in written.items():
        for value in secret_values:
            assert value not in text, f"a secret reached the {where}"
    state = json.loads(written["state"])
    assert set(state["settings"]["auth"]) >= {"method", "role_arns", "mfa_serial", "profile"}


# -- doctor ----------------------------------------------------------------------------------------------


def test_doctor_report(sandbox_access: AwsAccess) -> None:
    report = aws_report(sandbox_access)
    json.dumps(report)
    assert report["configured"] and report["mode"] == "sandbox"
    assert set(report["accounts"]) == set(ACCOUNTS)
    for name, entry in report["accounts"].items():
        assert entry["status"] == "ok" and entry["account_id"] == ACCOUNTS[name] and entry["arn"]
    assert report["organization"]["checked"] is False
    assert aws_report(None)["configured"] is False


def test_doctor_report_names_the_error(sandbox_state: WorkspaceState, workspace: Workspace) -> None:
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url="http://127.0.0.1:9")
    report = aws_report(access, org_check=False)
    assert {e["error_kind"] for e in report["accounts"].values()} == {"unreachable"}
    assert all("Cannot reach" in e["error"] for e in report["accounts"].values())


def test_doctor_never_prompts_for_mfa(make_real_access: Callable[..., AwsAccess]) -> None:
    prompted: list[Any] = []
    access = make_real_access(mfa_prompt=prompted.append)
    access.configure_keys(
        AuthConfig(
            method=AuthMethod.KEYS, assume_roles=True, mfa_serial=f"arn:aws:iam::{ACCOUNTS['dev']}:mfa/op"
        ),
        ACCESS_KEY,
        SECRET_KEY,
    )
    report = aws_report(access, org_check=False)
    assert prompted == []
    assert {e["error_kind"] for e in report["accounts"].values()} == {"mfa-required"}
    assert access.mfa_prompt is not None


def test_doctor_report_for_a_workspace_directory(
    moto: str, make_real_access: Callable[..., AwsAccess], workspace: Workspace, real_state: WorkspaceState
) -> None:
    from refarch_tui.aws.doctor import aws_report_for_workspace

    assert aws_report_for_workspace(workspace.directory)["configured"] is False  # no state yet
    workspace.save(real_state)
    assert "not set up" in aws_report_for_workspace(workspace.directory)["message"]
    access = make_real_access()
    access.configure_keys(AuthConfig(method=AuthMethod.KEYS, assume_roles=True), ACCESS_KEY, SECRET_KEY)
    journal_before = workspace.journal_path.read_text(encoding="utf-8")
    report = aws_report_for_workspace(workspace.directory, org_check=False, endpoint_url=moto)
    assert report["configured"] is True and report["method"] == "keys"
    assert {name: entry["account_id"] for name, entry in report["accounts"].items()} == ACCOUNTS
    assert workspace.journal_path.read_text(encoding="utf-8") == journal_before  # doctor writes nothing


def test_doctor_report_for_a_sandbox_without_its_emulator(
    workspace: Workspace, sandbox_state: WorkspaceState
) -> None:
    from refarch_tui.aws.doctor import aws_report_for_workspace

    workspace.save(sandbox_state)
    report = aws_report_for_workspace(workspace.directory)
    assert report["configured"] is False and "emulator is not running" in report["message"]
