"""Builds a `StepContext` from a workspace and its AWS access: one factory for the TUI and line mode."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refarch_tui.state import Mode, Workspace, WorkspaceState
from refarch_tui.steps.contract import StepContext

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess
    from refarch_tui.live.model import LiveTree


def live_root(workspace: Workspace, state: WorkspaceState) -> Path:
    root = Path(state.live_dir).expanduser()
    return root if root.is_absolute() else (workspace.directory / root).resolve()


def modules_dir(workspace: Workspace, state: WorkspaceState) -> Path | None:
    """Where Packer templates and Lambda build scripts live: the workspace setting, else the sandbox copy."""
    configured = state.settings.get("modules_dir")
    if isinstance(configured, str) and configured:
        return Path(configured).expanduser()
    bundled = workspace.directory / "modules"
    return bundled if bundled.is_dir() else None


def context_for(
    workspace: Workspace,
    state: WorkspaceState,
    access: AwsAccess,
    account: str,
    *,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    allow_plaintext_keyring: bool = False,
    load_tree: Callable[[], LiveTree] | None = None,
) -> StepContext:
    """The context a step runs with in `account`; AccountBlocked when its identity is not confirmed."""
    access.require(account)
    root = live_root(workspace, state)

    def clients(service: str, region: str | None = None) -> Any:
        return access.client(account, service, region)

    def scan() -> LiveTree:
        from refarch_tui.live.scanner import scan as scan_tree

        return scan_tree(root)

    result = access.result(account)
    return StepContext(
        workspace=workspace,
        state=state,
        account=account,
        account_id=state.account(account).id,
        regions=list(state.regions) or [access.region],
        sandbox=state.mode is Mode.SANDBOX,
        clients=clients,
        live_root=root,
        load_tree=load_tree or scan,
        child_env=lambda: access.environment_for(account, base_env={}),
        modules_dir=modules_dir(workspace, state),
        allow_plaintext_keyring=allow_plaintext_keyring,
        progress=progress or (lambda _line: None),
        cancel=cancel or threading.Event(),
        identity=result.arn or "",
        check_identity=lambda: access.require(account),
    )
