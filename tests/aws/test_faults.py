"""Each fault the issue lists, against moto or botocore's Stubber: the operator gets one clear sentence."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from refarch_tui.aws import keys as aws_keys
from refarch_tui.aws.access import AwsAccess, force_refresh
from refarch_tui.aws.auth import DEFAULT_ROLE_NAME, AuthConfig, AuthMethod, IdentityStatus
from refarch_tui.aws.errors import AwsAccessError, ErrorKind, explain
from refarch_tui.state import Workspace, WorkspaceState

from .conftest import ACCESS_KEY, ACCOUNTS, SECRET_KEY, only, sts_error_response

MFA_SERIAL = f"arn:aws:iam::{ACCOUNTS['security']}:mfa/operator"


def _credentials(n: int = 0) -> dict[str, Any]:
    return {
        "AccessKeyId": f"ASIASTUBBEDKEY{n:06d}",
        "SecretAccessKey": f"stubbedSecretAccessKey{n:018d}",
        "SessionToken": f"stubbedSessionToken{n:030d}",
        "Expiration": datetime.now(UTC) + timedelta(hours=1),
    }


def _stub(target: tuple[str, str], stubber_box: list[Stubber], prepare: Callable[[Stubber], None]) -> Any:
    """A client hook that attaches a Stubber to the first client created for (who, service)."""

    def hook(who: str, service: str, client: Any) -> None:
        if (who, service) == target and not stubber_box:
            stubber = Stubber(client)
            prepare(stubber)
            stubber.activate()
            stubber_box.append(stubber)

    return hook


# -- key format ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "secret", "token", "fragment"),
    [
        ("AKIA123", SECRET_KEY, None, "access key ID should be 20 characters"),
        ("XKIAIOSFODNN7TESTKEY", SECRET_KEY, None, "access key ID"),
        ("akiaiosfodnn7testkey", SECRET_KEY, None, "access key ID"),
        (ACCESS_KEY, SECRET_KEY[:-1], None, "secret access key should be 40 characters"),
        (ACCESS_KEY, SECRET_KEY + "x", None, "secret access key"),
        ("ASIAIOSFODNN7TESTKEY", SECRET_KEY, None, "session token"),
    ],
)
def test_wrong_key_format_is_refused_before_aws_is_called(
    make_real_access: Callable[..., AwsAccess], key_id: str, secret: str, token: str | None, fragment: str
) -> None:
    created: list[str] = []
    access = make_real_access(client_hook=lambda who, service, client: created.append(service))
    with pytest.raises(AwsAccessError, match=fragment) as caught:
        access.configure_keys(AuthConfig(method=AuthMethod.KEYS), key_id, secret, token)
    assert caught.value.kind is ErrorKind.BAD_KEY_FORMAT
    assert secret not in str(caught.value)
    assert created == []
    assert aws_keys.load_keys(access.workspace_id) is None


# -- invalid keys ----------------------------------------------------------------------------------------


def test_invalid_keys_say_so(make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState) -> None:
    only(real_state, "dev")
    box: list[Stubber] = []
    hook = _stub(
        ("source", "sts"),
        box,
        lambda s: s.add_client_error(
            "assume_role",
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            403,
        ),
    )
    access = make_real_access(client_hook=hook)
    access.configure_keys(AuthConfig(method=AuthMethod.KEYS, assume_roles=True), ACCESS_KEY, SECRET_KEY)
    result = access.check_all()["dev"]
    assert result.status is IdentityStatus.ERROR
    assert result.error_kind is ErrorKind.INVALID_KEYS
    assert "does not recognise these credentials" in str(result.error)
    box[0].assert_no_pending_responses()


def test_access_denied_on_assume_role_names_the_role(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState
) -> None:
    only(real_state, "stage")
    box: list[Stubber] = []
    denied = (
        "User: arn:aws:iam::104983213567:user/op is not authorized to perform: sts:AssumeRole on resource: "
        "arn:aws:iam::481039572864:role/allow-full-access-from-other-accounts"
    )
    hook = _stub(
        ("source", "sts"), box, lambda s: s.add_client_error("assume_role", "AccessDenied", denied, 403)
    )
    access = make_real_access(client_hook=hook)
    access.configure_keys(AuthConfig(method=AuthMethod.KEYS, assume_roles=True), ACCESS_KEY, SECRET_KEY)
    result = access.check_all()["stage"]
    assert result.error_kind is ErrorKind.ACCESS_DENIED
    assert "arn:aws:iam::481039572864:role/allow-full-access-from-other-accounts" in str(result.error)
    assert "trust policy" in str(result.error)
    assert access.is_blocked("stage")


# -- MFA -------------------------------------------------------------------------------------------------


def test_mfa_one_code_serves_all_five_accounts(make_real_access: Callable[..., AwsAccess]) -> None:
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return "123456"

    access = make_real_access(mfa_prompt=prompt)
    config = AuthConfig(method=AuthMethod.KEYS, assume_roles=True, mfa_serial=MFA_SERIAL)
    access.configure_keys(config, ACCESS_KEY, SECRET_KEY)
    results = access.check_all()
    assert all(r.ok for r in results.values()), [r.explanation for r in results.values()]
    assert len(asked) == 1 and MFA_SERIAL in asked[0]
    # the cached MFA session is reused by a second check: no new prompt
    access.check_all()
    assert len(asked) == 1
    # refreshing the MFA session (it expired) asks again
    mfa_session = access._mfa_sessions[None]
    assert force_refresh(mfa_session.get_credentials())
    assert len(asked) == 2


def test_malformed_mfa_code_is_asked_again_and_never_sent(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState
) -> None:
    only(real_state, "dev")
    answers = iter(["12345", "abcdef", "654321"])
    box: list[Stubber] = []

    def prepare(s: Stubber) -> None:
        s.add_response(
            "get_session_token",
            {"Credentials": _credentials(1)},
            expected_params={"SerialNumber": MFA_SERIAL, "TokenCode": "654321", "DurationSeconds": 43200},
        )

    access = make_real_access(
        mfa_prompt=lambda _q: next(answers), client_hook=_stub(("source", "sts"), box, prepare)
    )
    access.configure_keys(
        AuthConfig(method=AuthMethod.KEYS, assume_roles=True, mfa_serial=MFA_SERIAL), ACCESS_KEY, SECRET_KEY
    )
    access.check_all()
    box[0].assert_no_pending_responses()


def test_wrong_mfa_code_is_reported(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState
) -> None:
    only(real_state, "dev")
    box: list[Stubber] = []
    hook = _stub(
        ("source", "sts"),
        box,
        lambda s: s.add_client_error(
            "get_session_token",
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
            403,
        ),
    )
    access = make_real_access(mfa_prompt=lambda _q: "000000", client_hook=hook)
    access.configure_keys(
        AuthConfig(method=AuthMethod.KEYS, assume_roles=True, mfa_serial=MFA_SERIAL), ACCESS_KEY, SECRET_KEY
    )
    result = access.check_all()["dev"]
    assert result.error_kind is ErrorKind.MFA_INVALID
    assert "rejected the MFA code" in str(result.error)


def test_cancelled_mfa_prompt_checks_nothing(make_real_access: Callable[..., AwsAccess]) -> None:
    access = make_real_access(mfa_prompt=lambda _q: "")
    access.configure_keys(
        AuthConfig(method=AuthMethod.KEYS, assume_roles=True, mfa_serial=MFA_SERIAL), ACCESS_KEY, SECRET_KEY
    )
    results = access.check_all()
    assert {r.error_kind for r in results.values()} == {ErrorKind.MFA_CANCELLED}


def test_access_denied_naming_mfa_finds_the_device_and_asks(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState, workspace: Workspace
) -> None:
    only(real_state, "dev")
    asked: list[str] = []
    stubbers: list[Stubber] = []

    def hook(who: str, service: str, client: Any) -> None:
        stubber = Stubber(client)
        if (who, service) == ("source", "sts") and not any(
            s.client.meta.service_model.service_name == "sts" for s in stubbers
        ):
            stubber.add_client_error(
                "assume_role", "AccessDenied", "Cannot assume role: MFA authentication required", 403
            )
            stubber.add_response(
                "get_caller_identity",
                {
                    "UserId": "AIDA1",
                    "Account": ACCOUNTS["security"],
                    "Arn": f"arn:aws:iam::{ACCOUNTS['security']}:user/operator",
                },
            )
            stubber.add_response("get_session_token", {"Credentials": _credentials(2)})
        elif (who, service) == ("source", "iam"):
            stubber.add_response(
                "list_mfa_devices",
                {
                    "MFADevices": [
                        {"UserName": "operator", "SerialNumber": MFA_SERIAL, "EnableDate": datetime.now(UTC)}
                    ]
                },
                expected_params={"UserName": "operator"},
            )
        elif (who, service) == ("source", "sts"):  # the MFA session's client
            stubber.add_response(
                "assume_role",
                {
                    "Credentials": _credentials(3),
                    "AssumedRoleUser": {
                        "AssumedRoleId": "AROA1:x",
                        "Arn": "arn:aws:sts::368294012756:assumed-role/r/x",
                    },
                },
            )
        elif (who, service) == ("dev", "sts"):
            stubber.add_response(
                "get_caller_identity",
                {
                    "UserId": "AROA1:x",
                    "Account": ACCOUNTS["dev"],
                    "Arn": "arn:aws:sts::368294012756:assumed-role/r/x",
                },
            )
        else:
            return
        stubber.activate()
        stubbers.append(stubber)

    access = make_real_access(mfa_prompt=lambda q: asked.append(q) or "112233", client_hook=hook)
    access.configure_keys(AuthConfig(method=AuthMethod.KEYS, assume_roles=True), ACCESS_KEY, SECRET_KEY)
    result = access.check_all()["dev"]
    assert result.ok, result.explanation
    assert len(asked) == 1 and MFA_SERIAL in asked[0]
    assert access.config.mfa_serial == MFA_SERIAL  # remembered in workspace settings
    assert workspace.load().settings["auth"]["mfa_serial"] == MFA_SERIAL
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


# -- expiry ----------------------------------------------------------------------------------------------


def test_expired_token_mid_session_is_refreshed(sandbox_access: AwsAccess) -> None:
    assert sandbox_access.check("dev").ok
    session = sandbox_access._account_session("dev")
    before = session.credentials.get_frozen_credentials().access_key
    client = sandbox_access._account_client(session, "sts")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "get_caller_identity",
            "ExpiredToken",
            "The security token included in the request is expired",
            400,
        )
        stubber.add_response(
            "get_caller_identity",
            {
                "UserId": "AROA:refarch-tui",
                "Account": ACCOUNTS["dev"],
                "Arn": f"arn:aws:sts::{ACCOUNTS['dev']}:assumed-role/{DEFAULT_ROLE_NAME}/refarch-tui",
            },
        )
        result = sandbox_access.check("dev")
        stubber.assert_no_pending_responses()
    assert result.ok, result.explanation
    assert session.credentials.get_frozen_credentials().access_key != before


def test_expired_token_that_cannot_refresh_says_what_to_do(sandbox_access: AwsAccess) -> None:
    sandbox_access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True, role_arns={"dev": ""}))
    sandbox_access.check("dev")
    session = sandbox_access._account_session("dev")
    client = sandbox_access._account_client(session, "sts")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "get_caller_identity",
            "ExpiredToken",
            "The security token included in the request is expired",
            400,
        )
        result = sandbox_access.check("dev")
    assert result.error_kind is ErrorKind.EXPIRED
    assert "expired" in str(result.error)


def test_time_left_and_short_session_warning(sandbox_access: AwsAccess) -> None:
    sandbox_access.check_all()
    left = sandbox_access.time_left("prod")
    assert left is not None and timedelta(minutes=50) < left <= timedelta(hours=1)
    assert sandbox_access.warn_if_short("prod") is None
    warning = sandbox_access.warn_if_short("prod", minimum=timedelta(hours=2))
    assert warning is not None and "prod" in warning and "120 minutes" in warning


# -- profiles and SSO ------------------------------------------------------------------------------------


def _write_config(home: Path, text: str) -> None:
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    (home / ".aws" / "config").write_text(text, encoding="utf-8")


def test_unknown_profile_lists_the_known_ones(
    make_real_access: Callable[..., AwsAccess], isolated_home: Path
) -> None:
    _write_config(
        isolated_home, "[profile ops]\nregion = us-east-1\naws_access_key_id = AKIAIOSFODNN7OPSKEY1\n"
    )
    access = make_real_access()
    with pytest.raises(AwsAccessError, match="no AWS profile named 'nope'") as caught:
        access.configure(AuthConfig(method=AuthMethod.PROFILE, profile="nope"))
    assert caught.value.kind is ErrorKind.UNKNOWN_PROFILE
    assert "ops" in str(caught.value)


def test_profile_removed_after_configuration_is_reported_per_account(
    make_real_access: Callable[..., AwsAccess], isolated_home: Path
) -> None:
    _write_config(
        isolated_home,
        f"[profile ops]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n",
    )
    access = make_real_access()
    access.configure(AuthConfig(method=AuthMethod.PROFILE, profile="ops", assume_roles=True))
    assert all(r.ok for r in access.check_all().values())
    _write_config(isolated_home, "")
    access.reset()
    results = access.check_all()
    assert {r.error_kind for r in results.values()} == {ErrorKind.UNKNOWN_PROFILE}


def test_sso_token_missing_then_logged_in(
    make_real_access: Callable[..., AwsAccess], isolated_home: Path
) -> None:
    _write_config(
        isolated_home,
        "[profile corp]\nsso_session = corp\nsso_account_id = 104983213567\nsso_role_name = Admin\n"
        "region = us-east-1\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = us-east-1\n",
    )
    access = make_real_access()
    access.configure(AuthConfig(method=AuthMethod.PROFILE, profile="corp", assume_roles=True))
    results = access.check_all()
    assert {r.error_kind for r in results.values()} == {ErrorKind.SSO_LOGIN}
    assert "`aws sso login --profile corp`" in str(results["dev"].error)

    import hashlib

    from refarch_tui.aws.profiles import get_profile, sso_cache_dir, sso_status

    cache = sso_cache_dir()
    cache.mkdir(parents=True)
    token_file = cache / (hashlib.sha1(b"corp").hexdigest() + ".json")
    expired = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token_file.write_text(json.dumps({"accessToken": "tok", "expiresAt": expired}))
    status = sso_status(get_profile("corp"))
    assert not status.ok and "expired" in status.message and "aws sso login --profile corp" in status.message
    valid = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token_file.write_text(json.dumps({"accessToken": "tok", "expiresAt": valid}))
    assert sso_status(get_profile("corp")).ok


# -- network ---------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_fails_fast_with_a_clear_message(
    sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=endpoint)
    access.configure(AuthConfig(assume_roles=True))
    results = access.check_all()
    assert {r.error_kind for r in results.values()} == {ErrorKind.UNREACHABLE}
    assert f"Cannot reach {endpoint}" in str(results["security"].error)


def test_connection_errors_from_botocore_read_as_unreachable() -> None:
    from botocore.exceptions import EndpointConnectionError

    error = explain(
        EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"),
        endpoint="https://sts.amazonaws.com",
    )
    assert error.kind is ErrorKind.UNREACHABLE and "Cannot reach https://sts.amazonaws.com" in error.message


def test_throttling_is_retried(moto: str, sandbox_state: WorkspaceState, workspace: Workspace) -> None:
    only(sandbox_state, "dev")
    attempts: list[int] = []

    def throttle_twice(request: Any, **_kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) <= 2:
            return sts_error_response(request.url, "Throttling", "Rate exceeded")
        return None

    def hook(who: str, service: str, client: Any) -> None:
        if (who, service) == ("dev", "sts"):
            client.meta.events.register("before-send.sts.GetCallerIdentity", throttle_twice)

    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto, client_hook=hook)
    access.configure(AuthConfig(assume_roles=True))
    result = access.check_all()["dev"]
    assert result.ok, result.explanation
    assert len(attempts) == 3


def test_throttling_that_never_stops_reads_clearly() -> None:
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetCallerIdentity")
    error = explain(exc)
    assert error.kind is ErrorKind.THROTTLED and "throttling" in error.message


def test_expired_token_of_a_profile_rereads_the_profile(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState, isolated_home: Path
) -> None:
    only(real_state, "dev")
    _write_config(
        isolated_home,
        f"[profile ops]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n",
    )
    dev_clients: list[Any] = []

    def hook(who: str, service: str, client: Any) -> None:
        if (who, service) == ("dev", "sts"):
            if not dev_clients:
                stubber = Stubber(client)
                stubber.add_client_error("get_caller_identity", "ExpiredToken", "The token is expired", 400)
                stubber.activate()
            dev_clients.append(client)

    access = make_real_access(client_hook=hook)
    access.configure(AuthConfig(method=AuthMethod.PROFILE, profile="ops", role_arns={}))
    result = access.check("dev")
    assert result.error is None, result.error
    assert result.reached_id is not None
    assert len(dev_clients) == 2
