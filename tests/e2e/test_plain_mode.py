"""`refarch-tui plain` through a pty: the checklist, identities, export, quit and Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

from refarch_tui import paths
from refarch_tui.state import Workspace
from tests.e2e.plain_driver import PlainDriver, menu_number


def test_plain_mode_shows_identities_and_checklist_exports_and_quits(stop_sandbox_after: None) -> None:
    plain = PlainDriver("--sandbox")
    try:
        screen = plain.expect("What next")
        assert "SANDBOX" in screen
        assert "identity security: arn:aws:sts::104983213567:" in screen
        assert "Run Terragrunt: security pending" in screen
        menu = plain.expect(r"Quit \(progress is saved\)")
        plain.choose(menu_number(menu, "Export a redacted transcript"))
        written = plain.expect(r"Transcript written to \S+")
        menu = plain.expect(r"Quit \(progress is saved\)")
        plain.choose(menu_number(menu, "Quit (progress is saved)"))
        plain.expect("Resume with: refarch-tui plain --sandbox")
        assert plain.finish() == 0
    finally:
        plain.close()
    path = written.split("Transcript written to ")[-1].strip()
    transcript = Path(path).read_text(encoding="utf-8")
    assert transcript.startswith("# refarch-tui transcript — SANDBOX")
    assert not Workspace(paths.sandbox_workspace_dir()).lock_path.exists()  # released on the way out


def test_ctrl_c_at_a_prompt_leaves_the_state_as_it_was_and_says_how_to_resume(
    stop_sandbox_after: None,
) -> None:
    plain = PlainDriver("--sandbox")
    try:
        plain.expect(r"Quit \(progress is saved\)")
        state_before = (paths.sandbox_workspace_dir() / "state.json").read_text()
        plain.interrupt()
        plain.expect("Interrupted. The state is saved")
        plain.expect("Resume with: refarch-tui plain --sandbox")
        assert plain.finish() == 130
    finally:
        plain.close()
    assert json.loads((paths.sandbox_workspace_dir() / "state.json").read_text()) == json.loads(state_before)
    assert not Workspace(paths.sandbox_workspace_dir()).lock_path.exists()


def test_a_locked_workspace_is_refused() -> None:
    from refarch_tui import sandbox

    workspace, _state = sandbox.open_sandbox(start_emulator=False)
    workspace.acquire()
    try:
        plain = PlainDriver("--sandbox")
        try:
            plain.expect("is open in another refarch-tui")
            assert plain.finish() == 2
        finally:
            plain.close()
    finally:
        workspace.release()
