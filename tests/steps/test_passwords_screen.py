"""The passwords screen, keyboard only: the preview names the data store and the keyring entry, a typed
password stays masked until ctrl+t, a typed password breaking a rule is refused with the rule named, and
Run with the default generates the password into the keyring; it never appears on screen."""

from __future__ import annotations

from textual.widgets import Input, Static

from refarch_tui import secrets
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.steps import passwords
from screens.step import StepScreen
from tests.steps.conftest import MakeCtx
from tests.steps.pilot import StepApp, text_of, wait_until


def everything_shown(screen: StepScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


async def test_passwords_screen_masks_refuses_a_bad_password_and_generates_the_default(
    make_ctx: MakeCtx, step_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    workspace, state = step_workspace
    app = StepApp(make_ctx, state, step="passwords", account="dev", account_id="368294012756")
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the passwords screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        preview = text_of(screen, "#step-preview")
        assert "dev/us-east-1/data-stores/mysql (mysql)" in preview
        assert passwords.keyring_entry_for(workspace.directory, "dev") in preview

        typed = screen.query_one("#answer-password", Input)
        again = screen.query_one("#answer-password-again", Input)
        assert typed.password and again.password  # masked
        bad = "Has-an-at@sign-0123456789"
        typed.value = again.value = bad
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not typed.password and not again.password  # shown on the explicit key press only
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert typed.password and again.password
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not screen.running, what="the refused run")
        shown = everything_shown(screen)
        assert "may not contain '@'" in shown, shown
        assert bad not in shown
        assert state.record("passwords", "dev").status is not Status.DONE

        typed.value = again.value = ""
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: not screen.running and "done" in text_of(screen, "#step-status"),
            what="the run to finish",
        )
        value = secrets.fetch(passwords.keyring_entry_for(workspace.directory, "dev"))
        assert value and len(value) == 32
        assert value not in everything_shown(screen)
    record = state.record("passwords", "dev")
    assert record.status is Status.DONE
    assert record.secret_env == {
        "TF_VAR_master_password": passwords.keyring_entry_for(workspace.directory, "dev")
    }
