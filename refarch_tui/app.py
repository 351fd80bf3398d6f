"""Composition root for the TUI: builds services, wires screens, owns long-running work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from refarch_tui import logsetup, paths
from refarch_tui.run.cells import run_cells
from refarch_tui.state import Mode, StateError, Workspace, WorkspaceState
from screens.home import HomeScreen
from screens.worker_failures import WorkerCrashed, crash_of

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess
    from refarch_tui.aws.auth import IdentityResult
    from refarch_tui.live.model import LiveTree
    from refarch_tui.run.controller import RunController
    from refarch_tui.run.teardown import StateBackend
    from refarch_tui.run.teardown_exec import Teardown
    from refarch_tui.steps import resume
    from refarch_tui.steps.contract import StepContext
    from screens.authenticate import AuthenticateScreen
    from screens.welcome import NewWorkspace

log = logging.getLogger(__name__)

StepScreenFactory = Callable[["RefarchApp", str], Screen[None]]


def _apply_screen(app: RefarchApp, account: str) -> Screen[None]:
    from screens.apply import ApplyScreen

    time_left = {}
    if app._access is not None:
        for name in app.identities:
            left = app._access.time_left(name)
            if left is not None:
                time_left[name] = f"{int(left.total_seconds() // 60)}m"
    return ApplyScreen(
        app.run_controller(),
        sandbox=app.sandbox,
        identities=app.identities,
        time_left=time_left,
        blocked=app.blocked,
    )


# step id -> screen factory; steps without one get the plain "not built yet" placeholder
STEP_SCREENS: dict[str, StepScreenFactory] = {"terragrunt": _apply_screen}


class RefarchApp(App[None]):
    CSS_PATH = str(paths.assets_dir() / "app.tcss")
    TITLE = "refarch-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit", show=False)]

    def __init__(
        self,
        workspace: Workspace | None = None,
        state: WorkspaceState | None = None,
        *,
        problem: str | None = None,
        log_file: Path | None = None,
        start: str | None = None,
    ) -> None:
        super().__init__()
        self.start = start  # "apply": go straight to the apply view once home is shown
        self.workspace = workspace
        self.state = state
        self.problem = problem
        self.log_file = log_file
        self.current_account: str | None = None
        self.identities: dict[str, str] = {}  # account -> one-line identity summary for the header
        self.blocked: set[str] = set()  # accounts whose credentials reach another account: nothing runs there
        self.emulator_endpoint: str | None = None
        self._access: AwsAccess | None = None
        self._run_controller: RunController | None = (
            None  # the app owns runs: closing a screen never ends one
        )
        self._teardowns: dict[str, Teardown] = {}  # per account, so a finished run's report outlives a screen
        self._quitting = False  # a quit during a run is waiting for its cancel (or hand-over) to finish

    # -- header --------------------------------------------------------------------------------------

    @property
    def sandbox(self) -> bool:
        return self.state is not None and self.state.mode is Mode.SANDBOX

    def update_header(self) -> None:
        mode = "SANDBOX" if self.sandbox else ("real AWS" if self.state else "no workspace")
        self.title = f"refarch-tui · {mode}"
        if self.state is None or self.workspace is None:
            self.sub_title = ""
            return
        parts = [f"workspace {self.workspace.directory.name}"]
        if self.current_account:
            account_id = self.state.account(self.current_account).id or "?"
            parts.append(f"account {self.current_account} ({account_id})")
            parts.append(f"identity {self.identities.get(self.current_account, 'not checked')}")
        self.sub_title = " · ".join(parts)

    # -- navigation ----------------------------------------------------------------------------------

    # Screens other than home are imported when first needed: the first paint must not wait for them.

    def _push_welcome(self) -> None:
        from screens.welcome import WelcomeScreen

        self.push_screen(WelcomeScreen(), self._after_welcome)

    def _push_problem(self, message: str) -> None:
        from screens.welcome import ProblemScreen

        self.push_screen(ProblemScreen(message), self._after_problem)

    def on_mount(self) -> None:
        self.update_header()
        if self.problem:
            self._push_problem(self.problem)
        elif self.state is not None:
            self._show_home()
        else:
            self._push_welcome()

    def _show_home(self) -> None:
        assert self.state is not None
        accounts = self.state.account_names
        self.current_account = accounts[0] if accounts else None
        self.update_header()
        workspace = self.workspace
        self.push_screen(
            HomeScreen(
                self.state,
                identities=self.identities,
                blocked=self.blocked,
                from_runs=(lambda: run_cells(workspace)) if workspace is not None else None,
            )
        )
        if self.start == "apply":
            self.call_after_refresh(self.action_show_apply)
        self.call_after_refresh(self._look_for_an_unfinished_run)
        if self.sandbox:
            # after the first paint: the emulator may still be importing moto and seeding
            self.call_after_refresh(self._watch_emulator)
        else:
            self.call_after_refresh(self._resume_in_background)

    def _resume_in_background(self) -> None:
        self._in_background(self._resume, name="Resuming the workspace", group="resume")

    def _resume(self) -> None:
        """Thread: identities again (when an auth method was chosen), then verify done steps."""
        if self._check_identities_if_configured():
            self._verify_done_cells()

    def _look_for_an_unfinished_run(self) -> None:
        self._in_background(self._check_last_run, name="Reading the last run", group="last-run")

    def _check_last_run(self) -> None:
        """After a crash or kill -9 mid-run: say what did not finish, and where to rerun it; after a quit
        during a run: what the operator chose and what came of it."""
        from refarch_tui.run import store

        assert self.workspace is not None
        record = store.load_run(self.workspace.runs_dir)
        if record is None:
            return
        quit_message = store.quit_sentence(record)
        if quit_message is not None:
            store.mark_quit_reported(record)
            left_running = record.quit is not None and record.quit.choice == store.QUIT_LEFT_RUNNING
            self.call_from_thread(
                self.notify,
                quit_message,
                title="You quit during a run",
                severity="warning" if left_running or not record.complete else "information",
                timeout=30,
            )
            return
        if record.complete or record.quit is not None:
            return
        left = record.not_succeeded()
        count = sum(len(paths) for paths in left.values())
        message = (
            f"The last run ({record.run_id}) did not finish: the app stopped while it ran. "
            f"{count} unit(s) in {', '.join(left) or 'no account'} did not succeed. "
            "Press a to see each unit's outcome and rerun what did not succeed."
        )
        self.call_from_thread(self.notify, message, title="Unfinished run", severity="warning", timeout=20)

    def _in_background(self, work: Callable[[], None], *, name: str, group: str) -> None:
        """One thread worker per group: a newer request replaces an older one, a failure is reported
        by `on_worker_state_changed`, never raised into the app."""
        self.run_worker(work, name=name, thread=True, group=group, exclusive=True, exit_on_error=False)

    def _watch_emulator(self) -> None:
        self._in_background(self._wait_for_emulator, name="Starting the sandbox emulator", group="emulator")

    def _wait_for_emulator(self) -> None:
        from refarch_tui import sandbox
        from refarch_tui.aws import emulator

        assert self.workspace is not None
        if (
            not sandbox.is_sandbox_workspace(self.workspace.directory)
            and emulator.status(self.workspace.directory) is None
        ):
            # a sandbox-mode copy elsewhere (tests, the README screenshot): never leave an emulator behind it
            return
        worker = get_current_worker()
        try:
            info = emulator.ensure_running(self.workspace.directory)
            # a quitting app cancels its workers; without this the exit waits out the whole start timeout
            info = emulator.wait_ready(self.workspace.directory, abandoned=lambda: worker.is_cancelled)
        except emulator.WaitAbandoned:
            return
        except emulator.EmulatorError as exc:
            log.warning("sandbox emulator failed: %s", exc)
            self.call_from_thread(
                self.notify, str(exc), title="Sandbox emulator", severity="error", timeout=30
            )
            return
        self.emulator_endpoint = info.endpoint
        self.call_from_thread(self.notify, f"AWS emulator ready at {info.endpoint}", title="Sandbox")
        if self._check_identities_if_configured() and not worker.is_cancelled:
            self._verify_done_cells()

    def _verify_done_cells(self) -> None:
        """Thread. Verified resume: each done cell's evidence is checked again; what no longer holds is saved
        as stale with the reason, which the home screen shows."""
        from refarch_tui.steps import resume, services

        assert self.workspace is not None and self.state is not None
        workspace, state = self.workspace, self.state
        if not resume.cells_to_verify(state):
            return
        access = self.aws_access()
        try:
            checked = resume.verify_workspace(
                workspace, state, lambda account: services.context_for(workspace, state, access, account)
            )
        except Exception as exc:  # never lose the app over a check; the log has the details
            log.exception("verifying done steps failed")
            self.call_from_thread(self.notify, f"Could not re-check done steps: {exc}", severity="warning")
            return
        self.call_from_thread(self._show_verified, checked)

    def _show_verified(self, checked: list[resume.Checked]) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.refresh_cells()
        stale = [entry for entry in checked if entry.status.value == "stale"]
        if stale:
            lines = [f"{entry.step} · {entry.account}: {entry.reason}" for entry in stale[:5]]
            more = f"\n…and {len(stale) - 5} more" if len(stale) > 5 else ""
            self.notify(
                "\n".join(lines) + more + "\nRun those steps again to repair them.",
                title=f"{len(stale)} done step(s) no longer hold",
                severity="warning",
                timeout=20,
            )

    # -- AWS access ------------------------------------------------------------------------------------

    def aws_access(self) -> AwsAccess:
        """The workspace's AWS sessions (one per account), built on first use."""
        if self._access is None:
            from refarch_tui.aws.access import for_workspace
            from screens.dialogs.mfa_code import mfa_prompt_for

            assert self.workspace is not None and self.state is not None
            self._access = for_workspace(self.workspace, self.state, mfa_prompt=mfa_prompt_for(self))
        return self._access

    def _check_identities_if_configured(self) -> bool:
        """Resume: a workspace that already chose how to authenticate re-checks every account (thread).
        True when the identities were checked."""
        assert self.state is not None
        from refarch_tui.aws.auth import SETTINGS_KEY
        from refarch_tui.aws.errors import AwsAccessError

        if SETTINGS_KEY not in self.state.settings and not self.sandbox:
            return False  # the sandbox gets its default choice from for_workspace

        try:
            results = self.aws_access().check_all()
        except AwsAccessError as exc:
            self.call_from_thread(self.notify, str(exc), title="AWS identity", severity="warning")
            return False
        self.call_from_thread(self.record_identities, results)
        return True

    def record_identities(self, results: dict[str, IdentityResult]) -> None:
        self.identities.clear()
        self.identities.update({account: result.summary for account, result in results.items()})
        self.blocked.clear()
        self.blocked.update(account for account, result in results.items() if result.blocked)
        self.update_header()
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.refresh_cells()

    def on_authenticate_screen_identities_checked(
        self, message: AuthenticateScreen.IdentitiesChecked
    ) -> None:
        self.record_identities(message.results)

    def _after_problem(self, choice: str | None) -> None:
        if choice == "new":
            self.problem = None
            self._push_welcome()
        else:
            self.exit()

    def _after_welcome(self, result: NewWorkspace | str | None) -> None:
        if result is None:
            self.exit()
            return
        try:
            if result == "sandbox":
                from refarch_tui import sandbox

                self.workspace, self.state = sandbox.open_sandbox()
            else:
                from refarch_tui.workspaces import create_workspace
                from screens.welcome import NewWorkspace

                assert isinstance(result, NewWorkspace)

                self.workspace, self.state = create_workspace(
                    result.live_dir, result.accounts, result.regions
                )
            self.workspace.acquire()
        except StateError as exc:
            self._push_problem(str(exc))
            return
        except OSError as exc:
            from refarch_tui import oserrors

            if not oserrors.is_ordinary(exc):
                raise
            self._push_problem(oserrors.explain(exc))
            return
        self._show_home()

    def on_home_screen_account_highlighted(self, message: HomeScreen.AccountHighlighted) -> None:
        self.current_account = message.account
        self.update_header()

    def on_home_screen_open_step(self, message: HomeScreen.OpenStep) -> None:
        self.open_step(message.step_id, message.account)

    def open_step(self, step_id: str, account: str) -> None:
        assert self.state is not None
        if not self.state.applies(step_id, account):
            reason = self.state.not_applicable_reason(step_id, account)
            self.notify(f"Not applicable to {account}: {reason}.")
            return
        # the apply screen runs every account: a blocked one is unticked there, the others can still run
        if account in self.blocked and step_id != "terragrunt":
            self.notify(
                f"{account} is blocked: the credentials reach another account "
                f"({self.identities.get(account)}). "
                "Fix it on the AWS identity screen (i) first.",
                severity="error",
            )
            return
        from refarch_tui.steps import registry

        factory = STEP_SCREENS.get(step_id)
        if factory is not None:
            self.push_screen(factory(self, account))
        elif registry.is_built(step_id):
            self.push_screen(self._step_screen(step_id, account))
        else:
            from screens.placeholder import StepPlaceholderScreen

            self.push_screen(StepPlaceholderScreen(step_id, account, sandbox=self.sandbox))

    def _step_screen(self, step_id: str, account: str) -> Screen[None]:
        from screens.step import StepScreen

        assert self.state is not None
        return StepScreen(
            step_id,
            account,
            make_context=self.step_context,
            sandbox=self.sandbox,
            account_id=self.state.account(account).id,
            identity=self.identities.get(account, ""),
            regions=list(self.state.regions),
        )

    def step_context(
        self, account: str, *, progress: Callable[[str], None], cancel: threading.Event
    ) -> StepContext:
        """Thread: the context a step runs with (the account's identity is checked first when it was not yet);
        StepRefused when the account cannot be used."""
        from refarch_tui.aws.errors import AwsAccessError
        from refarch_tui.steps import services
        from refarch_tui.steps.contract import StepRefused

        assert self.workspace is not None and self.state is not None
        try:
            access = self.aws_access()
            if access.result(account).status.value == "unchecked":
                result = access.check(account)
                self.call_from_thread(self.record_identities, access.results())
                if not result.ok:
                    raise StepRefused(result.explanation)
            return services.context_for(
                self.workspace, self.state, access, account, progress=progress, cancel=cancel
            )
        except AwsAccessError as exc:
            raise StepRefused(str(exc)) from None

    def action_export_transcript(self) -> None:
        self._in_background(self._export_transcript, name="Exporting the transcript", group="export")

    def _export_transcript(self) -> None:
        """Thread: the redacted Markdown transcript into the workspace; the notification names the file."""
        from refarch_tui import export

        if self.workspace is None or self.state is None:
            return
        try:
            target = export.write_transcript(self.workspace, self.state)
        except OSError as exc:
            self.call_from_thread(
                self.notify, f"Transcript not written: {exc}", title="Export", severity="error", timeout=20
            )
            return
        self.call_from_thread(self.notify, f"Transcript written to {target}", title="Export", timeout=20)

    def action_show_graph(self) -> None:
        if self.state is None:
            return
        self.notify("Reading the live repo…", timeout=2)
        self._in_background(self._load_graph, name="Reading the live repo", group="graph")

    def _load_graph(self) -> None:
        from refarch_tui import live

        assert self.state is not None
        tree = live.scan(Path(self.state.live_dir))
        self.call_from_thread(self._open_graph, tree)

    def _open_graph(self, tree: LiveTree) -> None:
        from screens.graph import GraphScreen

        self.push_screen(GraphScreen(tree, statuses=self.unit_statuses()))

    def action_show_apply(self) -> None:
        self.open_step("terragrunt", self.current_account or "security")

    def action_show_teardown(self) -> None:
        """The teardown of the account under the home screen's cursor (one Teardown per account, kept)."""
        if self.state is None or self.workspace is None or self.current_account is None:
            return
        account = self.current_account
        if account in self.blocked:
            self.notify(f"{account} is blocked: the credentials reach another account.", severity="error")
            return
        from refarch_tui.run.teardown_exec import Teardown
        from screens.teardown import TeardownScreen

        controller = self.run_controller()
        teardown = self._teardowns.get(account)
        if teardown is None:
            teardown = self._teardowns[account] = Teardown(
                self.workspace, self.state, account, env_for_account=controller.env_for_account
            )
        teardown.identity = self.identities.get(account, "")
        self.push_screen(
            TeardownScreen(
                teardown, controller, sandbox=self.sandbox, backend_deleter=self._backend_deleter(account)
            )
        )

    def _backend_deleter(self, account: str) -> Callable[[StateBackend], list[str]]:
        """Deletes an account's state bucket and lock table with that account's confirmed session."""

        def delete(backend: StateBackend) -> list[str]:
            from refarch_tui.aws.state_backend import delete_state_backend

            assert backend.bucket is not None and self.state is not None
            access = self.aws_access()
            return delete_state_backend(
                lambda service, region: access.client(account, service, region),
                bucket=backend.bucket,
                table=backend.table,
                region=backend.region,
                account_id=self.state.account(account).id,
            )

        return delete

    # -- runs ------------------------------------------------------------------------------------------

    def run_controller(self) -> RunController:
        if self._run_controller is None:
            from refarch_tui.run.controller import RunController
            from refarch_tui.run_access import terragrunt_generation

            assert self.workspace is not None and self.state is not None
            generation = terragrunt_generation()

            def env_for_account(account: str) -> dict[str, str]:
                # raises for an account whose identity is not confirmed: the runner then fails that account
                return self.aws_access().environment_for(
                    account, base_env={}, terragrunt_generation=generation
                )

            self._run_controller = RunController(self.workspace, self.state, env_for_account=env_for_account)
        return self._run_controller

    def unit_statuses(self) -> dict[str, str]:
        """Per-unit status of the current or last run, for the graph view's colours."""
        if self._run_controller is None or self._run_controller.current is None:
            return {}
        run = self._run_controller.current
        return {
            path: unit.status.value
            for account in run.accounts.values()
            for path, unit in account.units.items()
        }

    def action_show_authenticate(self) -> None:
        if self.state is None:
            return
        if self.sandbox and self.emulator_endpoint is None:
            self.notify("The sandbox's AWS emulator is still starting; try again in a moment.")
            return
        self._in_background(self._open_authenticate, name="Opening the identity check", group="auth")

    def _open_authenticate(self) -> None:
        from refarch_tui.aws.errors import AwsAccessError

        try:
            access = self.aws_access()
        except AwsAccessError as exc:
            self.call_from_thread(self.notify, str(exc), title="AWS identity", severity="error")
            return
        self.call_from_thread(self._push_authenticate, access)

    def _push_authenticate(self, access: AwsAccess) -> None:
        from refarch_tui.identity import IdentityService
        from screens.authenticate import AuthenticateScreen

        assert self.state is not None
        self.push_screen(AuthenticateScreen(IdentityService(access, self.state), self.state))

    # -- quitting ----------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; while a run is active, first ask: cancel it and quit, leave terragrunt running, or stay."""
        controller = self._run_controller
        if controller is None or not controller.running or controller.current is None:
            self.exit()
            return
        if self._quitting:
            self.notify("Already quitting: waiting for terragrunt to stop.")
            return
        from screens.dialogs.quit_during_run import QuitDuringRunDialog

        run = controller.current
        running = [name for name, account in run.accounts.items() if account.status.value == "running"]
        self.push_screen(
            QuitDuringRunDialog(
                run_id=run.id,
                running="running in " + (", ".join(running) or "no account yet"),
                leave_refused=run.leave_running_refusal,
            ),
            self._after_quit_choice,
        )

    def _after_quit_choice(self, choice: str | None) -> None:
        if choice in ("cancel", "leave"):
            self._quitting = True
            self.run_worker(
                self._quit_during_run(choice),
                name="Quitting during a run",
                group="quit",
                exclusive=True,
                exit_on_error=False,
            )

    async def _quit_during_run(self, choice: str) -> None:
        controller = self.run_controller()
        try:
            if choice == "cancel":
                self.notify("Cancelling the run; the app quits once terragrunt has stopped.", timeout=30)
                await controller.cancel_for_quit()
            else:
                left = await controller.leave_running_for_quit()
                log.warning("quit during a run: terragrunt left running in %s", left)
        finally:
            self.exit()  # the operator asked to quit: a failure above is in the log, it must not keep them

    # -- worker failures -----------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The App's own workers (and the screens' `self.app.run_worker(...)` ones) that raised."""
        crash = crash_of(event.worker)
        if crash is not None:
            self.report_worker_crash(crash)

    def on_worker_crashed(self, message: WorkerCrashed) -> None:
        """Screens' and widgets' workers that raised (forwarded by `ReportsWorkerFailures`)."""
        message.stop()
        self.report_worker_crash(message)

    def report_worker_crash(self, crash: WorkerCrashed) -> None:
        """The one handler for a worker that raised: traceback to the log file, a notification naming it."""
        error = crash.error
        log.error(
            "background task %r failed", crash.worker_name, exc_info=(type(error), error, error.__traceback__)
        )
        log_path = self.log_file or logsetup.log_file()
        self.notify(
            f"{crash.worker_name or 'A background task'} failed unexpectedly: {type(error).__name__}. "
            f"The traceback is in {log_path}",
            title="Unexpected error",
            severity="error",
            timeout=30,
        )

    def on_unmount(self) -> None:
        if self.workspace is not None:
            self.workspace.release()


def make_app(
    workspace: Workspace | None = None,
    state: WorkspaceState | None = None,
    *,
    problem: str | None = None,
    log_file: Path | None = None,
    start: str | None = None,
) -> RefarchApp:
    """The one app factory, used by the CLI and by tests."""
    return RefarchApp(workspace, state, problem=problem, log_file=log_file, start=start)
