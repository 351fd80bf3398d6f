"""`python -m tests.run.line_driver WORKSPACE_DIR [ACCOUNT...]`: line mode in a process a test can kill -9."""

from __future__ import annotations

import sys
from pathlib import Path

from refarch_tui.run import line_mode
from refarch_tui.state import Workspace


def main() -> int:
    workspace = Workspace(Path(sys.argv[1]))
    state = workspace.load()
    return line_mode.main(
        workspace=workspace,
        state=state,
        accounts=sys.argv[2:] or None,
        report=None,
        env_for_account=None,
        stdout=sys.stdout,
    )


if __name__ == "__main__":
    sys.exit(main())
