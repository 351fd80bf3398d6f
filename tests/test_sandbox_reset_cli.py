"""`sandbox --reset` deletes the sandbox's progress: it says what and where, and wants `sandbox` typed."""

from __future__ import annotations

import pytest

from refarch_tui import cli, sandbox
from refarch_tui.aws import emulator
from refarch_tui.state import Status, Workspace


@pytest.fixture
def sandbox_with_progress() -> Workspace:
    workspace, state = sandbox.open_sandbox(start_emulator=False)
    workspace.update_step(state, "backends", "dev", Status.DONE)
    return workspace


def test_reset_without_a_terminal_or_confirmation_keeps_everything(
    sandbox_with_progress,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    code = cli.main(["sandbox", "--reset"])
    captured = capsys.readouterr()
    assert code == 1
    assert str(sandbox.workspace_dir()) in captured.out and "deletes" in captured.out
    assert "--confirm sandbox" in captured.err
    assert sandbox_with_progress.load().record("backends", "dev").status is Status.DONE


def test_a_wrong_confirmation_keeps_everything(
    sandbox_with_progress,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    assert cli.main(["sandbox", "--reset", "--confirm", "dev"]) == 1
    assert "did not match" in capsys.readouterr().err
    assert sandbox_with_progress.load().record("backends", "dev").status is Status.DONE


def test_the_typed_confirmation_resets(
    sandbox_with_progress,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    opened: list[object] = []
    monkeypatch.setattr(cli, "terminal_problem", lambda: None)  # as if typed in a terminal
    monkeypatch.setattr(
        cli, "run_app", lambda workspace, state, problem, err, **kw: opened.append(state) or 0
    )
    try:
        assert cli.main(["sandbox", "--reset", "--confirm", "sandbox"]) == 0
    finally:
        emulator.stop(sandbox.workspace_dir())
    assert opened
    assert sandbox_with_progress.load().record("backends", "dev").status is Status.PENDING


def test_reset_from_a_script_resets_without_opening_the_tui(
    sandbox_with_progress: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        assert cli.main(["sandbox", "--reset", "--confirm", "sandbox"]) == 0
    finally:
        emulator.stop(sandbox.workspace_dir())
    assert "not opened: no terminal" in capsys.readouterr().out
    assert sandbox_with_progress.load().record("backends", "dev").status is Status.PENDING


def test_ctrl_d_at_the_typed_confirmation_keeps_everything(sandbox_with_progress: Workspace) -> None:
    import os
    import pty
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"\x04")  # Ctrl-D on an empty line: end of input
        result = subprocess.run(
            [sys.executable, "-m", "refarch_tui", "sandbox", "--reset"],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 1, result.stderr
    assert "no confirmation was typed" in result.stderr
    assert "unexpected error" not in result.stderr
    assert sandbox_with_progress.load().record("backends", "dev").status is Status.DONE
