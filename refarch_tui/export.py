"""`refarch-tui export`: a redacted transcript of a workspace's bootstrap, as JSON or Markdown.

Everything comes from what the workspace already keeps — state (steps and facts), the journal (identities
and every edit) and `runs/` (every run, finished or cut short) — and passes through the secrets redactor,
after registering every secret the workspace's steps keep in the keyring, so none can appear.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refarch_tui import checklist, secrets
from refarch_tui.atomic import atomic_write_text
from refarch_tui.run import store
from refarch_tui.state import Status, Workspace, WorkspaceState

FORMATS = ("markdown", "json")


def _register_workspace_secrets(state: WorkspaceState, *, allow_plaintext: bool) -> None:
    """The keyring values this workspace's records point at join the redactor (best effort)."""
    for by_account in state.steps.values():
        for record in by_account.values():
            for entry in record.secret_env.values():
                with contextlib.suppress(secrets.KeyringError):
                    secrets.register_secret(secrets.fetch(entry, allow_plaintext=allow_plaintext))


def _identities(journal: list[dict[str, Any]]) -> dict[str, str]:
    """The last identity each account was confirmed as (ARN), from the journal's aws.identity entries."""
    found: dict[str, str] = {}
    for entry in journal:
        if entry.get("action") == "aws.identity" and entry.get("outcome") == "ok" and entry.get("account"):
            found[str(entry["account"])] = str(entry.get("detail") or "")
    return found


def _edits(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "time": entry.get("time"),
            "file": entry.get("file"),
            "key": entry.get("key"),
            "old": entry.get("old"),
            "new": entry.get("new"),
            "step": entry.get("step"),
            "account": entry.get("account"),
        }
        for entry in journal
        if entry.get("action") == "edit" and "file" in entry and "key" in entry
    ]


def _summary(directory: Any) -> dict[str, Any]:
    try:
        document = json.loads((directory / store.SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _runs(workspace: Workspace) -> list[dict[str, Any]]:
    runs = []
    for run_id in store.list_runs(workspace.runs_dir):
        record = store.load_run(workspace.runs_dir, run_id)
        if record is None:
            continue
        summary = _summary(record.directory)
        summary_accounts = summary.get("accounts") if isinstance(summary.get("accounts"), dict) else {}
        counts = record.counts()
        accounts = []
        for name, account in record.accounts.items():
            tally = counts.get(name, {})
            from_summary = summary_accounts.get(name) if isinstance(summary_accounts, dict) else None
            status = str(from_summary.get("status")) if isinstance(from_summary, dict) else account.status
            accounts.append(
                {
                    "name": name,
                    "status": status,
                    "succeeded": tally.get("succeeded", 0),
                    "failed": tally.get("failed", 0),
                    "skipped": tally.get("skipped", 0),
                }
            )
        runs.append(
            {
                "id": record.run_id,
                "command": record.command,
                "started": record.started,
                "finished": record.finished,
                "accounts": accounts,
                "engine": record.engine,
                "simulated": record.simulated,
                "known_errors": list(summary.get("known_errors") or []),
            }
        )
    return runs


def transcript(
    workspace: Workspace, state: WorkspaceState, *, allow_plaintext: bool = False
) -> dict[str, Any]:
    """The export contract: workspace, accounts, steps, edits, runs (fields may be added, never removed)."""
    _register_workspace_secrets(state, allow_plaintext=allow_plaintext)
    journal = workspace.read_journal()
    identities = _identities(journal)
    accounts = state.account_names
    steps = [
        {
            "step": step.id,
            "account": account,
            "status": record.status.value,
            "updated": record.updated or state.created,
            "facts": record.facts,
            "message": record.message,
        }
        for step in checklist.STEPS
        for account in accounts
        if (record := state.record(step.id, account)).status is not Status.NOT_APPLICABLE
    ]
    document = {
        "workspace": str(workspace.directory),
        "mode": state.mode.value,
        "live_dir": state.live_dir,
        "accounts": [
            {"name": name, "id": state.account(name).id, "identity": identities.get(name)}
            for name in accounts
        ],
        "steps": steps,
        "edits": _edits(journal),
        "runs": _runs(workspace),
    }
    redacted: dict[str, Any] = json.loads(secrets.redact(json.dumps(document)))
    return redacted


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(document: dict[str, Any]) -> str:
    """Grouped by account in deployment order: identity, steps with facts, edits with diffs, run outcomes."""
    sandbox = document.get("mode") == "sandbox"
    lines = [
        f"# refarch-tui transcript{' — SANDBOX (local emulator, not AWS)' if sandbox else ''}",
        "",
        f"- Workspace: `{document['workspace']}`",
        f"- Live repo: `{document.get('live_dir', '')}`",
        "",
    ]
    for account in document["accounts"]:
        name = account["name"]
        lines += [f"## {name} ({account['id'] or 'no ID'})", ""]
        lines.append(
            f"Identity: `{account['identity']}`" if account["identity"] else "Identity: not confirmed"
        )
        lines += ["", "| step | status | updated | facts |", "|---|---|---|---|"]
        for row in document["steps"]:
            if row["account"] == name:
                title = checklist.step(row["step"]).title
                facts = ", ".join(f"{k}={_cell(v)}" for k, v in row["facts"].items()) or "—"
                lines.append(f"| {title} | {row['status']} | {row['updated']} | {facts} |")
        edits = [e for e in document["edits"] if e.get("account") == name]
        if edits:
            lines += ["", "### Edits", ""]
            for edit in edits:
                lines += [
                    f"{edit['time']} — `{edit['file']}` `{edit['key']}`",
                    "",
                    "```diff",
                    f"- {edit['key']} = {_cell(edit['old'])}",
                    f"+ {edit['key']} = {_cell(edit['new'])}",
                    "```",
                    "",
                ]
        lines.append("")
    other_edits = [
        e for e in document["edits"] if e.get("account") not in {a["name"] for a in document["accounts"]}
    ]
    if other_edits:
        lines += ["## Other edits", ""]
        lines += [
            f"- {e['time']} `{e['file']}` `{e['key']}`: {_cell(e['old'])} → {_cell(e['new'])}"
            for e in other_edits
        ]
        lines.append("")
    lines += ["## Runs", ""]
    if not document["runs"]:
        lines += ["No run yet.", ""]
    for run in document["runs"]:
        label = " (SIMULATED rehearsal, nothing deployed)" if run.get("simulated") else ""
        finished = run["finished"] or "did not finish"
        lines += [
            f"### {run['id']} — {run['command']}{label}",
            "",
            f"Started {run['started']}, finished {finished}.",
            "",
        ]
        lines += ["| account | status | succeeded | failed | skipped |", "|---|---|---|---|---|"]
        lines += [
            f"| {a['name']} | {a['status']} | {a['succeeded']} | {a['failed']} | {a['skipped']} |"
            for a in run["accounts"]
        ]
        recovered = [k for k in run.get("known_errors", []) if isinstance(k, dict)]
        if recovered:
            lines += ["", "Known errors:", ""]
            lines += [
                f"- {k.get('account')} `{k.get('unit')}`: {k.get('error')} "
                f"({'recovered' if k.get('recovered') else 'not recovered'}, by {k.get('by')})"
                for k in recovered
            ]
        lines.append("")
    return secrets.redact("\n".join(lines).rstrip() + "\n")


def write_transcript(
    workspace: Workspace, state: WorkspaceState, *, fmt: str = "markdown", allow_plaintext: bool = False
) -> Path:
    """`<workspace>/transcript-<UTC time>.md` (or .json), mode 0600; returns its path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = workspace.directory / f"transcript-{stamp}.{'json' if fmt == 'json' else 'md'}"
    atomic_write_text(target, render(workspace, state, fmt, allow_plaintext=allow_plaintext), mode=0o600)
    return target


def render(workspace: Workspace, state: WorkspaceState, fmt: str, *, allow_plaintext: bool = False) -> str:
    document = transcript(workspace, state, allow_plaintext=allow_plaintext)
    if fmt == "json":
        return json.dumps(document, indent=2) + "\n"
    return to_markdown(document)
