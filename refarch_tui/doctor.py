"""`refarch-tui doctor`: what this machine has for the wizard, each missing piece with how to get it."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from refarch_tui import logsetup, secrets
from refarch_tui.tools.hints import TOOL_HINTS
from refarch_tui.tools.probe_env import probe_env


@dataclass
class Check:
    name: str
    ok: bool
    version: str | None
    detail: str = ""
    hint: str = ""
    required: bool = True  # in the mode checked for: a missing required piece makes doctor exit 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# What each mode cannot do without (the rest is needed by one step only, and that step says so):
# - sandbox: Python packages and a secure keyring; terragrunt is rehearsed when absent;
# - real AWS: the same, plus terragrunt and one of terraform/tofu to run the apply.
REAL_ONLY = frozenset({"terragrunt", "terraform/tofu"})
OPTIONAL = {
    "packer": "needed by the AMI step only",
    "docker": "needed by the Docker images step only",
}


_VERSION = re.compile(r"v?(\d+\.\d+(?:\.\d+)?)")


def _run_version(command: list[str]) -> str | None:
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
            check=False,
            env=probe_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = (completed.stdout or "") + (completed.stderr or "")
    match = _VERSION.search(output)
    return match.group(1) if match else None


def tool_check(name: str, version_args: list[str]) -> Check:
    path = shutil.which(name)
    if path is None:
        return Check(name, False, None, "not found on PATH", TOOL_HINTS.get(name, ""))
    version = _run_version([path, *version_args])
    return Check(
        name, version is not None, version, path, "" if version else f"`{name}` did not report a version"
    )


def package_check(name: str) -> Check:
    try:
        return Check(name, True, metadata.version(name))
    except metadata.PackageNotFoundError:
        return Check(name, False, None, "not installed", f"pip install {name}")


def terragrunt_check() -> Check:
    check = tool_check("terragrunt", ["--version"])
    if not check.ok:
        return check
    from refarch_tui.tools import terragrunt

    try:
        generation = terragrunt.detect_generation(check.detail)
    except terragrunt.TerragruntError as exc:
        check.ok = False
        check.hint = str(exc)
        return check
    check.detail = f"{check.detail} — {generation.describe()}"
    return check


def keyring_check(*, allow_plaintext: bool = False) -> Check:
    try:
        name = secrets.check_keyring(allow_plaintext=allow_plaintext)
    except secrets.KeyringError as exc:
        return Check("keyring", False, None, secrets.backend_name(), str(exc))
    return Check("keyring", True, package_check("keyring").version, name)


def iac_check() -> Check:
    """terragrunt runs terraform or tofu: one line, whichever is installed (both when both are)."""
    found = [
        check for check in (tool_check("terraform", ["version"]), tool_check("tofu", ["version"])) if check.ok
    ]
    if not found:
        return Check(
            "terraform/tofu", False, None, "neither terraform nor tofu is on PATH", TOOL_HINTS["terraform"]
        )
    detail = "; ".join(f"{check.name} {check.version} at {check.detail}" for check in found)
    return Check("terraform/tofu", True, found[0].version, detail)


def run_checks(*, allow_plaintext: bool = False, mode: str = "real") -> list[Check]:
    checks = [
        Check("python", True, platform.python_version(), platform.python_implementation()),
        package_check("textual"),
        package_check("boto3"),
        tool_check("packer", ["version"]),
        tool_check("docker", ["--version"]),
        terragrunt_check(),
        iac_check(),
        keyring_check(allow_plaintext=allow_plaintext),
    ]
    for check in checks:
        if check.name in OPTIONAL or (mode == "sandbox" and check.name in REAL_ONLY):
            check.required = False
    return checks


def report(*, allow_plaintext: bool = False, mode: str = "real") -> dict[str, Any]:
    """`mode` is the workspace's (sandbox or real); without a workspace, what real AWS needs."""
    checks = run_checks(allow_plaintext=allow_plaintext, mode=mode)
    return {
        "mode": mode,
        "checks": [c.to_json() for c in checks],
        "missing_required": [c.name for c in checks if c.required and not c.ok],
        "log_file": str(logsetup.log_file()),
    }


def render_text(document: dict[str, Any]) -> str:
    mode = "the sandbox" if document.get("mode") == "sandbox" else "real AWS"
    lines = [f"required for {mode}: " + ", ".join(c["name"] for c in document["checks"] if c["required"])]
    for check in document["checks"]:
        mark = "ok     " if check["ok"] else ("MISSING" if check["required"] else "absent ")
        version = check["version"] or "-"
        line = f"{mark}  {check['name']:<14} {version:<10} {check['detail']}"
        if not check["required"] and not check["ok"]:
            line += f" (optional: {OPTIONAL.get(check['name'], 'not needed in ' + mode)})"
        lines.append(line)
        if check["hint"] and not check["ok"]:
            lines.append(f"         fix: {check['hint']}")
    if document.get("missing_required"):
        lines.append(f"missing for {mode}: {', '.join(document['missing_required'])} (exit 1)")
    aws = document.get("aws")
    if aws is not None:
        if not aws.get("configured"):
            lines.append(f"aws:     {aws.get('message', 'not configured')}")
        for name, account in (aws.get("accounts") or {}).items():
            identity = account.get("arn") or account.get("error") or account.get("status")
            lines.append(f"aws:     {name:<16} {account.get('status', '?'):<9} {identity}")
    lines.append(f"log file: {document['log_file']}")
    return "\n".join(lines)
