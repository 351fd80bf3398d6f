"""The sandbox: a private workspace with a copy of the bundled sample live repo and a local AWS emulator.

Nothing in the sandbox can reach real AWS: its workspace is in mode SANDBOX, AWS calls go to the emulator
on 127.0.0.1 with fake credentials (`emulator_env`), and the operator's AWS settings are not passed on.

    <data dir>/workspaces/sandbox/
        state.json, journal.jsonl, state.lock   the workspace (see state.py)
        live/                                    writable copy of assets/sample-live
        modules/                                 writable copy of assets/sample-modules (Packer, build.sh)
        emulator.json                            the running emulator: endpoint, PID, accounts
        logs/emulator.log                        the emulator's output
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from refarch_tui import paths
from refarch_tui.aws import emulator
from refarch_tui.state import Mode, StateError, Workspace, WorkspaceLocked, WorkspaceState, remember_last

LIVE_DIR = "live"
MODULES_DIR = "modules"
_COPY_IGNORE = shutil.ignore_patterns(".terragrunt-cache", "__pycache__", "*.pyc", "build")


class SandboxError(StateError):
    """The sandbox could not be opened, reset or reached; the message says what to do."""


def workspace_dir() -> Path:
    return paths.sandbox_workspace_dir()


def is_sandbox_workspace(directory: Path) -> bool:
    return Path(directory).expanduser().resolve() == workspace_dir().expanduser().resolve()


def _make_writable(root: Path) -> None:
    """Bundled assets may be read-only (an installed package); the sandbox copy must be editable."""
    for base, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(base) / name
            with contextlib.suppress(OSError):
                mode = path.lstat().st_mode
                if not stat.S_ISLNK(mode):
                    path.chmod(stat.S_IMODE(mode) | stat.S_IWUSR | stat.S_IRUSR)
    root.chmod(stat.S_IMODE(root.stat().st_mode) | stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)


def _copy_assets(directory: Path) -> None:
    for name, source in ((LIVE_DIR, paths.sample_live_repo()), (MODULES_DIR, paths.sample_modules_repo())):
        target = directory / name
        if target.exists():
            continue
        if not source.is_dir():
            raise SandboxError(
                f"The bundled sample repo is missing ({source}). Reinstall refarch-tui, "
                "or point REFARCH_TUI_ASSETS at a folder holding sample-live/ and sample-modules/."
            )
        try:
            shutil.copytree(source, target, ignore=_COPY_IGNORE, symlinks=True)
        except OSError as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise SandboxError(
                f"Cannot copy {source} to {target}: {exc}. Check free space and permissions."
            ) from None
        _make_writable(target)


def _refuse_if_open_elsewhere(workspace: Workspace) -> None:
    holder = workspace.lock_holder()
    if holder is None or holder in (-1, os.getpid()):
        return
    try:
        os.kill(holder, 0)
    except ProcessLookupError:
        return
    except PermissionError:
        pass
    raise WorkspaceLocked(workspace.directory, holder)


def _reset(directory: Path) -> None:
    if not is_sandbox_workspace(directory) or directory.name != "sandbox":
        raise SandboxError(f"Refusing to delete {directory}: it is not the sandbox workspace.")
    workspace = Workspace(directory)
    if workspace.exists():
        try:
            mode = workspace.load().mode
        except StateError:
            mode = Mode.SANDBOX  # an unreadable sandbox state is exactly what a reset is for
        if mode is not Mode.SANDBOX:
            raise SandboxError(
                f"Refusing to delete {directory}: its state says it is not a sandbox workspace."
            )
    _refuse_if_open_elsewhere(workspace)
    emulator.stop(directory)
    try:
        shutil.rmtree(directory)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SandboxError(
            f"Cannot delete the sandbox workspace {directory}: {exc}. Delete it by hand."
        ) from None


def open_sandbox(*, reset: bool = False, start_emulator: bool = True) -> tuple[Workspace, WorkspaceState]:
    """The sandbox workspace, created from the bundled sample on first use; its emulator is started
    (or reused) in the background but NOT waited for: call `emulator.wait_ready(workspace.directory)`
    in a worker before the first AWS call. `reset=True` throws the old sandbox away first.
    `start_emulator=False` leaves starting it to the caller (the TUI does it after its first paint)."""
    directory = workspace_dir()
    if reset:
        _reset(directory)
    workspace = Workspace(directory)
    if workspace.exists():
        state = workspace.load()
        if state.mode is not Mode.SANDBOX:
            raise SandboxError(
                f"{directory} holds a workspace that is not a sandbox. "
                "Move it away, then run `refarch-tui sandbox`."
            )
        if not (directory / LIVE_DIR).is_dir() or not (directory / MODULES_DIR).is_dir():
            _copy_assets(directory)
            workspace.journal(
                "sandbox.recopy", outcome="done", detail="sample repo copied again (it was missing)"
            )
    else:
        for name in (LIVE_DIR, MODULES_DIR):  # left over from a creation that did not finish
            shutil.rmtree(directory / name, ignore_errors=True)
        _copy_assets(directory)
        from refarch_tui.accounts import discover_accounts

        live = directory / LIVE_DIR
        discovery = discover_accounts(live)
        if discovery.problems or not discovery.accounts:
            raise SandboxError(
                "The bundled sample repo has problems: "
                + "; ".join(discovery.problems)
                + ". Reinstall refarch-tui."
            )
        state = WorkspaceState(
            live_dir=str(live.resolve()),
            mode=Mode.SANDBOX,
            accounts=discovery.accounts,
            regions=discovery.regions,
        )
        state.settings["modules_dir"] = str((directory / MODULES_DIR).resolve())
        workspace.save(state)
        workspace.journal(
            "sandbox.create",
            outcome="done",
            detail=f"live={state.live_dir} accounts={','.join(a.name for a in state.accounts)}",
        )
    remember_last(directory)
    if not start_emulator:
        return workspace, state
    previous = emulator.read_record(directory)
    try:
        info = emulator.ensure_running(directory)
    except emulator.EmulatorError as exc:
        raise SandboxError(str(exc)) from None
    reused = previous is not None and previous.pid == info.pid
    workspace.journal(
        "sandbox.emulator",
        outcome="reused" if reused else "started",
        detail=f"pid={info.pid} endpoint={info.endpoint} log={info.log_path}",
    )
    return workspace, state


def stop_sandbox() -> str:
    """Stop the sandbox's emulator; the workspace and its progress are kept. Returns a message."""
    directory = workspace_dir()
    info = emulator.read_record(directory)
    stopped = emulator.stop(directory)
    if not stopped:
        return "The sandbox AWS emulator is not running."
    workspace = Workspace(directory)
    if workspace.exists():
        workspace.journal("sandbox.emulator", outcome="stopped", detail=f"pid={info.pid if info else '?'}")
    pid = f" (PID {info.pid})" if info else ""
    return (
        f"Stopped the sandbox AWS emulator{pid}. The sandbox workspace is kept at {directory}; "
        "`refarch-tui sandbox` starts the emulator again."
    )


def emulator_env(workspace_dir: Path) -> dict[str, str]:
    """Environment for child processes (packer, terragrunt, build scripts) in sandbox mode.

    Start from an environment without the operator's AWS_* variables and add these: they point every AWS
    SDK at the emulator with fake credentials and keep shared config, profiles and instance metadata out."""
    info = emulator.read_record(workspace_dir)
    if info is None:
        raise SandboxError(
            f"The sandbox AWS emulator is not running for {workspace_dir}. "
            "Run `refarch-tui sandbox` to start it."
        )
    return {
        "AWS_ENDPOINT_URL": info.endpoint,
        "AWS_ACCESS_KEY_ID": info.access_key_id,
        "AWS_SECRET_ACCESS_KEY": info.secret_access_key,
        "AWS_DEFAULT_REGION": info.region,
        "AWS_REGION": info.region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
