"""Command line: `refarch-tui [sandbox|init|status|doctor|graph|apply|step|verify|export] ...`; no subcommand
opens the TUI."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from refarch_tui import __version__, logsetup, oserrors, secrets
from refarch_tui.state import StateError, Workspace, WorkspaceLocked, WorkspaceState

log = logging.getLogger("refarch_tui.cli")


def workspace_path(text: str) -> str:
    """`--workspace ''` is a mistake (an unset variable, say), never a request for the last workspace."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the workspace directory is empty; pass a directory, or leave --workspace out"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refarch-tui",
        description="Deploy (and rehearse tearing down) a multi-account AWS Reference Architecture.",
    )
    parser.add_argument("--version", action="version", version=f"refarch-tui {__version__}")
    parser.add_argument("--debug", action="store_true", help="verbose log file")
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        type=workspace_path,
        help="workspace directory (default: the one opened last)",
    )
    parser.add_argument(
        "--allow-plaintext-keyring",
        action="store_true",
        help="accept a keyring backend that stores secrets in plain text (not recommended)",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--workspace",
        metavar="DIR",
        type=workspace_path,
        default=argparse.SUPPRESS,
        help="workspace directory",
    )
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="verbose log file")
    common.add_argument(
        "--allow-plaintext-keyring",
        action="store_true",
        default=argparse.SUPPRESS,
        help="accept a keyring backend that stores secrets in plain text (not recommended)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = sub.add_parser(
        "sandbox", parents=[common], help="open the sandbox: local AWS emulator + sample repo"
    )
    group = sandbox.add_mutually_exclusive_group()
    group.add_argument("--stop", action="store_true", help="stop the sandbox's AWS emulator")
    group.add_argument("--reset", action="store_true", help="throw the sandbox away and start over")
    sandbox.add_argument(
        "--confirm",
        metavar="NAME",
        help="with --reset and no terminal to type into: the typed confirmation (the word `sandbox`)",
    )

    init = sub.add_parser(
        "init", parents=[common], help="create a workspace for an infrastructure-live directory"
    )
    init.add_argument("live_dir", metavar="LIVE_DIR", type=Path)
    init.add_argument(
        "--region", action="append", metavar="REGION", help="regions to deploy (default: all found)"
    )
    init.add_argument("--json", action="store_true", help="machine-readable output")

    status = sub.add_parser("status", parents=[common], help="print the checklist status")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    doctor = sub.add_parser("doctor", parents=[common], help="check tools, versions and the keyring")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")

    graph = sub.add_parser("graph", parents=[common], help="dependency waves of an infrastructure-live repo")
    graph.add_argument("live_dir", metavar="LIVE_DIR", type=Path)
    graph.add_argument("--json", action="store_true", help="machine-readable output")
    graph.add_argument("--destroy", action="store_true", help="destroy order")

    apply = sub.add_parser("apply", parents=[common], help="run terragrunt across accounts")
    apply.add_argument("--no-tui", action="store_true", help="line mode, for CI and SSH")
    apply.add_argument("--sandbox", action="store_true", help="use the sandbox workspace")
    apply.add_argument("--account", action="append", metavar="NAME", help="only this account (repeatable)")
    apply.add_argument("--report", type=Path, metavar="FILE", help="write the JSON run report here")

    add_teardown_parser(sub, common)

    step = sub.add_parser(
        "step",
        parents=[common],
        add_help=False,
        help="run one checklist step in line mode (`step STEP --help` lists its answers)",
    )
    step.add_argument("step", nargs="?", metavar="STEP")
    step.add_argument("-h", "--help", action="store_true", dest="step_help")
    step.add_argument("--sandbox", action="store_true")
    step.add_argument("--account", action="append", metavar="NAME")
    step.add_argument("--set", action="append", metavar="KEY=VALUE", dest="sets")
    step.add_argument("--answers", type=Path, metavar="FILE")
    step.add_argument("--apply-edits", action="store_true")
    step.add_argument("--json", action="store_true")

    verify = sub.add_parser(
        "verify", parents=[common], help="re-check what done steps recorded; mark what no longer holds stale"
    )
    verify.add_argument("--sandbox", action="store_true", help="use the sandbox workspace")
    verify.add_argument("--account", action="append", metavar="NAME", help="only this account (repeatable)")
    verify.add_argument("--json", action="store_true", help="machine-readable output")

    plain = sub.add_parser(
        "plain", parents=[common], help="the checklist with plain prompts (SSH links, screen readers)"
    )
    plain.add_argument("--sandbox", action="store_true", help="use the sandbox workspace")

    export = sub.add_parser(
        "export", parents=[common], help="a redacted transcript of the bootstrap (Markdown or JSON)"
    )
    export.add_argument("--sandbox", action="store_true", help="use the sandbox workspace")
    export.add_argument("--format", choices=("markdown", "json"), default="markdown", help="output format")
    export.add_argument("--output", type=Path, metavar="FILE", help="write here instead of stdout")

    # no help= at all: argparse lists every subcommand given one, even help=SUPPRESS ("==SUPPRESS==")
    shot = sub.add_parser("screenshot", parents=[common])
    shot.add_argument("--output", type=Path, required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # one place: whatever this process does with the keyring honours the flag (before or after the command)
    secrets.allow_plaintext_keyring(bool(getattr(args, "allow_plaintext_keyring", False)))
    workspace = getattr(args, "workspace", None)
    near = Path(workspace) if workspace else None
    try:
        log_path = logsetup.configure(debug=bool(getattr(args, "debug", False)))
    except OSError as exc:
        print(f"refarch-tui: cannot open the log file: {oserrors.explain(exc)}", file=sys.stderr)
        return oserrors.EXIT_FILE_PROBLEM
    try:
        return dispatch(args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `refarch-tui graph ... | head`: the reader left, which is not an error
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except EOFError:  # Ctrl-D where a typed answer was expected: nothing more is done
        print("\nrefarch-tui: end of input (Ctrl-D) where an answer was expected; nothing more was done.",
              file=sys.stderr)  # fmt: skip
        return 1
    except OSError as exc:
        if not oserrors.is_ordinary(exc):
            log.exception("unexpected error")
            print(f"refarch-tui: unexpected error: {exc}\nDetails are in {log_path}", file=sys.stderr)
            return 70
        # full or read-only disks, permissions, a folder where a file belongs: the operator's to fix
        log.warning("file problem: %s", exc, exc_info=True)
        print(f"refarch-tui: {oserrors.explain(exc, near=near)}", file=sys.stderr)
        return oserrors.EXIT_FILE_PROBLEM
    except Exception as exc:  # the operator gets a sentence and the log's path, the log gets the traceback
        log.exception("unexpected error")
        print(f"refarch-tui: unexpected error: {exc}\nDetails are in {log_path}", file=sys.stderr)
        return 70


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    command = args.command
    if command is None:
        return open_tui(args.workspace, err)
    if command == "sandbox":
        return sandbox_command(args, out, err)
    if command == "init":
        return init_command(args, out, err)
    if command == "status":
        return status_command(args, out, err)
    if command == "doctor":
        return doctor_command(args, out)
    if command == "graph":
        from refarch_tui.live import graph_cli

        return graph_cli.main(args.live_dir, as_json=args.json, destroy=args.destroy, stdout=out, stderr=err)
    if command == "apply":
        return apply_command(args, out, err)
    if command == "teardown":
        return teardown_command(args, out, err)
    if command == "export":
        return export_command(args, out, err)
    if command == "step":
        return step_command(args, out, err)
    if command == "verify":
        from refarch_tui.steps import line_mode as steps_line_mode

        return steps_line_mode.verify_main(
            sandbox=args.sandbox,
            workspace_arg=getattr(args, "workspace", None),
            accounts=args.account,
            as_json=args.json,
            out=out,
            err=err,
        )
    if command == "plain":
        from refarch_tui import plain

        return plain.main(
            sandbox=args.sandbox,
            workspace_arg=getattr(args, "workspace", None),
            allow_plaintext_keyring=bool(args.allow_plaintext_keyring),
            out=out,
            err=err,
        )
    if command == "screenshot":
        return screenshot_command(args.output, err)
    raise AssertionError(command)


def _load(workspace: Workspace, err: TextIO) -> WorkspaceState | None:
    try:
        return workspace.load()
    except StateError as exc:
        print(f"refarch-tui: {exc}", file=err)
        return None


def _open_for_command(
    args: argparse.Namespace, err: TextIO, *, start_emulator: bool
) -> tuple[Workspace, WorkspaceState] | None:
    """The sandbox (--sandbox) or the resolved workspace with its state; None once the reason is printed."""
    from refarch_tui import sandbox
    from refarch_tui.workspaces import resolve

    if args.sandbox:
        try:
            return sandbox.open_sandbox(start_emulator=start_emulator)
        except StateError as exc:
            print(f"refarch-tui: {exc}", file=err)
            return None
    resolved = resolve(getattr(args, "workspace", None))
    if resolved is None:
        print("refarch-tui: no workspace yet: run `refarch-tui` or pass --sandbox", file=err)
        return None
    loaded = _load(resolved, err)
    return None if loaded is None else (resolved, loaded)


def open_tui(workspace_arg: str | None, err: TextIO) -> int:
    from refarch_tui.workspaces import resolve

    workspace = resolve(workspace_arg)
    state: WorkspaceState | None = None
    problem: str | None = None
    if workspace is not None and workspace.exists():
        try:
            state = workspace.load()
        except StateError as exc:
            problem = str(exc)
    elif workspace_arg:
        print(
            f"refarch-tui: {workspace_arg} is not a workspace yet; the welcome screen creates one.", file=err
        )
        workspace = None
    return run_app(workspace if state is not None else None, state, problem, err)


def _acquire(workspace: Workspace, err: TextIO) -> bool:
    """Take the workspace lock, or say which process holds it."""
    try:
        workspace.acquire()
    except WorkspaceLocked as exc:
        print(f"refarch-tui: {exc}", file=err)
        return False
    return True


LINE_MODE_COMMANDS = (
    "`refarch-tui status`, `refarch-tui apply --no-tui`, `refarch-tui init LIVE_DIR`, "
    "`refarch-tui graph LIVE_DIR` and `refarch-tui doctor` (see `refarch-tui --help`)"
)


def terminal_problem() -> str | None:
    """Why the TUI cannot run here (stdin or stdout is not a terminal), or None."""
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        try:
            interactive = stream is not None and stream.isatty()
        except (AttributeError, ValueError):  # closed or replaced streams
            interactive = False
        if not interactive:
            return (
                f"the TUI needs a terminal, and {name} is not one. Without a terminal, use the line-mode "
                f"commands: {LINE_MODE_COMMANDS}."
            )
    return None


def run_app(
    workspace: Workspace | None,
    state: WorkspaceState | None,
    problem: str | None,
    err: TextIO,
    *,
    start: str | None = None,
) -> int:
    if workspace is not None and not _acquire(workspace, err):
        return 1
    no_terminal = terminal_problem()
    if no_terminal is not None:
        # refuse rather than draw escape codes into a file or a pipe forever
        if workspace is not None:
            workspace.release()
        print(f"refarch-tui: {no_terminal}", file=err)
        return 2
    from refarch_tui.app import make_app

    try:
        make_app(workspace, state, problem=problem, log_file=logsetup.log_file(), start=start).run()
    finally:
        if workspace is not None:
            workspace.release()
    return 0


def sandbox_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from refarch_tui import sandbox

    if args.stop:
        print(sandbox.stop_sandbox(), file=out)
        return 0
    no_terminal = terminal_problem()
    if not args.reset and no_terminal is not None:
        print(f"refarch-tui: {no_terminal}", file=err)
        return 2
    if args.reset and not _confirm_reset(sandbox.workspace_dir(), args.confirm, out, err):
        return 1
    try:
        # the app starts (or reuses) the emulator itself once the home screen is drawn
        workspace, state = sandbox.open_sandbox(reset=args.reset, start_emulator=False)
    except StateError as exc:
        print(f"refarch-tui: {exc}", file=err)
        return 1
    if no_terminal is not None:  # `--reset --confirm sandbox` from a script: the reset was the job
        print(f"sandbox reset: {workspace.directory} (not opened: no terminal)", file=out)
        return 0
    return run_app(workspace, state, None, err)


def _confirm_reset(directory: Path, confirmation: str | None, out: TextIO, err: TextIO) -> bool:
    """Deleting the sandbox's progress needs the word `sandbox` typed (or given with --confirm)."""
    from refarch_tui.sandbox import RESET_WORD, reset_warning

    print(reset_warning(directory), file=out)
    if confirmation is None:
        if not sys.stdin.isatty():
            print("refarch-tui: not reset: pass --confirm sandbox to confirm without a terminal.", file=err)
            return False
        try:
            confirmation = input("Type `sandbox` to confirm: ").strip()
        except EOFError:  # Ctrl-D: the operator typed nothing, which is a "no"
            print("", file=out)
            print("refarch-tui: not reset: no confirmation was typed (end of input).", file=err)
            return False
    if confirmation != RESET_WORD:
        print("refarch-tui: not reset: the confirmation did not match `sandbox`.", file=err)
        return False
    return True


def _absolute(path: Path) -> str:
    try:
        return str(Path(path).expanduser().resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(Path(path).expanduser())


def init_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The welcome screen without the TUI: discover accounts, refuse on problems, create the workspace."""
    from refarch_tui.accounts import discover_accounts
    from refarch_tui.workspaces import create_workspace, workspace_dir_for

    discovery = discover_accounts(args.live_dir)
    document: dict[str, object] = {
        "live_dir": _absolute(discovery.live_dir),  # as the workspace stores it
        "accounts": [{"name": a.name, "id": a.id} for a in discovery.accounts],
        "regions": discovery.regions,
        "errors": discovery.problems,
    }
    regions = args.region or discovery.regions
    unknown = sorted(set(regions) - set(discovery.regions))
    if unknown and not discovery.problems:
        discovery.problems.append(f"regions not found in the repo: {', '.join(unknown)}")
    if discovery.problems or not discovery.accounts:
        if args.json:
            print(json.dumps(document, indent=2), file=out)
        for problem in discovery.problems:
            print(f"refarch-tui: {problem}", file=err)
        return 1
    directory = Path(args.workspace) if getattr(args, "workspace", None) else None
    existed = Workspace(directory or workspace_dir_for(discovery.live_dir)).exists()
    try:
        workspace, state = create_workspace(
            discovery.live_dir, discovery.accounts, regions, directory=directory
        )
        if existed and args.region and sorted(set(args.region)) != sorted(set(state.regions)):
            raise StateError(
                f"the existing workspace {workspace.directory} deploys {', '.join(state.regions)}; "
                f"--region {' --region '.join(args.region)} was not applied. Pass another --workspace "
                "directory for a different choice of regions."
            )
    except StateError as exc:
        document["errors"] = [*discovery.problems, str(exc)]
        if args.json:
            print(json.dumps(document, indent=2), file=out)
        print(f"refarch-tui: {exc}", file=err)
        return 1
    document["workspace"] = str(workspace.directory)
    if args.json:
        print(json.dumps(document, indent=2), file=out)
    elif existed:
        print(
            f"existing workspace {workspace.directory} for {discovery.live_dir} kept as it was "
            f"(its progress, accounts {', '.join(state.account_names)} "
            f"and regions {', '.join(state.regions)})",
            file=out,
        )
    else:
        print(f"workspace {workspace.directory} created for {discovery.live_dir}", file=out)
    return 0


def status_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from refarch_tui.status import status_document
    from refarch_tui.workspaces import resolve

    workspace = resolve(getattr(args, "workspace", None))
    if workspace is None:
        message = "no workspace yet: run `refarch-tui` or `refarch-tui sandbox` first"
        if args.json:
            print(json.dumps({"error": message}), file=out)
        print(f"refarch-tui: {message}", file=err)
        return 1
    try:
        state = workspace.load()
    except StateError as exc:
        if args.json:
            print(json.dumps({"workspace": str(workspace.directory), "error": str(exc)}), file=out)
        print(f"refarch-tui: {exc}", file=err)
        return 1
    document = status_document(workspace, state)
    if args.json:
        print(json.dumps(document, indent=2), file=out)
        return 0
    print(f"workspace {document['workspace']} ({document['mode']})", file=out)
    for row in document["steps"]:
        if row["status"] != "n/a":
            print(f"  {row['step']:<14} {row['account']:<16} {row['status']}", file=out)
    return 0


def doctor_command(args: argparse.Namespace, out: TextIO) -> int:
    """Exit 1 when a piece the workspace's mode needs is missing (no workspace: what real AWS needs)."""
    from refarch_tui import doctor
    from refarch_tui.aws.doctor import aws_report_for_workspace
    from refarch_tui.state import Mode, last_workspace

    workspace = getattr(args, "workspace", None)
    directory = Path(workspace) if workspace else last_workspace()
    mode = Mode.REAL
    if directory is not None:
        with contextlib.suppress(StateError):  # a corrupt workspace is reported in the aws section
            mode = Workspace(directory).load().mode
    document = doctor.report(
        allow_plaintext=bool(getattr(args, "allow_plaintext_keyring", False)), mode=mode.value
    )
    document["aws"] = aws_report_for_workspace(Path(workspace) if workspace else None)
    if args.json:
        print(json.dumps(document, indent=2), file=out)
    else:
        print(doctor.render_text(document), file=out)
    return 1 if document["missing_required"] else 0


def report_path_problem(path: Path) -> str | None:
    """Why the run report could not be written to `path`, checked before anything runs; None if it can."""
    import tempfile

    path = path.expanduser()
    if path.is_dir():
        return f"--report {path} is a directory; pass a file name, e.g. {path / 'report.json'}"
    if path.exists() and not path.is_file():
        return f"--report {path} is not a regular file; pass a file name for the JSON report"
    parent = path.parent
    if not parent.is_dir():
        return f"--report {path}: the folder {parent} does not exist; create it first or pick another path"
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        return f"--report {path}: cannot write in {parent} ({exc.strerror}); pick a writable path"
    return None


def apply_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.report is not None:
        # before anything starts: a run must never end in an unwritable report and lose its exit status
        problem = (
            "--report works with --no-tui only (the TUI shows the run itself)"
            if not args.no_tui
            else report_path_problem(args.report)
        )
        if problem is not None:
            print(f"refarch-tui apply: {problem}. Nothing was run.", file=err)
            return 2
    opened = _open_for_command(args, err, start_emulator=True)
    if opened is None:
        return 2
    workspace, state = opened
    unknown = sorted(set(args.account or []) - set(state.account_names))
    if unknown:
        print(f"refarch-tui: no such account in the workspace: {', '.join(unknown)}", file=err)
        return 2
    if not args.no_tui:
        return run_app(workspace, state, None, err, start="apply")
    if not _acquire(workspace, err):
        return 2
    try:
        from refarch_tui.aws.errors import AwsAccessError
        from refarch_tui.run import line_mode
        from refarch_tui.run_access import account_environments

        try:
            env_for_account = account_environments(workspace, state, args.account, out)
        except AwsAccessError as exc:
            print(f"refarch-tui apply: {exc}", file=err)
            return 2
        return line_mode.main(
            workspace=workspace,
            state=state,
            accounts=args.account,
            report=args.report,
            env_for_account=env_for_account,
            stdout=out,
        )
    finally:
        workspace.release()


def add_teardown_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    teardown = sub.add_parser(
        "teardown",
        parents=[common],
        help="plan, rehearse or run the guided teardown of one account",
        description="Without --plan or --rehearse this destroys the account's units, wave by wave, after "
        "the account's name is typed (or given with --confirm). Exit 0: every planned unit destroyed "
        "(or planned); 1: some were not; 2: it could not start (nothing ran).",
    )
    teardown.add_argument("--sandbox", action="store_true", help="use the sandbox workspace")
    teardown.add_argument("--account", required=True, metavar="NAME", help="the account to tear down")
    mode = teardown.add_mutually_exclusive_group()
    mode.add_argument(
        "--plan", action="store_true", help="print the destroy plan and its findings; runs nothing"
    )
    mode.add_argument(
        "--rehearse", action="store_true", help="`plan -destroy` every planned unit; destroys nothing"
    )
    teardown.add_argument(
        "--confirm",
        metavar="NAME",
        help="the typed confirmation: the account's name, exactly (no terminal needed)",
    )
    teardown.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    teardown.add_argument("--report", type=Path, metavar="FILE", help="write the JSON run report here")


def teardown_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    opened = _open_for_command(args, err, start_emulator=False)
    if opened is None:
        return 2
    workspace, state = opened
    if args.account not in state.account_names:
        print(
            f"refarch-tui: no account named {args.account} in the workspace; accounts: "
            f"{', '.join(state.account_names)}",
            file=err,
        )
        return 2
    if not _acquire(workspace, err):
        return 2
    try:
        from refarch_tui.aws.errors import AwsAccessError
        from refarch_tui.run import teardown_line
        from refarch_tui.run.env import EnvForAccount
        from refarch_tui.run_access import account_environments

        info = err if args.json else out

        def access() -> tuple[EnvForAccount | None, str]:
            identities: dict[str, str] = {}
            env = account_environments(workspace, state, [args.account], info, identities=identities)
            return env, identities.get(args.account, "")

        action: teardown_line.Action = "plan" if args.plan else "rehearse" if args.rehearse else "destroy"
        interactive = sys.stdin.isatty()
        try:
            return teardown_line.main(
                workspace=workspace,
                state=state,
                account=args.account,
                action=action,
                confirm=args.confirm,
                as_json=args.json,
                report=args.report,
                access=access,
                out=out,
                err=err,
                prompter=teardown_line.Prompter(ask=teardown_line.terminal_ask(err) if interactive else None),
            )
        except AwsAccessError as exc:
            print(f"refarch-tui teardown: {exc}", file=err)
            return 2
    finally:
        workspace.release()


def step_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from refarch_tui.steps import line_mode as steps_line_mode

    return steps_line_mode.step_main(
        steps_line_mode.StepArgs(
            step=args.step,
            sandbox=args.sandbox,
            workspace=getattr(args, "workspace", None),
            accounts=args.account or [],
            sets=args.sets or [],
            answers_file=args.answers,
            apply_edits=args.apply_edits,
            json=args.json,
            help=args.step_help,
        ),
        out,
        err,
    )


def export_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Read-only: never takes the lock, never starts an emulator, never writes into the workspace."""
    from refarch_tui import export, paths
    from refarch_tui.workspaces import resolve

    if args.sandbox:
        workspace: Workspace | None = Workspace(paths.sandbox_workspace_dir())
    else:
        workspace = resolve(getattr(args, "workspace", None))
    if workspace is None:
        print("refarch-tui: no workspace yet: run `refarch-tui` or pass --sandbox", file=err)
        return 2
    state = _load(workspace, err)
    if state is None:
        return 2
    allow_plaintext = bool(getattr(args, "allow_plaintext_keyring", False))
    text = export.render(workspace, state, args.format, allow_plaintext=allow_plaintext)
    if args.output is None:
        out.write(text)
        return 0
    try:
        from refarch_tui.atomic import atomic_write_text

        atomic_write_text(args.output, text, mode=0o600)
    except OSError as exc:
        print(f"refarch-tui: cannot write {args.output}: {exc.strerror}; nothing was written.", file=err)
        return 2
    print(f"transcript written to {args.output.resolve()}", file=err)
    return 0


def screenshot_command(output: Path, err: TextIO) -> int:
    """Writes an SVG of the home screen of a fresh sandbox-like workspace (for the README)."""
    import asyncio
    import tempfile

    from refarch_tui import accounts, paths
    from refarch_tui.app import make_app
    from refarch_tui.state import Mode
    from refarch_tui.workspaces import create_workspace

    discovery = accounts.discover_accounts(paths.sample_live_repo())
    with tempfile.TemporaryDirectory() as scratch:
        workspace, state = create_workspace(
            paths.sample_live_repo(),
            discovery.accounts,
            discovery.regions,
            mode=Mode.SANDBOX,
            directory=Path(scratch) / "ws",
        )
        app = make_app(workspace, state)

        async def capture() -> str:
            async with app.run_test(size=(140, 36)) as pilot:
                await pilot.pause()
                return app.export_screenshot(title="refarch-tui home (sandbox)")

        svg = asyncio.run(capture())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(svg, encoding="utf-8")
    print(f"wrote {output}", file=err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
