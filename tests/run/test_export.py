"""`refarch-tui export`: the JSON contract, Markdown grouped by account, and no secret anywhere."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

from refarch_tui import cli, secrets
from refarch_tui.state import Status, Workspace, WorkspaceState
from tests.run.helpers import make_run

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
PASSWORD = "Xq7-export-test-password-not-for-anything-9"


def _flow(tiny_live: Path, make_workspace: MakeWs) -> tuple[Workspace, WorkspaceState]:
    workspace, state = make_workspace(tiny_live)
    secrets.store("passwords/dev", PASSWORD)
    secrets.forget_all_registered()  # a new process: the redactor knows nothing until export registers it
    workspace.update_step(
        state,
        "passwords",
        "dev",
        Status.DONE,
        facts={"length": 32},
        secret_env={"TF_VAR_master_password": "passwords/dev"},
    )
    workspace.update_step(state, "keypairs", "dev", Status.DONE, facts={"services": "dev-services"})
    workspace.journal("aws.identity", account="dev", outcome="ok", detail="arn:aws:sts::1:assumed-role/x/y")
    return workspace, state


def _export(workspace: Workspace, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = cli.build_parser().parse_args(["export", "--workspace", str(workspace.directory), *extra])
    code = cli.dispatch(args, out, err)
    return code, out.getvalue(), err.getvalue()


async def test_json_export_keeps_the_contract_and_holds_no_secret(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    workspace, state = _flow(tiny_live, make_workspace)
    run = make_run(workspace, state, accounts=["dev"])
    await run.execute()
    # an edit journalled the way the step record path writes it, with the secret pasted into it by mistake
    with open(workspace.journal_path, "a", encoding="utf-8") as handle:
        entry = {
            "time": "2026-12-01T12:00:00+00:00",
            "action": "edit",
            "account": "dev",
            "step": "keypairs",
            "file": "dev/terragrunt.hcl",
            "key": "ssh_key_name",
            "old": "REPLACE_ME",
            "new": PASSWORD,
        }
        handle.write(json.dumps(entry) + "\n")
    code, text, _err = _export(workspace, "--format", "json")
    assert code == 0
    assert PASSWORD not in text
    document = json.loads(text)
    assert set(document) >= {"workspace", "accounts", "steps", "edits", "runs"}
    assert all(set(a) >= {"name", "id", "identity"} for a in document["accounts"])
    dev = next(a for a in document["accounts"] if a["name"] == "dev")
    assert dev["identity"] == "arn:aws:sts::1:assumed-role/x/y"
    assert all(set(s) >= {"step", "account", "status", "updated", "facts"} for s in document["steps"])
    keypairs = next(s for s in document["steps"] if (s["step"], s["account"]) == ("keypairs", "dev"))
    assert keypairs["status"] == "done" and keypairs["facts"] == {"services": "dev-services"}
    assert [set(e) >= {"time", "file", "key", "old", "new"} for e in document["edits"]] == [True]
    assert document["edits"][0]["old"] == "REPLACE_ME" and document["edits"][0]["new"] != PASSWORD
    [exported_run] = document["runs"]
    assert set(exported_run) >= {"id", "command", "started", "finished", "accounts"}
    [account] = exported_run["accounts"]
    assert set(account) >= {"name", "status", "succeeded", "failed", "skipped"}
    assert account["name"] == "dev" and account["succeeded"] == 3 and exported_run["finished"]


def test_markdown_is_grouped_by_account_in_deployment_order_and_written_to_a_file(
    tiny_live: Path, make_workspace: MakeWs, tmp_path: Path
) -> None:
    workspace, _state = _flow(tiny_live, make_workspace)
    target = tmp_path / "out" / "transcript.md"
    code, text, err = _export(workspace, "--output", str(target))
    assert code == 0 and text == "" and str(target) in err
    markdown = target.read_text()
    assert PASSWORD not in markdown
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert [h.split()[1] for h in headings[:5]] == ["security", "shared-services", "dev", "stage", "prod"]
    assert "SANDBOX" in markdown.splitlines()[0]
    assert "dev-services" in markdown and "No run yet." in markdown
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_export_of_a_missing_workspace_says_so(tmp_path: Path) -> None:
    code, text, err = _export(Workspace(tmp_path / "nowhere"))
    assert code == 2 and text == "" and "not a refarch-tui workspace" in err
