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


def _key_pairs_in_plain(plain: PlainDriver, account: str) -> str:
    """Create EC2 key pairs in `account` with its defaults, every edit accepted; returns what was seen."""
    menu = plain.expect(r"Quit \(progress is saved\)")
    plain.choose(menu_number(menu, "Choose a step and an account"))
    menu = plain.expect(r"Run Terragrunt")
    plain.choose(menu_number(menu, "Create EC2 key pairs"))
    menu = plain.expect(r"prod")
    plain.choose(menu_number(menu, account))
    seen = plain.expect(rf"key pair only for the OpenVPN server \[{account}-openvpn\]")
    plain.enter()
    plain.expect(rf"\[{account}-services\]")
    plain.enter()
    plain.expect(r"ed25519, or rsa-4096")
    plain.choose(1)
    plain.expect(r"where the private keys go")
    plain.enter()
    plain.expect(r"empty: generate one")
    plain.enter()
    seen += plain.expect(r"Go ahead with Create EC2 key pairs in " + account)
    plain.yes()
    while True:
        index, text = plain.expect_any(r"Write this change to \S+\?", r"Result: \w+")
        seen += text
        if index == 1:
            return seen
        plain.yes()


async def test_a_setup_begun_in_plain_mode_continues_in_the_tui_and_back(stop_sandbox_after: None) -> None:
    from textual.widgets import DataTable

    from refarch_tui.app import make_app
    from refarch_tui.state import Status
    from tests.steps.pilot import wait_until

    plain = PlainDriver("--sandbox")
    try:
        plain.expect("What next")
        seen = _key_pairs_in_plain(plain, "dev")
        # the identity is printed before anything changes AWS, then the plan with its commands
        assert "Account: dev, ID 368294012756 (SANDBOX" in seen
        assert "Identity: arn:aws:sts::368294012756:" in seen and "Region: us-east-1" in seen
        assert "Result: done" in seen
        menu = plain.expect(r"Quit \(progress is saved\)")
        plain.choose(menu_number(menu, "Quit (progress is saved)"))
        assert plain.finish() == 0
    finally:
        plain.close()

    workspace = Workspace(paths.sandbox_workspace_dir())
    state = workspace.load()
    assert state.record("keypairs", "dev").status is Status.DONE
    expected_next = state.next_cell()
    workspace.acquire()
    try:
        app = make_app(workspace, state)
        async with app.run_test(size=(150, 50)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()  # identities and the verified resume
            table = app.screen.query_one(DataTable)
            assert str(table.get_cell("keypairs", "dev")) == "done"  # verified again, still holds
            assert expected_next is not None
            row, column = table.cursor_coordinate
            assert (str(list(table.rows)[row].value), str(list(table.columns)[column].value)) == expected_next
            # continue in the TUI: key pairs for stage through the step screen
            table.move_cursor(row=3, column=4)
            await pilot.press("enter")
            from screens.dialogs.review_edits import ReviewEditsDialog
            from screens.step import StepScreen

            await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the key pairs screen")
            screen = app.screen
            assert isinstance(screen, StepScreen)
            await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="Review edits")
            await pilot.press("y")
            await wait_until(pilot, lambda: not screen.running, what="the run to finish")
    finally:
        workspace.release()
    assert workspace.load().record("keypairs", "stage").status is Status.DONE

    # and back in plain mode: stage is done there too, and the next cell is the same one
    plain = PlainDriver("--sandbox")
    try:
        screen_text = plain.expect(r"Quit \(progress is saved\)")
        assert (
            "Create EC2 key pairs: shared-services pending, dev done, stage done, prod pending" in screen_text
        )
        step_id, account = workspace.load().next_cell() or ("", "")
        from refarch_tui import checklist

        assert f"Next: {checklist.step(step_id).title} in {account}" in screen_text
        plain.choose(menu_number(screen_text, "Quit (progress is saved)"))
        assert plain.finish() == 0
    finally:
        plain.close()
