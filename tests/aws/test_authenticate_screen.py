"""Pilot tests of the Authenticate screen: sandbox keys → roles in all five accounts → identities shown."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Button, Checkbox, DataTable, Input, RadioButton, Select, Static

from refarch_tui.aws import keys as aws_keys
from refarch_tui.aws.access import AwsAccess
from refarch_tui.state import Workspace, WorkspaceState
from screens.authenticate import AuthenticateScreen
from screens.dialogs.mfa_code import MfaCodeDialog

from .conftest import ACCESS_KEY, ACCOUNTS, SECRET_KEY


class AuthApp(App[None]):
    def __init__(self, access: AwsAccess, state: WorkspaceState) -> None:
        super().__init__()
        self.access = access
        self.state = state
        self.checked: list[AuthenticateScreen.IdentitiesChecked] = []

    def on_mount(self) -> None:
        self.push_screen(AuthenticateScreen(self.access, self.state))

    def on_authenticate_screen_identities_checked(
        self, message: AuthenticateScreen.IdentitiesChecked
    ) -> None:
        self.checked.append(message)


def _rows(table: DataTable[object]) -> dict[str, list[str]]:
    return {
        str(table.get_row_at(i)[0]): [str(cell) for cell in table.get_row_at(i)]
        for i in range(table.row_count)
    }


async def test_sandbox_keys_assume_roles_into_all_five_accounts(
    moto: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto)
    app = AuthApp(access, sandbox_state)
    async with app.run_test(size=(170, 80)) as pilot:
        screen = app.screen
        assert isinstance(screen, AuthenticateScreen)
        screen.query_one("#access-key-id", Input).value = ACCESS_KEY
        screen.query_one("#secret-access-key", Input).value = SECRET_KEY
        assert screen.query_one("#assume-roles", Checkbox).value is True
        for name, account_id in ACCOUNTS.items():
            assert screen.query_one(f"#role-{name}", Input).value == (
                f"arn:aws:iam::{account_id}:role/allow-full-access-from-other-accounts"
            )
        await pilot.click("#check")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = _rows(screen.query_one("#identities", DataTable))
        assert list(rows) == list(ACCOUNTS)
        for name, account_id in ACCOUNTS.items():
            _account, status, expected, reached, left, arn = rows[name]
            assert (expected, reached, status) == (account_id, account_id, "ok")
            assert f"::{account_id}:assumed-role/allow-full-access-from-other-accounts/" in arn
            assert left.endswith("m") and left != "expired"
        assert "5 of 5 accounts confirmed" in str(screen.query_one("#auth-message", Static).render())
        assert screen.query_one("#secret-access-key", Input).value == ""
        assert app.checked and set(app.checked[-1].results) == set(ACCOUNTS)
    assert not any(access.is_blocked(name) for name in ACCOUNTS)
    assert aws_keys.load_keys(access.workspace_id) is None  # sandbox: typed keys never stored
    assert workspace.load().settings["auth"]["assume_roles"] is True


async def test_mismatch_shows_blocked_in_red(
    moto: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto)
    app = AuthApp(access, sandbox_state)
    async with app.run_test(size=(170, 80)) as pilot:
        screen = app.screen
        screen.query_one("#role-prod", Input).value = ""
        await pilot.click("#check")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = _rows(screen.query_one("#identities", DataTable))
        assert rows["prod"][1] == "blocked" and rows["dev"][1] == "ok"
        reasons = screen.query_one("#block-reasons", Static).render()
        assert "BLOCKED" in str(reasons) and ACCOUNTS["prod"] in str(reasons)
    assert access.is_blocked("prod")


async def test_mfa_dialog_answers_the_prompt(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState
) -> None:
    access = make_real_access()
    app = AuthApp(access, real_state)
    async with app.run_test(size=(170, 80)) as pilot:
        screen = app.screen
        screen.query_one("#access-key-id", Input).value = ACCESS_KEY
        screen.query_one("#secret-access-key", Input).value = SECRET_KEY
        screen.query_one("#mfa-serial", Input).value = f"arn:aws:iam::{ACCOUNTS['security']}:mfa/operator"
        await pilot.click("#check")
        for _ in range(200):  # wait for the worker to open the dialog (bounded; no sleeps)
            await pilot.pause()
            if isinstance(app.screen, MfaCodeDialog):
                break
        assert isinstance(app.screen, MfaCodeDialog)
        await pilot.click("#mfa-code")
        await pilot.press(*"123456")
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        rows = _rows(screen.query_one("#identities", DataTable))
        assert all(row[1] == "ok" for row in rows.values()), rows
        assert not screen.query_one("#check", Button).disabled
    stored = aws_keys.load_keys(access.workspace_id)
    assert stored is not None and stored.access_key_id == ACCESS_KEY


async def _check_and_wait(pilot: Any, app: AuthApp) -> None:
    await pilot.click("#check")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_bad_key_format_is_shown_not_raised(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState
) -> None:
    access = make_real_access()
    app = AuthApp(access, real_state)
    async with app.run_test(size=(170, 80)) as pilot:
        screen = app.screen
        screen.query_one("#access-key-id", Input).value = "AKIA-short"
        screen.query_one("#secret-access-key", Input).value = SECRET_KEY
        await _check_and_wait(pilot, app)
        message = str(screen.query_one("#auth-message", Static).render())
        assert "access key ID should be 20 characters" in message
        assert SECRET_KEY not in message
        assert not screen.query_one("#check", Button).disabled
    assert aws_keys.load_keys(access.workspace_id) is None


async def test_sso_profile_without_login_names_the_command(
    make_real_access: Callable[..., AwsAccess], real_state: WorkspaceState, isolated_home: Path
) -> None:
    (isolated_home / ".aws").mkdir(parents=True)
    (isolated_home / ".aws" / "config").write_text(
        "[profile corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_account_id = 104983213567\nsso_role_name = Admin\n"
    )
    access = make_real_access()
    app = AuthApp(access, real_state)
    async with app.run_test(size=(170, 80)) as pilot:
        screen = app.screen
        await app.workers.wait_for_complete()  # the profile list loads in a worker
        await pilot.pause()
        screen.query_one("#method-profile", RadioButton).value = True
        await pilot.pause()
        assert screen.query_one("#profile", Select).display
        assert not screen.query_one("#keys-form").display
        screen.query_one("#profile", Select).value = "corp"
        await _check_and_wait(pilot, app)
        rows = _rows(screen.query_one("#identities", DataTable))
        assert all(row[1] == "error" for row in rows.values())
        assert "aws sso login --profile corp" in str(screen.query_one("#block-reasons", Static).render())


async def test_ui_stays_responsive_while_identities_are_checked(
    moto: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    release = threading.Event()
    in_flight = threading.Event()

    def hold(**_kwargs: Any) -> None:
        in_flight.set()
        release.wait(30)

    def hook(who: str, service: str, client: Any) -> None:
        if (who, service) == ("prod", "sts"):
            client.meta.events.register("before-send.sts.GetCallerIdentity", hold)

    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto, client_hook=hook)
    app = AuthApp(access, sandbox_state)
    try:
        async with app.run_test(size=(170, 80)) as pilot:
            screen = app.screen
            await pilot.click("#check")
            for _ in range(500):  # bounded: until the worker is inside the held request
                await pilot.pause()
                if in_flight.is_set():
                    break
            assert in_flight.is_set()
            assert screen.query_one("#check", Button).disabled  # the check is still running
            await pilot.click("#mfa-serial")
            await pilot.press(*"GAHT12345678")
            await pilot.pause()
            assert screen.query_one("#mfa-serial", Input).value == "GAHT12345678"
            release.set()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not screen.query_one("#check", Button).disabled
            assert _rows(screen.query_one("#identities", DataTable))["prod"][1] == "ok"
    finally:
        release.set()


def test_authenticate_snapshot_after_a_sandbox_check(
    snap_compare: Any, moto: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto)
    app = AuthApp(access, sandbox_state)

    async def check(pilot: Any) -> None:
        app.screen.query_one("#role-prod", Input).value = ""  # prod uses the keys directly: blocked
        await _check_and_wait(pilot, app)

    assert snap_compare(app, terminal_size=(150, 60), run_before=check)


async def test_leaving_the_screen_during_a_check_is_safe(
    moto: str, sandbox_state: WorkspaceState, workspace: Workspace
) -> None:
    release = threading.Event()
    in_flight = threading.Event()
    finished: list[Any] = []

    def hold(**_kwargs: Any) -> None:
        in_flight.set()
        release.wait(30)

    def hook(who: str, service: str, client: Any) -> None:
        if (who, service) == ("dev", "sts"):
            client.meta.events.register("before-send.sts.GetCallerIdentity", hold)

    access = AwsAccess(sandbox_state, workspace=workspace, endpoint_url=moto, client_hook=hook)
    app = AuthApp(access, sandbox_state)
    try:
        async with app.run_test(size=(170, 80)) as pilot:
            screen = app.screen
            await pilot.click("#check")
            for _ in range(500):
                await pilot.pause()
                if in_flight.is_set():
                    break
            worker = next(w for w in app.workers if w.group == "auth-check")
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is not screen
            release.set()
            await app.workers.wait_for_complete()
            await pilot.pause()
            finished.append(worker.state.name)
            assert app.checked and app.checked[-1].results["dev"].ok  # the App still got the results
    finally:
        release.set()
    assert finished == ["SUCCESS"]
    assert app.return_code in (None, 0)
