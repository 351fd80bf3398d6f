"""The one place that builds the environment of a child process (packer, docker, terragrunt) for an account.

The child gets that account's credentials and region and nothing from the parent that could point elsewhere:
the parent's environment goes through the one scrubber (`tools/inherited_env`: AWS_*, TG_*, TERRAGRUNT_*,
TF_VAR_* ... dropped), shared config files are replaced by the null device, and instance metadata is off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from refarch_tui import secrets
from refarch_tui.aws.keys import AccessKeys
from refarch_tui.tools.inherited_env import scrubbed


@dataclass(frozen=True)
class ChildCredentials:
    """What a child process for one account needs: its keys, and a role when terragrunt assumes it itself."""

    account: str
    keys: AccessKeys
    role_arn: str | None
    region: str
    endpoint_url: str | None


def environment_for(
    credentials: ChildCredentials,
    *,
    base_env: Mapping[str, str] = os.environ,
    terragrunt_generation: int | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """Environment for a child process acting with `credentials` (see `AwsAccess.child_credentials`).

    `terragrunt_generation` is None for other tools (packer, docker: always the account's session keys);
    0 or 1 for terragrunt 0.x / 1.x. When the operator chose "terragrunt assumes the role", the credentials
    are the source keys plus a role, passed as TERRAGRUNT_IAM_ROLE (0.x) or TG_IAM_ASSUME_ROLE (1.x).
    """
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
