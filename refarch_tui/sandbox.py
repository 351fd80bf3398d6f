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
from refarch_tui.state import LOCK_FILE, Mode, StateError, Workspace, WorkspaceState, remember_last

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


PARTIAL_PREFIX = ".partial-"  # a copy in progress; renamed into place only once complete


def _copy_assets(directory: Path) -> list[str]:
    """Copy the bundled sample into the folders that are missing; returns the names copied. Each copy is
    made under a temporary name and renamed into place, so a folder that exists is always complete (a
    copy killed half-way leaves only a temporary folder, never a partial live/)."""
    copied: list[str] = []
    for name, source in ((LIVE_DIR, paths.sample_live_repo()), (MODULES_DIR, paths.sample_modules_repo())):
        target = directory / name
        if target.exists() or target.is_symlink():
            continue
        if not source.is_dir():
            raise SandboxError(
                f"The bundled sample repo is missing ({source}). Reinstall refarch-tui, "
                "or point REFARCH_TUI_ASSETS at a folder holding sample-live/ and sample-modules/."
            )
        partial = directory / f"{PARTIAL_PREFIX}{name}-{os.getpid()}"
        try:
            shutil.copytree(source, partial, ignore=_COPY_IGNORE, symlinks=True)
            _make_writable(partial)
            os.rename(partial, target)
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise SandboxError(
                f"Cannot copy {source} to {target}: {exc}. Check free space and permissions."
            ) from None
        copied.append(name)
    return copied


def _remove_partial_copies(directory: Path) -> None:
    """Temporary copies of a start killed mid-copy: ours, never the operator's; only the lock holder
    removes them."""
    for leftover in directory.glob(f"{PARTIAL_PREFIX}*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


RESET_WORD = "sandbox"  # the typed confirmation of a reset (there is no way around typing it)


def reset_warning(directory: Path) -> str:
    """What a reset deletes, said before the confirmation is asked for (CLI and plain mode alike)."""
    return (
        f"A reset deletes {directory}: the sandbox workspace with its progress, journal, run logs and its "
        "copy of the sample repo, and stops its AWS emulator. Nothing outside that folder is touched."
    )


def _check_resettable(directory: Path, workspace: Workspace) -> None:
    if not is_sandbox_workspace(directory) or directory.name != "sandbox":
        raise SandboxError(f"Refusing to delete {directory}: it is not the sandbox workspace.")
    if workspace.exists():
        try:
            mode = workspace.load().mode
        except StateError:
            mode = Mode.SANDBOX  # an unreadable sandbox state is exactly what a reset is for
        if mode is not Mode.SANDBOX:
            raise SandboxError(
                f"Refusing to delete {directory}: its state says it is not a sandbox workspace."
            )


def _empty_under_lock(directory: Path) -> None:
    """Everything of the sandbox but the lock file we hold (removed by `release`)."""
    emulator.stop(directory)
    for entry in directory.iterdir():
        if entry.name == LOCK_FILE:
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise SandboxError(
                f"Cannot delete {entry} of the sandbox workspace: {exc}. Delete {directory} by hand."
            ) from None


def _adopt_or_create(directory: Path, workspace: Workspace) -> WorkspaceState:
    """No state.json: a live/ or modules/ already there is the operator's copy (a start that was killed
    before saving its state, or state.json deleted by hand) and is kept as it is — only what is missing
    is copied. Nothing is deleted here; `sandbox --reset` (typed confirmation) is the way to start over."""
    from refarch_tui.accounts import discover_accounts

    kept = [name for name in (LIVE_DIR, MODULES_DIR) if (directory / name).exists()]
    _copy_assets(directory)
    live = directory / LIVE_DIR
    discovery = discover_accounts(live)
    if discovery.problems or not discovery.accounts:
        problems = "; ".join(discovery.problems) or "no accounts found"
        if LIVE_DIR in kept:
            raise SandboxError(
                f"{live} exists but the sandbox has no state.json, and the copy cannot be adopted: "
                f"{problems}. It was left as it is. Fix it, or move it away, or run "
                "`refarch-tui sandbox --reset` to replace it with a fresh copy of the sample."
            )
        raise SandboxError(f"The bundled sample repo has problems: {problems}. Reinstall refarch-tui.")
    state = WorkspaceState(
        live_dir=str(live.resolve()),
        mode=Mode.SANDBOX,
        accounts=discovery.accounts,
        regions=discovery.regions,
    )
    state.settings["modules_dir"] = str((directory / MODULES_DIR).resolve())
    workspace.save(state)
    if kept:
        workspace.journal(
            "sandbox.adopt",
            outcome="done",
            detail=f"kept the existing {' and '.join(kept)} (no state.json was found)",
        )
    workspace.journal(
        "sandbox.create",
        outcome="done",
        detail=f"live={state.live_dir} accounts={','.join(a.name for a in state.accounts)}",
    )
    return state


def _load_sandbox_state(directory: Path, workspace: Workspace) -> WorkspaceState:
    state = workspace.load()
    if state.mode is not Mode.SANDBOX:
        raise SandboxError(
            f"{directory} holds a workspace that is not a sandbox. "
            "Move it away, then run `refarch-tui sandbox`."
        )
    return state


def _needs_change(directory: Path, workspace: Workspace) -> bool:
    if not workspace.exists():
        return True
    return not (directory / LIVE_DIR).is_dir() or not (directory / MODULES_DIR).is_dir()


def open_sandbox(*, reset: bool = False, start_emulator: bool = True) -> tuple[Workspace, WorkspaceState]:
    """The sandbox workspace, created from the bundled sample on first use; its emulator is started
    (or reused) in the background but NOT waited for: call `emulator.wait_ready(workspace.directory)`
    in a worker before the first AWS call. `reset=True` throws the old sandbox away first.
    `start_emulator=False` leaves starting it to the caller (the TUI does it after its first paint).

    Every change (reset, creation, a missing copy restored) happens under the workspace lock, so two
    first starts never work on the same folders; a sandbox that needs no change is opened without it."""
    directory = workspace_dir()
    workspace = Workspace(directory)
    if reset:
        _check_resettable(directory, workspace)
    if reset or _needs_change(directory, workspace):
        with workspace.locked():
            _remove_partial_copies(directory)
            if reset:
                _empty_under_lock(directory)
            if workspace.exists():
                state = _load_sandbox_state(directory, workspace)
                restored = _copy_assets(directory)
                if restored:
                    workspace.journal(
                        "sandbox.recopy",
                        outcome="done",
                        detail=f"sample {' and '.join(restored)} copied again (missing)",
                    )
            else:
                state = _adopt_or_create(directory, workspace)
    else:
        state = _load_sandbox_state(directory, workspace)
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
