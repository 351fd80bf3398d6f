"""Fixtures for the AWS access tests: a workspace with the five fixed accounts, and AwsAccess services
pointed at the per-test moto endpoint (sandbox mode, and 'real' mode with the emulator as endpoint)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod
from refarch_tui.state import Account, Mode, Workspace, WorkspaceState

ACCOUNTS = {
    "security": "104983213567",
    "shared-services": "235829751430",
    "dev": "368294012756",
    "stage": "481039572864",
    "prod": "596120384729",
}
# Shapes AWS would accept; moto accepts any key.
ACCESS_KEY = "AKIAIOSFODNN7TESTKEY"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET"


def make_state(mode: Mode, live_dir: Path) -> WorkspaceState:
    return WorkspaceState(
        live_dir=str(live_dir),
        mode=mode,
        accounts=[Account(name, account_id) for name, account_id in ACCOUNTS.items()],
        regions=["us-east-1", "us-west-2"],
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "workspace")


@pytest.fixture
def sandbox_state(tmp_path: Path) -> WorkspaceState:
    return make_state(Mode.SANDBOX, tmp_path / "live")


@pytest.fixture
def real_state(tmp_path: Path) -> WorkspaceState:
    return make_state(Mode.REAL, tmp_path / "live")


@pytest.fixture
def sandbox_access(moto: str, sandbox_state: WorkspaceState, workspace: Workspace) -> AwsAccess:
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto)
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True))
    return access


@pytest.fixture
def make_real_access(moto: str, real_state: WorkspaceState, workspace: Workspace) -> Callable[..., AwsAccess]:
    """AwsAccess in 'real' mode whose clients go to moto (as if moto were AWS)."""

    def make(**kwargs: Any) -> AwsAccess:
        return AwsAccess(real_state, workspace=workspace, endpoint_url=moto, **kwargs)

    return make


class RawBody:
    """The `raw` part of a botocore AWSResponse built by hand in a before-send handler."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Any:
        yield self._body


def sts_error_response(url: str, code: str, message: str, status: int = 400) -> Any:
    from botocore.awsrequest import AWSResponse

    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse(url, status, {"Content-Type": "text/xml"}, RawBody(body))


def only(state: WorkspaceState, *names: str) -> WorkspaceState:
    """The same state restricted to some accounts (for deterministic stubbed call sequences)."""
    state.accounts = [a for a in state.accounts if a.name in names]
    return state
