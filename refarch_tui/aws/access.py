"""`AwsAccess`: the service the App owns. It builds one session per account (keys, environment, profile,
assume-role, MFA), confirms each account's identity in parallel, refreshes sessions before they expire, and
refuses to act in an account whose identity does not match the workspace.

Every method may block on the network: call them from thread workers, never from the UI thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from refarch_tui import secrets
from refarch_tui.aws import clients, mfa
from refarch_tui.aws.auth import (
    SETTINGS_KEY,
    AuthConfig,
    AuthMethod,
    ChildEnvMode,
    IdentityResult,
    IdentityStatus,
    OrgCheck,
    format_time_left,
)
from refarch_tui.aws.child_env import ChildCredentials, environment_for
from refarch_tui.aws.errors import AccountBlocked, AwsAccessError, ErrorKind, explain
from refarch_tui.aws.keys import SANDBOX_KEYS, AccessKeys, keys_from_env, load_keys, store_keys, validate_keys
from refarch_tui.aws.profiles import ProfileInfo, ProfileKind, get_profile, list_profiles, sso_status
from refarch_tui.state import Mode

if TYPE_CHECKING:
    import boto3
    from botocore.credentials import Credentials

    from refarch_tui.state import Workspace, WorkspaceState

log = logging.getLogger(__name__)

# Called with (who, service, client) for every client this module creates; who is an account name or "source".
# Tests attach botocore Stubbers or event handlers here.
ClientHook = Callable[[str, str, Any], None]

SOURCE = "source"
MANAGEMENT = "management"  # the organization's management account (its keys are known in the sandbox only)
SHORT_WARNING = timedelta(minutes=15)
MFA_SESSION_SECONDS = 43200  # one MFA code serves every account for up to 12 hours


@dataclass
class _AccountSession:
    account: str
    session: boto3.Session
    credentials: Credentials
    role_arn: str | None
    via: str
    clients: dict[str, Any] = field(default_factory=dict)

    def expires_at(self) -> datetime | None:
        expiry = getattr(self.credentials, "_expiry_time", None)
        if isinstance(expiry, datetime):
            return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)
        return None


def _refreshable(fetch: Callable[[], dict[str, str]], method: str) -> Credentials:
    from botocore.credentials import RefreshableCredentials

    return RefreshableCredentials.create_from_metadata(fetch(), refresh_using=fetch, method=method)


def force_refresh(credentials: Credentials) -> bool:
    """Fetch new credentials now (assume the role again); False when these credentials cannot refresh."""
    refresh = getattr(credentials, "_protected_refresh", None)
    lock = getattr(credentials, "_refresh_lock", None)
    if refresh is None or lock is None:
        return False
    with lock:
        refresh(is_mandatory=True)
    return True


def _session_with(credentials: Credentials, region: str) -> boto3.Session:
    """An isolated boto3 session whose only credential source is `credentials` (refreshed by botocore)."""
    import boto3
    from botocore.credentials import CredentialProvider, CredentialResolver

    class _Fixed(CredentialProvider):
        METHOD = "refarch-tui"
        CANONICAL_NAME = "refarch-tui"

        def load(self) -> Credentials:
            return credentials

    core = clients.isolated_core()
    core.register_component("credential_provider", CredentialResolver([_Fixed()]))
    return boto3.Session(botocore_session=core, region_name=region)


class AwsAccess:
    """Sessions and identity per account for one workspace. Thread-safe; blocking; no Textual."""

    def __init__(
        self,
        state: WorkspaceState,
        *,
        workspace: Workspace | None = None,
        workspace_id: str | None = None,
        endpoint_url: str | None = None,
        mfa_prompt: mfa.MfaPrompt | None = None,
        client_hook: ClientHook | None = None,
        env: Mapping[str, str] | None = None,
        sandbox_keys: AccessKeys = SANDBOX_KEYS,
        organization_keys: AccessKeys | None = None,
    ) -> None:
        from refarch_tui.aws.keys import workspace_key_id

        self.state = state
        self.workspace = workspace
        if workspace_id is None:
            workspace_id = workspace_key_id(workspace.directory) if workspace else "default"
        self.workspace_id = workspace_id
        self.sandbox = state.mode is Mode.SANDBOX
        if self.sandbox and not endpoint_url:
            raise AwsAccessError(
                ErrorKind.NOT_CONFIGURED, "Sandbox mode needs the emulator endpoint; start it first."
            )
        self.endpoint_url = endpoint_url
        self.sandbox_keys = sandbox_keys
        # the sandbox emulator's management account: lets the sandbox compare its seeded organization
        self.organization_keys = organization_keys if self.sandbox else None
        self.mfa_prompt = mfa_prompt
        self.client_hook = client_hook
        self._env = env
        self._lock = threading.RLock()
        self._mfa_lock = threading.Lock()
        self._sources: dict[str | None, boto3.Session] = {}
        self._mfa_sessions: dict[str | None, boto3.Session] = {}  # per source profile
        self._sessions: dict[str, _AccountSession] = {}
        self._results: dict[str, IdentityResult] = {}
        self._source_clients: dict[tuple[str | None, str], Any] = {}

    # -- configuration ---------------------------------------------------------------------------------

    @property
    def config(self) -> AuthConfig:
        return AuthConfig.from_settings(self.state.settings.get(SETTINGS_KEY))

    @property
    def region(self) -> str:
        return self.state.regions[0] if self.state.regions else clients.DEFAULT_REGION

    def account_ids(self) -> dict[str, str | None]:
        return {a.name: a.id for a in self.state.accounts}

    def configure(self, config: AuthConfig, *, keys: AccessKeys | None = None) -> None:
        """Validate and remember the choice (settings only) and typed keys (keyring only); drop old sessions.

        In sandbox mode typed keys are ignored and never stored: the emulator's fixed fake keys are used.
        """
        config.validate(self.account_ids())
        if not self.sandbox:
            if config.method is AuthMethod.KEYS:
                if keys is not None:
                    store_keys(self.workspace_id, keys)
                elif load_keys(self.workspace_id) is None:
                    raise AwsAccessError(
                        ErrorKind.NO_CREDENTIALS, "Type the access key ID and secret access key."
                    )
            elif config.method is AuthMethod.ENV and keys_from_env(self._environ()) is None:
                raise AwsAccessError(
                    ErrorKind.NO_CREDENTIALS,
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set in the environment refarch-tui "
                    "was started from. Export them and restart, or type the keys instead.",
                )
            elif config.method is AuthMethod.PROFILE:
                for name in {config.profile, *config.account_profiles.values()} - {None}:
                    assert name is not None
                    get_profile(name, self._env)
        self.state.settings[SETTINGS_KEY] = config.to_settings()
        if self.workspace is not None:
            self.workspace.save(self.state)
            roles = "role per account" if config.assume_roles else "direct"
            self.workspace.journal(
                "aws.configure", outcome="ok", detail=f"method={config.method.value} {roles}"
            )
        self.reset()

    def configure_keys(
        self, config: AuthConfig, access_key_id: str, secret_access_key: str, session_token: str | None = None
    ) -> None:
        """Typed keys: format-checked before AWS is called; ignored (never stored) in the sandbox."""
        keys = None if self.sandbox else validate_keys(access_key_id, secret_access_key, session_token)
        self.configure(config, keys=keys)

    def reset(self) -> None:
        with self._lock:
            self._sources.clear()
            self._mfa_sessions.clear()
            self._sessions.clear()
            self._results.clear()
            self._source_clients.clear()

    def set_mfa_prompt(self, prompt: mfa.MfaPrompt | None) -> None:
        self.mfa_prompt = prompt

    def profiles(self) -> list[ProfileInfo]:
        return list_profiles(self._env)

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    # -- clients ---------------------------------------------------------------------------------------

    def _client(self, who: str, session: boto3.Session, service: str, region: str | None = None) -> Any:
        client = clients.make_client(
            session, service, endpoint_url=self.endpoint_url, region=region or self.region
        )
        if self.client_hook is not None:
            self.client_hook(who, service, client)
        return client

    def _source_client(self, profile: str | None, session: boto3.Session, service: str) -> Any:
        key = (profile, service)
        with self._lock:
            if key not in self._source_clients:
                self._source_clients[key] = self._client(SOURCE, session, service)
            return self._source_clients[key]

    # -- source credentials ----------------------------------------------------------------------------

    def _base_keys(self) -> AccessKeys:
        if self.sandbox:
            return self.sandbox_keys
        method = self.config.method
        if method is AuthMethod.KEYS:
            keys = load_keys(self.workspace_id)
            if keys is None:
                raise AwsAccessError(
                    ErrorKind.NO_CREDENTIALS, "No access keys stored yet: type them in first."
                )
            return keys
        if method is AuthMethod.ENV:
            keys = keys_from_env(self._environ())
            if keys is None:
                raise AwsAccessError(
                    ErrorKind.NO_CREDENTIALS, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set."
                )
            return keys
        raise AwsAccessError(ErrorKind.NOT_CONFIGURED, "This authentication method does not use keys.")

    def _source(self, profile: str | None) -> boto3.Session:
        """The session of the operator's own identity (keys, env or a profile), before any role is assumed."""
        with self._lock:
            if profile in self._sources:
                return self._sources[profile]
            if profile is None or self.sandbox:
                session = clients.isolated_session(self._base_keys(), self.region)
            else:
                session = self._profile_session(profile)
            self._sources[profile] = session
            return session

    def _profile_session(self, name: str) -> boto3.Session:
        import boto3
        import botocore.session

        info = get_profile(name, self._env)
        if info.kind is ProfileKind.SSO:
            status = sso_status(info)
            if not status.ok:
                raise AwsAccessError(ErrorKind.SSO_LOGIN, status.message)
        core = botocore.session.Session(profile=name)
        core.register_component("data_loader", clients.shared_loader())
        try:
            provider = core.get_component("credential_provider").get_provider("assume-role")
        except Exception as exc:
            raise explain(exc, profile=name) from None
        if provider is not None and hasattr(provider, "_prompter"):
            serial = info.mfa_serial or "your MFA device"
            provider._prompter = lambda _text: mfa.ask_code(self.mfa_prompt, serial)
        return boto3.Session(botocore_session=core, region_name=info.region or self.region)

    def _mfa_serial(self, profile: str | None) -> str | None:
        serial = self.config.mfa_serial
        if serial or profile is None or self.sandbox:
            return serial
        info = get_profile(profile, self._env)
        return info.mfa_serial if info.kind is not ProfileKind.ROLE else None

    def _source_for_roles(self, profile: str | None) -> tuple[boto3.Session, str | None]:
        """The session roles are assumed from; with long-term keys and an MFA device, an MFA session
        (GetSessionToken) so one code serves every account. Returns (session, serial for AssumeRole)."""
        source = self._source(profile)
        serial = self._mfa_serial(profile)
        if not serial:
            return source, None
        frozen = self._frozen(source, profile)
        if frozen.temporary:
            return source, serial  # temporary credentials cannot call GetSessionToken: MFA on AssumeRole
        with self._mfa_lock:
            if profile not in self._mfa_sessions:
                sts = self._source_client(profile, source, "sts")

                def fetch() -> dict[str, str]:
                    code = mfa.ask_code(self.mfa_prompt, serial)
                    try:
                        response = sts.get_session_token(
                            SerialNumber=serial, TokenCode=code, DurationSeconds=MFA_SESSION_SECONDS
                        )
                    except Exception as exc:
                        raise explain(exc, endpoint=self.endpoint_url) from None
                    return self._metadata(response["Credentials"])

                self._mfa_sessions[profile] = _session_with(_refreshable(fetch, "mfa-session"), self.region)
            return self._mfa_sessions[profile], None

    def _frozen(self, session: boto3.Session, profile: str | None) -> AccessKeys:
        try:
            credentials = session.get_credentials()
            if credentials is None:
                from botocore.exceptions import NoCredentialsError

                raise NoCredentialsError()
            frozen = credentials.get_frozen_credentials()
        except Exception as exc:
            raise explain(exc, endpoint=self.endpoint_url, profile=profile) from None
        return AccessKeys(frozen.access_key or "", frozen.secret_key or "", frozen.token).register()

    @staticmethod
    def _metadata(credentials: Mapping[str, Any]) -> dict[str, str]:
        secrets.register_secret(credentials["SecretAccessKey"])
        secrets.register_secret(credentials["SessionToken"])
        expiration = credentials["Expiration"]
        if isinstance(expiration, datetime):
            expiration = expiration.astimezone(UTC).isoformat()
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": str(expiration),
        }

    # -- per-account sessions --------------------------------------------------------------------------

    def _account_session(self, account: str) -> _AccountSession:
        with self._lock:
            existing = self._sessions.get(account)
        if existing is not None:
            return existing
        config = self.config
        account_id = self.account_ids().get(account)
        profile = None if self.sandbox else config.profile_for(account)
        role_arn = config.role_for(account, account_id)
        label = (
            "sandbox keys"
            if self.sandbox
            else (
                f"profile {profile}"
                if profile
                else {AuthMethod.ENV: "environment keys"}.get(config.method, "typed keys")
            )
        )
        if role_arn is None:
            session = (
                self._source_for_roles(profile)[0] if self._mfa_serial(profile) else self._source(profile)
            )
            credentials = session.get_credentials()
            if credentials is None:
                raise explain(_no_credentials(), profile=profile)
            built = _AccountSession(account, session, credentials, None, label)
        else:
            credentials = self._assume(account, role_arn, profile)
            built = _AccountSession(
                account,
                _session_with(credentials, self.region),
                credentials,
                role_arn,
                f"{label} → {role_arn}",
            )
        with self._lock:
            return self._sessions.setdefault(account, built)

    def _assume(self, account: str, role_arn: str, profile: str | None) -> Credentials:
        config = self.config

        def fetch() -> dict[str, str]:
            source, serial = self._source_for_roles(profile)
            is_mfa = self._mfa_sessions.get(profile) is source
            sts = self._source_client(f"<mfa>{profile or ''}" if is_mfa else profile, source, "sts")
            kwargs: dict[str, Any] = {
                "RoleArn": role_arn,
                "RoleSessionName": config.session_name,
                "DurationSeconds": config.duration_seconds,
            }
            if serial:
                with self._mfa_lock:
                    kwargs["SerialNumber"] = serial
                    kwargs["TokenCode"] = mfa.ask_code(self.mfa_prompt, serial, reason=f"{account}:")
            try:
                response = sts.assume_role(**kwargs)
            except Exception as exc:
                error = explain(exc, endpoint=self.endpoint_url, role_arn=role_arn)
                if error.kind is ErrorKind.MFA_REQUIRED and not self._mfa_serial(profile):
                    discovered = self._discover_mfa_serial(profile)
                    if discovered:
                        self._remember_mfa_serial(discovered)
                        return fetch()
                raise error from None
            return self._metadata(response["Credentials"])

        return _refreshable(fetch, "assume-role")

    def _discover_mfa_serial(self, profile: str | None) -> str | None:
        """The caller's own MFA device, when AWS says MFA is needed and no serial was configured."""
        try:
            source = self._source(profile)
            arn = self._source_client(profile, source, "sts").get_caller_identity()["Arn"]
            if ":user/" not in arn:
                return None
            user = arn.rsplit("/", 1)[-1]
            devices = self._source_client(profile, source, "iam").list_mfa_devices(UserName=user)[
                "MFADevices"
            ]
        except Exception:
            log.info("could not look up the MFA device of the source identity", exc_info=False)
            return None
        return str(devices[0]["SerialNumber"]) if devices else None

    def _remember_mfa_serial(self, serial: str) -> None:
        with self._lock:
            settings = dict(self.state.settings.get(SETTINGS_KEY) or {})
            settings["mfa_serial"] = serial
            self.state.settings[SETTINGS_KEY] = settings
            if self.workspace is not None:
                self.workspace.save(self.state)

    # -- identity --------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Resolve the source identity (and MFA) once, in the calling thread, before accounts fan out."""
        if self.endpoint_url:
            clients.probe(self.endpoint_url)
        config = self.config
        profiles = {None if self.sandbox else config.profile_for(a) for a in self.account_ids()}
        for profile in sorted(profiles, key=lambda p: p or ""):
            source = self._source(profile)
            self._frozen(source, profile)
            uses_roles = any(config.role_for(a, i) for a, i in self.account_ids().items())
            if self._mfa_serial(profile) and uses_roles:
                session, _serial = self._source_for_roles(profile)
                self._frozen(session, profile)

    def check(self, account: str) -> IdentityResult:
        """`sts get-caller-identity` through the account's session; an expired token is refreshed once."""
        expected = self.account_ids().get(account)
        session: _AccountSession | None = None
        try:
            session = self._account_session(account)
            sts = self._account_client(session, "sts")
            try:
                identity = sts.get_caller_identity()
            except Exception as exc:
                if explain(exc).kind is not ErrorKind.EXPIRED:
                    raise
                if not self._refresh(account):
                    if self.sandbox or self.config.profile_for(account) is None:
                        raise  # fixed keys: asking again gives the same expired token
                    session = self._rebuild(account)  # a profile re-reads its source (SSO cache, process)
                    sts = self._account_client(session, "sts")
                identity = sts.get_caller_identity()
            result = IdentityResult(
                account=account,
                expected_id=expected,
                reached_id=str(identity["Account"]),
                arn=str(identity["Arn"]),
                expires_at=session.expires_at(),
                via=session.via,
            )
        except Exception as exc:
            error = explain(
                exc,
                endpoint=self.endpoint_url,
                profile=None if self.sandbox else self.config.profile_for(account),
                role_arn=session.role_arn if session else self.config.role_for(account, expected),
            )
            with self._lock:
                self._sessions.pop(account, None)
            result = IdentityResult(
                account=account, expected_id=expected, error=error.message, error_kind=error.kind
            )
        self._record(result)
        return result

    def check_all(self) -> dict[str, IdentityResult]:
        """Identity of every workspace account, checked in parallel threads."""
        accounts = self.state.account_names
        try:
            self.prepare()
        except Exception as exc:
            error = explain(exc, endpoint=self.endpoint_url, profile=self.config.profile)
            with self._lock:
                self._sources.clear()
                self._mfa_sessions.clear()
            results = {
                name: IdentityResult(
                    account=name,
                    expected_id=self.account_ids().get(name),
                    error=error.message,
                    error_kind=error.kind,
                )
                for name in accounts
            }
            for result in results.values():
                self._record(result)
            return results
        with ThreadPoolExecutor(max_workers=max(1, len(accounts)), thread_name_prefix="aws-identity") as pool:
            checked = list(pool.map(self.check, accounts))
        return {r.account: r for r in checked}

    def _record(self, result: IdentityResult) -> None:
        with self._lock:
            self._results[result.account] = result
        if result.status is IdentityStatus.OK:
            log.info("identity %s: %s", result.account, result.arn)
        else:
            log.warning("identity %s: %s", result.account, secrets.redact(result.explanation))
        if self.workspace is not None:
            self.workspace.journal(
                "aws.identity",
                account=result.account,
                outcome=result.status.value,
                detail=result.arn or result.error or "",
            )

    def _account_client(self, session: _AccountSession, service: str, region: str | None = None) -> Any:
        key = f"{service}@{region or self.region}"
        with self._lock:
            if key not in session.clients:
                session.clients[key] = self._client(session.account, session.session, service, region)
            return session.clients[key]

    def _rebuild(self, account: str) -> _AccountSession:
        profile = self.config.profile_for(account)
        with self._lock:
            self._sessions.pop(account, None)
            self._sources.pop(profile, None)
            self._source_clients = {k: v for k, v in self._source_clients.items() if k[0] != profile}
        return self._account_session(account)

    def _refresh(self, account: str) -> bool:
        with self._lock:
            session = self._sessions.get(account)
        if session is None or session.role_arn is None:
            return False
        try:
            return force_refresh(session.credentials)
        except Exception as exc:
            raise explain(exc, endpoint=self.endpoint_url, role_arn=session.role_arn) from None

    def results(self) -> dict[str, IdentityResult]:
        with self._lock:
            return dict(self._results)

    def result(self, account: str) -> IdentityResult:
        with self._lock:
            found = self._results.get(account)
        return found or IdentityResult(account=account, expected_id=self.account_ids().get(account))

    # -- guards used by the rest of the app ------------------------------------------------------------

    def is_blocked(self, account: str) -> bool:
        """True unless the last identity check reached exactly the workspace's account ID."""
        return not self.result(account).ok

    def block_reason(self, account: str) -> str | None:
        result = self.result(account)
        return None if result.ok else result.explanation

    def require(self, account: str) -> None:
        reason = self.block_reason(account)
        if reason is not None:
            raise AccountBlocked(account, reason)

    def session_for(self, account: str) -> boto3.Session:
        """The confirmed session of an account; AccountBlocked when its identity is not confirmed."""
        self.require(account)
        return self._account_session(account).session

    def client(self, account: str, service: str, region: str | None = None) -> Any:
        self.require(account)
        return self._account_client(self._account_session(account), service, region)

    def time_left(self, account: str) -> timedelta | None:
        """Time before the account's credentials expire; None for long-term keys (no expiry)."""
        with self._lock:
            session = self._sessions.get(account)
        if session is not None:
            expiry = session.expires_at()
            return None if expiry is None else expiry - datetime.now(UTC)
        return self.result(account).time_left()

    def warn_if_short(self, account: str, minimum: timedelta = SHORT_WARNING) -> str | None:
        """A warning to show before a long run when less than `minimum` is left (after trying a refresh)."""
        left = self.time_left(account)
        if left is None or left >= minimum:
            return None
        try:
            self._refresh(account)
        except AwsAccessError as exc:
            return f"Credentials for {account} expire in {format_time_left(left)}; renewing failed: {exc}"
        left = self.time_left(account)
        if left is None or left >= minimum:
            return None
        return (
            f"Credentials for {account} expire in {format_time_left(left)}, less than "
            f"{int(minimum.total_seconds() // 60)} minutes: a long run may fail midway. Re-authenticate "
            "(new keys or `aws sso login`) before starting."
        )

    # -- child processes and organizations --------------------------------------------------------------

    def child_credentials(self, account: str, *, terragrunt: bool = False) -> ChildCredentials:
        """Credentials a child process for `account` gets (guarded: a blocked account gets nothing)."""
        self.require(account)
        session = self._account_session(account)
        config = self.config
        if terragrunt and config.child_env is ChildEnvMode.TERRAGRUNT_ROLE and session.role_arn:
            profile = None if self.sandbox else config.profile_for(account)
            source, _serial = self._source_for_roles(profile)
            keys = self._frozen(source, profile)
            return ChildCredentials(account, keys, session.role_arn, self.region, self.endpoint_url)
        keys = self._frozen(session.session, None)
        return ChildCredentials(account, keys, None, self.region, self.endpoint_url)

    def environment_for(
        self,
        account: str,
        *,
        base_env: Mapping[str, str] | None = None,
        terragrunt_generation: int | None = None,
        region: str | None = None,
    ) -> dict[str, str]:
        """Environment for a child process acting in `account`; AccountBlocked when it is not confirmed."""
        credentials = self.child_credentials(account, terragrunt=terragrunt_generation is not None)
        return environment_for(
            credentials,
            base_env=os.environ if base_env is None else base_env,
            terragrunt_generation=terragrunt_generation,
            region=region,
        )

    def org_cross_check(self) -> OrgCheck:
        """Compare the workspace's accounts with the organization's, using the first identity allowed to."""
        candidates: list[tuple[str, Any]] = []
        if self.organization_keys is not None:
            session = clients.isolated_session(self.organization_keys, self.region)
            candidates.append((MANAGEMENT, self._client(MANAGEMENT, session, "organizations")))
        try:
            profile = None if self.sandbox else self.config.profile
            candidates.append((SOURCE, self._source_client(profile, self._source(profile), "organizations")))
        except AwsAccessError:
            pass
        for name in self.state.account_names:
            if self.result(name).ok:
                candidates.append((name, self._account_client(self._account_session(name), "organizations")))
        last_error = "no confirmed identity to ask with"
        for who, org in candidates:
            try:
                listed: dict[str, str] = {}
                for page in org.get_paginator("list_accounts").paginate():
                    for item in page["Accounts"]:
                        listed[str(item["Id"])] = str(item.get("Name", ""))
            except Exception as exc:
                last_error = _member_hint(org) or explain(exc, endpoint=self.endpoint_url).message
                continue
            if not listed:
                # AWS refuses a member account; the emulator answers it with an empty list
                last_error = (
                    _member_hint(org) or "your identity is in no organization (AWS Organizations not in use)"
                )
                continue
            repo = {a.name: a.id for a in self.state.accounts if a.id}
            missing = tuple(sorted((n, i) for n, i in repo.items() if i not in listed))
            extra = tuple(sorted((i, n) for i, n in listed.items() if i not in set(repo.values())))
            source = {
                SOURCE: "your identity",
                MANAGEMENT: "the sandbox organization's management account",
            }.get(who, f"the {who} session")
            return OrgCheck(
                True, f"organization listed through {source}: {len(listed)} accounts", missing, extra
            )
        return OrgCheck(False, f"Organization accounts not compared: {last_error}")


def _member_hint(org: Any) -> str | None:
    """Why a member account cannot list its organization, naming the account that can; None if no org."""
    try:
        organization = org.describe_organization()["Organization"]
    except Exception:
        return None
    management = organization.get("MasterAccountId", "?")
    return (
        f"your identities are members of organization {organization.get('Id', '?')}, whose accounts only its "
        f"management account {management} (or a delegated administrator) may list; check with that account's "
        "credentials to compare"
    )


def _no_credentials() -> Exception:
    from botocore.exceptions import NoCredentialsError

    return NoCredentialsError()


def for_workspace(
    workspace: Workspace, state: WorkspaceState, *, mfa_prompt: mfa.MfaPrompt | None = None
) -> AwsAccess:
    """The AwsAccess of a workspace; in the sandbox, pointed at its emulator (which must be started)."""
    if state.mode is not Mode.SANDBOX:
        return AwsAccess(state, workspace=workspace, mfa_prompt=mfa_prompt)
    from refarch_tui.aws import emulator

    info = emulator.wait_ready(workspace.directory)
    AuthConfig.use_sandbox_default(state.settings)
    return AwsAccess(
        state,
        workspace=workspace,
        endpoint_url=info.endpoint,
        sandbox_keys=AccessKeys(info.access_key_id, info.secret_access_key),
        organization_keys=sandbox_organization_keys(info.secret_access_key),
        mfa_prompt=mfa_prompt,
    )


def sandbox_organization_keys(secret_access_key: str) -> AccessKeys:
    """The emulator's management account: any key ID it does not know acts there (fake, not a secret)."""
    from refarch_tui.aws import emulator

    return AccessKeys(emulator.MANAGEMENT_ACCESS_KEY_ID, secret_access_key)
