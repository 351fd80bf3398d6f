"""terragrunt as an external program: which CLI generation is installed, and the commands and env for it.

Two generations matter (facts from terragrunt's own source, see the README's apply section):

- 1.x (and 0.73+ with the redesigned CLI): `terragrunt run --all --non-interactive ... -- apply`,
  `--queue-include-dir`/`--queue-exclude-dir`, `--report-file`, `TG_*` environment variables.
- 0.x (the seed's era): `terragrunt run-all apply --terragrunt-non-interactive ...` (`apply-all` before 0.28),
  `--terragrunt-include-dir` (+ `--terragrunt-strict-include`), `TERRAGRUNT_*` environment variables.

For 0.73-0.99 the version number alone does not say which shape works, so `terragrunt run --help` is probed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

from refarch_tui.tools.probe_env import probe_env

Command = Literal["apply", "destroy", "plan"]

_VERSION = re.compile(r"terragrunt\s+version\s+v?(\d+)\.(\d+)\.(\d+)", re.IGNORECASE)
_LOOSE_VERSION = re.compile(r"\bv?(\d+)\.(\d+)\.(\d+)")

# first version with the redesigned CLI (`run --all`, TG_* env vars); before it, 0.x for sure
FIRST_REDESIGNED = (0, 73, 0)
# first version with `run-all` (before it only `apply-all`/`destroy-all`/`plan-all` existed)
FIRST_RUN_ALL = (0, 28, 0)
# the 1.x flag that leaves a non-runnable root config out of the queue
QUEUE_EXCLUDE_FLAG = "--queue-exclude-dir"


class Generation(StrEnum):
    V1 = "terragrunt-1"
    V0 = "terragrunt-0"


class TerragruntError(Exception):
    """terragrunt could not be used; the message says what to do."""


@dataclass(frozen=True)
class EnvNames:
    iam_role: str
    source_update: str
    non_interactive: str
    source: str


ENV_NAMES: dict[Generation, EnvNames] = {
    Generation.V1: EnvNames("TG_IAM_ASSUME_ROLE", "TG_SOURCE_UPDATE", "TG_NON_INTERACTIVE", "TG_SOURCE"),
    Generation.V0: EnvNames(
        "TERRAGRUNT_IAM_ROLE", "TERRAGRUNT_SOURCE_UPDATE", "TERRAGRUNT_NON_INTERACTIVE", "TERRAGRUNT_SOURCE"
    ),
}

# every spelling of "the role to assume" a caller might hand over; the runner renames it per generation
IAM_ROLE_KEYS = ("REFARCH_IAM_ROLE", "TG_IAM_ASSUME_ROLE", "TERRAGRUNT_IAM_ROLE")


@dataclass(frozen=True)
class TerragruntInfo:
    path: str
    version: tuple[int, int, int] | None
    generation: Generation
    has_report_file: bool = False  # --report-file (1.x)
    has_queue_flags: bool = False  # --queue-include-dir / --queue-exclude-dir (1.x)
    probe_note: str = ""

    @property
    def version_text(self) -> str:
        return "unknown version" if self.version is None else "v" + ".".join(map(str, self.version))

    @property
    def env(self) -> EnvNames:
        return ENV_NAMES[self.generation]

    def describe(self) -> str:
        shape = (
            "CLI 1.x shape (run --all, TG_* variables)"
            if self.generation is Generation.V1
            else "CLI 0.x shape (run-all/apply-all, --terragrunt-* flags, TERRAGRUNT_* variables)"
        )
        note = f"; {self.probe_note}" if self.probe_note else ""
        return f"terragrunt {self.version_text}, {shape}{note}"


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`terragrunt version v1.1.3` -> (1, 1, 3); also accepts a bare `v0.67.16` as a fallback."""
    match = _VERSION.search(text) or _LOOSE_VERSION.search(text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


@dataclass(frozen=True)
class ProbeResult:
    run_all_supported: bool
    report_file: bool
    queue_flags: bool


def probe_from_help(returncode: int, text: str) -> ProbeResult:
    """Reads `terragrunt run --help`: 0.x forwards `run` to tofu and fails; the redesign lists `--all`."""
    ok = returncode == 0 and "--all" in text
    return ProbeResult(
        run_all_supported=ok,
        report_file=ok and "--report-file" in text,
        queue_flags=ok and "--queue-include-dir" in text,
    )


def classify(
    path: str, version_output: str, probe: Callable[[], ProbeResult] | None = None
) -> TerragruntInfo:
    """The generation from `terragrunt --version` output, asking `probe` only where the version can't tell."""
    version = parse_version(version_output)
    if version is not None and version >= (1, 0, 0):
        return TerragruntInfo(path, version, Generation.V1, has_report_file=True, has_queue_flags=True)
    if version is not None and version < FIRST_REDESIGNED:
        return TerragruntInfo(path, version, Generation.V0)
    # 0.73-0.99, or an unreadable version: ask the CLI itself
    if probe is None:
        return TerragruntInfo(path, version, Generation.V0, probe_note="CLI shape not probed; assuming 0.x")
    result = probe()
    if result.run_all_supported:
        return TerragruntInfo(
            path,
            version,
            Generation.V1,
            has_report_file=result.report_file,
            has_queue_flags=result.queue_flags,
            probe_note="`terragrunt run --help` lists --all",
        )
    return TerragruntInfo(path, version, Generation.V0, probe_note="`terragrunt run --help` has no --all")


def _run(command: list[str], timeout: float = 20) -> tuple[int, str]:
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
            env=probe_env(),
        )
    except FileNotFoundError:
        raise TerragruntError(
            f"{command[0]} is not there any more; check PATH and run `refarch-tui doctor`."
        ) from None
    except OSError as exc:
        raise TerragruntError(f"cannot run {command[0]}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise TerragruntError(f"`{' '.join(command)}` did not answer within {timeout:.0f} s.") from None
    return completed.returncode, (completed.stdout or "") + (completed.stderr or "")


def detect_generation(path: str) -> TerragruntInfo:
    """Blocking (call it from a thread): runs `terragrunt --version`, and `run --help` when needed."""
    code, output = _run([path, "--version"])
    if code != 0 and parse_version(output) is None:
        raise TerragruntError(f"`{path} --version` failed (exit {code}): {output.strip()[:200]}")

    def probe() -> ProbeResult:
        return probe_from_help(*_run([path, "run", "--help"]))

    return classify(path, output, probe)


@dataclass(frozen=True)
class RunOptions:
    command: Command
    working_dir: Path
    non_interactive: bool = True
    source: str | None = None
    source_update: bool = False
    include_dirs: Sequence[str] = ()  # relative to working_dir; only these units (rerun failed)
    exclude_dirs: Sequence[str] = ()  # relative to working_dir; e.g. "." for a non-runnable root config
    report_file: Path | None = None
    log_format: str | None = None  # 1.x: pretty|bare|json|key-value; None keeps terragrunt's default
    parallelism: int | None = None
    extra_tf_args: Sequence[str] = field(default_factory=tuple)


def _tf_args(command: Command) -> list[str]:
    if command == "plan":
        return ["plan"]
    return [command]


def build_command(info: TerragruntInfo, options: RunOptions) -> list[str]:
    """argv for a run across every unit under options.working_dir (never contains a secret)."""
    if info.generation is Generation.V1:
        return _build_v1(info, options)
    return _build_v0(info, options)


def _build_v1(info: TerragruntInfo, o: RunOptions) -> list[str]:
    argv = [info.path, "run", "--all"]
    if o.non_interactive:
        argv.append("--non-interactive")
    argv += ["--working-dir", str(o.working_dir)]
    if o.source:
        argv += ["--source", o.source]
    if o.source_update:
        argv.append("--source-update")
    include_flag = "--queue-include-dir" if info.has_queue_flags else "--terragrunt-include-dir"
    exclude_flag = QUEUE_EXCLUDE_FLAG if info.has_queue_flags else "--terragrunt-exclude-dir"
    for directory in o.include_dirs:
        argv += [include_flag, directory]
    if o.include_dirs and not info.has_queue_flags:
        argv.append("--terragrunt-strict-include")
    for directory in o.exclude_dirs:
        argv += [exclude_flag, directory]
    if o.report_file is not None and info.has_report_file:
        argv += ["--report-file", str(o.report_file)]
    if o.log_format:
        argv += ["--log-format", o.log_format]
    if o.parallelism:
        argv += ["--parallelism", str(o.parallelism)]
    argv += ["--", *_tf_args(o.command), *o.extra_tf_args]
    return argv


def _build_v0(info: TerragruntInfo, o: RunOptions) -> list[str]:
    if info.version is not None and info.version < FIRST_RUN_ALL:
        argv = [info.path, f"{o.command}-all"]
    else:
        argv = [info.path, "run-all", *_tf_args(o.command)]
    argv += list(o.extra_tf_args)
    if o.non_interactive:
        argv.append("--terragrunt-non-interactive")
    argv += ["--terragrunt-working-dir", str(o.working_dir)]
    if o.source:
        argv += ["--terragrunt-source", o.source]
    if o.source_update:
        argv.append("--terragrunt-source-update")
    for directory in o.include_dirs:
        argv += ["--terragrunt-include-dir", directory]
    if o.include_dirs:
        # 0.x pulls the dependencies of included units in unless told not to; a rerun wants only these
        argv.append("--terragrunt-strict-include")
    for directory in o.exclude_dirs:
        argv += ["--terragrunt-exclude-dir", directory]
    if o.parallelism:
        argv += ["--terragrunt-parallelism", str(o.parallelism)]
    return argv


def build_import_command(info: TerragruntInfo, unit_dir: Path, address: str, resource_id: str) -> list[str]:
    """`terragrunt import ADDRESS ID` in one unit (Route 53 zones queued by an earlier step)."""
    if info.generation is Generation.V1:
        return [
            info.path,
            "run",
            "--non-interactive",
            "--working-dir",
            str(unit_dir),
            "--",
            "import",
            address,
            resource_id,
        ]
    return [
        info.path,
        "import",
        address,
        resource_id,
        "--terragrunt-non-interactive",
        "--terragrunt-working-dir",
        str(unit_dir),
    ]


def generation_env(
    info: TerragruntInfo, *, source_update: bool = False, iam_role: str | None = None
) -> dict[str, str]:
    """Variables for the child, spelled for this generation (values are Go bools where booleans)."""
    env: dict[str, str] = {}
    if source_update:
        env[info.env.source_update] = "true"
    if iam_role:
        env[info.env.iam_role] = iam_role
    return env


def rename_role_keys(info: TerragruntInfo, env: dict[str, str]) -> dict[str, str]:
    """Any spelling of the role to assume becomes this generation's variable, and only that one."""
    role = None
    for key in IAM_ROLE_KEYS:
        value = env.pop(key, None)
        role = role or value
    if role:
        env[info.env.iam_role] = role
    return env
