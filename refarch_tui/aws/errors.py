"""Operator-readable AWS errors: every botocore failure becomes one sentence saying what happened and what
to do.

Messages pass through the secrets redactor, so a key or token echoed by AWS or botocore never reaches a
screen, a log or the journal.
"""

from __future__ import annotations

from enum import StrEnum

from refarch_tui import secrets


class ErrorKind(StrEnum):
    BAD_KEY_FORMAT = "bad-key-format"
    INVALID_KEYS = "invalid-keys"
    ACCESS_DENIED = "access-denied"
    MFA_REQUIRED = "mfa-required"
    MFA_INVALID = "mfa-invalid"
    MFA_CANCELLED = "mfa-cancelled"
    EXPIRED = "expired-token"
    UNKNOWN_PROFILE = "unknown-profile"
    SSO_LOGIN = "sso-login"
    UNREACHABLE = "unreachable"
    THROTTLED = "throttled"
    NO_CREDENTIALS = "no-credentials"
    NOT_CONFIGURED = "not-configured"
    BLOCKED = "blocked"
    KEYRING = "keyring"
    OTHER = "other"


class AwsAccessError(Exception):
    """An AWS access problem the operator can act on; `str(err)` is the sentence to show."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(secrets.redact(message))
        self.kind = kind

    @property
    def message(self) -> str:
        return str(self)


class AccountBlocked(AwsAccessError):
    """Refusal to act in an account whose identity is not confirmed (or resolves to another account)."""

    def __init__(self, account: str, reason: str) -> None:
        super().__init__(ErrorKind.BLOCKED, f"Account {account} is blocked: {reason}")
        self.account = account


_MFA_WORDS = ("multifactor", "multi-factor", "mfa")
_THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
}
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_INVALID_KEY_CODES = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "AuthFailure",
}


def mentions_mfa(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _MFA_WORDS)


def _client_error_parts(exc: BaseException) -> tuple[str, str, str]:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(error.get("Code", "") or "")
    message = str(error.get("Message", "") or "")
    operation = str(getattr(exc, "operation_name", "") or "")
    return code, message, operation


def client_error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    return _client_error_parts(exc)[0]


def client_error_message(exc: BaseException) -> str:
    """The AWS error message of a botocore ClientError (the exception's text for anything else)."""
    return _client_error_parts(exc)[1] or str(exc)


def explain(
    exc: BaseException,
    *,
    endpoint: str | None = None,
    profile: str | None = None,
    role_arn: str | None = None,
) -> AwsAccessError:
    """Turn any exception raised while talking to AWS into an AwsAccessError with the action to take."""
    if isinstance(exc, AwsAccessError):
        return exc
    from botocore import exceptions as bex

    where = endpoint or "the AWS endpoint"
    if isinstance(exc, bex.ProfileNotFound):
        name = profile or getattr(exc, "kwargs", {}).get("profile", "?")
        return AwsAccessError(
            ErrorKind.UNKNOWN_PROFILE,
            f"There is no AWS profile named {name!r} in your AWS config or credentials file. "
            "Pick one of the listed profiles, or add it with `aws configure --profile "
            f"{name}`.",
        )
    sso_errors: tuple[type[BaseException], ...] = (bex.SSOTokenLoadError, bex.UnauthorizedSSOTokenError)
    sso_errors += (bex.TokenRetrievalError, bex.SSOError)
    if isinstance(exc, sso_errors):
        login = f"aws sso login --profile {profile}" if profile else "aws sso login"
        return AwsAccessError(
            ErrorKind.SSO_LOGIN,
            f"The AWS SSO session is missing or expired. Run `{login}` in a terminal, then check again.",
        )
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError | bex.ConnectionClosedError):
        return AwsAccessError(
            ErrorKind.UNREACHABLE,
            f"Cannot reach {where}: the connection failed. Check the network (proxy, VPN, firewall); "
            "in the sandbox, check that the emulator is running.",
        )
    if isinstance(exc, bex.ReadTimeoutError):
        return AwsAccessError(
            ErrorKind.UNREACHABLE, f"{where} did not answer in time. Check the network, then try again."
        )
    if isinstance(exc, bex.NoCredentialsError):
        return AwsAccessError(
            ErrorKind.NO_CREDENTIALS,
            "No AWS credentials were found for this choice. Type access keys, pick a profile, or export "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY before starting refarch-tui.",
        )
    if isinstance(exc, bex.PartialCredentialsError):
        return AwsAccessError(
            ErrorKind.NO_CREDENTIALS,
            f"Incomplete AWS credentials: {exc}. Provide both the key ID and secret.",
        )
    if isinstance(exc, bex.CredentialRetrievalError):
        return AwsAccessError(
            ErrorKind.NO_CREDENTIALS,
            f"Could not get credentials for profile {profile!r}: {exc}. Run the profile's credential "
            "command by hand to see why.",
        )
    if isinstance(exc, bex.ClientError):
        code, message, operation = _client_error_parts(exc)
        if code in _INVALID_KEY_CODES:
            return AwsAccessError(
                ErrorKind.INVALID_KEYS,
                "AWS does not recognise these credentials (the access key or secret key is wrong, deleted "
                "or inactive). Create a new access key in the IAM console and enter it again.",
            )
        if code in _EXPIRED_CODES:
            return AwsAccessError(
                ErrorKind.EXPIRED,
                "The AWS session token has expired. Check again to get a new session; if you typed a "
                "session token, paste a fresh one.",
            )
        if code in _THROTTLE_CODES:
            return AwsAccessError(
                ErrorKind.THROTTLED,
                f"AWS kept throttling {operation or 'the request'} after several retries. Wait a minute "
                "and try again.",
            )
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            lowered = message.lower()
            if mentions_mfa(message) and ("failed" in lowered or "invalid" in lowered):
                return AwsAccessError(
                    ErrorKind.MFA_INVALID,
                    "AWS rejected the MFA code (wrong, expired, or already used). Wait for the next "
                    "code and enter it again.",
                )
            if mentions_mfa(message):
                return AwsAccessError(
                    ErrorKind.MFA_REQUIRED,
                    "This role requires MFA. Enter the MFA device ARN (mfa_serial) and a code.",
                )
            if operation == "AssumeRole":
                target = role_arn or "the role"
                return AwsAccessError(
                    ErrorKind.ACCESS_DENIED,
                    f"Not allowed to assume {target}. Check the role ARN, and that the role's trust policy "
                    "lets your identity assume it; if the role requires MFA, enter your MFA device ARN.",
                )
            return AwsAccessError(
                ErrorKind.ACCESS_DENIED,
                f"Access denied for {operation or 'the request'}: {message or code}.",
            )
        if code == "MultiFactorAuthentication" or (mentions_mfa(message) and "invalid" in message.lower()):
            return AwsAccessError(
                ErrorKind.MFA_INVALID,
                "AWS rejected the MFA code (wrong, expired, or already used). Enter the next code.",
            )
        return AwsAccessError(
            ErrorKind.OTHER, f"AWS error {code or 'unknown'} in {operation or 'a request'}: {message}"
        )
    if isinstance(exc, bex.BotoCoreError):
        return AwsAccessError(ErrorKind.OTHER, f"AWS client error: {exc}")
    if isinstance(exc, OSError):
        return AwsAccessError(ErrorKind.UNREACHABLE, f"Cannot reach {where}: {exc.strerror or exc}.")
    return AwsAccessError(ErrorKind.OTHER, f"Unexpected error: {type(exc).__name__}: {exc}")
