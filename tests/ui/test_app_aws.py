"""The app with the real sandbox emulator: identities checked after the first paint, Authenticate on `i`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from refarch_tui import sandbox
from refarch_tui.app import make_app
from refarch_tui.aws import emulator
from refarch_tui.state import Workspace, WorkspaceState
from screens.authenticate import AuthenticateScreen
from screens.home import HomeScreen


@pytest.fixture
def real_sandbox() -> Iterator[tuple[Workspace, WorkspaceState]]:
    workspace, state = sandbox.open_sandbox()
    try:
        yield workspace, state
    finally:
        emulator.stop(workspace.directory)


async def test_sandbox_identities_reach_every_account_and_authenticate_opens(
    real_sandbox: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = real_sandbox
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.emulator_endpoint is not None
        assert set(app.identities) == {"security", "shared-services", "dev", "stage", "prod"}
        assert (
            "arn:aws:sts::368294012756:assumed-role/allow-full-access-from-other-accounts"
            in app.identities["dev"]
        )
        assert app.blocked == set()
        assert "identity arn:aws:" in app.sub_title
        await pilot.press("i")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AuthenticateScreen)


async def test_a_blocked_account_refuses_to_open_steps(
    real_sandbox: tuple[Workspace, WorkspaceState],
) -> None:
    from refarch_tui.aws.auth import SETTINGS_KEY, AuthConfig

    workspace, state = real_sandbox
    # no roles: the security account's keys are used as they are, so every other account reaches security
    state.settings[SETTINGS_KEY] = AuthConfig(assume_roles=False).to_settings()
    app = make_app(workspace, state)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.blocked == {"shared-services", "dev", "stage", "prod"}
        assert "BLOCKED (reaches 104983213567)" in app.identities["dev"]
        home = app.screen
        assert isinstance(home, HomeScreen)
        from textual.widgets import DataTable

        table = home.query_one(DataTable)
        assert str(table.get_cell("keypairs", "dev")) == "blocked"
        assert str(table.get_cell("backends", "security")) == "pending"
        app.open_step("keypairs", "dev")
        await pilot.pause()
        assert app.screen is home
        assert any("dev is blocked" in str(n.message) for n in app._notifications)


async def test_apply_from_home_runs_in_the_app_and_survives_leaving_the_screen(
    real_sandbox: tuple[Workspace, WorkspaceState], monkeypatch: pytest.MonkeyPatch
) -> None:
    from screens.apply import ApplyScreen

    monkeypatch.setenv("REFARCH_REHEARSAL_SPEED", "0")
    monkeypatch.setenv("REFARCH_RETRY_BACKOFF", "0")
    workspace, state = real_sandbox
    app = make_app(workspace, state)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # identities first: the runner refuses unconfirmed accounts
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ApplyScreen)
        from textual.widgets import Checkbox, Static

        for name in state.account_names:  # every account has steps still pending: the operator overrides
            box = app.screen.query_one(f"#run-{name}", Checkbox)
            warning = str(app.screen.query_one(f"#warning-{name}", Static).render())
            assert box.value is False and "not done" in warning
            box.value = True
        await pilot.press("s")
        await pilot.pause()
        controller = app.run_controller()
        assert controller.current is not None
        await pilot.press("escape")  # leave the screen: the run belongs to the app and goes on
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await controller.wait()
        run = controller.current
        assert run is not None and run.simulated
        assert run.succeeded(), run.not_succeeded()
        statuses = app.unit_statuses()
        assert len(statuses) == 67 and set(statuses.values()) == {"succeeded"}
        await pilot.pause()
    reopened = workspace.load()
    assert {reopened.record("terragrunt", a).status.value for a in reopened.account_names} == {
        "rehearsed"
    }  # a SIMULATED run deploys nothing (issue 9 item 11)
