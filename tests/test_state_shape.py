"""A state.json of the wrong shape is treated like a corrupt one everywhere: explained, kept, not mangled."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from refarch_tui import cli
from refarch_tui.state import Account, CorruptState, Mode, Status, Workspace
from refarch_tui.workspaces import create_workspace

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return edit


def _record(field: str, value: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        document["steps"]["backends"]["dev"][field] = value

    return edit


WRONG_SHAPES: dict[str, tuple[Edit, str]] = {
    "steps is a list": (_set("steps", [1]), "steps should be an object"),
    "a step is a list": (_set("steps.backends", [1]), "steps.backends should be an object"),
    "regions is a string": (_set("regions", "us-east-1"), "regions should be a list"),
    "a region is a number": (_set("regions", ["us-east-1", 5]), "regions[1] should be"),
    "schema_version is true": (_set("schema_version", True), "no valid schema_version"),
    "mode is unknown": (_set("mode", "production"), "mode should be one of"),
    "accounts is an object": (_set("accounts", {"dev": "1"}), "accounts should be a list"),
    "an account name is a number": (_set("accounts", [{"name": 5, "id": None}]), "accounts[0].name"),
    "an account is listed twice": (
        _set("accounts", [{"name": "dev", "id": None}, {"name": "dev", "id": None}]),
        "listed twice",
    ),
    "live_dir is missing": (lambda d: d.pop("live_dir"), "live_dir is missing"),
    "status is unknown": (_record("status", "deployed"), "steps.backends.dev.status should be one of"),
    "facts is a list": (_record("facts", ["bucket"]), "steps.backends.dev.facts should be an object"),
    "run_env value is a number": (_record("run_env", {"TF_VAR_x": 1}), "steps.backends.dev.run_env.TF_VAR_x"),
    "secret_env is a list": (_record("secret_env", ["x"]), "steps.backends.dev.secret_env should be"),
    "imports is a string": (_record("imports", "zone"), "steps.backends.dev.imports should be a list"),
    "a followup is a number": (_record("followups", [1]), "steps.backends.dev.followups[0] should be"),
    "message is a list": (_record("message", ["x"]), "steps.backends.dev.message should be a string"),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    workspace, state = create_workspace(
        tmp_path / "live",
        [Account("security", "104983213567"), Account("dev", "368294012756")],
        ["us-east-1"],
        mode=Mode.REAL,
        directory=tmp_path / "ws",
    )
    workspace.update_step(state, "backends", "dev", Status.DONE, facts={"bucket": "b"}, run_env={"A": "b"})
    return workspace


def _break(workspace: Workspace, case: str) -> str:
    edit, _ = WRONG_SHAPES[case]
    document = json.loads(workspace.state_path.read_text())
    edit(document)
    text = json.dumps(document, indent=2)
    workspace.state_path.write_text(text)
    return text


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_load_refuses_a_wrong_shape_and_says_where(case: str, workspace: Workspace) -> None:
    text = _break(workspace, case)
    with pytest.raises(CorruptState) as caught:
        workspace.load()
    message = str(caught.value)
    assert str(workspace.state_path) in message and "kept" in message
    assert WRONG_SHAPES[case][1] in message
    assert workspace.state_path.read_text() == text


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_every_command_explains_a_wrong_shape_and_keeps_the_file(
    case: str, workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _break(workspace, case)
    where = str(workspace.directory)

    code, out, err = run_cli(capsys, "status", "--json", "--workspace", where)
    assert code == 1 and "unexpected error" not in err
    assert WRONG_SHAPES[case][1] in json.loads(out)["error"]

    code, _, err = run_cli(capsys, "apply", "--no-tui", "--workspace", where)
    assert code == 2 and WRONG_SHAPES[case][1] in err and "unexpected error" not in err

    code, out, err = run_cli(capsys, "doctor", "--json", "--workspace", where)
    assert code != 70 and "unexpected error" not in err
    assert WRONG_SHAPES[case][1] in json.loads(out)["aws"]["message"]

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        cli, "run_app", lambda workspace, state, problem, err, **kw: seen.update(p=problem) or 0
    )
    assert cli.main(["--workspace", where]) == 0
    assert WRONG_SHAPES[case][1] in str(seen["p"])  # the TUI shows the problem screen with it
    assert workspace.state_path.read_text() == text


def test_a_wrong_shape_is_never_overwritten(workspace: Workspace) -> None:
    state = workspace.load()
    text = _break(workspace, "regions is a string")
    with pytest.raises(CorruptState):
        workspace.save(state)
    assert workspace.state_path.read_text() == text


def test_the_right_shape_still_loads_with_its_run_settings(workspace: Workspace) -> None:
    record = workspace.load().record("backends", "dev")
    assert record.status is Status.DONE and record.run_env == {"A": "b"} and record.facts == {"bucket": "b"}
