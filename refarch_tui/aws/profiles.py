"""Named AWS profiles from ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE honoured), each with its kind, and the state of SSO logins."""

from __future__ import annotations

import configparser
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from refarch_tui.aws.errors import AwsAccessError, ErrorKind


class ProfileKind(StrEnum):
    KEYS = "keys"
    ROLE = "role"
    SSO = "sso"
    PROCESS = "credential_process"
    OTHER = "other"


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    kind: ProfileKind
    region: str | None = None
    role_arn: str | None = None
    source_profile: str | None = None
    mfa_serial: str | None = None
    sso_session: str | None = None
    sso_start_url: str | None = None
    sso_account_id: str | None = None

    def describe(self) -> str:
        if self.kind is ProfileKind.ROLE:
            return f"{self.name} (role {self.role_arn}{' + MFA' if self.mfa_serial else ''})"
        if self.kind is ProfileKind.SSO:
            account = f" account {self.sso_account_id}" if self.sso_account_id else ""
            return f"{self.name} (SSO{account})"
        if self.kind is ProfileKind.PROCESS:
            return f"{self.name} (credential_process)"
        if self.kind is ProfileKind.KEYS:
            return f"{self.name} (access keys{' + MFA' if self.mfa_serial else ''})"
        return f"{self.name} (no credentials of its own)"


def config_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def sso_cache_dir() -> Path:
    return Path("~/.aws/sso/cache").expanduser()


def _read(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise AwsAccessError(ErrorKind.OTHER, f"{path} cannot be read as an AWS config file: {exc}") from None
    return parser


def _raw_profiles(
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(profiles, sso-sessions): config-file sections merged with the credentials file (which wins)."""
    profiles: dict[str, dict[str, str]] = {}
    sessions: dict[str, dict[str, str]] = {}
    config = _read(config_file(env))
    for section in config.sections():
        values = {k: v.strip() for k, v in config.items(section)}
        if section == "default":
            profiles.setdefault("default", {}).update(values)
        elif section.startswith("profile "):
            profiles.setdefault(section[len("profile ") :].strip(), {}).update(values)
        elif section.startswith("sso-session "):
            sessions[section[len("sso-session ") :].strip()] = values
    credentials = _read(credentials_file(env))
    for section in credentials.sections():
        profiles.setdefault(section.strip(), {}).update({k: v.strip() for k, v in credentials.items(section)})
    return profiles, sessions


def _info(name: str, values: dict[str, str], sessions: dict[str, dict[str, str]]) -> ProfileInfo:
    if values.get("role_arn"):
        kind = ProfileKind.ROLE
    elif values.get("sso_session") or values.get("sso_start_url"):
        kind = ProfileKind.SSO
    elif values.get("credential_process"):
        kind = ProfileKind.PROCESS
    elif values.get("aws_access_key_id"):
        kind = ProfileKind.KEYS
    else:
        kind = ProfileKind.OTHER
    session = values.get("sso_session")
    start_url = values.get("sso_start_url") or (
        sessions.get(session, {}).get("sso_start_url") if session else None
    )
    return ProfileInfo(
        name=name,
        kind=kind,
        region=values.get("region"),
        role_arn=values.get("role_arn"),
        source_profile=values.get("source_profile"),
        mfa_serial=values.get("mfa_serial"),
        sso_session=session,
        sso_start_url=start_url,
        sso_account_id=values.get("sso_account_id"),
    )


def list_profiles(env: Mapping[str, str] | None = None) -> list[ProfileInfo]:
    profiles, sessions = _raw_profiles(env)
    return [_info(name, values, sessions) for name, values in sorted(profiles.items())]


def get_profile(name: str, env: Mapping[str, str] | None = None) -> ProfileInfo:
    profiles, sessions = _raw_profiles(env)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise AwsAccessError(
            ErrorKind.UNKNOWN_PROFILE,
            f"There is no AWS profile named {name!r} in {config_file(env)} or {credentials_file(env)} "
            f"(profiles found: {known}). Pick one of those, or add it with `aws configure --profile {name}`.",
        )
    return _info(name, profiles[name], sessions)


def sso_login_command(profile: str) -> str:
    return f"aws sso login --profile {profile}"


@dataclass(frozen=True)
class SsoStatus:
    ok: bool
    message: str
    expires_at: datetime | None = None


def sso_status(profile: ProfileInfo, *, now: datetime | None = None) -> SsoStatus:
    """Whether the SSO login a profile relies on is cached and still valid (looked up like botocore)."""
    now = now or datetime.now(UTC)
    key_source = profile.sso_session or profile.sso_start_url
    login = sso_login_command(profile.name)
    if not key_source:
        return SsoStatus(
            False, f"Profile {profile.name!r} has no sso_session or sso_start_url. Fix the profile."
        )
    cache = sso_cache_dir() / (hashlib.sha1(key_source.encode("utf-8")).hexdigest() + ".json")
    try:
        token = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return SsoStatus(
            False, f"Not logged in to AWS SSO for profile {profile.name!r}. Run `{login}`, then check again."
        )
    expires_raw = str(token.get("expiresAt") or "")
    try:
        expires = datetime.fromisoformat(expires_raw.replace("Z", "+00:00"))
    except ValueError:
        return SsoStatus(False, f"The cached SSO login for {profile.name!r} is unreadable. Run `{login}`.")
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= now and not token.get("refreshToken"):
        return SsoStatus(
            False,
            f"The AWS SSO login for profile {profile.name!r} has expired. Run `{login}`, then check again.",
            expires,
        )
    return SsoStatus(True, f"SSO login valid until {expires:%Y-%m-%d %H:%M} UTC", expires)
