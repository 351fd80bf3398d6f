"""Lambda deployment packages (seed: "Build lambda functions").

Build scripts are `lambda/<name>/src/build.sh` under the modules directory (the sandbox's copy of the
bundled sample modules by default). The account's units that deploy a function are those whose
`terraform { source }` ends in `//lambda/<name>` (or whose folder is `lambda/<name>`). The script runs with
an environment built for it (no AWS credentials: it builds locally) and its output streamed live
(`tools.build_process`); the instruction it prints at the end — `export NAME=value`, or "set the NAME
environment variable to VALUE" — becomes a run_env entry of this account (the runner sets NAME for this
account's terragrunt). The package must exist; its size and sha256 are the evidence `verify` re-checks.

A package an earlier account of this workspace built from the same script, still unchanged, is reused (so
dev, stage and prod share one package and each keeps verifying); `rebuild=true` builds again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refarch_tui.state import Status, StepRecord
from refarch_tui.steps.contract import (
    AnswerSpec,
    StepCancelled,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.units import source_module
from refarch_tui.tools import build_process

STEP_ID = "lambdas"
SCRIPT_GLOB = "lambda/*/src/build.sh"
_EXPORT = re.compile(r"^\s*(?:\$\s*)?export\s+([A-Za-z_][A-Za-z0-9_]*)=(.+?)\s*$")
_SET_VAR = re.compile(
    r"set\s+(?:the\s+)?[`'\"]?([A-Za-z_][A-Za-z0-9_]*)[`'\"]?\s+(?:environment\s+)?variable\s+to\s*:?\s*(.+?)\s*$",
    re.IGNORECASE,
)

ANSWERS = (
    AnswerSpec(
        "function",
        None,
        "the function to build (lambda/<function>/src/build.sh); default: the one this account deploys",
    ),
    AnswerSpec(
        "rebuild", False, "build again even when an unchanged package of this script exists", kind="bool"
    ),
)


def find_scripts(modules_dir: Path | None) -> dict[str, Path]:
    """function name -> its build.sh, sorted by name."""
    if modules_dir is None or not modules_dir.is_dir():
        return {}
    return {path.parent.parent.name: path for path in sorted(modules_dir.glob(SCRIPT_GLOB)) if path.is_file()}


def deploying_units(ctx: StepContext, function: str) -> list[str]:
    """The account's runnable units that deploy lambda/<function>, by path."""
    found = []
    for unit in sorted(ctx.tree.units_of(ctx.account), key=lambda u: u.path):
        if not unit.runnable:
            continue
        module = source_module(ctx.live_root, unit)
        if module == f"lambda/{function}" or unit.path.endswith(f"/lambda/{function}"):
            found.append(unit.path)
    return found


def parse_instruction(lines: list[str] | tuple[str, ...]) -> tuple[str, str] | None:
    """The last `export NAME=value` or "set the NAME environment variable to VALUE" printed: (NAME, VALUE)."""
    for line in reversed(lines):
        match = _EXPORT.match(line) or _SET_VAR.search(line)
        if match:
            value = match.group(2).strip()
            try:
                parts = shlex.split(value)
            except ValueError:
                parts = [value]
            value = parts[0] if len(parts) == 1 else value
            return match.group(1), value.rstrip(".").strip("`'\"")
    return None


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


def _choose(ctx: StepContext, answers: Mapping[str, Any]) -> tuple[str, Path, dict[str, Path]]:
    scripts = find_scripts(ctx.modules_dir)
    if not scripts:
        where = ctx.modules_dir or "no modules directory is set"
        raise StepError(
            f"no Lambda build script ({SCRIPT_GLOB}) under {where}; point the workspace's modules_dir "
            "setting at your infrastructure-modules checkout"
        )
    chosen = str(answers.get("function") or "")
    if chosen:
        if chosen not in scripts:
            raise StepError(f"no build script for {chosen!r}; found: {', '.join(scripts)}")
        return chosen, scripts[chosen], scripts
    deployed = [name for name in scripts if deploying_units(ctx, name)]
    if len(deployed) > 1:
        raise StepError(f"{ctx.account} deploys several functions ({', '.join(deployed)}): choose one")
    name = deployed[0] if deployed else next(iter(scripts))
    return name, scripts[name], scripts


def _reusable(ctx: StepContext, script: Path) -> dict[str, Any] | None:
    """An unchanged package another account of this workspace built from the same script."""
    for account, record in sorted(ctx.state.steps.get(STEP_ID, {}).items()):
        if account == ctx.account or record.status is not Status.DONE:
            continue
        evidence = record.evidence
        if evidence.get("script") != str(script) or not evidence.get("package"):
            continue
        if _package_problem(evidence) is None:
            return dict(evidence, built_for=evidence.get("built_for") or account)
    return None


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    function, script, _scripts = _choose(ctx, answers)
    units = deploying_units(ctx, function)
    if not units:
        return StepPlan(
            STEP_ID,
            ctx.account,
            dict(answers),
            not_applicable=f"no unit in {ctx.account} deploys lambda/{function}",
        )
    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    reuse = None if answers.get("rebuild") else _reusable(ctx, script)
    if reuse is not None:
        result.actions.append(
            f"reuse the package built for {reuse['built_for']}: {reuse['package']} "
            f"({reuse['size']} bytes, sha256 {str(reuse['sha256'])[:12]}…; rebuild=true builds again)"
        )
    else:
        result.actions.append(
            f"run {script} (live output; the full log goes to the workspace's logs/builds/)"
        )
        result.commands.append(f"cd {script.parent} && sh {script.name}")
    result.actions.append(
        f"the apply of {ctx.account} gets the variable the script asks for (units: {', '.join(units)})"
    )
    result.data = {"function": function, "script": str(script), "units": units, "reuse": reuse}
    return result


def _argv(script: Path) -> list[str]:
    return [str(script)] if os.access(script, os.X_OK) else ["sh", str(script)]


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    function = str(plan.data["function"])
    script = Path(plan.data["script"])
    units: list[str] = plan.data["units"]
    reuse: dict[str, Any] | None = plan.data.get("reuse")
    if reuse is not None and _package_problem(reuse) is None:
        variable, package = str(reuse["variable"]), str(reuse["package"])
        evidence = dict(reuse)
        how = f"reused the package built for {reuse['built_for']}"
    else:
        ctx.check_cancel()
        log_path = build_process.log_path_for(ctx.workspace, STEP_ID, ctx.account, function)
        ctx.progress(f"running {script} (full log: {log_path})")
        built = build_process.run_build(
            _argv(script),
            env=build_process.build_env({}, region=ctx.region),  # a local build: no AWS credentials
            cwd=script.parent,
            log_path=log_path,
            on_line=ctx.progress,
            cancel=ctx.cancel,
        )
        if built.cancelled:
            raise StepCancelled(f"the build was cancelled; nothing was recorded (log: {log_path})")
        if not built.ok:
            raise StepError(built.failure(f"{script}") + "\nnothing was recorded")
        instruction = parse_instruction(built.stdout or built.lines)
        if instruction is None:
            raise StepError(
                f'{script} finished but printed no instruction (`export NAME=value`, or "set the NAME '
                f'environment variable to …"); nothing was recorded. Its log: {log_path}'
            )
        variable, package = instruction
        path = Path(package).expanduser()
        if not path.is_absolute():
            path = (script.parent / path).resolve()
        if not path.is_file():
            raise StepError(
                f"{script} says {variable}={package}, but there is no file {path}; nothing was recorded. "
                f"Its log: {log_path}"
            )
        package = str(path)
        size, sha = file_digest(path)
        evidence = {
            "script": str(script),
            "variable": variable,
            "package": package,
            "size": size,
            "sha256": sha,
            "log": str(log_path),
            "built_for": ctx.account,
        }
        how = f"built {path.name} ({size} bytes)"
    return StepResult(
        status=Status.DONE,
        facts={"function": function, "package": package, "variable": variable, "units": units},
        evidence=evidence,
        run_env={variable: package},
        message=f"{how}; the apply of {ctx.account} sets {variable}={package}",
    )


def _package_problem(evidence: Mapping[str, Any]) -> str | None:
    path = Path(str(evidence.get("package") or ""))
    if not evidence.get("package") or not path.is_file():
        return f"the package {path} is gone: rerun the lambdas step"
    size, sha = file_digest(path)
    if size != evidence.get("size") or sha != evidence.get("sha256"):
        return (
            f"the package {path} changed since it was built (size or sha256 differs): rerun the lambdas step"
        )
    return None


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    problem = _package_problem(record.evidence)
    if problem:
        return Verification.stale(problem)
    variable = record.evidence.get("variable")
    if variable and record.run_env.get(str(variable)) != record.evidence.get("package"):
        return Verification.stale(f"the recorded {variable} no longer points at the package")
    return Verification.ok()
