"""The generic step screen: header (account, ID, identity, regions), a form generated from the step's
ANSWERS, a preview of the plan, Run in an App worker (progress, cancel), the Review edits dialog, the result.

All logic is in `refarch_tui.steps` (runner, present); the App supplies the step context (AWS access stays
out of screens). A step may pass a `StepView` to add form hints or result lines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from refarch_tui import checklist
from refarch_tui.steps import present, registry, runner
from refarch_tui.steps.contract import StepContext, StepError, StepPlan
from screens.dialogs.review_edits import ask_review
from screens.widgets.answer_form import AnswerForm
from screens.widgets.build_log import BuildLog
from screens.widgets.sandbox_banner import SandboxBanner
from screens.widgets.status_text import status_text

# (account, progress=..., cancel=...) -> the step context; raises StepRefused when the account is not usable
ContextFactory = Callable[..., StepContext]


@dataclass
class StepView:
    """What a step may customise: a note above the form, extra result lines."""

    note: str = ""
    result_lines: Callable[[runner.StepOutcome], list[str]] | None = None


class StepScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+o", "preview", "Preview", id="step.preview"),
        Binding("ctrl+r", "run", "Run", id="step.run"),
        Binding("ctrl+x", "cancel", "Cancel run", id="step.cancel"),
        Binding("escape", "back", "Back", id="step.back"),
        # typed secrets stay masked unless the operator asks; not in the footer (the hint says it)
        Binding("ctrl+t", "reveal", "Show/hide typed secrets", show=False, id="step.reveal"),
    ]
    DEFAULT_CSS = """
    StepScreen #step-header { height: auto; background: $boost; padding: 0 1; text-style: bold; }
    StepScreen #step-body { height: 1fr; padding: 0 1; }
    StepScreen #step-body > Static { height: auto; margin-bottom: 1; }
    StepScreen #step-progress { height: 8; border: round $secondary; }
    """

    def __init__(
        self,
        step_id: str,
        account: str,
        *,
        make_context: ContextFactory,
        sandbox: bool,
        account_id: str | None,
        identity: str,
        regions: list[str],
        view: StepView | None = None,
    ) -> None:
        super().__init__()
        self.step = checklist.step(step_id)
        self.account = account
        self.module = registry.module(step_id)
        self.make_context = make_context
        self.sandbox = sandbox
        self.view = view or StepView()
        self.heading = (
            f"{self.step.title} · account {account} ({account_id or 'no ID'})"
            f" · identity {identity or 'not checked'} · regions {', '.join(regions) or '?'}"
        )
        self.plan: StepPlan | None = None
        self.plan_answers: dict[str, Any] | None = None
        self.running = False
        self.cancel_event = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        if self.sandbox:
            yield SandboxBanner()
        yield Static(self.heading, id="step-header")
        with VerticalScroll(id="step-body"):
            yield Static(f"{self.step.summary}\n{self.view.note}".strip(), id="step-summary")
            yield AnswerForm(self.module.ANSWERS, account=self.account, id="step-form")
            yield Static("[b]Preview[/b] (Ctrl+O after changing answers)", id="step-preview-title")
            yield Static("Preparing the preview…", id="step-preview")
            yield Static(status_text("pending"), id="step-status")
            yield BuildLog(max_lines=500, id="step-progress")
            yield Static("", id="step-result")
        yield Footer()

    def on_mount(self) -> None:
        self.progress_view = self.query_one("#step-progress", BuildLog)  # workers push to it (thread-safe)
        self.action_preview()

    # -- the form --------------------------------------------------------------------------------------

    def _answers(self) -> dict[str, Any] | None:
        try:
            return self.query_one(AnswerForm).answers()
        except ValueError as exc:
            self._say(f"Check the answers: {exc}", "failed")
            return None

    def _say(self, text: str, status: str) -> None:
        self.query_one("#step-status", Static).update(Text.assemble(status_text(status), "  ", text))

    def _on_ui(self, app: App[Any], callback: Callable[..., object], *args: Any) -> None:
        def guarded() -> None:
            if self.is_attached:
                callback(*args)

        app.call_from_thread(guarded)

    def _start(self, work: Callable[[], None], name: str) -> None:
        self.app.run_worker(work, name=name, group=f"step-{self.step.id}", thread=True, exit_on_error=False)

    # -- preview ---------------------------------------------------------------------------------------

    def action_preview(self) -> None:
        answers = self._answers()
        if answers is None or self.running:
            return
        self.query_one("#step-preview", Static).update("Preparing the preview…")
        self._start(partial(self._preview_work, self.app, answers), "step preview")

    def _step_context(self, app: App[Any]) -> StepContext:
        view = self.progress_view

        def progress(line: str) -> None:
            view.push(line)  # thread-safe and bounded; a timer paints it (build floods stay responsive)

        return self.make_context(self.account, progress=progress, cancel=self.cancel_event)

    def _preview_work(self, app: App[Any], answers: dict[str, Any]) -> None:
        try:
            ctx = self._step_context(app)
            plan = runner.prepare(ctx, self.step.id, answers)
            lines = present.plan_lines(plan, ctx.live_root)
        except StepError as exc:
            self._on_ui(app, self._preview_failed, str(exc))
            return
        self._on_ui(app, self._show_plan, plan, answers, lines)

    def _preview_failed(self, message: str) -> None:
        self.plan = None
        self.query_one("#step-preview", Static).update(Text(message, style="bold red"))
        self._say("cannot run: fix what the preview says", "failed")

    def _show_plan(self, plan: StepPlan, answers: dict[str, Any], lines: list[str]) -> None:
        self.plan, self.plan_answers = plan, answers
        self.query_one("#step-preview", Static).update(Text("\n".join(lines)))
        self._say("ready: Ctrl+R runs it", "pending")

    # -- run -------------------------------------------------------------------------------------------

    def action_run(self) -> None:
        answers = self._answers()
        if answers is None or self.running:
            return
        self.query_one(AnswerForm).clear_secrets()
        plan = self.plan if self.plan is not None and self.plan_answers == answers else None
        self.running = True
        self.cancel_event.clear()
        self.query_one("#step-result", Static).update("")
        self._say("working… (Ctrl+X cancels)", "running")
        self._start(partial(self._run_work, self.app, answers, plan), f"step {self.step.id} {self.account}")

    def _run_work(self, app: App[Any], answers: dict[str, Any], plan: StepPlan | None) -> None:
        title = f"{self.step.title} — {self.account}: review the changes to the live repo"
        try:
            ctx = self._step_context(app)
            plan = plan or runner.prepare(ctx, self.step.id, answers)
            outcome = runner.run_planned(ctx, plan, accept=lambda edits: ask_review(app, edits, title=title))
        except StepError as exc:
            self._on_ui(app, self._finished, None, str(exc))
            return
        self._on_ui(app, self._finished, outcome, "")

    def _finished(self, outcome: runner.StepOutcome | None, error: str) -> None:
        self.progress_view.flush_pending()
        self.running = False
        self.plan = None
        if outcome is None:
            self._say(error, "failed")
            return
        lines = present.outcome_lines(outcome)
        if self.view.result_lines is not None:
            lines += self.view.result_lines(outcome)
        word = "cancelled" if outcome.cancelled else outcome.status.value
        self._say(lines[0], word)
        self.query_one("#step-result", Static).update(Text("\n".join(lines[1:])))

    def action_cancel(self) -> None:
        if self.running:
            self.cancel_event.set()
            self._say("cancelling… (the step stops at its next safe point)", "running")

    def action_reveal(self) -> None:
        self.query_one(AnswerForm).toggle_secrets()

    def action_back(self) -> None:
        if self.running:
            self.notify("The step is still running: Ctrl+X cancels it first.", severity="warning")
            return
        self.app.pop_screen()
