"""The teardown report, JSON and Markdown, in `<workspace>/teardown/<account>/`: destroyed, skipped and why,
left behind. A rehearsal writes `rehearsal.json`/`.md` (what `plan -destroy` would destroy per unit), a real
(or SIMULATED) destroy writes `report.json`/`.md`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refarch_tui import secrets
from refarch_tui.atomic import atomic_write_text
from refarch_tui.run.engine import Run
from refarch_tui.run.model import UnitStatus
from refarch_tui.run.teardown_exec import Teardown, teardown_dir

_TO_DESTROY = re.compile(r"(\d+) to destroy")


def to_destroy(note: str) -> int | None:
    """Resources a `plan -destroy` would destroy, from its `Plan: …` / `No changes.` line."""
    match = _TO_DESTROY.search(note)
    if match:
        return int(match.group(1))
    return 0 if note.startswith("No changes") else None


def rehearsal_units(run: Run) -> list[dict[str, Any]]:
    """Per unit: planned (with resources to destroy), failed, skipped or cancelled, and why."""
    rows = []
    for unit in run.units:
        planned = unit.status is UnitStatus.SUCCEEDED
        rows.append(
            {
                "unit": unit.path,
                "status": "planned" if planned else unit.status.value,
                "to_destroy": to_destroy(unit.note) if planned else None,
                "note": unit.note,
                "log": str(unit.log_path),
            }
        )
    return rows


def document(teardown: Teardown, *, kind: str, run: Run | None) -> dict[str, Any]:
    plan = teardown.plan
    assert plan is not None
    target = teardown.target
    doc: dict[str, Any] = {
        "kind": kind,
        "account": plan.account,
        "account_id": plan.account_id,
        "identity": target.identity,
        "region": target.region,
        "engine": target.engine,
        "simulated": target.simulated,
        "sandbox": target.sandbox,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [{"phase": phase, "id": r.id, "directory": str(r.directory)} for phase, r in teardown.runs],
        "skipped": [e.to_json() for e in plan.excluded if e.unit not in plan.already_destroyed],
        "left_behind": [item.to_json() for item in plan.left_behind],
        "findings": [f.to_json() for f in plan.findings],
        "known_errors": [
            {"unit": r.unit, "error": r.error_id, "title": r.title, "recovered": r.recovered}
            for _phase, r_run in teardown.runs
            for r in r_run.known_errors
        ],
    }
    if kind == "rehearsal":
        doc["planned"] = rehearsal_units(run) if run is not None else []
        return doc
    destroyed = teardown.destroyed()
    doc["destroyed"] = destroyed
    units = {u.path: u for u in run.units} if run is not None else {}
    doc["not_destroyed"] = [
        {
            "unit": path,
            "status": units[path].status.value if path in units else "not started",
            "reason": units[path].note if path in units else "not run",
            "log": str(units[path].log_path) if path in units else "",
        }
        for path in plan.units
        if path not in destroyed
    ]
    if plan.backend is not None:
        ready, why = teardown.backend_ready()
        doc["state_backend"] = {
            "what": plan.backend.describe(),
            "status": ("ready for the separate state-backend step: " if ready else "kept: ") + why,
        }
    else:
        doc["state_backend"] = None
    return doc


def _table(rows: Sequence[Sequence[Any]], header: tuple[str, ...]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(doc: dict[str, Any]) -> str:
    rehearsal = doc["kind"] == "rehearsal"
    title = "Teardown rehearsal" if rehearsal else "Teardown report"
    lines = [f"# {title}: {doc['account']} ({doc['account_id'] or 'no account ID'})", ""]
    if doc["simulated"]:
        lines += [
            "**SIMULATED** — terragrunt is not installed: nothing was planned or destroyed for real.",
            "",
        ]
    if doc["sandbox"]:
        lines += ["**SANDBOX** — local AWS emulator and the sample live repo.", ""]
    runs = ", ".join(f"{r['phase']} {r['id']}" for r in doc["runs"]) or "none"
    lines += [
        f"- identity: {doc['identity'] or 'not checked'}",
        f"- region: {doc['region']}",
        f"- engine: {doc['engine']}",
        f"- written: {doc['generated']}",
        f"- runs: {runs}",
        "",
    ]
    if rehearsal:
        lines += ["## What `plan -destroy` would destroy", ""]
        rows: list[tuple[Any, ...]] = [
            (
                r["unit"],
                r["status"],
                "" if r["to_destroy"] is None else str(r["to_destroy"]),
                r["note"],
            )
            for r in doc["planned"]
        ]
        lines += _table(rows, ("unit", "status", "resources to destroy", "note")) if rows else ["Nothing."]
    else:
        lines += [f"## Destroyed ({len(doc['destroyed'])})", ""]
        lines += [f"- {unit}" for unit in doc["destroyed"]] or ["Nothing yet."]
        lines += ["", f"## Not destroyed ({len(doc['not_destroyed'])})", ""]
        rows = [(r["unit"], r["status"], r["reason"]) for r in doc["not_destroyed"]]
        lines += (
            _table(rows, ("unit", "status", "why")) if rows else ["Nothing: every planned unit is destroyed."]
        )
    lines += ["", f"## Skipped, and why ({len(doc['skipped'])})", ""]
    rows = [(e["unit"], e["reason"]) for e in doc["skipped"]]
    lines += _table(rows, ("unit", "why")) if rows else ["Nothing."]
    lines += ["", f"## Left behind ({len(doc['left_behind'])})", ""]
    rows = [(item["what"], item["where"]) for item in doc["left_behind"]]
    lines += _table(rows, ("what", "where")) if rows else ["Nothing the workspace knows of."]
    backend = doc.get("state_backend")
    if backend:
        lines += ["", "## State backend", "", f"{backend['what']}: {backend['status']}"]
    if doc["findings"]:
        lines += ["", "## Findings", ""]
        lines += _table(
            [(f["kind"], f["unit"], f["message"]) for f in doc["findings"]], ("kind", "unit", "what")
        )
    if doc["known_errors"]:
        lines += ["", "## Known errors seen", ""]
        rows = [
            (k["unit"], k["title"], "recovered" if k["recovered"] else "needs you")
            for k in doc["known_errors"]
        ]
        lines += _table(rows, ("unit", "error", "outcome"))
    return "\n".join(lines) + "\n"


def write(teardown: Teardown, doc: dict[str, Any]) -> tuple[Path, Path]:
    """Writes `<name>.json` and `<name>.md` (redacted, atomic); returns their paths."""
    name = "rehearsal" if doc["kind"] == "rehearsal" else "report"
    directory = teardown_dir(teardown.workspace, teardown.account)
    json_path, md_path = directory / f"{name}.json", directory / f"{name}.md"
    atomic_write_text(json_path, secrets.redact(json.dumps(doc, indent=2) + "\n"), mode=0o600)
    atomic_write_text(md_path, secrets.redact(markdown(doc)), mode=0o600)
    return json_path, md_path


def finish(teardown: Teardown, run: Run) -> tuple[dict[str, Any], Path]:
    """After one of the teardown's runs: writes its report (rehearsal or destroy); returns it and the .md."""
    phase = next((name for name, r in teardown.runs if r is run), "destroy")
    doc = document(teardown, kind="rehearsal" if phase == "rehearsal" else "destroy", run=run)
    return doc, write(teardown, doc)[1]
