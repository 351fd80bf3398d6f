"""Authenticate: choose how to reach AWS, then confirm the identity reached in every account.

The screen only collects input and shows results; `refarch_tui.aws.access.AwsAccess` does the work in a
thread worker. MFA codes are asked through a modal dialog while the worker waits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
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

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import (
    AuthConfig,
    AuthMethod,
    ChildEnvMode,
    IdentityResult,
    IdentityStatus,
    OrgCheck,
    default_role_arn,
    format_time_left,
)
from refarch_tui.aws.errors import AwsAccessError
from refarch_tui.aws.profiles import ProfileInfo
from refarch_tui.state import WorkspaceState
from screens.widgets.sandbox_banner import SandboxBanner
from screens.widgets.status_text import status_text

log = logging.getLogger(__name__)
MFA_WAIT_SECONDS = 600.0
METHODS = {"method-keys": AuthMethod.KEYS, "method-env": AuthMethod.ENV, "method-profile": AuthMethod.PROFILE}


class MfaCodeDialog(ModalScreen[str]):
    """Asks for a 6-digit MFA code; dismisses with the code, or "" when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="mfa.cancel")]
    DEFAULT_CSS = """
    MfaCodeDialog { align: center middle; }
    #mfa-dialog { width: 64; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    #mfa-dialog Input { margin: 1 0; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="mfa-dialog"):
            yield Static(self.question, id="mfa-question")
            yield Input(placeholder="123456", id="mfa-code", max_length=6, restrict=r"\d*")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="mfa-ok", variant="primary")
                yield Button("Cancel", id="mfa-cancel")

    @on(Input.Submitted, "#mfa-code")
    @on(Button.Pressed, "#mfa-ok")
    def _ok(self) -> None:
        self.dismiss(self.query_one("#mfa-code", Input).value.strip())

    @on(Button.Pressed, "#mfa-cancel")
    def action_cancel(self) -> None:
        self.dismiss("")


def ask_mfa_code(app: App[Any], question: str) -> str:
    """From a worker thread: show the MFA dialog on the UI thread and wait for the code ("" = cancelled)."""
    answer: list[str] = []
    done = threading.Event()

    def answered(code: str | None) -> None:
        answer.append(code or "")
        done.set()

    app.call_from_thread(app.push_screen, MfaCodeDialog(question), answered)
    done.wait(MFA_WAIT_SECONDS)
    return answer[0] if answer else ""


def mfa_prompt_for(app: App[Any]) -> Callable[[str], str]:
    """The `mfa_prompt` to give AwsAccess so background checks and refreshes can ask through the dialog."""
    return partial(ask_mfa_code, app)


class AuthenticateScreen(Screen[None]):
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

        def __init__(self, results: dict[str, IdentityResult]) -> None:
            super().__init__()
            self.results = results

    def __init__(self, access: AwsAccess, state: WorkspaceState) -> None:
        super().__init__()
        self.access = access
        self.state = state

    def compose(self) -> ComposeResult:
        config = self.access.config if "auth" in self.state.settings else AuthConfig(assume_roles=True)
        yield Header()
        if self.access.sandbox:
            yield SandboxBanner()
        with VerticalScroll(id="auth-body"):
            if self.access.sandbox:
                yield Static(
                    "Sandbox: the emulator's fake keys are used; keys typed here are ignored, never stored."
                )
            with RadioSet(id="auth-method"):
                yield RadioButton(
                    "Access keys (typed; kept in the OS keyring)",
                    id="method-keys",
                    value=config.method is AuthMethod.KEYS,
                )
                yield RadioButton(
                    "Access keys from the environment (AWS_ACCESS_KEY_ID…)",
                    id="method-env",
                    value=config.method is AuthMethod.ENV,
                )
                yield RadioButton(
                    "Named profile (~/.aws/config)",
                    id="method-profile",
                    value=config.method is AuthMethod.PROFILE,
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
                config.mfa_serial or "",
                placeholder="MFA device ARN (optional)",
                id="mfa-serial",
                compact=True,
            )
            yield Checkbox(
                "Assume a role in each account (security-account keys + role per account)",
                config.assume_roles,
                id="assume-roles",
                compact=True,
            )
            with Vertical(id="role-arns"):
                for account in self.state.accounts:
                    default = default_role_arn(account.id) if account.id else ""
                    value = config.role_arns.get(account.name, default)
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
                config.child_env is ChildEnvMode.TERRAGRUNT_ROLE,
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
        self.query_one("#keys-form").display = method is AuthMethod.KEYS
        self.query_one("#profile").display = method is AuthMethod.PROFILE

    def on_mount(self) -> None:
        self._show_method_fields()
        self.query_one("#role-arns").disabled = not self.query_one("#assume-roles", Checkbox).value
        table = self.query_one("#identities", DataTable)
        table.add_columns(
            "account", "status", "expected ID", "reached ID", "time left", "identity (ARN) or error"
        )
        self._show_results({a.name: self.access.result(a.name) for a in self.state.accounts}, None)
        self._load_profiles()

    @work(thread=True, exclusive=True, group="auth-profiles", exit_on_error=False)
    def _load_profiles(self) -> None:
        try:
            profiles = self.access.profiles()
        except AwsAccessError as exc:
            self._on_ui(self.app, self._say, str(exc), "red")
            return
        self._on_ui(self.app, self._fill_profiles, profiles)

    def _fill_profiles(self, profiles: list[ProfileInfo]) -> None:
        select = self.query_one("#profile", Select)
        select.set_options([(p.describe(), p.name) for p in profiles])
        current = self.access.config.profile
        if current and any(p.name == current for p in profiles):
            select.value = current

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#auth-message", Static).update(Text(text, style=style))

    def _form(self) -> AuthConfig:
        pressed = self.query_one("#auth-method", RadioSet).pressed_button
        method = METHODS.get(pressed.id or "", AuthMethod.KEYS) if pressed else AuthMethod.KEYS
        profile = self.query_one("#profile", Select).value
        return AuthConfig(
            method=method,
            profile=profile if isinstance(profile, str) else None,
            assume_roles=self.query_one("#assume-roles", Checkbox).value,
            role_arns={
                a.name: self.query_one(f"#role-{a.name}", Input).value.strip() for a in self.state.accounts
            },
            mfa_serial=self.query_one("#mfa-serial", Input).value.strip() or None,
            child_env=ChildEnvMode.TERRAGRUNT_ROLE
            if self.query_one("#terragrunt-role", Checkbox).value
            else ChildEnvMode.SESSION,
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

    def _check(self, app: App[Any], config: AuthConfig, typed: list[str]) -> None:
        """Worker thread. `app` is passed in: a screen that was closed meanwhile no longer knows its app."""
        self.access.set_mfa_prompt(mfa_prompt_for(app))
        try:
            if config.method is AuthMethod.KEYS and (typed[0] or typed[1]):
                self.access.configure_keys(config, typed[0], typed[1], typed[2] or None)
            else:
                self.access.configure(config)
            results = self.access.check_all()
            org = self.access.org_cross_check()
        except AwsAccessError as exc:
            self._on_ui(app, self._failed, str(exc))
            return
        except Exception:
            log.exception("identity check failed unexpectedly")
            self._on_ui(app, self._failed, "Unexpected error while checking; details are in the log file.")
            return
        # to the App directly: it keeps the identities for its header even if this screen was closed
        app.post_message(self.IdentitiesChecked(results))
        self._on_ui(app, self._show_results, results, org)

    def _on_ui(self, app: App[Any], callback: Callable[..., None], *args: Any) -> None:
        """Run `callback` on the UI thread if this screen is still shown (the operator may have left)."""

        def guarded() -> None:
            if self.is_attached:
                callback(*args)

        app.call_from_thread(guarded)

    def _failed(self, message: str) -> None:
        self.query_one("#check", Button).disabled = False
        self._say(message, "bold red")

    def _show_results(self, results: dict[str, IdentityResult], org: OrgCheck | None) -> None:
        self.query_one("#check", Button).disabled = False
        table = self.query_one("#identities", DataTable)
        table.clear()
        problems: list[str] = []
        for name, result in results.items():
            status = result.status
            word = {
                IdentityStatus.ERROR: Text("error", style="bold red"),
                IdentityStatus.OK: Text("ok", style="bold green"),
            }.get(status, status_text(status.value))
            table.add_row(
                name,
                word,
                result.expected_id or "?",
                result.reached_id or "-",
                format_time_left(result.time_left()) if result.reached_id else "-",
                result.arn or (result.error or "-"),
                key=name,
            )
            if status in (IdentityStatus.BLOCKED, IdentityStatus.ERROR):
                problems.append(
                    result.explanation if status is IdentityStatus.BLOCKED else f"{name}: {result.error}"
                )
        self.query_one("#block-reasons", Static).update(Text("\n".join(problems), style="bold red"))
        if org is not None:
            lines = [org.message]
            lines += [f"missing in org: {n} ({i})" for n, i in org.missing_in_org]
            lines += [f"not in repo: {i} ({n})" for i, n in org.not_in_repo]
            self.query_one("#org-check", Static).update("\n".join(lines))
        checked = [r for r in results.values() if r.status is not IdentityStatus.UNCHECKED]
        if checked:
            good = sum(r.ok for r in checked)
            self._say(
                f"{good} of {len(results)} accounts confirmed.", "bold green" if good == len(results) else ""
            )

    def action_back(self) -> None:
        self.app.pop_screen()
