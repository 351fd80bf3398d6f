from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.state import Account, Mode, Workspace, WorkspaceState
from refarch_tui.workspaces import create_workspace

FIXED_ACCOUNTS = [
    Account("security", "104983213567"),
    Account("shared-services", "235829751430"),
    Account("dev", "368294012756"),
    Account("stage", "481039572864"),
    Account("prod", "596120384729"),
]


@pytest.fixture
def sandbox_workspace(tmp_path: Path, live_copy: Path) -> tuple[Workspace, WorkspaceState]:
    """A sandbox-mode workspace on a copy of the sample repo (no emulator needed for screen tests)."""
    return create_workspace(
        live_copy,
        list(FIXED_ACCOUNTS),
        ["us-east-1", "us-west-2"],
        mode=Mode.SANDBOX,
        directory=tmp_path / "ws",
    )
