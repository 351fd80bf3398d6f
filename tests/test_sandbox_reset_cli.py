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
    monkeypatch.setattr(
        cli, "run_app", lambda workspace, state, problem, err, **kw: opened.append(state) or 0
    )
    try:
        assert cli.main(["sandbox", "--reset", "--confirm", "sandbox"]) == 0
    finally:
        emulator.stop(sandbox.workspace_dir())
    assert opened
    assert sandbox_with_progress.load().record("backends", "dev").status is Status.PENDING
