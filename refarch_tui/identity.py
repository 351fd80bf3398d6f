"""What the Authenticate screen needs, without the screen touching AWS: the current choice as a plain form,
the profiles to pick from, one call that saves the choice and checks every account, and the results as
rows ready to show. Blocking calls (check, profiles): run them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from refarch_tui.state import WorkspaceState

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess
    from refarch_tui.aws.auth import AuthConfig, IdentityResult

METHODS = ("keys", "env", "profile")


class IdentityProblem(Exception):
    """Authentication cannot go on; the message says what to do (shown as it is)."""


@dataclass(frozen=True)
class AuthForm:
    method: str = "keys"  # keys | env | profile
    profile: str | None = None
    assume_roles: bool = True
    role_arns: Mapping[str, str] = field(default_factory=dict)  # account -> role ARN ("" = direct)
    mfa_serial: str | None = None
    terragrunt_role: bool = False  # let terragrunt assume the role itself


@dataclass(frozen=True)
class IdentityRow:
    account: str
    status: str  # ok | blocked | error | unchecked
    expected_id: str
    reached_id: str
    time_left: str
    detail: str  # the ARN reached, or the error
    problem: str | None = None  # what to fix, for blocked and error rows


@dataclass(frozen=True)
class CheckReport:
    rows: list[IdentityRow]
    org_lines: list[str]
    results: dict[str, IdentityResult]  # for the App's header (identities, blocked accounts)

    @property
    def confirmed(self) -> int:
        return sum(row.status == "ok" for row in self.rows)


def _row(result: IdentityResult) -> IdentityRow:
    from refarch_tui.aws.auth import IdentityStatus, format_time_left

    status = result.status
    problem = None
    if status is IdentityStatus.BLOCKED:
        problem = result.explanation
    elif status is IdentityStatus.ERROR:
        problem = f"{result.account}: {result.error}"
    return IdentityRow(
        account=result.account,
        status=status.value,
        expected_id=result.expected_id or "?",
        reached_id=result.reached_id or "-",
        time_left=format_time_left(result.time_left()) if result.reached_id else "-",
        detail=result.arn or (result.error or "-"),
        problem=problem,
    )


class IdentityService:
    """The Authenticate screen's window onto `AwsAccess`."""

    def __init__(self, access: AwsAccess, state: WorkspaceState) -> None:
        self.access = access
        self.state = state

    @classmethod
    def of(cls, access: Any, state: WorkspaceState) -> IdentityService:
        return access if isinstance(access, IdentityService) else cls(access, state)

    @property
    def sandbox(self) -> bool:
        return bool(self.access.sandbox)

    def current_form(self) -> AuthForm:
        from refarch_tui.aws.auth import SETTINGS_KEY, AuthConfig, ChildEnvMode, default_role_arn

        config = self.access.config if SETTINGS_KEY in self.state.settings else AuthConfig(assume_roles=True)
        roles = {
            a.name: config.role_arns.get(a.name, default_role_arn(a.id) if a.id else "")
            for a in self.state.accounts
        }
        return AuthForm(
            method=config.method.value,
            profile=config.profile,
            assume_roles=config.assume_roles,
            role_arns=roles,
            mfa_serial=config.mfa_serial,
            terragrunt_role=config.child_env is ChildEnvMode.TERRAGRUNT_ROLE,
        )

    def profiles(self) -> list[tuple[str, str]]:
        """(label, name) of every profile in the AWS config files."""
        from refarch_tui.aws.errors import AwsAccessError

        try:
            return [(p.describe(), p.name) for p in self.access.profiles()]
        except AwsAccessError as exc:
            raise IdentityProblem(str(exc)) from None

    def rows(self) -> list[IdentityRow]:
        return [_row(self.access.result(a.name)) for a in self.state.accounts]

    def _config(self, form: AuthForm) -> AuthConfig:
        from refarch_tui.aws.auth import AuthConfig, AuthMethod, ChildEnvMode

        return AuthConfig(
            method=AuthMethod(form.method),
            profile=form.profile,
            assume_roles=form.assume_roles,
            role_arns=dict(form.role_arns),
            mfa_serial=form.mfa_serial,
            child_env=ChildEnvMode.TERRAGRUNT_ROLE if form.terragrunt_role else ChildEnvMode.SESSION,
        )

    def check(
        self, form: AuthForm, typed_keys: tuple[str, str, str], mfa_prompt: Callable[[str], str] | None
    ) -> CheckReport:
        """Save the choice (typed keys to the keyring only; ignored in the sandbox), check every account
        and compare with the organization. IdentityProblem says what went wrong."""
        from refarch_tui.aws.auth import AuthMethod
        from refarch_tui.aws.errors import AwsAccessError

        self.access.set_mfa_prompt(mfa_prompt)
        key_id, secret, token = typed_keys
        config = self._config(form)
        try:
            if config.method is AuthMethod.KEYS and (key_id or secret):
                self.access.configure_keys(config, key_id, secret, token or None)
            else:
                self.access.configure(config)
            results = self.access.check_all()
            org = self.access.org_cross_check()
        except AwsAccessError as exc:
            raise IdentityProblem(str(exc)) from None
        org_lines = [org.message]
        org_lines += [f"missing in org: {n} ({i})" for n, i in org.missing_in_org]
        org_lines += [f"not in repo: {i} ({n})" for i, n in org.not_in_repo]
        return CheckReport([_row(r) for r in results.values()], org_lines, results)
