"""Bad or surprising input on the command line gets a clear answer: never a traceback, never a guess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from refarch_tui import cli
from refarch_tui.state import Account, Mode
from refarch_tui.workspaces import create_workspace

ACCOUNTS = [Account("security", "104983213567"), Account("dev", "368294012756")]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_no_hidden_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "refarch_tui", "--help"], capture_output=True, text=True, check=True
    )
    assert "SUPPRESS" not in result.stdout
    assert "screenshot" not in result.stdout
    assert "status" in result.stdout and "apply" in result.stdout


@pytest.mark.parametrize("argv", [["status", "--workspace", ""], ["--workspace", "", "status"]])
def test_an_empty_workspace_is_an_error_not_the_last_workspace(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_workspace(tmp_path / "live", ACCOUNTS, ["us-east-1"], mode=Mode.SANDBOX, directory=tmp_path / "ws")
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "workspace directory is empty" in err


def _two_repos(tmp_path: Path, sample_live: Path) -> tuple[Path, Path]:
    import shutil

    first, second = tmp_path / "first-live", tmp_path / "second-live"
    shutil.copytree(sample_live, first)
    shutil.copytree(sample_live, second)
    return first, second


def test_init_into_the_workspace_of_another_repo_is_refused(
    tmp_path: Path, sample_live: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from refarch_tui.state import Workspace

    first, second = _two_repos(tmp_path, sample_live)
    ws = tmp_path / "ws"
    assert run_cli(capsys, "init", str(first), "--workspace", str(ws))[0] == 0
    before = (ws / "state.json").read_text()
    code, out, err = run_cli(capsys, "init", str(second), "--workspace", str(ws), "--json")
    assert code == 1
    document = json.loads(out)
    assert "workspace" not in document
    assert any(str(first) in e and "already the workspace of" in e for e in document["errors"])
    assert "already the workspace of" in err
    assert (ws / "state.json").read_text() == before
    assert Workspace(ws).load().live_dir == str(first)


def test_init_again_says_the_existing_workspace_was_kept(
    tmp_path: Path, sample_live: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = _two_repos(tmp_path, sample_live)
    ws = tmp_path / "ws"
    code, out, _ = run_cli(capsys, "init", str(first), "--workspace", str(ws), "--region", "us-east-1")
    assert code == 0 and "created" in out
    code, out, _ = run_cli(capsys, "init", str(first), "--workspace", str(ws))
    assert code == 0 and "existing workspace" in out and "kept" in out
    # a different choice of regions is not silently dropped
    code, _, err = run_cli(capsys, "init", str(first), "--workspace", str(ws), "--region", "us-west-2")
    assert code == 1 and "was not applied" in err


@pytest.mark.parametrize("target", ["directory", "missing-folder", "under-a-file", "device"])
def test_apply_report_path_is_checked_before_anything_runs(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace, _ = create_workspace(tmp_path / "live", ACCOUNTS, ["us-east-1"], directory=tmp_path / "ws")
    (tmp_path / "a-file").write_text("x")
    report = {
        "directory": tmp_path,
        "missing-folder": tmp_path / "no-such-folder" / "report.json",
        "under-a-file": tmp_path / "a-file" / "report.json",
        "device": Path("/dev/null"),
    }[target]
    journal = workspace.journal_path.read_text()
    code, _, err = run_cli(
        capsys, "apply", "--no-tui", "--workspace", str(workspace.directory), "--report", str(report)
    )
    assert code == 2
    assert f"--report {report}" in err and "Nothing was run" in err
    assert not workspace.runs_dir.exists()
    assert workspace.journal_path.read_text() == journal
    assert Path("/dev/null").is_char_device()


def test_apply_report_needs_line_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace, _ = create_workspace(tmp_path / "live", ACCOUNTS, ["us-east-1"], directory=tmp_path / "ws")
    code, _, err = run_cli(
        capsys, "apply", "--workspace", str(workspace.directory), "--report", str(tmp_path / "r.json")
    )
    assert code == 2 and "--no-tui only" in err
