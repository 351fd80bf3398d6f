"""Packer: version detection, the `packer build` command line, and reading its `-machine-readable` output.

Machine-readable lines are `timestamp,target,type,data...`. Commas inside a field arrive escaped as
`%!(PACKER_COMMA)`, newlines as a literal `\\n`. The line that matters most is
`…,<builder>,artifact,0,id,us-east-1:ami-…%!(PACKER_COMMA)us-west-2:ami-…`: the AMI of every region the
builder produced. `ui` lines (`say`, `message`, `error`) carry the human output, prefixed by the builder's
name (`==> ecs-node: Creating AMI …`), which is how progress is shown per builder.

HCL2 templates (`*.pkr.hcl`): packer 1.5 and 1.6 support them only partially (a beta: no `packer init`, no
required_plugins, several functions missing); 1.7 is the first with full support.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from refarch_tui.tools.probe_env import probe_env

COMMA = "%!(PACKER_COMMA)"
HCL2_BETA = (1, 5, 0)  # `packer build x.pkr.hcl` exists, partially
HCL2_FULL = (1, 7, 0)
MIN_VERSION = (1, 5, 0)  # vpc_filter, subnet_filter, custom_endpoint_ec2 and -machine-readable all exist
_VERSION = re.compile(r"(?:Packer\s+)?v?(\d+)\.(\d+)\.(\d+)")
_AMI = re.compile(r"^ami-[0-9a-zA-Z]+$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_BUILDER_PREFIX = re.compile(r"^(?:==> |--> |\s+)?([A-Za-z0-9_.-]+): (.*)$", re.DOTALL)

Version = tuple[int, int, int]


class PackerOutputError(ValueError):
    """Packer printed something this module cannot read; the message says what."""


@dataclass(frozen=True)
class PackerInfo:
    path: str
    version: Version | None

    @property
    def version_text(self) -> str:
        return "unknown version" if self.version is None else "v" + ".".join(map(str, self.version))

    @property
    def hcl2(self) -> str:
        """'full', 'partial' (1.5/1.6 beta) or 'none'."""
        return hcl2_support(self.version)


def parse_version(text: str) -> Version | None:
    """`Packer v1.6.6` (the first line of `packer version`) -> (1, 6, 6)."""
    match = _VERSION.search(text)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def hcl2_support(version: Version | None) -> str:
    if version is None or version < HCL2_BETA:
        return "none"
    return "full" if version >= HCL2_FULL else "partial"


def detect(env: Mapping[str, str]) -> PackerInfo | None:
    """The packer on the child's PATH and its version; None when there is none. Blocking."""
    path = shutil.which("packer", path=env.get("PATH"))
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, "version"],
            capture_output=True,
            text=True,
            timeout=20,
            env=dict(probe_env(env), CHECKPOINT_DISABLE="1"),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return PackerInfo(path, None)
    return PackerInfo(path, parse_version((done.stdout or "") + (done.stderr or "")))


def build_argv(packer: str, template: str, variables: Mapping[str, str]) -> list[str]:
    """`packer build -machine-readable -var k=v … TEMPLATE` (values are plain settings, never secrets)."""
    argv = [packer, "build", "-machine-readable"]
    for name, value in sorted(variables.items()):
        argv += ["-var", f"{name}={value}"]
    return [*argv, template]


def unescape(field: str) -> str:
    return field.replace(COMMA, ",").replace("\\n", "\n").replace("\\r", "\r")


@dataclass(frozen=True)
class MachineLine:
    timestamp: str
    target: str  # the builder's name, "" for packer itself
    type: str  # ui, artifact, artifact-count, error, error-count, …
    data: tuple[str, ...]  # unescaped


def parse_line(line: str) -> MachineLine | None:
    """One machine-readable line; None for anything else (packer prints a few plain lines on some errors)."""
    parts = line.rstrip("\r\n").split(",")
    if len(parts) < 3 or not parts[0].isdigit():
        return None
    return MachineLine(parts[0], parts[1], parts[2], tuple(unescape(p) for p in parts[3:]))


def parse_artifact_id(value: str) -> dict[str, str]:
    """`us-east-1:ami-1,us-west-2:ami-2` (escaped or not) -> {"us-east-1": "ami-1", "us-west-2": "ami-2"}."""
    found: dict[str, str] = {}
    for pair in unescape(value).split(","):
        pair = pair.strip()
        if not pair:
            continue
        region, _, ami = pair.partition(":")
        if not _REGION.match(region) or not _AMI.match(ami):
            raise PackerOutputError(f"packer's artifact id {value!r} is not REGION:AMI pairs")
        if region in found and found[region] != ami:
            raise PackerOutputError(f"packer's artifact id names two AMIs for {region}: {value!r}")
        found[region] = ami
    return found


def artifact_amis(lines: Iterable[str]) -> dict[str, dict[str, str]]:
    """builder -> {region: AMI}, from every `artifact,N,id` line of an amazon builder."""
    builders: dict[str, dict[str, str]] = {}
    builder_ids: dict[tuple[str, str], str] = {}
    ids: list[tuple[str, str, str]] = []
    for raw in lines:
        line = parse_line(raw)
        if line is None or line.type != "artifact" or len(line.data) < 3:
            continue
        index, key, value = line.data[0], line.data[1], line.data[2]
        if key == "builder-id":
            builder_ids[(line.target, index)] = value
        elif key == "id":
            ids.append((line.target, index, value))
    for target, index, value in ids:
        builder_id = builder_ids.get((target, index), "")
        if builder_id and "amazon" not in builder_id:
            continue  # another builder's artifact (docker, a file): not an AMI
        builders.setdefault(target, {}).update(parse_artifact_id(value))
    return builders


def ui_text(line: MachineLine) -> tuple[str, str, str] | None:
    """(level, builder or "", text) of a `ui` line; None for other lines."""
    if line.type != "ui" or len(line.data) < 2:
        return None
    level, text = line.data[0], line.data[1].strip("\n")
    match = _BUILDER_PREFIX.match(text)
    if match:
        return level, match.group(1), match.group(2).replace("\n==> " + match.group(1) + ": ", "\n")
    return level, line.target, text


def progress_text(raw: str, builders: Iterable[str]) -> str | None:
    """What the screen shows for one raw line: `[ecs-node] Creating AMI …`; None for lines to hide (artifact
    bookkeeping). Lines that are not machine-readable are shown as they are."""
    line = parse_line(raw)
    if line is None:
        return raw
    known = set(builders)
    if line.type == "ui":
        parsed = ui_text(line)
        if parsed is None:
            return None
        level, builder, text = parsed
        first = text.splitlines()[0] if text.strip() else ""
        if not first.strip():
            return None
        mark = "ERROR " if level == "error" else ""
        return f"[{builder}] {mark}{first.strip()}" if builder in known else f"{mark}{first.strip()}"
    if line.type == "error" and line.data:
        return f"[{line.target or 'packer'}] ERROR {line.data[0].splitlines()[0]}"
    return None


def errors(lines: Iterable[str]) -> list[str]:
    """Packer's error messages, one line each: the per-builder `<builder>,error,…` summaries, else (a build
    that failed before any builder ran, such as a template packer refuses) the `ui,error` lines."""
    per_builder: list[str] = []
    ui_errors: list[str] = []
    for raw in lines:
        line = parse_line(raw)
        if line is None or not line.data:
            continue
        if line.type == "error":
            per_builder.append(f"{line.target}: {line.data[0]}" if line.target else line.data[0])
        elif line.type == "ui" and line.data[0] == "error":
            parsed = ui_text(line)
            if parsed and not parsed[2].strip().startswith("==> Some builds didn't complete"):
                ui_errors.append(parsed[2])
    found: list[str] = []
    for text in per_builder or ui_errors:
        flat = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
        if flat and flat not in found:
            found.append(flat)
    return found
