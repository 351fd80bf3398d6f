"""The live-repo engine: discover terragrunt units, resolve what literals allow, waves, careful edits."""

from refarch_tui.live.graph import find_cycle, waves
from refarch_tui.live.model import CycleError, LiveError, LiveTree, Unit
from refarch_tui.live.scanner import scan

__all__ = ["CycleError", "LiveError", "LiveTree", "Unit", "find_cycle", "scan", "waves"]
