"""The sandbox emulator as a background process: seeding, identity, reuse, stop, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from refarch_tui.aws import emulator
from tests.sandbox.conftest import EmulatorTracker

FIXED = {
    "security": "104983213567",
    "shared-services": "235829751430",
    "dev": "368294012756",
    "stage": "481039572864",
    "prod": "596120384729",
}


def client(info: emulator.EmulatorInfo, service: str, creds: dict[str, Any] | None = None, **kw: Any) -> Any:
    if creds is None:
        keys = {"aws_access_key_id": info.access_key_id, "aws_secret_access_key": info.secret_access_key}
    else:
        keys = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    keys.update(kw)
    return boto3.session.Session().client(
        service, endpoint_url=info.endpoint, region_name="us-east-1", **keys
    )


def assume(info: emulator.EmulatorInfo, account_id: str, role: str, **kw: Any) -> dict[str, Any]:
    sts = client(info, "sts", **kw)
    creds: dict[str, Any] = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="test"
    )["Credentials"]
    return creds


def test_controller_imports_neither_moto_nor_boto3() -> None:
    code = (
        "import sys, refarch_tui.aws.emulator, refarch_tui.sandbox\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('moto', 'boto3', 'botocore'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_nothing_recorded(workspace: Path) -> None:
    assert emulator.status(workspace) is None
    assert emulator.stop(workspace) is False
    with pytest.raises(emulator.EmulatorError, match="refarch-tui sandbox"):
        emulator.wait_ready(workspace, timeout=1)


def test_the_emulator_log_is_private(workspace: Path, emulators: EmulatorTracker) -> None:
    started = emulator.start(workspace)
    emulators.pids.add(started.pid)
    log = emulator.log_path(workspace)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


@pytest.mark.slow
def test_seeded_emulator_lifecycle(workspace: Path, emulators: EmulatorTracker) -> None:
    started = emulator.start(workspace)
    emulators.pids.add(started.pid)
    record = json.loads((workspace / "emulator.json").read_text())
    assert record["pid"] == started.pid and record["endpoint"] == started.endpoint
    assert started.endpoint.startswith("http://127.0.0.1:")

    info = emulator.wait_ready(workspace)
    assert info.pid == started.pid and info.seeded
    assert info.accounts == FIXED
    assert "secret" not in (workspace / "emulator.json").read_text().lower()

    # the organization, seen from the management account
    org = client(info, "organizations", aws_access_key_id=emulator.MANAGEMENT_ACCESS_KEY_ID)
    assert org.describe_organization()["Organization"]["FeatureSet"] == "ALL"
    members = {a["Name"]: a["Id"] for a in org.list_accounts()["Accounts"] if a["Id"] != "123456789012"}
    assert members == FIXED

    # the sandbox keys are the temporary admin user of the security account
    me = client(info, "sts").get_caller_identity()
    assert me["Account"] == FIXED["security"]
    assert me["Arn"].endswith(f":user/{emulator.ADMIN_USER}")

    # from security into dev through the cross-account role
    creds = assume(info, FIXED["dev"], emulator.FULL_ACCESS_ROLE)
    assert client(info, "sts", creds).get_caller_identity()["Account"] == FIXED["dev"]

    # both roles exist in every member account, trusting the right principals
    for account_id in FIXED.values():
        creds = assume(
            info, account_id, emulator.ORG_ACCESS_ROLE, aws_access_key_id=emulator.MANAGEMENT_ACCESS_KEY_ID
        )
        iam = client(info, "iam", creds)
        full = iam.get_role(RoleName=emulator.FULL_ACCESS_ROLE)["Role"]
        assert f"arn:aws:iam::{FIXED['security']}:root" in json.dumps(full["AssumeRolePolicyDocument"])
        org_role = iam.get_role(RoleName=emulator.ORG_ACCESS_ROLE)["Role"]
        assert "arn:aws:iam::123456789012:root" in json.dumps(org_role["AssumeRolePolicyDocument"])

    # the Packer VPC with a public subnet in shared-services us-east-1
    creds = assume(info, FIXED["shared-services"], emulator.FULL_ACCESS_ROLE)
    ec2 = client(info, "ec2", creds)
    tag_filter = [{"Name": f"tag:{emulator.PACKER_TAG}", "Values": ["true"]}]
    vpcs = ec2.describe_vpcs(Filters=tag_filter)["Vpcs"]
    subnets = ec2.describe_subnets(Filters=tag_filter)["Subnets"]
    assert [v["VpcId"] for v in vpcs] == [info.packer_vpc_id]
    assert [s["SubnetId"] for s in subnets] == [info.packer_subnet_id]
    assert subnets[0]["MapPublicIpOnLaunch"] is True
    # and nothing of it in dev
    dev = client(info, "ec2", assume(info, FIXED["dev"], emulator.FULL_ACCESS_ROLE))
    assert dev.describe_vpcs(Filters=tag_filter)["Vpcs"] == []

    # reuse
    again = emulator.ensure_running(workspace)
    assert again.pid == info.pid
    status = emulator.status(workspace)
    assert status is not None and status.pid == info.pid

    # stop
    assert emulator.stop(workspace) is True
    assert not emulator.pid_alive(info.pid)
    with pytest.raises(ProcessLookupError):
        os.kill(info.pid, 0)
    assert emulator.status(workspace) is None
    assert not (workspace / "emulator.json").exists()


@pytest.mark.slow
def test_new_emulator_after_a_crash(workspace: Path, emulators: EmulatorTracker) -> None:
    first = emulator.ensure_running(workspace)
    emulators.pids.add(first.pid)
    emulator.wait_ready(workspace)
    os.killpg(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # the kill is asynchronous: wait (bounded) until the PID is gone
    while emulator.pid_alive(first.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not emulator.pid_alive(first.pid)
    assert emulator.status(workspace) is None

    second = emulator.ensure_running(workspace)
    emulators.pids.add(second.pid)
    assert second.pid != first.pid
    ready = emulator.wait_ready(workspace)
    assert ready.pid == second.pid
    assert client(ready, "sts").get_caller_identity()["Account"] == FIXED["security"]


def test_wait_ready_names_the_log_when_the_emulator_dies(
    workspace: Path, emulators: EmulatorTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(emulator, "free_port", lambda: port)
        info = emulator.start(workspace)
        emulators.pids.add(info.pid)
        with pytest.raises(emulator.EmulatorError) as caught:
            emulator.wait_ready(workspace, timeout=60)
    message = str(caught.value)
    assert "stopped while starting" in message
    assert str(workspace / "logs" / "emulator.log") in message
    assert "cannot listen" in message
