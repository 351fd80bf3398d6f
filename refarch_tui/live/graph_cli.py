"""`refarch-tui graph LIVE_DIR [--json] [--destroy]`: the dependency waves of a live repo.

JSON contract (used by scripts and checks — keep it exactly; fields are only ever added):
    {"units": [{"path": str, "dependencies": [str], "runnable": bool}],
     "waves": [[str]], "errors": [{"path": str, "line": int | null, "message": str}],
     "unresolved": [{"path": str, "line": int | null, "expression": str, "reason": str}],
     "stacks": [{"path": str, "units": [str]}]}
Exit 0 = no errors (unresolved expressions are not errors), 1 = graph built but errors is non-empty (or
LIVE_DIR unusable), 2 = a dependency cycle.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, TextIO

from refarch_tui import checklist
from refarch_tui.live.graph import waves
from refarch_tui.live.model import CycleError, LiveError, LiveTree, Unresolved
from refarch_tui.live.scanner import scan

log = logging.getLogger(__name__)

UNRESOLVED_SHOWN = 20  # in the readable listing; --json lists every one


def _error_json(error: LiveError) -> dict[str, Any]:
    return {"path": error.path, "line": error.line, "message": error.message}


def _unresolved_json(item: Unresolved) -> dict[str, Any]:
    return {"path": item.path, "line": item.line, "expression": item.expression, "reason": item.reason}


def _document(tree: LiveTree, wave_list: list[list[str]], errors: list[LiveError]) -> dict[str, Any]:
    return {
        "units": [
            {"path": u.path, "dependencies": sorted(u.dependencies), "runnable": u.runnable}
            for u in sorted(tree.units.values(), key=lambda u: u.path)
        ],
        "waves": wave_list,
        "errors": [_error_json(e) for e in errors],
        "unresolved": [_unresolved_json(u) for u in tree.unresolved],
        "stacks": [{"path": s.path, "units": list(s.units)} for s in tree.stacks],
    }


def _readable(tree: LiveTree, destroy: bool, out: TextIO) -> None:
    order = "destroy order (dependents first)" if destroy else "apply order (dependencies first)"
    runnable = sum(1 for u in tree.units.values() if u.runnable)
    out.write(f"Live repo {tree.root}: {len(tree.units)} units ({runnable} runnable), {order}\n")
    groups: list[tuple[str, list[list[str]]]] = []
    top = [u.path for u in tree.units.values() if u.account is None]
    if top:
        groups.append(("(top level)", [sorted(top)]))
    for account in checklist.order_accounts(tree.accounts):
        groups.append((account, waves(tree, account=account, destroy=destroy)))
    for name, account_waves in groups:
        out.write(f"\n{name}\n")
        for index, wave in enumerate(account_waves, start=1):
            out.write(f"  wave {index}\n")
            for path in wave:
                unit = tree.units[path]
                note = "" if unit.runnable else f"  (not run: {unit.not_run_reason or 'not runnable'})"
                out.write(f"    {path}{note}\n")
    for stack in tree.stacks:
        names = ", ".join(stack.units) or "no units"
        out.write(f"\nstack {stack.path} (terragrunt.stack.hcl): {names}\n")
    for note in tree.notes:
        out.write(f"\nnote: {note}\n")
    if tree.unresolved:
        count = len(tree.unresolved)
        out.write(f"\n{count} expression(s) are known only when terragrunt runs (not errors):\n")
        for item in tree.unresolved[:UNRESOLVED_SHOWN]:
            where = f"{item.path}:{item.line}" if item.line is not None else item.path
            out.write(f"  {where}: `{item.expression}` — {item.reason}\n")
        if count > UNRESOLVED_SHOWN:
            out.write(f"  … and {count - UNRESOLVED_SHOWN} more (`graph --json` lists them all)\n")


def main(live_dir: Path, *, as_json: bool, destroy: bool, stdout: TextIO, stderr: TextIO) -> int:
    live = Path(live_dir).expanduser()
    if not live.exists() or not live.is_dir():
        what = "does not exist" if not live.exists() else "is not a directory"
        message = (
            f"{live} {what}: pass the folder of an infrastructure-live repo (the one holding the accounts)"
        )
        stderr.write(f"error: {message}\n")
        if as_json:
            failure = LiveError(path=".", line=None, message=message)
            json.dump(_document(LiveTree(root=live, units={}), [], [failure]), stdout, indent=2)
            stdout.write("\n")
        return 1
    try:
        tree = scan(live)
    except Exception as exc:  # scan reports bad files itself; this is a bug or an unreadable tree
        log.exception("scan of %s failed", live)
        stderr.write(f"error: could not read {live}: {exc}\n")
        return 1
    try:
        wave_list = waves(tree, destroy=destroy)
    except CycleError as cycle:
        message = f"dependency cycle: {' -> '.join(cycle.cycle)}"
        stderr.write(f"error: {message}\n")
        first = cycle.cycle[0] if cycle.cycle else "."
        cycle_error = LiveError(path=f"{first}/terragrunt.hcl" if first != "." else "terragrunt.hcl",
                                line=None, message=message)  # fmt: skip
        if as_json:
            json.dump(_document(tree, [], [*tree.errors, cycle_error]), stdout, indent=2)
            stdout.write("\n")
        else:
            for error in tree.errors:
                stderr.write(f"error: {_where(error)}: {error.message}\n")
        return 2
    if as_json:
        json.dump(_document(tree, wave_list, tree.errors), stdout, indent=2)
        stdout.write("\n")
    else:
        _readable(tree, destroy, stdout)
        for error in tree.errors:
            stderr.write(f"error: {_where(error)}: {error.message}\n")
        if tree.errors:
            count = len(tree.errors)
            stderr.write(f"{count} problem(s) found; the graph above leaves out what they affect\n")
    return 1 if tree.errors else 0


def _where(error: LiveError) -> str:
    return f"{error.path}:{error.line}" if error.line is not None else error.path
