"""The one place that builds the environment of a child process (packer, docker, terragrunt) for an account.

The child gets that account's credentials and region and nothing from the parent that could point elsewhere:
every AWS_*, TG_* and TERRAGRUNT_* variable of the parent is dropped, shared config files are replaced by
the null device, and instance metadata is switched off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from refarch_tui import secrets

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess

DROPPED_PREFIXES = ("AWS_", "TG_", "TERRAGRUNT_")


def scrubbed(base_env: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without any variable that selects AWS credentials, profiles or endpoints."""
    return {k: v for k, v in base_env.items() if not k.upper().startswith(DROPPED_PREFIXES)}


def environment_for(
    account: str,
    *,
    access: AwsAccess,
    base_env: Mapping[str, str] = os.environ,
    terragrunt_generation: int | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """Environment for a child process acting in `account`.

    `terragrunt_generation` is None for other tools (packer, docker: always the account's session keys);
    0 or 1 for terragrunt 0.x / 1.x. When the operator chose "terragrunt assumes the role", terragrunt gets
    the source keys plus TERRAGRUNT_IAM_ROLE (0.x) or TG_IAM_ASSUME_ROLE (1.x) instead.
    Raises AccountBlocked when the account's identity is not confirmed.
    """
    credentials = access.child_credentials(account, terragrunt=terragrunt_generation is not None)
    env = scrubbed(base_env)
    keys = credentials.keys
    secrets.register_secret(keys.secret_access_key)
    secrets.register_secret(keys.session_token)
    env["AWS_ACCESS_KEY_ID"] = keys.access_key_id
    env["AWS_SECRET_ACCESS_KEY"] = keys.secret_access_key
    if keys.session_token:
        env["AWS_SESSION_TOKEN"] = keys.session_token
    chosen_region = region or credentials.region
    env["AWS_REGION"] = chosen_region
    env["AWS_DEFAULT_REGION"] = chosen_region
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_SDK_LOAD_CONFIG"] = "0"
    if credentials.endpoint_url:
        env["AWS_ENDPOINT_URL"] = credentials.endpoint_url
    if credentials.role_arn:
        if terragrunt_generation == 0:
            env["TERRAGRUNT_IAM_ROLE"] = credentials.role_arn
        else:
            env["TG_IAM_ASSUME_ROLE"] = credentials.role_arn
    return env
