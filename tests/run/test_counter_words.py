"""One vocabulary for a run's counters: cancelled and not started are not failures, and a unit waiting for
an automatic rerun is "retrying", not "failed" (issue 9 item 12, issue 17)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from refarch_tui.run import view
from refarch_tui.run.engine import Run
from refarch_tui.run.model import UnitRun, UnitStatus


def _unit(name: str, status: UnitStatus, *, retrying: bool = False) -> UnitRun:
    unit = UnitRun(f"dev/{name}", "dev", 0, Path("/nonexistent") / name, status=status)
    unit.retrying = retrying
    return unit


def test_cancelled_units_are_counted_as_cancelled_not_failed() -> None:
    units = [_unit(f"c{i}", UnitStatus.CANCELLED) for i in range(4)] + [_unit("s", UnitStatus.SUCCEEDED)]
    text = view.progress(SimpleNamespace(units=units)).text()  # type: ignore[arg-type]
    assert "0 failed" in text
    assert "4 cancelled" in text


def test_units_waiting_for_an_automatic_rerun_read_retrying() -> None:
    units = [_unit("r1", UnitStatus.FAILED, retrying=True), _unit("f", UnitStatus.FAILED)]
    p = view.progress(SimpleNamespace(units=units))  # type: ignore[arg-type]
    assert p.failed == 1 and p.retrying == 1
    assert "1 retrying" in p.text()
    assert p.done == 1  # the retrying unit is not finished yet


def test_cancelled_run_summary_line_does_not_call_cancelled_or_unstarted_units_failed() -> None:
    units = [
        _unit("c", UnitStatus.CANCELLED),
        _unit("n1", UnitStatus.SKIPPED),
        _unit("n2", UnitStatus.PENDING),
    ]
    fake = SimpleNamespace(units=units, cancelled=True, simulated=False)
    line = Run.summary_line(fake)  # type: ignore[arg-type]
    assert "0 failed" in line
    assert "1 cancelled" in line and "2 skipped" in line


def test_a_unit_waiting_for_its_automatic_rerun_reads_retrying_in_its_lane() -> None:
    assert view.unit_word(_unit("r", UnitStatus.FAILED, retrying=True)) == "retrying"
    assert view.unit_word(_unit("f", UnitStatus.FAILED)) == "failed"
    assert "retrying" in view.NOT_OK  # "filter failed" keeps it in view: it did fail once
