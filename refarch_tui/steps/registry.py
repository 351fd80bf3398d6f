"""Which module implements each checklist step. `terragrunt` is the runner (`refarch_tui.run`), not a step."""

from __future__ import annotations

import importlib
from typing import cast

from refarch_tui.steps.contract import StepModule

# step id -> module; a step not listed here is listed in NOT_BUILT and opens the "NOT BUILT YET" screen
MODULES: dict[str, str] = {
    "keypairs": "refarch_tui.steps.keypairs",
    "vpn": "refarch_tui.steps.vpn",
    "route53": "refarch_tui.steps.route53",
    "certs": "refarch_tui.steps.certs",
    "passwords": "refarch_tui.steps.passwords",
    "lambdas": "refarch_tui.steps.lambdas",
    "docker_images": "refarch_tui.steps.docker_images",
    "kms_admin": "refarch_tui.steps.kms_admin",
    "backends": "refarch_tui.steps.backends",
}

NOT_BUILT: frozenset[str] = frozenset(
    {
        "amis",
        "docker_images",
        "lambdas",
        "keypairs",
        "backends",
        "vpn",
        "passwords",
        "route53",
        "certs",
        "kms_admin",
    }
    - set(MODULES)
)

RUNNER_STEP = "terragrunt"


def is_built(step_id: str) -> bool:
    return step_id in MODULES


def module(step_id: str) -> StepModule:
    try:
        name = MODULES[step_id]
    except KeyError:
        raise KeyError(f"step {step_id!r} is not built yet") from None
    return cast(StepModule, importlib.import_module(name))
