"""Run Terragrunt: preflight summary, then a lane per account with every unit's status, live log and retries.

The run belongs to the App (`RunController`); this screen subscribes while it is open. Leaving it never
stops a run, and reopening it shows the run again — or, after a crash, the last run read from disk with
"rerun what did not succeed".
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
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
from screens.widgets.sandbox_banner import SandboxBanner
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
    DEFAULT_CSS = """
    ApplyScreen #apply-preflight { height: auto; max-height: 50%; padding: 0 1; border: round $primary; }
    ApplyScreen #apply-lanes { height: 1fr; }
    ApplyScreen .lane { width: 1fr; border: round $secondary; }
    ApplyScreen .lane-title { text-style: bold; height: 1; }
    ApplyScreen .lane DataTable { height: 1fr; }
    ApplyScreen #apply-bottom { height: 12; }
    ApplyScreen #apply-unit-log { width: 3fr; border: round $primary; }
    ApplyScreen #apply-recovered { width: 2fr; border: round $warning; }
    ApplyScreen #apply-counts { height: 1; }
    ApplyScreen .pending-steps { color: $warning; padding-left: 4; }
    """

    def __init__(
        self,
        controller: RunController,
        *,
        sandbox: bool = False,
        identities: Mapping[str, str] | None = None,
        time_left: Mapping[str, str] | None = None,
        blocked: Collection[str] = (),
    ) -> None:
        super().__init__()
        self.blocked = set(blocked)  # credentials reach another account: unticked, the run would fail them
        self.controller = controller
        self.sandbox = sandbox
        self.identities = dict(identities or {})
        self.time_left = dict(time_left or {})
        self.preflight: Preflight | None = None
        self.failed_only = False
        self.selected: str | None = None
        self._rows: dict[str, tuple[str, ...]] = {}  # row key -> last rendered cells
        self._lanes_of: object = None  # the run (or record) the lanes were built for
        self._log_version: tuple[str | None, int] = (None, -1)
        self._building = False
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
                yield Button("Start apply", id="apply-start", variant="primary", disabled=True)
                yield Button("Rerun what did not succeed", id="apply-rerun", disabled=True)
        yield ProgressBar(id="apply-progress", show_eta=False)
        yield Static("", id="apply-counts")
        yield Horizontal(id="apply-lanes")
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
        engine = (
            pre.terragrunt.describe()
            if pre.terragrunt
            else "SIMULATED rehearsal (terragrunt is not installed)"
        )
        lines = [f"Engine: {engine}", *(f"warning: {w}" for w in pre.warnings[:5])]
        record = self._record
        leftover = record.running_pids() if record is not None and not record.complete else []
        if record is not None and leftover and not self.controller.running:
            lines.append(
                f"warning: terragrunt from the interrupted run {record.run_id} still runs (process group "
                f"{', '.join(map(str, leftover))}); let it finish before rerunning"
            )
        self.query_one("#preflight-summary", Static).update("\n".join(lines))
        box = self.query_one("#preflight-accounts", Vertical)
        if box.children:
            # keep the operator's ticks; only the rerun button may change
            self.query_one("#apply-start", Button).disabled = self.controller.running
            self.query_one("#apply-rerun", Button).disabled = not rerunnable or self.controller.running
            return
        for account in pre.accounts:
            identity = self.identities.get(account.name, "identity not checked")
            left = (
                f", credentials {self.time_left[account.name]} left" if account.name in self.time_left else ""
            )
            secrets = f", injects {', '.join(account.secret_names)}" if account.secret_names else ""
            label = (
                f"{account.name} ({account.account_id or '?'}) · {account.units} units · {account.region} · "
                f"{identity}{left}{secrets}"
            )
            if account.name in self.blocked:
                label += " · BLOCKED: the credentials reach another account — fix it with i; it would fail"
            elif account.pending_steps:
                label += f" · ⚠ {len(account.pending_steps)} step(s) not done — tick to run anyway"
            ticked = not account.pending_steps and account.name not in self.blocked
            await box.mount(Checkbox(label, value=ticked, id=f"run-{account.name}"))
            if account.pending_steps:
                await box.mount(
                    Static("not done: " + "; ".join(account.pending_steps), classes="pending-steps")
                )
        self.query_one("#apply-start", Button).disabled = self.controller.running
        self.query_one("#apply-rerun", Button).disabled = not rerunnable or self.controller.running

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
        self._lanes_of = None
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
            self.notify(event.message, severity="information" if "succeeded:" in event.message else "warning")
            self.load_preflight()

    def _write_known(self, event: RunEvent) -> None:
        if self.is_mounted:
            self.query_one("#apply-recovered", Log).write_line(f"{event.unit}: {event.message}")

    def _lanes(self) -> tuple[object, list[view.Lane]]:
        run = self.controller.current
        if run is not None:
            return run, view.lanes_from_run(run, failed_only=self.failed_only)
        record = self._record
        if record is None:
            return None, []
        return record, view.lanes_from_record(record, failed_only=self.failed_only)

    async def _refresh(self) -> None:
        if self._building or not self.is_mounted:
            return
        source, lanes = self._lanes()
        if source is not self._lanes_of:
            self._building = True
            try:
                await self._build_lanes(lanes)
            finally:
                self._building = False
            self._lanes_of = source
        else:
            self._update_lanes(lanes)
        run = self.controller.current
        bar = self.query_one("#apply-progress", ProgressBar)
        counts = self.query_one("#apply-counts", Static)
        if run is not None:
            p = view.progress(run)
            bar.update(total=max(1, p.total), progress=p.done)
            state = "PAUSED · " if run.paused else ""
            label = "SIMULATED · " if run.simulated else ""
            counts.update(f"{label}{state}{p.text()} · run {run.id}")
        elif isinstance(source, RunRecord):
            ending = "unfinished (the app stopped)" if not source.complete else "finished"
            counts.update(f"last run {source.run_id} ({ending}, from disk): r reruns what did not succeed")
        self._refresh_log()

    async def _build_lanes(self, lanes: list[view.Lane]) -> None:
        container = self.query_one("#apply-lanes", Horizontal)
        await container.remove_children()
        self._rows.clear()
        for lane in lanes:
            table: DataTable[Text | str] = DataTable(id=f"lane-{lane.account}", cursor_type="row")
            table.add_column("unit", key="unit")
            table.add_column("status", key="status")
            table.add_column("time", key="time")
            for row in lane.rows:
                table.add_row(*self._cells(row), key=row.key)
                self._rows[row.key] = (row.label, row.word, row.elapsed)
            box = Vertical(
                Static(lane.title, classes="lane-title", id=f"title-{lane.account}"), table, classes="lane"
            )
            await container.mount(box)

    def _update_lanes(self, lanes: list[view.Lane]) -> None:
        for lane in lanes:
            try:
                table = self.query_one(f"#lane-{lane.account}", DataTable)
                self.query_one(f"#title-{lane.account}", Static).update(lane.title)
            except Exception:
                self._lanes_of = None
                return
            for row in lane.rows:
                cells = (row.label, row.word, row.elapsed)
                if row.key not in self._rows:
                    self._lanes_of = None  # the set of rows changed: rebuild on the next tick
                    return
                old = self._rows[row.key]
                if old != cells:
                    rendered = self._cells(row)
                    for index, column in enumerate(("unit", "status", "time")):
                        if old[index] != cells[index]:
                            table.update_cell(row.key, column, rendered[index])
                    self._rows[row.key] = cells

    @staticmethod
    def _cells(row: view.LaneRow) -> tuple[Text | str, Text | str, str]:
        if row.is_wave:
            return Text(row.label, style="bold dim"), "", ""
        return row.label, Text(row.word, style=view.WORD_STYLES.get(row.word, "")), row.elapsed

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key and not key.startswith("wave:"):
            self.selected = key
            self._log_version = (None, -1)
            self._refresh_log()

    def _selected_log_path(self) -> Path | None:
        if self.selected is None:
            return None
        run = self.controller.current
        if run is not None:
            unit = run.unit(self.selected)
            return unit.log_path if unit is not None else None
        record = self._record
        if record is None:
            return None
        for account in record.accounts.values():
            if self.selected in account.units:
                return Path(account.units[self.selected].log)
        return None

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
