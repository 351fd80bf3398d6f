"""Against the sandbox emulator's own seeding (organization, fixed account IDs, roles, admin user)."""

from __future__ import annotations

import pytest

from refarch_tui.aws import emulator
from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod
from refarch_tui.aws.doctor import aws_report
from refarch_tui.aws.keys import AccessKeys
from refarch_tui.state import Account, Workspace, WorkspaceState

from .conftest import ACCOUNTS


@pytest.fixture
def seeded(moto: str) -> str:
    # the test's moto server runs in this process, so the emulator's in-process patches apply to it
    emulator._patch_account_ids()
    emulator.seed(moto)
    return moto


@pytest.mark.slow
def test_seeded_sandbox_reaches_every_account_and_matches_the_organization(
    seeded: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=seeded)
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True))
    results = access.check_all()
    assert all(r.ok for r in results.values()), [r.explanation for r in results.values()]
    source = access._source_client(None, access._source(None), "sts").get_caller_identity()
    assert source["Account"] == ACCOUNTS["security"] and source["Arn"].endswith(f"user/{emulator.ADMIN_USER}")
    # the security account is a member: it cannot list the organization; the check says who can
    org = access.org_cross_check()
    assert not org.checked and "not compared" in org.message
    assert "not in use" not in org.message
    assert f"management account {emulator.MANAGEMENT_ACCOUNT_ID}" in org.message
    assert aws_report(access)["organization"]["checked"] is False


def test_the_sandbox_finds_its_seeded_organization(
    seeded: str, sandbox_state: WorkspaceState, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refarch_tui.aws.access import for_workspace

    info = emulator.EmulatorInfo(endpoint=seeded, pid=0, port=0, started="", log_path="", seeded=True)
    monkeypatch.setattr(emulator, "wait_ready", lambda directory, **kw: info)
    access = for_workspace(workspace, sandbox_state)  # as the app and line mode build it
    assert all(r.ok for r in access.check_all().values())
    org = access.org_cross_check()
    assert org.checked, org.message
    assert "management account" in org.message and "6 accounts" in org.message
    assert org.missing_in_org == ()
    assert [account_id for account_id, _name in org.not_in_repo] == [emulator.MANAGEMENT_ACCOUNT_ID]
    report = aws_report(access)["organization"]
    assert report["checked"] is True and report["missing_in_org"] == []


def test_organization_cross_check_from_the_management_account(
    seeded: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    management = AccessKeys(emulator.MANAGEMENT_ACCESS_KEY_ID, emulator.SANDBOX_SECRET_ACCESS_KEY)
    sandbox_state.accounts = [a for a in sandbox_state.accounts if a.name != "prod"]
    sandbox_state.accounts.append(Account("sandbox-extra", "999988887777"))
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=seeded, sandbox_keys=management)
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True))
    org = access.org_cross_check()
    assert org.checked, org.message
    assert org.missing_in_org == (("sandbox-extra", "999988887777"),)
    assert sorted(account_id for account_id, _name in org.not_in_repo) == sorted(
        [emulator.MANAGEMENT_ACCOUNT_ID, ACCOUNTS["prod"]]
    )


@pytest.mark.slow
def test_seeded_security_keys_used_directly_reach_only_security(
    seeded: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    # the seed's first way: the temporary admin user's keys, no roles -> only its own account is confirmed
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=seeded)
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=False))
    results = access.check_all()
    assert results["security"].ok
    assert all(results[name].blocked for name in ACCOUNTS if name != "security")
