"""The operator's choice of how to reach AWS (non-secret parts only) and the per-account identity results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from refarch_tui.aws.errors import AwsAccessError, ErrorKind

SETTINGS_KEY = "auth"
DEFAULT_ROLE_NAME = "allow-full-access-from-other-accounts"
DEFAULT_SESSION_NAME = "refarch-tui"
DEFAULT_DURATION = 3600
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+$")
MFA_SERIAL = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:(mfa|u2f)/[\w+=,.@/-]+|[A-Z0-9]{9,64})$")


def default_role_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{DEFAULT_ROLE_NAME}"


class AuthMethod(StrEnum):
    KEYS = "keys"  # typed in the Authenticate screen, kept in the OS keyring
    ENV = "env"  # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN of the parent environment
    PROFILE = "profile"  # a named profile (keys, role, SSO, credential_process)


class ChildEnvMode(StrEnum):
    SESSION = "session"  # every child process gets the account's own session credentials
    TERRAGRUNT_ROLE = (
        "terragrunt-role"  # terragrunt gets the source keys + TERRAGRUNT_IAM_ROLE/TG_IAM_ASSUME_ROLE
    )


@dataclass
class AuthConfig:
    """What workspace state remembers about authentication: never a key, token or code."""

    method: AuthMethod = AuthMethod.KEYS
    profile: str | None = None
    account_profiles: dict[str, str] = field(default_factory=dict)
    assume_roles: bool = False
    role_arns: dict[str, str] = field(
        default_factory=dict
    )  # per-account override; "" = use the source directly
    mfa_serial: str | None = None
    child_env: ChildEnvMode = ChildEnvMode.SESSION
    duration_seconds: int = DEFAULT_DURATION
    session_name: str = DEFAULT_SESSION_NAME

    def role_for(self, account: str, account_id: str | None) -> str | None:
        if not self.assume_roles:
            return None
        if account in self.role_arns:
            return self.role_arns[account] or None
        return default_role_arn(account_id) if account_id else None

    def profile_for(self, account: str) -> str | None:
        if self.method is not AuthMethod.PROFILE:
            return None
        return self.account_profiles.get(account) or self.profile

    def validate(self, accounts: dict[str, str | None]) -> None:
        """Refuse role ARNs, MFA serials or profile choices that cannot be right, before anything is saved."""
        if self.method is AuthMethod.PROFILE and not self.profile and not self.account_profiles:
            raise AwsAccessError(ErrorKind.NOT_CONFIGURED, "Pick an AWS profile.")
        if self.mfa_serial and not MFA_SERIAL.match(self.mfa_serial):
            raise AwsAccessError(
                ErrorKind.OTHER,
                f"{self.mfa_serial!r} is not an MFA device ARN (arn:aws:iam::<account>:mfa/<name>) "
                "or a hardware MFA serial.",
            )
        if not 900 <= self.duration_seconds <= 43200:
            raise AwsAccessError(ErrorKind.OTHER, "Session duration must be between 900 and 43200 seconds.")
        for account, arn in self.role_arns.items():
            if not arn:
                continue
            match = ROLE_ARN.match(arn)
            if not match:
                raise AwsAccessError(
                    ErrorKind.OTHER,
                    f"The role for {account} ({arn!r}) is not an IAM role ARN like "
                    f"{default_role_arn('111122223333')}.",
                )
            expected = accounts.get(account)
            if expected and match.group(1) != expected:
                raise AwsAccessError(
                    ErrorKind.OTHER,
                    f"The role for {account} is in account {match.group(1)}, but {account} is {expected} in "
                    "this workspace. Fix the role ARN so it names the same account.",
                )

    @classmethod
    def use_sandbox_default(cls, settings: dict[str, Any]) -> None:
        """A sandbox that has not chosen yet gets the default the Authenticate screen offers there:
        the security account's keys plus a role in each account."""
        settings.setdefault(SETTINGS_KEY, cls(assume_roles=True).to_settings())

    def to_settings(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "profile": self.profile,
            "account_profiles": dict(self.account_profiles),
            "assume_roles": self.assume_roles,
            "role_arns": dict(self.role_arns),
            "mfa_serial": self.mfa_serial,
            "child_env": self.child_env.value,
            "duration_seconds": self.duration_seconds,
            "session_name": self.session_name,
        }

    @classmethod
    def from_settings(cls, data: dict[str, Any] | None) -> AuthConfig:
        data = data or {}
        try:
            return cls(
                method=AuthMethod(data.get("method", AuthMethod.KEYS.value)),
                profile=data.get("profile") or None,
                account_profiles={str(k): str(v) for k, v in (data.get("account_profiles") or {}).items()},
                assume_roles=bool(data.get("assume_roles", False)),
                role_arns={str(k): str(v) for k, v in (data.get("role_arns") or {}).items()},
                mfa_serial=data.get("mfa_serial") or None,
                child_env=ChildEnvMode(data.get("child_env", ChildEnvMode.SESSION.value)),
                duration_seconds=int(data.get("duration_seconds", DEFAULT_DURATION)),
                session_name=str(data.get("session_name") or DEFAULT_SESSION_NAME),
            )
        except (ValueError, TypeError):
            return cls()


class IdentityStatus(StrEnum):
    OK = "ok"
    BLOCKED = "blocked"
    ERROR = "error"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class IdentityResult:
    """What `sts get-caller-identity` said for one account, or why it could not be asked."""

    account: str
    expected_id: str | None
    reached_id: str | None = None
    arn: str | None = None
    expires_at: datetime | None = None
    via: str = ""
    error: str | None = None
    error_kind: ErrorKind | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def status(self) -> IdentityStatus:
        if self.error is not None:
            return IdentityStatus.ERROR
        if self.reached_id is None:
            return IdentityStatus.UNCHECKED
        if self.expected_id is None or self.reached_id != self.expected_id:
            return IdentityStatus.BLOCKED
        return IdentityStatus.OK

    @property
    def ok(self) -> bool:
        return self.status is IdentityStatus.OK

    @property
    def blocked(self) -> bool:
        """The credentials work but reach another account (or one the workspace cannot confirm)."""
        return self.status is IdentityStatus.BLOCKED

    @property
    def explanation(self) -> str:
        status = self.status
        if status is IdentityStatus.OK:
            return f"{self.account}: {self.arn}"
        if status is IdentityStatus.ERROR:
            return f"{self.account}: {self.error}"
        if status is IdentityStatus.UNCHECKED:
            return f"{self.account}: identity not checked yet"
        if self.expected_id is None:
            return (
                f"BLOCKED — the workspace has no account ID for {self.account}, so the identity "
                f"{self.arn} cannot be confirmed. Add the ID to {self.account}/account.hcl."
            )
        return (
            f"BLOCKED — {self.account} is {self.expected_id} in the workspace, but these credentials reach "
            f"account {self.reached_id} ({self.arn}). Nothing will run in {self.account} until a check "
            "reaches the right account: fix the role ARN, profile or keys for it."
        )

    @property
    def summary(self) -> str:
        """One short line for a header: the ARN and time left, or why the account is not usable."""
        status = self.status
        if status is IdentityStatus.OK:
            return f"{self.arn} ({format_time_left(self.time_left())} left)"
        if status is IdentityStatus.BLOCKED:
            return f"BLOCKED (reaches {self.reached_id})"
        if status is IdentityStatus.ERROR:
            return f"error: {self.error_kind.value if self.error_kind else 'see Authenticate'}"
        return "not checked"

    def time_left(self, now: datetime | None = None) -> timedelta | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (now or datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        left = self.time_left()
        return {
            "account": self.account,
            "expected_id": self.expected_id,
            "status": self.status.value,
            "account_id": self.reached_id,
            "arn": self.arn,
            "via": self.via,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "seconds_left": int(left.total_seconds()) if left is not None else None,
            "error": self.error,
            "error_kind": self.error_kind.value if self.error_kind else None,
            "explanation": self.explanation,
        }


def format_time_left(left: timedelta | None) -> str:
    if left is None:
        return "no expiry"
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


@dataclass(frozen=True)
class OrgCheck:
    """The live repo's accounts compared with `organizations list-accounts`, when the identity may call it."""

    checked: bool
    message: str
    missing_in_org: tuple[
        tuple[str, str], ...
    ] = ()  # (account name, id) in the repo, not in the organization
    not_in_repo: tuple[tuple[str, str], ...] = ()  # (id, name) in the organization, not in the repo

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "message": self.message,
            "missing_in_org": [{"account": n, "id": i} for n, i in self.missing_in_org],
            "not_in_repo": [{"id": i, "name": n} for i, n in self.not_in_repo],
        }
