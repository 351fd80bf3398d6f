"""Run Terragrunt: preflight summary, then a lane per account with every unit's status, live log and retries.

The run belongs to the App (`RunController`); this screen subscribes while it is open. Leaving it never
stops a run, and reopening it shows the run again — or, after a crash, the last run read from disk with
"rerun what did not succeed".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Header, Log, ProgressBar, Static

from refarch_tui.run import view
from refarch_tui.run.controller import Preflight, PreflightError, RunController
from refarch_tui.run.log_tail import last_lines
from refarch_tui.run.model import EventKind, RunEvent
from refarch_tui.run.store import RunRecord
from screens.widgets.run_lanes import RunLanes
from screens.widgets.sandbox_banner import SandboxBanner
from screens.widgets.tick_box import TickBox
from screens.worker_failures import ReportsWorkerFailures

log = logging.getLogger(__name__)
REFRESH_SECONDS = 0.3


class ApplyScreen(ReportsWorkerFailures, Screen[None]):
    BINDINGS = [
        Binding("s", "start", "Start", id="apply.start"),
        Binding("p", "pause", "Pause after wave", id="apply.pause"),
        Binding("c", "cancel", "Cancel run", id="apply.cancel"),
        Binding("r", "rerun_failed", "Rerun failed", id="apply.rerun"),
        Binding("o", "open_log", "Open log", id="apply.open_log"),
        Binding("f", "filter_failed", "Filter failed", id="apply.filter"),
        Binding("escape", "back", "Back", id="apply.back"),
    ]
    # Every line of the preflight is one terminal row (cut with an ellipsis, never wrapped), so five
    # accounts fit at 80x24; while a run goes the preflight folds to one line and the lanes get the room.
    DEFAULT_CSS = """
    ApplyScreen #apply-preflight { height: auto; padding: 0 1; }
    ApplyScreen #preflight-summary, ApplyScreen #preflight-accounts { height: auto; }
    ApplyScreen .account-detail { padding-left: 4; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ApplyScreen .account-warning { color: $warning; }
    ApplyScreen #apply-running {
        display: none; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ApplyScreen.-running #apply-preflight { display: none; }
    ApplyScreen.-running #apply-running { display: block; }
    ApplyScreen .buttons { height: 1; }
    ApplyScreen .buttons Button { margin-right: 2; }
    ApplyScreen #apply-lanes { height: 2fr; }
    ApplyScreen #apply-bottom { height: 1fr; max-height: 12; }
    ApplyScreen #apply-unit-log { width: 3fr; border: round $primary; }
    ApplyScreen #apply-recovered { width: 2fr; border: round $warning; }
    ApplyScreen #apply-counts { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ApplyScreen.-idle #apply-progress, ApplyScreen.-idle #apply-counts,
    ApplyScreen.-idle #apply-lanes, ApplyScreen.-idle #apply-bottom { display: none; }
    """

    def __init__(
        self,
        controller: RunController,
        *,
        sandbox: bool = False,
        identities: Mapping[str, str] | None = None,
        time_left: Mapping[str, str] | None = None,
        blocked: Collection[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(classes="-idle")
        self.blocked = set(blocked)  # credentials reach another account: unticked, the run would fail them
        self.controller = controller
        self.sandbox = sandbox
        self.identities = dict(identities or {})
        self.time_left = dict(time_left or {})
        self.clock = clock  # the lanes' "now" (a test freezes it for a snapshot)
        self.preflight: Preflight | None = None
        self.failed_only = False
        self.selected: str | None = None
        self._log_version: tuple[str | None, int] = (None, -1)
        self._record: RunRecord | None = None  # the last run on disk, read in the preflight worker
        self._unsubscribe = controller.subscribe(self._on_event)

    def compose(self) -> ComposeResult:
        yield Header()
        if self.sandbox:
            yield SandboxBanner()
        with VerticalScroll(id="apply-preflight"):
            yield Static("Checking terragrunt and the live repo…", id="preflight-summary")
            yield Vertical(id="preflight-accounts")
            with Horizontal(classes="buttons"):
                yield Button(
                    "Start apply (s)", id="apply-start", variant="primary", disabled=True, compact=True
                )
                yield Button("Rerun what did not succeed (r)", id="apply-rerun", disabled=True, compact=True)
        yield Static("", id="apply-running")
        yield ProgressBar(id="apply-progress", show_eta=False)
        yield Static("", id="apply-counts")
        yield RunLanes(id="apply-lanes")
        with Horizontal(id="apply-bottom"):
            yield Log(id="apply-unit-log", max_lines=2000)
            yield Log(id="apply-recovered", max_lines=500)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#apply-unit-log", Log).border_title = "unit log (select a unit)"
        self.query_one("#apply-recovered", Log).border_title = "known errors and recoveries"
        run = self.controller.current
        if run is not None:
            for event in run.history:
                if event.kind is EventKind.KNOWN_ERROR:
                    self._write_known(event)
        self.load_preflight()
        self.set_interval(REFRESH_SECONDS, self._refresh)
        self.call_later(self._refresh)

    def on_unmount(self) -> None:
        self._unsubscribe()  # the run goes on; only this view stops listening

    # -- preflight ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="apply-preflight", exit_on_error=False)
    def load_preflight(self) -> None:
        try:
            pre = self.controller.preflight()
            record = self.controller.last_record()
        except PreflightError as exc:
            self.app.call_from_thread(self._preflight_failed, str(exc))
            return
        except Exception as exc:
            log.exception("apply preflight failed")
            self.app.call_from_thread(self._preflight_failed, f"unexpected error (details in the log): {exc}")
            return
        self._record = record
        rerunnable = record is not None and bool(record.not_succeeded())
        # mypy cannot match an async callback against call_from_thread's overloads; Textual awaits it
        self.app.call_from_thread(self._show_preflight, pre, rerunnable)  # type: ignore[arg-type]

    def _preflight_failed(self, message: str) -> None:
        self.query_one("#preflight-summary", Static).update(Text(message, style="bold red"))

    async def _show_preflight(self, pre: Preflight, rerunnable: bool) -> None:
        self.preflight = pre
        lines = view.preflight_lines(pre, self._record, running=self.controller.running)
        self.query_one("#preflight-summary", Static).update("\n".join(lines))
        self.query_one("#apply-start", Button).disabled = self.controller.running
        self.query_one("#apply-rerun", Button).disabled = not rerunnable or self.controller.running
        box = self.query_one("#preflight-accounts", Vertical)
        if box.children:
            return  # keep the operator's ticks; only the buttons may change
        choices = view.account_choices(
            pre, identities=self.identities, time_left=self.time_left, blocked=self.blocked
        )
        widgets: list[Static | TickBox] = []
        for choice in choices:
            ticked = self.controller.ticks.get(choice.name, choice.ticked)
            widgets.append(TickBox(choice.label, ticked, id=f"run-{choice.name}"))
            widgets.append(Static(choice.identity, classes="account-detail", id=f"identity-{choice.name}"))
            if choice.warning:
                widgets.append(
                    Static(
                        choice.warning, classes="account-detail account-warning", id=f"warning-{choice.name}"
                    )
                )
        await box.mount_all(widgets)
        if choices and not self.controller.running:
            # focus never varies: the first Space ticks the first account
            self.query_one(f"#run-{choices[0].name}", TickBox).focus()

    @on(Checkbox.Changed)
    def _remember_tick(self, event: Checkbox.Changed) -> None:
        name = (event.checkbox.id or "").removeprefix("run-")
        if name:
            self.controller.ticks[name] = event.value  # kept while the workspace is open

    def selected_accounts(self) -> list[str]:
        if self.preflight is None:
            return []
        return [a.name for a in self.preflight.accounts if self.query_one(f"#run-{a.name}", Checkbox).value]

    # -- actions -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#apply-start")
    def action_start(self) -> None:
        if self.preflight is None or self.controller.running:
            return
        accounts = self.selected_accounts()
        if not accounts:
            self.notify("Tick at least one account to run.", severity="warning")
            return
        try:
            self.controller.start(self.preflight, accounts=accounts)
        except PreflightError as exc:
            self.notify(str(exc), severity="error")
            return
        self._after_start()

    @on(Button.Pressed, "#apply-rerun")
    def action_rerun_failed(self) -> None:
        if self.preflight is None or self.controller.running:
            return
        try:
            run = self.controller.rerun_failed(self.preflight)
        except PreflightError as exc:
            self.notify(str(exc), severity="error")
            return
        if run is None:
            self.notify("Nothing to rerun: every unit of the last run succeeded.")
            return
        self._after_start()

    def _after_start(self) -> None:
        self.query_one("#apply-start", Button).disabled = True
        self.query_one("#apply-rerun", Button).disabled = True
        self.query_one("#apply-recovered", Log).clear()
        self.call_later(self._refresh)

    def action_pause(self) -> None:
        run = self.controller.current
        if run is None or run.done:
            return
        if run.pause_requested:
            run.resume()
            self.notify("Resumed.")
        else:
            run.request_pause()
            self.notify("The run pauses after the current wave; press p again to resume.")

    def action_cancel(self) -> None:
        if self.controller.running:
            self.controller.cancel()
            self.notify("Cancelling: terragrunt gets SIGINT, then SIGTERM/SIGKILL if it does not stop.")

    def action_filter_failed(self) -> None:
        self.failed_only = not self.failed_only
        self.call_later(self._refresh)

    def action_open_log(self) -> None:
        path = self._selected_log_path()
        if path is None:
            self.notify("Select a unit first.", severity="warning")
            return
        self._load_full_log(path)

    @work(thread=True, exclusive=True, group="apply-open-log", exit_on_error=False)
    def _load_full_log(self, path: Path) -> None:
        try:
            lines = last_lines(path, 2000)
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"Cannot read {path}: {exc.strerror}", severity="error")
            return
        self.app.call_from_thread(self._show_full_log, path, lines)

    def _show_full_log(self, path: Path, lines: list[str]) -> None:
        widget = self.query_one("#apply-unit-log", Log)
        widget.clear()
        widget.write_lines(lines)
        widget.border_title = f"full log: {path}"
        self._log_version = (self.selected, 1 << 60)  # keep it until another unit is selected
        self.notify(f"Full log: {path}")

    def action_back(self) -> None:
        self.dismiss(None)

    # -- live view ---------------------------------------------------------------------------------

    def _on_event(self, event: RunEvent) -> None:
        if event.kind is EventKind.KNOWN_ERROR:
            self._write_known(event)
        elif event.kind is EventKind.RUN_FINISHED:
            self.notify(event.message, severity=view.outcome_severity(event.message))
            self.load_preflight()

    def _write_known(self, event: RunEvent) -> None:
        if self.is_mounted:
            self.query_one("#apply-recovered", Log).write_line(f"{event.unit}: {event.message}")

    def _lanes(self) -> tuple[object, list[view.Lane]]:
        run = self.controller.current
        if run is not None:
            return run, view.lanes_from_run(run, failed_only=self.failed_only, now=self.clock())
        record = self._record
        if record is None:
            return None, []
        return record, view.lanes_from_record(record, failed_only=self.failed_only)

    def on_resize(self) -> None:
        self.query_one(RunLanes).relayout()

    async def _refresh(self) -> None:
        if not self.is_mounted:
            return
        run = self.controller.current
        running = self.controller.running
        source, lanes = self._lanes()
        self.set_class(source is None, "-idle")
        if running and run is not None:
            self.query_one("#apply-running", Static).update(view.running_line(self.preflight, run))
        self.set_class(running, "-running")
        await self.query_one(RunLanes).show(source, lanes)
        preflight = self.query_one("#apply-preflight")
        if running and (self.focused is None or preflight in self.focused.ancestors_with_self):
            # the ticks folded away with the preflight: the first lane takes the keyboard
            tables = self.query(DataTable)
            if tables:
                tables.first().focus()
        bar = self.query_one("#apply-progress", ProgressBar)
        counts = self.query_one("#apply-counts", Static)
        if run is not None:
            p = view.progress(run)
            if bar.size.width:  # it rounds to its width: one not laid out yet would keep a stray half cell
                bar.update(total=max(1, p.total), progress=p.done)
            counts.update(view.counts_line(run))
        elif isinstance(source, RunRecord):
            counts.update(view.record_line(source))
        self._refresh_log()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key and not key.startswith("wave:"):
            self.selected = key
            self._log_version = (None, -1)
            self._refresh_log()

    def _selected_log_path(self) -> Path | None:
        return view.unit_log_path(self.selected, self.controller.current, self._record)

    def _refresh_log(self) -> None:
        run = self.controller.current
        if self.selected is None or run is None:
            return
        unit = run.unit(self.selected)
        if unit is None or self._log_version == (unit.path, unit.version):
            return
        if self._log_version[0] == unit.path and self._log_version[1] > unit.version:
            return  # showing the full log file
        self._log_version = (unit.path, unit.version)
        widget = self.query_one("#apply-unit-log", Log)
        widget.clear()
        widget.write_lines(list(unit.log))
        widget.border_title = f"{unit.path} · {view.unit_word(unit)} · attempt {unit.attempts} · {unit.note}"
