"""Finding, creating and opening workspaces (one per infrastructure-live directory)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from refarch_tui import paths
from refarch_tui.state import (
    Account,
    Mode,
    StateError,
    Workspace,
    WorkspaceState,
    last_workspace,
    remember_last,
)


def workspace_dir_for(live_dir: Path) -> Path:
    live_dir = Path(live_dir).expanduser().resolve()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", live_dir.name).strip("-") or "live"
    digest = hashlib.sha256(str(live_dir).encode()).hexdigest()[:8]
    return paths.workspaces_dir() / f"{slug}-{digest}"


def create_workspace(
    live_dir: Path,
    accounts: list[Account],
    regions: list[str],
    *,
    mode: Mode = Mode.REAL,
    directory: Path | None = None,
) -> tuple[Workspace, WorkspaceState]:
    """A new workspace for `live_dir`, or the existing one for it (its progress is never thrown away).

    An existing workspace of another live repo is refused (StateError), never silently reused."""
    workspace = Workspace(directory or workspace_dir_for(live_dir))
    if workspace.exists():
        state = workspace.load()
        wanted = str(Path(live_dir).expanduser().resolve())
        if state.live_dir != wanted:
            # reusing it would keep the other repo's accounts and progress under this repo's name
            raise StateError(
                f"{workspace.directory} is already the workspace of {state.live_dir}; it was left as it "
                f"is. For {wanted}, pass another --workspace directory (or leave --workspace out)."
            )
    else:
        state = WorkspaceState(
            live_dir=str(Path(live_dir).expanduser().resolve()), mode=mode, accounts=accounts, regions=regions
        )
        workspace.save(state)
        workspace.journal(
            "workspace.create",
            outcome="done",
            detail=f"live={state.live_dir} accounts={','.join(a.name for a in accounts)}",
        )
    remember_last(workspace.directory)
    return workspace, state


def resolve(workspace_arg: str | None) -> Workspace | None:
    """--workspace DIR when given, else the workspace opened last (the sandbox included), else None."""
    if workspace_arg:
        return Workspace(Path(workspace_arg))
    last = last_workspace()
    return Workspace(last) if last is not None else None
