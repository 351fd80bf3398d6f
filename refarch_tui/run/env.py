"""The environment of each account's terragrunt process: only what that account needs, secrets via env only.

What earlier steps recorded for the account (fields of its step records, in state):
- `run_env`    {"TF_VAR_lambda_zip_path": "/abs/path.zip", ...}  plain values;
- `secret_env` {"TF_VAR_master_password": "<keyring entry name>", ...}  names only, values
  are read from the OS keyring just before the process starts and go into its environment, nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from refarch_tui import secrets
from refarch_tui.state import WorkspaceState
from refarch_tui.tools.inherited_env import scrubbed

EnvForAccount = Callable[[str], Mapping[str, str]]


class RunSetupError(Exception):
    """A run cannot start for an account; the message says what to do."""


@dataclass(frozen=True)
class AccountEnvPlan:
    """What goes into one account's environment, without secret values (safe to show and log)."""

    account: str
    region: str
    facts: Mapping[str, str] = field(default_factory=dict)  # plain TF_VAR_* and friends
    secret_names: Mapping[str, str] = field(default_factory=dict)  # env var -> keyring entry name


def plan_from_state(state: WorkspaceState, account: str, *, region: str | None = None) -> AccountEnvPlan:
    facts: dict[str, str] = {}
    secret_names: dict[str, str] = {}
    for by_account in state.steps.values():
        record = by_account.get(account)
        if record is None:
            continue
        facts.update(record.run_env)
        secret_names.update(record.secret_env)
    chosen = region or (state.regions[0] if state.regions else "us-east-1")
    return AccountEnvPlan(account=account, region=chosen, facts=facts, secret_names=secret_names)


def fetch_secrets(plan: AccountEnvPlan, *, allow_plaintext: bool = False) -> dict[str, str]:
    """Blocking (thread): the secret values, each registered with the redactor before anything else."""
    values: dict[str, str] = {}
    for env_name, entry in plan.secret_names.items():
        try:
            value = secrets.fetch(entry, allow_plaintext=allow_plaintext)
        except secrets.KeyringError as exc:
            raise RunSetupError(f"{plan.account}: cannot read {env_name} from the keyring: {exc}") from None
        if not value:
            raise RunSetupError(
                f"{plan.account}: the keyring has no entry {entry!r} for {env_name}. "
                "Run the 'Data store passwords' step for this account, then start again."
            )
        secrets.register_secret(value)
        values[env_name] = value
    return values


def child_environment(
    plan: AccountEnvPlan,
    *,
    account_env: Mapping[str, str],
    secret_values: Mapping[str, str],
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """os.environ through the one scrubber (`tools/inherited_env`), plus the account's access, region,
    facts and secrets."""
    env = scrubbed(os.environ if base is None else base)
    env.update(account_env)
    env["AWS_REGION"] = plan.region
    env["AWS_DEFAULT_REGION"] = plan.region
    env["TF_IN_AUTOMATION"] = "1"
    env.update(plan.facts)
    env.update(secret_values)
    for key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        secrets.register_secret(env.get(key))
    return env
