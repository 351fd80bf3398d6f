"""Authenticate: choose how to reach AWS, then confirm the identity reached in every account.

The screen only collects input and shows results; `refarch_tui.identity.IdentityService` (over the
workspace's AWS access) does the work in a thread worker. MFA codes are asked through a modal dialog
(screens.dialogs.mfa_code) while the worker waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from refarch_tui.identity import AuthForm, CheckReport, IdentityProblem, IdentityRow, IdentityService
from refarch_tui.state import WorkspaceState
from screens.dialogs.mfa_code import mfa_prompt_for
from screens.widgets.sandbox_banner import SandboxBanner
from screens.widgets.status_text import status_text
from screens.worker_failures import ReportsWorkerFailures

log = logging.getLogger(__name__)
METHODS = {"method-keys": "keys", "method-env": "env", "method-profile": "profile"}


class AuthenticateScreen(ReportsWorkerFailures, Screen[None]):
    BINDINGS = [
        Binding("ctrl+r", "check", "Save and check identities", id="auth.check"),
        Binding("escape", "back", "Back", id="auth.back"),
    ]

    DEFAULT_CSS = """
    #auth-body { padding: 0 1; height: 1fr; }
    #auth-body > * { margin-bottom: 1; }
    #keys-form Input { margin-bottom: 0; }
    #keys-form, #role-arns { height: auto; }
    .role-row { height: auto; }
    .role-label { width: 18; }
    .role-row Input { width: 1fr; }
    #identities { height: auto; max-height: 12; }
    """

    class IdentitiesChecked(Message):
        """Posted after every check so the App can show identities in its header."""

        def __init__(self, results: dict[str, Any]) -> None:
            super().__init__()
            self.results = results  # account -> identity result, for the App's header

    def __init__(self, access: IdentityService | Any, state: WorkspaceState) -> None:
        super().__init__()
        self.service = IdentityService.of(access, state)
        self.state = state

    def compose(self) -> ComposeResult:
        form = self.service.current_form()
        yield Header()
        if self.service.sandbox:
            yield SandboxBanner()
        with VerticalScroll(id="auth-body"):
            if self.service.sandbox:
                yield Static(
                    "Sandbox: the emulator's fake keys are used; keys typed here are ignored, never stored."
                )
            with RadioSet(id="auth-method"):
                yield RadioButton(
                    "Access keys (typed; kept in the OS keyring)",
                    id="method-keys",
                    value=form.method == "keys",
                )
                yield RadioButton(
                    "Access keys from the environment (AWS_ACCESS_KEY_ID…)",
                    id="method-env",
                    value=form.method == "env",
                )
                yield RadioButton(
                    "Named profile (~/.aws/config)",
                    id="method-profile",
                    value=form.method == "profile",
                )
            with Vertical(id="keys-form"):
                yield Input(placeholder="Access key ID (AKIA…)", id="access-key-id", compact=True)
                yield Input(
                    placeholder="Secret access key", password=True, id="secret-access-key", compact=True
                )
                yield Input(
                    placeholder="Session token (only for ASIA… keys)",
                    password=True,
                    id="session-token",
                    compact=True,
                )
            yield Select[str]([], prompt="Pick a profile", id="profile", allow_blank=True, compact=True)
            yield Input(
                form.mfa_serial or "",
                placeholder="MFA device ARN (optional)",
                id="mfa-serial",
                compact=True,
            )
            yield Checkbox(
                "Assume a role in each account (security-account keys + role per account)",
                form.assume_roles,
                id="assume-roles",
                compact=True,
            )
            with Vertical(id="role-arns"):
                for account in self.state.accounts:
                    value = form.role_arns.get(account.name, "")
                    with Horizontal(classes="role-row"):
                        yield Label(f"{account.name:<16}", classes="role-label")
                        yield Input(
                            value,
                            placeholder="empty: use the credentials directly",
                            id=f"role-{account.name}",
                            compact=True,
                        )
            yield Checkbox(
                "Let terragrunt assume the role itself (TERRAGRUNT_IAM_ROLE / TG_IAM_ASSUME_ROLE)",
                form.terragrunt_role,
                id="terragrunt-role",
                compact=True,
            )
            yield Button("Save and check identities", id="check", variant="primary")
            yield Static("", id="auth-message")
            yield DataTable(id="identities", cursor_type="row", zebra_stripes=True)
            yield Static("", id="block-reasons")
            yield Static("", id="org-check")
        yield Footer()

    @on(RadioSet.Changed, "#auth-method")
    def _method_changed(self) -> None:
        self._show_method_fields()

    @on(Checkbox.Changed, "#assume-roles")
    def _roles_toggled(self, event: Checkbox.Changed) -> None:
        self.query_one("#role-arns").disabled = not event.value

    def _show_method_fields(self) -> None:
        method = self._form().method
        self.query_one("#keys-form").display = method == "keys"
        self.query_one("#profile").display = method == "profile"

    def on_mount(self) -> None:
        self._show_method_fields()
        self.query_one("#role-arns").disabled = not self.query_one("#assume-roles", Checkbox).value
        table = self.query_one("#identities", DataTable)
        table.add_columns(
            "account", "status", "expected ID", "reached ID", "time left", "identity (ARN) or error"
        )
        self._show_rows(self.service.rows())
        self._load_profiles()

    @work(thread=True, exclusive=True, group="auth-profiles", exit_on_error=False)
    def _load_profiles(self) -> None:
        try:
            profiles = self.service.profiles()
        except IdentityProblem as exc:
            self._on_ui(self.app, self._say, str(exc), "red")
            return
        self._on_ui(self.app, self._fill_profiles, profiles)

    def _fill_profiles(self, profiles: list[tuple[str, str]]) -> None:
        select = self.query_one("#profile", Select)
        select.set_options(profiles)
        current = self.service.current_form().profile
        if current and any(name == current for _label, name in profiles):
            select.value = current

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#auth-message", Static).update(Text(text, style=style))

    def _form(self) -> AuthForm:
        pressed = self.query_one("#auth-method", RadioSet).pressed_button
        method = METHODS.get(pressed.id or "", "keys") if pressed else "keys"
        profile = self.query_one("#profile", Select).value
        return AuthForm(
            method=method,
            profile=profile if isinstance(profile, str) else None,
            assume_roles=self.query_one("#assume-roles", Checkbox).value,
            role_arns={
                a.name: self.query_one(f"#role-{a.name}", Input).value.strip() for a in self.state.accounts
            },
            mfa_serial=self.query_one("#mfa-serial", Input).value.strip() or None,
            terragrunt_role=self.query_one("#terragrunt-role", Checkbox).value,
        )

    @on(Button.Pressed, "#check")
    def action_check(self) -> None:
        config = self._form()
        typed = [
            self.query_one(f"#{name}", Input)
            for name in ("access-key-id", "secret-access-key", "session-token")
        ]
        values = [field.value for field in typed]
        for field in typed[1:]:
            field.value = ""  # secrets do not linger in widgets
        self.query_one("#check", Button).disabled = True
        self._say("Checking identities…")
        # on the App, not the screen: leaving the screen must not cancel a check (or an MFA session) midway
        self.app.run_worker(
            partial(self._check, self.app, config, values),
            name="AWS identity check",
            group="auth-check",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _check(self, app: App[Any], form: AuthForm, typed: list[str]) -> None:
        """Worker thread. `app` is passed in: a screen that was closed meanwhile no longer knows its app."""
        try:
            report = self.service.check(form, (typed[0], typed[1], typed[2]), mfa_prompt_for(app))
        except IdentityProblem as exc:
            self._on_ui(app, self._failed, str(exc))
            return
        except Exception:
            log.exception("identity check failed unexpectedly")
            self._on_ui(app, self._failed, "Unexpected error while checking; details are in the log file.")
            return
        # to the App directly: it keeps the identities for its header even if this screen was closed
        app.post_message(self.IdentitiesChecked(report.results))
        self._on_ui(app, self._show_report, report)

    def _on_ui(self, app: App[Any], callback: Callable[..., None], *args: Any) -> None:
        """Run `callback` on the UI thread if this screen is still shown (the operator may have left)."""

        def guarded() -> None:
            if self.is_attached:
                callback(*args)

        app.call_from_thread(guarded)

    def _failed(self, message: str) -> None:
        self.query_one("#check", Button).disabled = False
        self._say(message, "bold red")

    def _show_report(self, report: CheckReport) -> None:
        self._show_rows(report.rows)
        self.query_one("#org-check", Static).update("\n".join(report.org_lines))

    def _show_rows(self, rows: list[IdentityRow]) -> None:
        self.query_one("#check", Button).disabled = False
        table = self.query_one("#identities", DataTable)
        table.clear()
        words = {"error": Text("error", style="bold red"), "ok": Text("ok", style="bold green")}
        for row in rows:
            word = words.get(row.status, status_text(row.status))
            table.add_row(
                row.account, word, row.expected_id, row.reached_id, row.time_left, row.detail, key=row.account
            )
        problems = [row.problem for row in rows if row.problem]
        self.query_one("#block-reasons", Static).update(Text("\n".join(problems), style="bold red"))
        checked = [row for row in rows if row.status != "unchecked"]
        if checked:
            good = sum(row.status == "ok" for row in checked)
            self._say(f"{good} of {len(rows)} accounts confirmed.", "bold green" if good == len(rows) else "")

    def action_back(self) -> None:
        self.app.pop_screen()
