"""botocore settings shared by every client, isolated sessions, and a fast reachability probe."""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from refarch_tui.aws.errors import AwsAccessError, ErrorKind

if TYPE_CHECKING:
    import boto3
    import botocore.config
    import botocore.session

    from refarch_tui.aws.keys import AccessKeys

DEFAULT_REGION = "us-east-1"
MAX_ATTEMPTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
PROBE_TIMEOUT = 2.0


def client_config(
    *,
    max_attempts: int = MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    region: str | None = None,
) -> botocore.config.Config:
    """Adaptive retries (throttling is retried with back-off), bounded timeouts so nothing hangs."""
    from botocore.config import Config

    return Config(
        region_name=region,
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent_extra="refarch-tui",
    )


_loader_lock = threading.Lock()
_loader: Any = None


def shared_loader() -> Any:
    """One botocore data loader for every session, so service models are parsed once, not per account."""
    global _loader
    with _loader_lock:
        if _loader is None:
            from botocore.loaders import create_loader

            _loader = create_loader()
        return _loader


def isolated_core() -> botocore.session.Session:
    """A botocore session that reads no profile, no config or credentials file, and no endpoint variables."""
    import botocore.session
    from botocore.configprovider import ConstantProvider

    core = botocore.session.Session()
    core.register_component("data_loader", shared_loader())
    store = core.get_component("config_store")
    store.set_config_provider("profile", ConstantProvider(None))
    store.set_config_provider("ignore_configured_endpoint_urls", ConstantProvider(True))
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    return core


def isolated_session(keys: AccessKeys, region: str) -> boto3.Session:
    """A session using exactly these keys: no profile, no config or credentials file, no AWS_* variables."""
    import boto3

    core = isolated_core()
    return boto3.Session(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        region_name=region,
        botocore_session=core,
    )


def probe(endpoint_url: str, *, timeout: float = PROBE_TIMEOUT) -> None:
    """Fail at once with 'cannot reach' when nothing listens at an explicit endpoint (instead of retrying)."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or "localhost"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise AwsAccessError(
            ErrorKind.UNREACHABLE,
            f"Cannot reach {endpoint_url} ({reason}). In the sandbox, restart refarch-tui so the emulator "
            "starts again; otherwise check the endpoint address and the network.",
        ) from None


def make_client(session: boto3.Session, service: str, *, endpoint_url: str | None, region: str) -> Any:
    return session.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=endpoint_url,
        config=client_config(region=region),
    )
