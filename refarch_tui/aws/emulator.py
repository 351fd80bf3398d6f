"""The sandbox's AWS emulator: a moto server in its own background process, seeded like a fresh
multi-account setup, and the small controller the app and the CLI use to start, find and stop it.

The emulator (``python -m refarch_tui.aws.emulator serve --port N --state-file PATH``) listens on 127.0.0.1
only and holds:

- an AWS Organization (feature set ALL) owned by the management account 123456789012;
- the member accounts security, shared-services, dev, stage and prod with the product's fixed IDs;
- in every member account the roles ``OrganizationAccountAccessRole`` (trusting the management account) and
  ``allow-full-access-from-other-accounts`` (trusting the security account);
- in the security account the temporary admin IAM user ``refarch-sandbox-admin``, whose access key is
  ``SANDBOX_ACCESS_KEY_ID`` (the seed's "temporary IAM user with admin access"); any other access key ID acts
  in the management account;
- in shared-services us-east-1 a VPC and public subnet tagged ``gruntwork.io/allow-packer=true``, and the
  base images the sample Packer templates start from that moto does not carry (Canonical's Ubuntu 18.04:
  moto's own catalogue stops at 16.04; ``BASE_IMAGES``).

The controller half of this module (``start``, ``wait_ready``, ``status``, ``stop``, ``ensure_running``)
imports neither moto nor boto3, so opening the app never waits for them. The emulator's record lives in
``<workspace>/emulator.json``; its output goes to ``<workspace>/logs/emulator.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refarch_tui.atomic import atomic_write_text, open_private_append
from refarch_tui.tools.inherited_env import scrubbed

HOST = "127.0.0.1"
RECORD_FILE = "emulator.json"
LOG_NAME = "emulator.log"
MODULE = "refarch_tui.aws.emulator"

MANAGEMENT_ACCOUNT_ID = "123456789012"
MEMBER_ACCOUNTS: dict[str, str] = {
    "security": "104983213567",
    "shared-services": "235829751430",
    "dev": "368294012756",
    "stage": "481039572864",
    "prod": "596120384729",
}
SECURITY_ACCOUNT = "security"
PACKER_ACCOUNT = "shared-services"
SANDBOX_REGION = "us-east-1"

# Fake, non-secret credentials. moto does not check signatures; AWS would refuse these.
# The key ID belongs to the admin user of the security account inside the emulator.
SANDBOX_ACCESS_KEY_ID = "AKIAREFARCHSANDBOX01"
SANDBOX_SECRET_ACCESS_KEY = "refarchSandboxFakeSecretKey0000000000000"
# Any access key ID moto does not know acts in the management (organization) account.
MANAGEMENT_ACCESS_KEY_ID = "AKIAREFARCHSBXMGMT01"

ADMIN_USER = "refarch-sandbox-admin"
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
FULL_ACCESS_ROLE = "allow-full-access-from-other-accounts"
PACKER_TAG = "gruntwork.io/allow-packer"

START_TIMEOUT = 90.0
STOP_TIMEOUT = 5.0


class EmulatorError(Exception):
    """The emulator could not be started or reached; the message says what to do."""


@dataclass
class EmulatorInfo:
    endpoint: str
    pid: int
    port: int
    started: str
    log_path: str
    seeded: bool = False
    accounts: dict[str, str] = field(default_factory=dict)  # member account name -> id
    management_account_id: str = MANAGEMENT_ACCOUNT_ID
    access_key_id: str = SANDBOX_ACCESS_KEY_ID
    region: str = SANDBOX_REGION
    packer_vpc_id: str | None = None
    packer_subnet_id: str | None = None

    @property
    def secret_access_key(self) -> str:
        return SANDBOX_SECRET_ACCESS_KEY

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "pid": self.pid,
            "port": self.port,
            "started": self.started,
            "log_path": self.log_path,
            "seeded": self.seeded,
            "accounts": dict(self.accounts),
            "management_account_id": self.management_account_id,
            "access_key_id": self.access_key_id,
            "region": self.region,
            "packer_vpc_id": self.packer_vpc_id,
            "packer_subnet_id": self.packer_subnet_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmulatorInfo:
        return cls(
            endpoint=str(data["endpoint"]),
            pid=int(data["pid"]),
            port=int(data["port"]),
            started=str(data.get("started") or ""),
            log_path=str(data.get("log_path") or ""),
            seeded=bool(data.get("seeded", False)),
            accounts={str(k): str(v) for k, v in (data.get("accounts") or {}).items()},
            management_account_id=str(data.get("management_account_id") or MANAGEMENT_ACCOUNT_ID),
            access_key_id=str(data.get("access_key_id") or SANDBOX_ACCESS_KEY_ID),
            region=str(data.get("region") or SANDBOX_REGION),
            packer_vpc_id=data.get("packer_vpc_id"),
            packer_subnet_id=data.get("packer_subnet_id"),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- controller (parent process: no moto, no boto3) ---------------------------------------------------


def record_path(workspace_dir: Path) -> Path:
    return Path(workspace_dir) / RECORD_FILE


def log_path(workspace_dir: Path) -> Path:
    return Path(workspace_dir) / "logs" / LOG_NAME


def read_record(workspace_dir: Path) -> EmulatorInfo | None:
    """The recorded emulator of a workspace, whether or not it still runs; None if none or unreadable."""
    try:
        data = json.loads(record_path(workspace_dir).read_text(encoding="utf-8"))
        return EmulatorInfo.from_json(data) if isinstance(data, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(path: Path, info: EmulatorInfo) -> None:
    atomic_write_text(path, json.dumps(info.to_json(), indent=2) + "\n", mode=0o600)


# emulators this process spawned, kept so their exit is collected (no zombies, no ResourceWarning)
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our own finished child, so it does not linger as a zombie."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def pid_alive(pid: int) -> bool:
    """True if `pid` runs and (where /proc tells) is an emulator process of this product."""
    if pid <= 0:
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path("/proc") / str(pid)
    if Path("/proc/self").exists():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            status = (proc / "stat").read_text()
        except OSError:
            return False
        # a zombie (state Z) has exited even though its PID still exists
        if status.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
            _reap(pid)  # it exited between the checks above; collect it if it is ours
            return False
        return MODULE.encode() in cmdline
    return True


def answers(endpoint: str, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers at `endpoint` (any HTTP response counts)."""
    host_port = endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port = host_port.rpartition(":")
    import http.client  # only when pinging: the app's first paint does not pay for it

    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", "/moto-api/")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def child_env() -> dict[str, str]:
    """The emulator's environment: no AWS settings of the operator, no MOTO_ACCOUNT_ID, instant ACM."""
    env = {k: v for k, v in scrubbed(os.environ).items() if not k.upper().startswith("MOTO_")}
    env["MOTO_ACM_VALIDATION_WAIT"] = "0"
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["PYTHONUNBUFFERED"] = "1"
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


def start(workspace_dir: Path) -> EmulatorInfo:
    """Spawn a new emulator for the workspace and return at once (it is not ready yet: see wait_ready)."""
    workspace_dir = Path(workspace_dir)
    logfile = log_path(workspace_dir)
    record = record_path(workspace_dir)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        MODULE,
        "serve",
        "--port",
        str(port),
        "--state-file",
        str(record),
        "--await-record",
    ]
    with os.fdopen(open_private_append(logfile), "ab") as log:
        log.write(f"\n--- {_now()} starting the sandbox AWS emulator on {HOST}:{port}\n".encode())
        log.flush()
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                env=child_env(),
                cwd=workspace_dir,
            )
        except OSError as exc:
            raise EmulatorError(
                f"Cannot start the sandbox AWS emulator ({exc.strerror or exc}). "
                f"Check that {sys.executable} runs, then try again."
            ) from None
    _CHILDREN[process.pid] = process
    info = EmulatorInfo(
        endpoint=f"http://{HOST}:{port}",
        pid=process.pid,
        port=port,
        started=_now(),
        log_path=str(logfile),
    )
    _write_record(record, info)
    return info


def _log_tail(path: str, lines: int = 3) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    tail = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(tail)


class WaitAbandoned(EmulatorError):
    """The caller stopped waiting (the app is quitting); the emulator keeps starting on its own."""


def wait_ready(
    workspace_dir: Path,
    timeout: float = START_TIMEOUT,
    poll: float = 0.1,
    abandoned: Callable[[], bool] = lambda: False,
) -> EmulatorInfo:
    """Block until the workspace's emulator is seeded and answers; EmulatorError names the log if not.
    `abandoned` is polled so a quitting app is not held open for the whole start timeout."""
    deadline = time.monotonic() + timeout
    logfile = str(log_path(workspace_dir))
    while True:
        if abandoned():
            raise WaitAbandoned("stopped waiting for the sandbox AWS emulator")
        info = read_record(workspace_dir)
        if info is None:
            raise EmulatorError(
                f"No sandbox AWS emulator was started for {workspace_dir}. "
                "Run `refarch-tui sandbox` to start one."
            )
        if not pid_alive(info.pid):
            where = info.log_path or logfile
            tail = _log_tail(where)
            raise EmulatorError(
                f"The sandbox AWS emulator (PID {info.pid}) stopped while starting. See {where}"
                + (f" (last lines: {tail})" if tail else "")
                + ", then run `refarch-tui sandbox` again."
            )
        if info.seeded and answers(info.endpoint):
            return info
        if time.monotonic() >= deadline:
            raise EmulatorError(
                f"The sandbox AWS emulator (PID {info.pid}) is not ready after {timeout:.0f} s. "
                f"See {info.log_path or logfile}; stop it with `refarch-tui sandbox --stop` and try again."
            )
        time.sleep(poll)


def status(workspace_dir: Path) -> EmulatorInfo | None:
    """The running emulator (its process alive AND its endpoint answering), else None."""
    info = read_record(workspace_dir)
    if info is None or not pid_alive(info.pid) or not answers(info.endpoint):
        return None
    return info


def ensure_running(workspace_dir: Path) -> EmulatorInfo:
    """Reuse the workspace's emulator if its process is alive (running or still starting), else start one."""
    info = read_record(workspace_dir)
    if info is not None and pid_alive(info.pid):
        return info
    return start(workspace_dir)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            if os.getpgid(pid) == pid:  # the emulator leads its own session and process group
                os.killpg(pid, sig)
                return
        except ProcessLookupError:
            return
        os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    # an exiting process stops looking like the emulator (empty cmdline) before it becomes a zombie;
    # when it is our own child, collect it so its PID is really gone when stop() returns
    if pid in _CHILDREN:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _CHILDREN.pop(pid).wait(timeout=max(0.1, deadline - time.monotonic()))
    return True


def stop(workspace_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the workspace's emulator (SIGTERM, then SIGKILL) and forget it; False if none was running."""
    info = read_record(workspace_dir)
    stopped = False
    if info is not None and pid_alive(info.pid):
        _signal(info.pid, signal.SIGTERM)
        if not _wait_gone(info.pid, timeout):
            _signal(info.pid, signal.SIGKILL)
            _wait_gone(info.pid, 2.0)
        stopped = True
    with contextlib.suppress(FileNotFoundError):
        record_path(workspace_dir).unlink()
    return stopped


# -- the emulator process (moto and boto3 live only here) ---------------------------------------------

_PENDING_ACCOUNT_IDS: deque[str] = deque()


def _patch_account_ids() -> None:
    """moto gives new accounts random IDs; hand it the product's fixed IDs, in creation order."""
    import moto.organizations.utils as org_utils

    original = org_utils.make_random_account_id

    def next_account_id() -> str:
        return _PENDING_ACCOUNT_IDS.popleft() if _PENDING_ACCOUNT_IDS else original()

    org_utils.make_random_account_id = next_account_id


def _policy(principal_account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{principal_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def seed(endpoint: str) -> dict[str, Any]:
    """Create the organization, accounts, roles, admin user and Packer VPC; return facts for the record."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    config = Config(retries={"max_attempts": 2, "mode": "standard"})

    def client(service: str, key_id: str, token: str | None = None, secret: str | None = None) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name=SANDBOX_REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret or SANDBOX_SECRET_ACCESS_KEY,
            aws_session_token=token,
            config=config,
        )

    org = client("organizations", MANAGEMENT_ACCESS_KEY_ID)
    org.create_organization(FeatureSet="ALL")
    for name, account_id in MEMBER_ACCOUNTS.items():
        _PENDING_ACCOUNT_IDS.append(account_id)
        created = org.create_account(Email=f"aws+{name}@acme.example", AccountName=name)
        got = created["CreateAccountStatus"].get("AccountId")
        if got != account_id:
            raise RuntimeError(f"moto gave account {name} the ID {got}, expected {account_id}")
    print(f"organization created with accounts {MEMBER_ACCOUNTS}", flush=True)

    sts = client("sts", MANAGEMENT_ACCESS_KEY_ID)
    facts: dict[str, Any] = {}
    for name, account_id in MEMBER_ACCOUNTS.items():
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{ORG_ACCESS_ROLE}",
            RoleSessionName="refarch-sandbox-seed",
        )["Credentials"]
        key, secret, token = (
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )
        iam = client("iam", key, token, secret)
        try:
            iam.get_role(RoleName=ORG_ACCESS_ROLE)
        except ClientError:
            iam.create_role(RoleName=ORG_ACCESS_ROLE, AssumeRolePolicyDocument=_policy(MANAGEMENT_ACCOUNT_ID))
        iam.put_role_policy(
            RoleName=ORG_ACCESS_ROLE, PolicyName="AdministratorAccess", PolicyDocument=ADMIN_POLICY
        )
        iam.create_role(
            RoleName=FULL_ACCESS_ROLE,
            AssumeRolePolicyDocument=_policy(MEMBER_ACCOUNTS[SECURITY_ACCOUNT]),
            Description="Full access for IAM users of the security account (Reference Architecture)",
        )
        iam.put_role_policy(RoleName=FULL_ACCESS_ROLE, PolicyName="full-access", PolicyDocument=ADMIN_POLICY)
        if name == SECURITY_ACCOUNT:
            iam.create_user(
                UserName=ADMIN_USER, Tags=[{"Key": "purpose", "Value": "temporary admin (sandbox)"}]
            )
            iam.put_user_policy(
                UserName=ADMIN_USER, PolicyName="AdministratorAccess", PolicyDocument=ADMIN_POLICY
            )
            _install_fixed_access_key(account_id)
        if name == PACKER_ACCOUNT:
            facts.update(_packer_vpc(client("ec2", key, token, secret)))
            add_base_images(account_id, SANDBOX_REGION)
    print("roles, admin user, packer VPC and base images created", flush=True)
    return facts


def _install_fixed_access_key(account_id: str) -> None:
    """Give the admin user the fixed sandbox access key ID, so the app's fake keys act as that user."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    key = backend.create_access_key(ADMIN_USER)
    backend.access_keys.pop(key.physical_resource_id, None)
    key.access_key_id = SANDBOX_ACCESS_KEY_ID
    key.secret_access_key = SANDBOX_SECRET_ACCESS_KEY
    backend.access_keys[key.physical_resource_id] = key


# Public images of other owners that real AWS has and moto's catalogue lacks: (id, owner, name, description)
BASE_IMAGES = (
    (
        "ami-0ac80df6eff0e70b5",
        "099720109477",
        "ubuntu/images/hvm-ssd/ubuntu-bionic-18.04-amd64-server-20200112",
        "Canonical, Ubuntu, 18.04 LTS, amd64 bionic image build on 2020-01-12 (sandbox stand-in)",
    ),
)


def add_base_images(account_id: str, region: str) -> None:
    """Make `BASE_IMAGES` visible to `account_id` in `region`. Runs inside the emulator's process (moto's
    backends are in memory; EC2 has no API to publish an image under another owner)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami

    backend = ec2_backends[account_id][region]
    for ami_id, owner, name, description in BASE_IMAGES:
        backend.amis[ami_id] = Ami(
            backend,
            ami_id,
            name=name,
            description=description,
            owner_id=owner,
            public=True,
            virtualization_type="hvm",
            architecture="x86_64",
            root_device_type="ebs",
            hypervisor="xen",
            creation_date=datetime(2020, 1, 12, tzinfo=UTC),
        )


def _packer_vpc(ec2: Any) -> dict[str, str]:
    tags = [{"Key": PACKER_TAG, "Value": "true"}]
    vpc_id = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [*tags, {"Key": "Name", "Value": "mgmt"}]}],
    )["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.0.0.0/24",
        AvailabilityZone=f"{SANDBOX_REGION}a",
        TagSpecifications=[
            {"ResourceType": "subnet", "Tags": [*tags, {"Key": "Name", "Value": "mgmt-public-0"}]}
        ],
    )["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    gateway_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc_id)
    table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway_id)
    ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
    return {"packer_vpc_id": vpc_id, "packer_subnet_id": subnet_id}


def serve(port: int, state_file: Path, *, await_record: bool = False) -> int:
    """Run the emulator on 127.0.0.1:`port` until SIGTERM/SIGINT; write `state_file` once seeded."""
    os.environ["MOTO_ACM_VALIDATION_WAIT"] = "0"  # before moto is imported
    os.environ.pop("MOTO_ACCOUNT_ID", None)  # it would override the account of assumed roles
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    _patch_account_ids()
    stop_event = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        server = make_server(
            HOST,
            port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
    except (OSError, SystemExit) as exc:  # werkzeug prints its reason and exits when the port is taken
        print(f"ERROR: cannot listen on {HOST}:{port} ({exc}). Start the sandbox again.", flush=True)
        return 2
    thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    thread.start()
    endpoint = f"http://{HOST}:{port}"
    print(f"listening on {endpoint} (PID {os.getpid()})", flush=True)
    try:
        facts = seed(endpoint)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print(f"ERROR: seeding the emulator failed: {exc}", flush=True)
        server.shutdown()
        return 3

    if await_record:  # the controller writes the record right after spawning us; do not race it
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and not stop_event.is_set():
            existing = _read_state(state_file)
            if existing is not None and existing.pid == os.getpid():
                break
            time.sleep(0.05)
    existing = _read_state(state_file)
    info = EmulatorInfo(
        endpoint=endpoint,
        pid=os.getpid(),
        port=port,
        started=existing.started if existing and existing.pid == os.getpid() else _now(),
        log_path=existing.log_path if existing else "",
        seeded=True,
        accounts=dict(MEMBER_ACCOUNTS),
        packer_vpc_id=facts.get("packer_vpc_id"),
        packer_subnet_id=facts.get("packer_subnet_id"),
    )
    if not stop_event.is_set():
        _write_record(state_file, info)
        print("seeded and ready", flush=True)
    workspace = state_file.parent
    while not stop_event.wait(1.0):
        if not workspace.is_dir():  # its workspace was deleted: nobody can reach or stop this emulator
            print(f"stopping: the workspace {workspace} is gone", flush=True)
            break
    print("stopping", flush=True)
    server.shutdown()
    thread.join(timeout=5.0)
    return 0


def _read_state(path: Path) -> EmulatorInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EmulatorInfo.from_json(data) if isinstance(data, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description="The sandbox's AWS emulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the seeded emulator until SIGTERM")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--state-file", type=Path, required=True)
    run.add_argument("--await-record", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return serve(args.port, args.state_file, await_record=args.await_record)


if __name__ == "__main__":
    sys.exit(main())
