"""Teardown of one account: the plan (findings first), the rehearsal, then the two confirmed phases.

Rehearse mode is on by default: only `plan -destroy` runs until it is switched off, and each phase still
needs the account's name typed. Runs belong to the App's run controller, so leaving never stops one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static, Switch

from refarch_tui.live import edits
from refarch_tui.run import teardown_report, view
from refarch_tui.run.controller import PreflightError, RunController
from refarch_tui.run.engine import Run
from refarch_tui.run.model import EventKind, RunEvent
from refarch_tui.run.teardown import cross_account_phrase, is_production, plan_lines
from refarch_tui.run.teardown_exec import BackendDeleter, Teardown
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.dialogs.type_to_confirm import TypeToConfirmDialog
from screens.widgets.sandbox_banner import SandboxBanner
from screens.worker_failures import ReportsWorkerFailures

log = logging.getLogger(__name__)


class TeardownScreen(ReportsWorkerFailures, Screen[None]):
    BINDINGS = [
        Binding("r", "rehearse", "Rehearse (plan -destroy)", id="teardown.rehearse"),
        Binding("1", "phase1", "Phase 1: force_destroy", id="teardown.phase1"),
        Binding("2", "phase2", "Phase 2: destroy", id="teardown.phase2"),
        Binding("x", "include_cross_account", "Include cross-account IAM", id="teardown.cross"),
        Binding("b", "delete_backend", "State backend (last)", id="teardown.backend"),
        Binding("c", "cancel", "Cancel run", id="teardown.cancel"),
        Binding("escape", "back", "Back", id="teardown.back"),
    ]
    DEFAULT_CSS = """
    TeardownScreen #td-target { padding: 0 1; background: $error 30%; text-style: bold; }
    TeardownScreen #td-plan { height: 1fr; border: round $primary; padding: 0 1; }
    TeardownScreen #td-controls { height: auto; padding: 0 1; }
    TeardownScreen #td-controls Button { margin-right: 1; }
    TeardownScreen #td-progress { height: 12; border: round $secondary; padding: 0 1; }
    """

    def __init__(
        self,
        teardown: Teardown,
        controller: RunController,
        *,
        sandbox: bool = False,
        backend_deleter: BackendDeleter | None = None,
    ) -> None:
        super().__init__()
        self.teardown = teardown
        self.backend_deleter = backend_deleter
        self.controller = controller
        self.sandbox = sandbox
        self.phase1_done = False
        self._unsubscribe = controller.subscribe(self._on_event)

    def compose(self) -> ComposeResult:
        yield Header()
        if self.sandbox:
            yield SandboxBanner()
        yield Static(f"Teardown of {self.teardown.account}: reading the plan…", id="td-target")
        with VerticalScroll(id="td-plan"):
            yield Static("", id="td-plan-text")
        with Horizontal(id="td-controls"):
            yield Static("Rehearse only ", classes="label")
            yield Switch(value=True, id="td-rehearse-only")
            yield Button("Rehearse (r)", id="td-rehearse", variant="primary")
            yield Button("Phase 1 (1)", id="td-phase1", variant="warning")
            yield Button("Phase 2: destroy (2)", id="td-phase2", variant="error")
        yield Static("Nothing has run yet.", id="td-progress")
        yield Footer()

    def on_mount(self) -> None:
        self.prepare()
        self.set_interval(0.5, self._refresh_progress)

    def on_unmount(self) -> None:
        self._unsubscribe()

    @work(thread=True, exclusive=True, group="teardown-plan", exit_on_error=False)
    def prepare(self, include_cross_account: bool | None = None) -> None:
        try:
            self.teardown.prepare(include_cross_account=include_cross_account)
        except PreflightError as exc:
            self.app.call_from_thread(self._show_problem, str(exc))
            return
        self.app.call_from_thread(self._show_plan)

    def _show_problem(self, message: str) -> None:
        self.query_one("#td-plan-text", Static).update(f"[b red]{message}[/]")

    def _show_plan(self) -> None:
        plan = self.teardown.plan
        assert plan is not None
        self.query_one("#td-target", Static).update("DESTROYS IN " + self.teardown.target.describe())
        self.query_one("#td-plan-text", Static).update(Text("\n".join(plan_lines(plan))))

    # -- guards ------------------------------------------------------------------------------------

    def _ready(self, *, destroys: bool) -> bool:
        if self.teardown.plan is None:
            self.notify("The plan is still being read.")
            return False
        if self.controller.running:
            self.notify("A run is in progress; wait for it or cancel it (c).", severity="warning")
            return False
        if destroys and self.query_one("#td-rehearse-only", Switch).value:
            self.notify("Rehearse mode is on: only `plan -destroy` runs. Switch it off to destroy.")
            return False
        return True

    def _confirm(self, what: str, then: Callable[[], object], *, expected: str | None = None) -> None:
        account = self.teardown.account
        dialog = TypeToConfirmDialog(
            what=what,
            target=self.teardown.target.describe(),
            expected=expected or account,
            twice=is_production(account),
        )

        def after(confirmed: bool | None) -> None:
            if confirmed:
                then()
            else:
                self.notify("Not confirmed: nothing ran.")

        self.app.push_screen(dialog, after)

    # -- actions -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#td-rehearse")
    def action_rehearse(self) -> None:
        if self._ready(destroys=False):
            self._start(self.teardown.rehearsal_run())

    @on(Button.Pressed, "#td-phase1")
    def action_phase1(self) -> None:
        if not self._ready(destroys=True):
            return
        plan = self.teardown.plan
        assert plan is not None
        if not plan.phase1_units:
            self.notify("Phase 1 has nothing to do: no unit needs force_destroy applied.")
            self.phase1_done = True
            return
        self.app.push_screen(
            ReviewEditsDialog(plan.phase1_edits, title="Phase 1: force_destroy"), self._reviewed
        )

    def _reviewed(self, accepted: list[edits.PlannedEdit] | None) -> None:
        if accepted is None:
            self.notify("Phase 1 cancelled: nothing was written.")
            return
        what = f"Phase 1 writes {len(accepted)} edit(s) and applies those units of {self.teardown.account}"
        self._confirm(what, lambda: self._run_phase1(accepted))

    @work(thread=True, exclusive=True, group="teardown-edits", exit_on_error=False)
    def _run_phase1(self, accepted: list[edits.PlannedEdit]) -> None:
        try:
            self.teardown.apply_phase1_edits(accepted)
        except (edits.EditRefused, edits.EditFailed) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._start_phase1)

    def _start_phase1(self) -> None:
        run = self.teardown.phase1_run()
        if run is None:
            self.phase1_done = True  # every force_destroy edit was declined, or is applied already
            self.notify("Phase 1: nothing to apply. Phase 2 (2) can start.")
            return
        self._start(run)

    @on(Button.Pressed, "#td-phase2")
    def action_phase2(self) -> None:
        if not self._ready(destroys=True):
            return
        plan = self.teardown.plan
        assert plan is not None
        if plan.phase1_units and not self.phase1_done:
            self.notify("Run phase 1 first (1): force_destroy must be applied before the destroy.")
            return
        what = (
            f"Phase 2 destroys {len(plan.units)} unit(s) of {self.teardown.account}, wave by wave — no undo"
        )
        self._confirm(what, lambda: self._start(self.teardown.phase2_run()))

    def action_include_cross_account(self) -> None:
        if self._ready(destroys=True):
            phrase = cross_account_phrase(self.teardown.account)
            what = "Include the cross-account IAM roles: destroying them locks you out of this account"
            self._confirm(what, lambda: self.prepare(True), expected=phrase)

    @work(thread=True, exclusive=True, group="teardown-backend", exit_on_error=False)
    def action_delete_backend(self) -> None:
        ready, why = self.teardown.backend_ready()
        if not ready or self.backend_deleter is None:
            self.app.call_from_thread(self.notify, f"The state backend stays: {why}.", severity="warning")
            return
        self.app.call_from_thread(self._confirm_backend)

    def _confirm_backend(self) -> None:
        if not self._ready(destroys=True):
            return
        plan = self.teardown.plan
        assert plan is not None and plan.backend is not None
        self._confirm(
            f"Delete {plan.backend.describe()}: every state file in it — the last step", self._delete
        )

    @work(thread=True, exclusive=True, group="teardown-backend", exit_on_error=False)
    def _delete(self) -> None:
        assert self.backend_deleter is not None
        try:
            done = self.teardown.delete_backend(self.backend_deleter)
        except Exception as exc:  # AWS errors and refusals: shown with what is left, the log has details
            log.warning("state backend deletion failed: %s", exc)
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=20)
            return
        self.app.call_from_thread(self.notify, "; ".join(done), timeout=20)
        self.app.call_from_thread(self.prepare)

    def action_cancel(self) -> None:
        if self.controller.running:
            self.controller.cancel()

    def action_back(self) -> None:
        self.dismiss(None)

    # -- runs --------------------------------------------------------------------------------------

    def _start(self, run: Run | None) -> None:
        if run is None:
            self.notify("Nothing to run: every planned unit is already done.")
            return
        try:
            self.controller.adopt(run)
        except PreflightError as exc:
            self.notify(str(exc), severity="error")

    def _on_event(self, event: RunEvent) -> None:
        run = self.controller.current
        if (
            event.kind is EventKind.RUN_FINISHED
            and run is not None
            and any(r is run for _phase, r in self.teardown.runs)
        ):
            self.phase1_done = self.phase1_done or (run.config.command == "apply" and run.succeeded())
            self._report(run)

    @work(thread=True, group="teardown-report", exit_on_error=False)
    def _report(self, run: Run) -> None:
        _doc, path = teardown_report.finish(self.teardown, run)
        self.app.call_from_thread(self.notify, f"{run.summary_line()} — report: {path}")
        self.app.call_from_thread(self.prepare)

    def _refresh_progress(self) -> None:
        run = self.controller.current
        if run is None or not any(r is run for _phase, r in self.teardown.runs):
            return
        rows = [f"{run.summary_line() if run.done else view.progress(run).text()} · run {run.id}"]
        for lane in view.lanes_from_run(run):
            rows += [f"{'' if r.is_wave else '  '}{r.label}  {r.word} {r.elapsed}" for r in lane.rows]
        self.query_one("#td-progress", Static).update(Text("\n".join(rows)))
