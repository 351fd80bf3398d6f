"""One App-level handler for workers that raise: the traceback goes to the log file, a notification names it,
and the app keeps running (whether the worker runs on the App or on a screen)."""

from __future__ import annotations

import ast
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static
from textual.worker import WorkerFailed

from refarch_tui import logsetup
from refarch_tui.app import RefarchApp, make_app
from screens import welcome
from screens.welcome import WelcomeScreen
from screens.worker_failures import ReportsWorkerFailures

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_file() -> Iterator[Path]:
    path = logsetup.configure()  # under the test's own XDG dirs (isolated_home)
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            root.removeHandler(handler)
            handler.close()


def notifications(app: RefarchApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_screen_worker_that_raises_is_logged_and_notified(
    log_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken_scanner(live_dir: Path) -> object:
        raise RuntimeError("scanner bug 1234")

    monkeypatch.setattr(welcome, "discover_accounts", broken_scanner)
    app = make_app(log_file=log_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        app.screen.query_one("#live-dir").value = str(tmp_path)  # type: ignore[attr-defined]
        await pilot.click("#scan")
        with contextlib.suppress(WorkerFailed):  # the waiting re-raises; the app itself must not
            await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        shown = [m for m in notifications(app) if "failed unexpectedly" in m]
        assert len(shown) == 1
        assert "scan" in shown[0] and "RuntimeError" in shown[0] and str(log_file) in shown[0]
        assert app.is_running and isinstance(app.screen, WelcomeScreen)
        assert "Scanning" in str(app.screen.query_one("#welcome-problems", Static).render())
    text = log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: scanner bug 1234" in text and "broken_scanner" in text


async def test_an_app_worker_that_raises_is_logged_and_notified(log_file: Path) -> None:
    def broken_job() -> None:
        raise ValueError("app job bug 5678")

    app = make_app(log_file=log_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.run_worker(broken_job, name="Demo job", thread=True, exit_on_error=False)
        with contextlib.suppress(WorkerFailed):  # the waiting re-raises; the app itself must not
            await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [m for m in notifications(app) if "failed unexpectedly" in m]
        assert shown == [f"Demo job failed unexpectedly: ValueError. The traceback is in {log_file}"]
        assert app.is_running
    text = log_file.read_text(encoding="utf-8")
    assert "ValueError: app job bug 5678" in text and "broken_job" in text


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted([*(REPO / "screens").rglob("*.py"), REPO / "refarch_tui" / "app.py"]):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_every_worker_reports_its_failure_instead_of_closing_the_app() -> None:
    """`exit_on_error=False` on every worker, and every class with `@work` methods forwards their failures."""
    problems = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if called in ("work", "run_worker"):
                    flag = _keyword(node, "exit_on_error")
                    if not (isinstance(flag, ast.Constant) and flag.value is False):
                        problems.append(
                            f"{path.name}:{node.lineno} {called}(...) without exit_on_error=False"
                        )
            if isinstance(node, ast.ClassDef):
                decorated = any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", "") == "work"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef)
                    for d in item.decorator_list
                )
                bases = {getattr(b, "id", "") for b in node.bases}
                if decorated and ReportsWorkerFailures.__name__ not in bases:
                    problems.append(
                        f"{path.name}:{node.lineno} {node.name} has @work but no ReportsWorkerFailures"
                    )
    assert problems == []
