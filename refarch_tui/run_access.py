"""Joins AWS access and the runner: each account's child environment, checked before the run starts."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from refarch_tui.aws.errors import AwsAccessError, ErrorKind
from refarch_tui.state import Mode, Workspace, WorkspaceState

EnvForAccount = Callable[[str], Mapping[str, str]]


def terragrunt_generation() -> int | None:
    path = shutil.which("terragrunt")
    if path is None:
        return None
    from refarch_tui.tools import terragrunt

    return 1 if terragrunt.detect_generation(path).generation is terragrunt.Generation.V1 else 0


def _line_mfa_prompt(question: str) -> str:
    if not sys.stdin.isatty():
        raise AwsAccessError(ErrorKind.MFA_REQUIRED, f"{question} — needs a terminal to type the code into.")
    return input(f"{question}: ").strip()


def account_environments(
    workspace: Workspace,
    state: WorkspaceState,
    accounts: list[str] | None,
    out: TextIO,
    *,
    identities: dict[str, str] | None = None,
) -> EnvForAccount:
    """Check the identity of every selected account, print it, and return the per-account env builder.

    Blocked or unreachable accounts are reported here; the runner then fails only those accounts, because
    `environment_for` refuses an account whose identity is not confirmed."""
    from refarch_tui.aws.access import for_workspace
    from refarch_tui.aws.auth import SETTINGS_KEY

    if state.mode is Mode.SANDBOX:
        from refarch_tui.aws import emulator

        emulator.ensure_running(workspace.directory)
    elif SETTINGS_KEY not in state.settings:
        raise AwsAccessError(
            ErrorKind.NOT_CONFIGURED,
            "AWS access is not set up for this workspace: open `refarch-tui`, press i, choose how to "
            "authenticate, then run again. Nothing was run.",
        )
    access = for_workspace(workspace, state, mfa_prompt=_line_mfa_prompt)
    selected = set(accounts or state.account_names)
    for name, result in access.check_all().items():
        if name in selected:
            print(f"identity {name}: {result.explanation if not result.ok else result.summary}", file=out)
            if identities is not None:
                identities[name] = result.summary if result.ok else f"not confirmed: {result.explanation}"
    generation = terragrunt_generation()
    return lambda account: access.environment_for(account, base_env={}, terragrunt_generation=generation)
