"""What a child process may inherit from the operator's shell: the one list of variables that never pass.

Every environment built for a child (packer, docker, build scripts, terragrunt) starts from `scrubbed(...)`,
then adds what that account needs. Dropped: anything that selects AWS credentials, profiles or endpoints
(AWS_*), terragrunt settings (TG_*, TERRAGRUNT_*), and terraform/packer inputs that would change what runs
(TF_VAR_*, TF_CLI_ARGS*, TF_WORKSPACE, PKR_VAR_*). Matched without regard to case: on some platforms and
for some tools `aws_profile` is as good as `AWS_PROFILE`.
"""

from __future__ import annotations

from collections.abc import Mapping

DROPPED_PREFIXES = ("AWS_", "TG_", "TERRAGRUNT_", "TF_VAR_", "TF_CLI_ARGS", "TF_WORKSPACE", "PKR_VAR_")


def is_dropped(name: str) -> bool:
    return name.upper().startswith(DROPPED_PREFIXES)


def scrubbed(base_env: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without any variable of DROPPED_PREFIXES."""
    return {name: value for name, value in base_env.items() if not is_dropped(name)}
