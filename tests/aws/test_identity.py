"""Identity per account through assumed roles, blocking on mismatch, parallel checks, org cross-check."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod, IdentityStatus
from refarch_tui.aws.errors import AccountBlocked, AwsAccessError
from refarch_tui.state import Workspace

from .conftest import ACCOUNTS


def test_sandbox_assume_role_into_all_five_accounts(sandbox_access: AwsAccess) -> None:
    results = sandbox_access.check_all()
    assert list(results) == list(ACCOUNTS)
    for name, account_id in ACCOUNTS.items():
        result = results[name]
        assert result.status is IdentityStatus.OK, result.explanation
        assert result.reached_id == account_id
        assert result.arn is not None
        assert f"::{account_id}:assumed-role/allow-full-access-from-other-accounts/" in result.arn
        left = result.time_left()
        assert left is not None and left.total_seconds() > 50 * 60
        assert not sandbox_access.is_blocked(name)
        assert sandbox_access.block_reason(name) is None
        assert result.summary.startswith(result.arn) and "left)" in result.summary


def test_unchecked_accounts_are_blocked(sandbox_access: AwsAccess) -> None:
    assert sandbox_access.is_blocked("dev")
    with pytest.raises(AccountBlocked, match="not checked"):
        sandbox_access.client("dev", "s3")


def test_identity_in_another_account_blocks_that_account(sandbox_access: AwsAccess) -> None:
    # dev uses the source keys directly: they reach moto's default account, not dev's ID
    sandbox_access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True, role_arns={"dev": ""}))
    results = sandbox_access.check_all()
    dev = results["dev"]
    assert dev.status is IdentityStatus.BLOCKED
    assert dev.reached_id != ACCOUNTS["dev"]
    assert (
        "BLOCKED" in dev.explanation
        and ACCOUNTS["dev"] in dev.explanation
        and str(dev.reached_id) in (dev.explanation)
    )
    assert sandbox_access.is_blocked("dev")
    assert dev.summary == f"BLOCKED (reaches {dev.reached_id})"
    with pytest.raises(AccountBlocked):
        sandbox_access.session_for("dev")
    with pytest.raises(AccountBlocked):
        sandbox_access.environment_for("dev", base_env={})
    assert not sandbox_access.is_blocked("stage")
    assert sandbox_access.session_for("stage") is not None


def test_workspace_without_account_id_is_blocked(sandbox_access: AwsAccess) -> None:
    sandbox_access.state.account("prod").id = None
    sandbox_access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True, role_arns={"prod": ""}))
    result = sandbox_access.check("prod")
    assert result.status is IdentityStatus.BLOCKED
    assert "no account ID" in result.explanation


def test_role_arn_naming_another_account_is_refused(sandbox_access: AwsAccess) -> None:
    bad = f"arn:aws:iam::{ACCOUNTS['prod']}:role/allow-full-access-from-other-accounts"
    with pytest.raises(AwsAccessError, match="names the same account"):
        sandbox_access.configure(AuthConfig(assume_roles=True, role_arns={"dev": bad}))
    with pytest.raises(AwsAccessError, match="not an IAM role ARN"):
        sandbox_access.configure(AuthConfig(assume_roles=True, role_arns={"dev": "admin"}))


def test_identity_checks_run_in_parallel(moto: str, sandbox_state: Any, workspace: Workspace) -> None:
    # Every GetCallerIdentity waits until all five are in flight: a serial check would break the barrier.
    barrier = threading.Barrier(len(ACCOUNTS), timeout=20)
    threads: set[str] = set()

    def wait_for_all(**_kwargs: Any) -> None:
        threads.add(threading.current_thread().name)
        barrier.wait()

    def hook(who: str, service: str, client: Any) -> None:
        if who in ACCOUNTS and service == "sts":
            client.meta.events.register("before-send.sts.GetCallerIdentity", wait_for_all)

    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto, client_hook=hook)
    access.configure(AuthConfig(assume_roles=True))
    results = access.check_all()
    assert all(r.ok for r in results.values()), [r.explanation for r in results.values()]
    assert len(threads) == len(ACCOUNTS)


def test_journal_records_identity_without_secrets(sandbox_access: AwsAccess, workspace: Workspace) -> None:
    sandbox_access.check_all()
    entries = [e for e in workspace.read_journal() if e["action"] == "aws.identity"]
    assert {e["account"] for e in entries} == set(ACCOUNTS)
    assert all(e["outcome"] == "ok" for e in entries)


def test_org_cross_check_lists_differences(sandbox_access: AwsAccess) -> None:
    source = sandbox_access._source(None)  # the sandbox keys: moto's management account
    org = source.client("organizations", endpoint_url=sandbox_access.endpoint_url, region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    created = org.create_account(Email="extra@example.com", AccountName="extra")
    extra_id = created["CreateAccountStatus"]["AccountId"]
    check = sandbox_access.org_cross_check()
    assert check.checked, check.message
    assert {name for name, _ in check.missing_in_org} == set(ACCOUNTS)
    assert extra_id in {account_id for account_id, _ in check.not_in_repo}


def test_org_cross_check_without_organization_says_why(sandbox_access: AwsAccess) -> None:
    check = sandbox_access.org_cross_check()
    assert not check.checked
    assert "not compared" in check.message


def test_importing_the_core_loads_neither_boto3_nor_textual() -> None:
    code = (
        "import sys, refarch_tui.aws.access, refarch_tui.aws.child_env, refarch_tui.aws.doctor;"
        "bad = [m for m in ('boto3', 'botocore', 'textual') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
