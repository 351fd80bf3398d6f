"""`refarch-tui step` and `refarch-tui verify` in process, with the spine's fake step registered: the
contract's exit codes, one JSON document on stdout, diffs on stderr, pending without --apply-edits."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from refarch_tui import cli
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.steps import registry
from tests.steps import fake_step

UNIT_FILE = "dev/us-east-1/services/ecs-cluster/terragrunt.hcl"


@pytest.fixture(autouse=True)
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(registry.MODULES, "keypairs", "tests.steps.fake_step")
    fake_step.BEHAVIOUR.clear()
    yield
    fake_step.BEHAVIOUR.clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_step_help_lists_the_answers_with_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "step", "keypairs", "--help")
    assert code == 0
    assert "name" in out and '"fake-key"' in out and "cluster_instance_keypair_name" in out
    code, out, _ = run(capsys, "step", "--help")
    built = next(line for line in out.splitlines() if line.startswith("Built so far: "))
    assert code == 0 and "amis, docker_images" in out and "keypairs" in built


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["step", "nonsense"], "unknown step 'nonsense'"),
        *[(["step", step_id], "not built yet") for step_id in sorted(registry.NOT_BUILT - {"keypairs"})[:1]],
        (["step", "terragrunt"], "apply --no-tui"),
        (["step", "keypairs", "--set", "colour=red"], "no workspace yet"),
        (["verify"], "no workspace yet"),
    ],
)
def test_what_cannot_start_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 2 and says in err
    assert "error" in json.loads(out)


def test_step_pending_then_applied_then_idempotent_and_verify(
    capsys: pytest.CaptureFixture[str], emulated_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    workspace, _ = emulated_workspace
    ws = ["--workspace", str(workspace.directory)]
    unit = workspace.directory / "live" / UNIT_FILE
    before = unit.read_text()

    code, out, err = run(capsys, "step", "keypairs", *ws, "--account", "dev", "--json")
    assert code == 1, err
    document = json.loads(out)
    [result] = document["results"]
    assert document["step"] == "keypairs" and result["status"] == "pending"
    assert result["edits"][0]["applied"] is False and "--apply-edits" in err
    assert f"+++ b/{UNIT_FILE}" in err and unit.read_text() == before

    code, out, err = run(
        capsys, "step", "keypairs", *ws, "--account", "dev", "--set", "name=x1", "--apply-edits", "--json"
    )
    assert code == 0, err
    [result] = json.loads(out)["results"]
    assert result["status"] == "done" and result["facts"] == {"name": "x1"}
    assert result["edits"] == [
        {
            "file": UNIT_FILE,
            "key": "cluster_instance_keypair_name",
            "old": "REPLACE_ME",
            "new": "x1",
            "applied": True,
        }
    ]
    assert result["run_env"] == ["TF_VAR_fake", "TF_VAR_fake_secret"]
    assert 'cluster_instance_keypair_name = "x1"' in unit.read_text()

    after = unit.read_text()
    code, out, _ = run(
        capsys, "step", "keypairs", *ws, "--account", "dev", "--set", "name=x1", "--apply-edits", "--json"
    )
    assert code == 0 and json.loads(out)["results"][0]["edits"] == [] and unit.read_text() == after

    code, out, _ = run(capsys, "verify", *ws, "--json")
    assert code == 0 and json.loads(out) == {
        "checked": [{"step": "keypairs", "account": "dev", "status": "done", "reason": ""}]
    }
    unit.write_text(after.replace('"x1"', '"by-hand"'))
    code, out, _ = run(capsys, "verify", *ws, "--json")
    [entry] = json.loads(out)["checked"]
    assert code == 1 and entry["status"] == "stale" and UNIT_FILE in entry["reason"]
    code, out, _ = run(capsys, "status", "--json", *ws)
    status = json.loads(out)
    cell = next(c for c in status["steps"] if (c["step"], c["account"]) == ("keypairs", "dev"))
    assert cell["status"] == "stale"
    assert status["followups"] == [
        {
            "step": "keypairs",
            "account": "dev",
            "message": "do it later",
            "command": "refarch-tui step keypairs --account dev",
        }
    ]


def test_every_applicable_account_in_deployment_order_and_out_of_scope_is_na(
    capsys: pytest.CaptureFixture[str], emulated_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    workspace, _ = emulated_workspace
    ws = ["--workspace", str(workspace.directory)]
    code, out, err = run(capsys, "step", "keypairs", *ws, "--apply-edits", "--json")
    accounts = [r["account"] for r in json.loads(out)["results"]]
    assert accounts == ["shared-services", "dev", "stage", "prod"], err
    code, out, _ = run(capsys, "step", "keypairs", *ws, "--account", "security", "--json")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "n/a"


def test_secret_answers_are_refused_on_the_command_line_and_locked_workspaces_exit_2(
    capsys: pytest.CaptureFixture[str],
    emulated_workspace: tuple[Workspace, WorkspaceState],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from refarch_tui.steps.contract import AnswerSpec

    workspace, _ = emulated_workspace
    ws = ["--workspace", str(workspace.directory)]
    monkeypatch.setattr(
        fake_step, "ANSWERS", (*fake_step.ANSWERS, AnswerSpec("passphrase", "", "x", secret=True))
    )
    code, _, err = run(capsys, "step", "keypairs", *ws, "--set", "passphrase=hunter2hunter2")
    assert code == 2 and "never put it on the command line" in err and "hunter2hunter2" not in err

    workspace.lock_path.write_text(json.dumps({"pid": os.getppid(), "host": "x", "since": "now"}))
    code, _, err = run(capsys, "step", "keypairs", *ws, "--account", "dev")
    assert code == 2 and "is open in another refarch-tui" in err
    code, _, err = run(capsys, "verify", *ws)
    assert code == 2 and "is open in another refarch-tui" in err
    assert Workspace(workspace.directory).load().record("keypairs", "dev").status is Status.PENDING


def test_answers_file_global_and_per_account(
    capsys: pytest.CaptureFixture[str], emulated_workspace: tuple[Workspace, WorkspaceState], tmp_path: Path
) -> None:
    workspace, _ = emulated_workspace
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"name": "everyone", "stage": {"name": "stage-only"}}))
    code, out, err = run(
        capsys,
        "step",
        "keypairs",
        "--workspace",
        str(workspace.directory),
        "--account",
        "dev",
        "--account",
        "stage",
        "--answers",
        str(answers),
        "--apply-edits",
        "--json",
    )
    assert code == 0, err
    facts = {r["account"]: r["facts"]["name"] for r in json.loads(out)["results"]}
    assert facts == {"dev": "everyone", "stage": "stage-only"}
