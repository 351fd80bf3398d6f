"""`refarch-tui step STEP ...` and `refarch-tui verify ...`: the step spine without the TUI (CI, SSH).

Exit codes: 0 every result done or n/a (verify: nothing stale); 1 any failed or pending (verify: anything
stale or not checked); 2 could not start (unknown step, no workspace, identity blocked, workspace locked,
bad answers). With --json exactly one JSON document goes to stdout; progress, identities and diffs go to
stderr. No secret value is ever printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from refarch_tui import checklist, secrets
from refarch_tui.live.edits import PlannedEdit
from refarch_tui.state import StateError, Status, Workspace, WorkspaceLocked, WorkspaceState
from refarch_tui.steps import registry
from refarch_tui.steps.contract import AnswerSpec, StepError, StepPlan, StepRefused, resolve_answers

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess


class CannotStart(Exception):
    """Exit 2: the message says why nothing ran."""


@dataclass
class Opened:
    workspace: Workspace
    state: WorkspaceState
    access: AwsAccess
    blocked: dict[str, str] = field(default_factory=dict)  # account -> reason


# -- help ------------------------------------------------------------------------------------------------


def describe_answer(spec: AnswerSpec) -> str:
    if spec.secret:
        default = "none: generated" if spec.default in (None, "") else "(secret)"
    elif spec.default is None:
        default = "derived"
    else:
        default = json.dumps(spec.default)
    kind = f"one of {', '.join(spec.choices)}" if spec.choices else spec.kind
    secret = " Secret: only in --answers FILE, never with --set." if spec.secret else ""
    return f"  {spec.key:<22} {kind}, default {default}\n      {spec.help}{secret}"


def step_help(step_id: str | None) -> str:
    usage = (
        "usage: refarch-tui step STEP [--sandbox | --workspace DIR] [--account NAME ...]\n"
        "                        [--set KEY=VALUE ...] [--answers FILE] [--apply-edits] [--json]\n"
    )
    if step_id is None or step_id not in checklist.STEP_IDS or step_id == registry.RUNNER_STEP:
        steps = ", ".join(s for s in checklist.STEP_IDS if s != registry.RUNNER_STEP)
        built = ", ".join(registry.MODULES) or "none yet"
        return (
            f"{usage}\nRun one checklist step in line mode. STEP is one of: {steps}.\n"
            f"Built so far: {built}. `refarch-tui step STEP --help` lists that step's answers.\n"
        )
    step = checklist.step(step_id)
    lines = [usage, f"{step.title} (seed: {step.seed_section}) — {step.summary}", ""]
    if not registry.is_built(step_id):
        lines.append("This step is not built yet: do it by hand, following the seed document.")
        return "\n".join(lines) + "\n"
    module = registry.module(step_id)
    lines.append('Answers (--set KEY=VALUE, or --answers FILE with {"KEY": value} or {"ACCOUNT": {...}}):')
    lines += [describe_answer(spec) for spec in module.ANSWERS] or ["  (none)"]
    lines += [
        "",
        "Options:",
        "  --sandbox             the sandbox workspace (created when absent; its emulator is started)",
        "  --workspace DIR       this workspace (default: the one opened last)",
        "  --account NAME        only this account (repeatable; default: every account the step applies to)",
        "  --apply-edits         write the proposed terragrunt.hcl edits (default: show them, write nothing)",
        "  --json                one JSON document on stdout",
    ]
    return "\n".join(lines) + "\n"


# -- answers ---------------------------------------------------------------------------------------------


def parse_sets(items: Sequence[str], specs: Sequence[AnswerSpec]) -> dict[str, str]:
    secret_keys = {spec.key for spec in specs if spec.secret}
    given: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CannotStart(f"--set takes KEY=VALUE, not {item!r}")
        key = key.strip()
        if key in secret_keys:
            secrets.register_secret(value)
            raise CannotStart(
                f"{key} is a secret: never put it on the command line (it shows in the process list). "
                "Give it in --answers FILE, or leave it out to have one generated."
            )
        given[key] = value
    return given


def read_answers_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CannotStart(f"cannot read --answers {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CannotStart(f"--answers {path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise CannotStart(f'--answers {path} must hold an object: {{"KEY": value}} or {{"ACCOUNT": {{...}}}}')
    return document


def answers_for(
    account: str, accounts: Sequence[str], document: Mapping[str, Any], sets: Mapping[str, str]
) -> dict[str, Any]:
    """File answers for every account, overlaid by that account's own block, overlaid by --set."""
    answers = {k: v for k, v in document.items() if not (k in accounts and isinstance(v, dict))}
    own = document.get(account)
    if isinstance(own, dict):
        answers.update(own)
    answers.update(sets)
    for key, value in answers.items():
        if isinstance(value, str) and "passphrase" in key.lower():
            secrets.register_secret(value)
    return answers


# -- opening the workspace ---------------------------------------------------------------------------------


def open_workspace(sandbox: bool, workspace_arg: str | None, err: TextIO) -> tuple[Workspace, WorkspaceState]:
    from refarch_tui.workspaces import resolve

    if sandbox and workspace_arg:
        raise CannotStart("--sandbox and --workspace exclude each other")
    if sandbox:
        from refarch_tui import sandbox as sandbox_module

        try:
            return sandbox_module.open_sandbox()  # created when absent; never deletes anything
        except StateError as exc:
            raise CannotStart(str(exc)) from None
    workspace = resolve(workspace_arg)
    if workspace is None:
        raise CannotStart(
            "no workspace yet: run `refarch-tui`, `refarch-tui init LIVE_DIR` or pass --sandbox"
        )
    try:
        return workspace, workspace.load()
    except StateError as exc:
        raise CannotStart(str(exc)) from None


def connect(workspace: Workspace, state: WorkspaceState, accounts: Sequence[str], err: TextIO) -> Opened:
    """AWS access with every account's identity checked (printed on stderr); the blocked ones noted."""
    from refarch_tui.aws.access import for_workspace
    from refarch_tui.aws.auth import SETTINGS_KEY
    from refarch_tui.aws.errors import AwsAccessError
    from refarch_tui.run_access import _line_mfa_prompt

    if not state.mode.value == "sandbox" and SETTINGS_KEY not in state.settings:
        raise CannotStart(
            "AWS access is not set up for this workspace: open `refarch-tui`, press i, choose how to "
            "authenticate, then run again. Nothing was run."
        )
    try:
        if state.mode.value == "sandbox":
            from refarch_tui.aws import emulator

            emulator.ensure_running(workspace.directory)
        access = for_workspace(workspace, state, mfa_prompt=_line_mfa_prompt)
        results = access.check_all()
    except (AwsAccessError, StateError, OSError) as exc:
        raise CannotStart(str(exc)) from None
    except Exception as exc:  # emulator errors and the like: say it, never a traceback on stdout
        raise CannotStart(str(exc)) from None
    opened = Opened(workspace, state, access)
    for name, result in results.items():
        if name in accounts:
            print(f"identity {name}: {result.summary if result.ok else result.explanation}", file=err)
            if not result.ok:
                opened.blocked[name] = result.explanation
    return opened


def _select(state: WorkspaceState, wanted: Sequence[str] | None, applies: Any) -> list[str]:
    unknown = sorted(set(wanted or []) - set(state.account_names))
    if unknown:
        raise CannotStart(
            f"no such account in the workspace: {', '.join(unknown)} "
            f"(accounts: {', '.join(state.account_names)})"
        )
    if wanted:
        return checklist.order_accounts(wanted)
    return [a for a in state.account_names if applies(a)]


# -- step ------------------------------------------------------------------------------------------------


@dataclass
class StepArgs:
    step: str | None
    sandbox: bool = False
    workspace: str | None = None
    accounts: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    answers_file: Path | None = None
    apply_edits: bool = False
    json: bool = False
    help: bool = False


def _acceptor(args: StepArgs, err: TextIO, account: str) -> Any:
    def accept(edits: list[PlannedEdit]) -> list[PlannedEdit]:
        files = len({e.file for e in edits})
        print(f"{account}: {len(edits)} proposed edit(s) in {files} file(s):", file=err)
        for edit in edits:
            print(secrets.redact(edit.diff), file=err, end="" if edit.diff.endswith("\n") else "\n")
        if args.apply_edits:
            return edits
        if sys.stdin.isatty():
            print(f"Apply these edits to the live repo for {account}? [y/N] ", file=err, end="", flush=True)
            if input().strip().lower() in ("y", "yes"):
                return edits
        print(
            f"{account}: edits not applied (pass --apply-edits to write them); the step stays pending.",
            file=err,
        )
        return []

    return accept


def _warn_about(account: str, err: TextIO) -> Callable[[StepPlan], None]:
    def warn(plan: StepPlan) -> None:
        for warning in plan.warnings:
            print(f"{account}: WARNING: {secrets.redact(warning)}", file=err)

    return warn


def _not_applicable(account: str, reason: str) -> dict[str, Any]:
    return {
        "account": account,
        "status": Status.NOT_APPLICABLE.value,
        "facts": {},
        "evidence": {},
        "edits": [],
        "run_env": [],
        "message": f"not applicable: {reason}",
        "warnings": [],
    }


def step_main(args: StepArgs, out: TextIO, err: TextIO) -> int:
    if args.help:
        out.write(step_help(args.step))
        return 0
    document: dict[str, Any] = {"step": args.step, "results": []}
    try:
        return _run_step(args, document, out, err)
    except CannotStart as exc:
        message = secrets.redact(str(exc))
        print(f"refarch-tui step: {message}", file=err)
        if args.json:
            print(json.dumps({**document, "error": message}, indent=2), file=out)
        return 2


def _run_step(args: StepArgs, document: dict[str, Any], out: TextIO, err: TextIO) -> int:
    from refarch_tui.steps import runner, services

    step_id = args.step
    if step_id is None:
        raise CannotStart("which step? " + step_help(None).splitlines()[-2])
    if step_id == registry.RUNNER_STEP:
        raise CannotStart("terragrunt is run by `refarch-tui apply --no-tui`, not by `step`")
    if step_id not in checklist.STEP_IDS:
        known = ", ".join(s for s in checklist.STEP_IDS if s != registry.RUNNER_STEP)
        raise CannotStart(f"unknown step {step_id!r}; steps: {known}")
    if not registry.is_built(step_id):
        raise CannotStart(f"step {step_id} is not built yet: do it by hand, following the seed document")
    module = registry.module(step_id)
    sets = parse_sets(args.sets, module.ANSWERS)
    file_answers = read_answers_file(args.answers_file)
    workspace, state = open_workspace(args.sandbox, args.workspace, err)
    accounts = _select(state, args.accounts, lambda a: state.applies(step_id, a))
    per_account = {a: answers_for(a, state.account_names, file_answers, sets) for a in accounts}
    for account, answers in per_account.items():
        try:
            resolve_answers(module.ANSWERS, answers)
        except (StepError, ValueError) as exc:
            raise CannotStart(f"{account}: {exc}") from None
    try:
        workspace.acquire()
    except WorkspaceLocked as exc:
        raise CannotStart(str(exc)) from None
    try:
        active = [a for a in accounts if state.applies(step_id, a)]
        opened = connect(workspace, state, active, err)
        if opened.blocked:
            reasons = "; ".join(f"{a}: {why}" for a, why in opened.blocked.items())
            raise CannotStart(f"identity not confirmed, nothing was run — {reasons}")
        results: list[dict[str, Any]] = []
        document["results"] = results
        for account in accounts:

            def progress(line: str, account: str = account) -> None:
                print(f"{account}: {secrets.redact(line)}", file=err)

            if not state.applies(step_id, account):
                reason = state.not_applicable_reason(step_id, account)
                results.append(_not_applicable(account, reason))
                print(f"{account}: n/a — {reason}", file=err)
                continue
            try:
                ctx = services.context_for(workspace, state, opened.access, account, progress=progress)
                accept = _acceptor(args, err, account)
                outcome = runner.run_step(
                    ctx, step_id, per_account[account], accept=accept, on_plan=_warn_about(account, err)
                )
            except StepRefused as exc:
                raise CannotStart(f"{account}: {exc}") from None
            except Exception as exc:
                from refarch_tui.aws.errors import AwsAccessError

                if isinstance(exc, AwsAccessError):
                    raise CannotStart(f"{account}: {exc}") from None
                raise
            results.append(outcome.to_json())
            print(f"{account}: {outcome.status.value} — {secrets.redact(outcome.message)}", file=err)
    finally:
        workspace.release()
    if args.json:
        print(json.dumps(document, indent=2, default=str), file=out)
    else:
        for entry in results:
            print(f"{entry['account']:<16} {entry['status']:<8} {entry['message']}", file=out)
            for key, value in entry["facts"].items():
                print(f"  {key} = {json.dumps(value, default=str)}", file=out)
    ok = all(entry["status"] in (Status.DONE.value, Status.NOT_APPLICABLE.value) for entry in results)
    return 0 if ok else 1


# -- verify ----------------------------------------------------------------------------------------------


def verify_main(
    *,
    sandbox: bool,
    workspace_arg: str | None,
    accounts: Sequence[str] | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    try:
        return _verify(sandbox, workspace_arg, accounts, as_json, out, err)
    except CannotStart as exc:
        message = secrets.redact(str(exc))
        print(f"refarch-tui verify: {message}", file=err)
        if as_json:
            print(json.dumps({"checked": [], "error": message}, indent=2), file=out)
        return 2


def _verify(
    sandbox: bool,
    workspace_arg: str | None,
    wanted: Sequence[str] | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    from refarch_tui.steps import resume, services

    workspace, state = open_workspace(sandbox, workspace_arg, err)
    accounts = _select(state, wanted, lambda _a: True)
    try:
        workspace.acquire()
    except WorkspaceLocked as exc:
        raise CannotStart(str(exc)) from None
    try:
        cells = resume.cells_to_verify(state, accounts)
        involved = sorted({account for _step, account in cells})
        checked: list[resume.Checked] = []
        if cells:
            opened = connect(workspace, state, involved, err)
            if opened.blocked:
                reasons = "; ".join(f"{a}: {why}" for a, why in opened.blocked.items())
                raise CannotStart(f"identity not confirmed, nothing was checked — {reasons}")

            def context_for(account: str) -> Any:
                return services.context_for(workspace, state, opened.access, account)

            def report(entry: resume.Checked) -> None:
                why = f" — {entry.reason}" if entry.reason else ""
                print(f"{entry.step} {entry.account}: {entry.status.value}{why}", file=err)

            checked = resume.verify_workspace(
                workspace, state, context_for, accounts=accounts, on_checked=report
            )
    finally:
        workspace.release()
    if as_json:
        print(json.dumps({"checked": [entry.to_json() for entry in checked]}, indent=2), file=out)
    else:
        if not checked:
            print("nothing to verify: no step is done yet", file=out)
        for entry in checked:
            why = f"  {entry.reason}" if entry.reason else ""
            print(f"{entry.step:<14} {entry.account:<16} {entry.status.value}{why}", file=out)
    holds = all(entry.status is Status.DONE and entry.checked for entry in checked)
    return 0 if holds else 1
