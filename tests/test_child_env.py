"""Every process the product starts gets an environment built for it: the source passes `env=` to every
spawn, and the probes (doctor, `terragrunt --version`) see none of the operator's credentials or settings."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from refarch_tui import doctor
from refarch_tui.tools import terragrunt as tg

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("refarch_tui", "screens")

SUBPROCESS_SPAWNS = {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
ASYNCIO_SPAWNS = {"create_subprocess_exec", "create_subprocess_shell"}
OS_SPAWNS_WITHOUT_ENV = {"system", "popen", "execv", "execvp", "execl", "execlp", "spawnv", "spawnl"}
OS_SPAWNS_WITH_ENV = {"execve", "execvpe", "execle", "execlpe", "spawnve", "spawnvpe", "spawnle", "spawnlpe"}
BARE_SPAWNS = {"Popen", "create_subprocess_exec", "create_subprocess_shell", "check_output", "check_call"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def spawns_without_env(source: str, filename: str = "<source>") -> list[str]:
    """`file:line call` for every process spawn in `source` that does not pass an explicit env."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        module, _, attr = name.rpartition(".")
        has_env = any(k.arg == "env" for k in node.keywords)
        spawn = (
            (module.endswith("subprocess") and attr in SUBPROCESS_SPAWNS)
            or (module.endswith("asyncio") and attr in ASYNCIO_SPAWNS)
            or (module == "" and attr in BARE_SPAWNS)
        )
        if module == "os" and attr in OS_SPAWNS_WITH_ENV:
            continue  # the environment is a positional argument of these
        if (module == "os" and attr in OS_SPAWNS_WITHOUT_ENV) or (spawn and not has_env):
            found.append(f"{filename}:{node.lineno} {name}")
    return found


def test_the_checker_finds_spawns_without_env() -> None:
    source = (
        "import asyncio, os, subprocess\n"
        "from subprocess import Popen\n"
        "subprocess.run(['x'])\n"
        "subprocess.run(['x'], env={})\n"
        "Popen(['x'])\n"
        "asyncio.create_subprocess_exec('x')\n"
        "asyncio.create_subprocess_exec('x', env={'PATH': '/bin'})\n"
        "os.system('x')\n"
        "os.execvp('x', ['x'])\n"
        "os.execve('x', ['x'], {})\n"
    )
    assert [f.split(" ")[0] for f in spawns_without_env(source)] == [
        "<source>:3",
        "<source>:5",
        "<source>:6",
        "<source>:8",
        "<source>:9",
    ]


def test_every_spawn_in_the_source_passes_an_explicit_env() -> None:
    files = [p for top in SOURCES for p in sorted((REPO / top).rglob("*.py"))]
    assert len(files) > 20
    found = []
    for path in files:
        found += spawns_without_env(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert found == []


LEAKY = {
    "AWS_SECRET_ACCESS_KEY": "leaked-secret-key-value",
    "AWS_SESSION_TOKEN": "leaked-session-token",
    "AWS_PROFILE": "operators-own",
    "TF_VAR_master_password": "leaked-password",
    "TG_IAM_ASSUME_ROLE": "arn:aws:iam::1:role/leaked",
    "GITHUB_TOKEN": "leaked-gh-token",
}

PROBE = """#!/usr/bin/env python3
import json, os, sys
with open(os.path.join({dump!r}, os.path.basename(sys.argv[0]) + ".json"), "a") as handle:
    handle.write(json.dumps(dict(os.environ)) + "\\n")
print({version!r})
"""


@pytest.fixture
def probed_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fake packer, docker, terraform, tofu and terragrunt that record the environment they were given."""
    bin_dir, dump = tmp_path / "probe-bin", tmp_path / "probe-env"
    bin_dir.mkdir()
    dump.mkdir()
    versions = {
        "packer": "Packer v1.11.2",
        "docker": "Docker version 27.1.1, build 6312585",
        "terraform": "Terraform v1.9.5",
        "tofu": "OpenTofu v1.8.1",
        "terragrunt": "terragrunt version v1.1.3",
    }
    for name, version in versions.items():
        tool = bin_dir / name
        tool.write_text(PROBE.format(dump=str(dump), version=version))
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    for name, value in LEAKY.items():
        monkeypatch.setenv(name, value)
    return dump


def _seen(dump: Path) -> dict[str, list[dict[str, str]]]:
    return {
        p.stem: [json.loads(line) for line in p.read_text().splitlines()] for p in sorted(dump.glob("*.json"))
    }


def test_doctor_probes_get_a_minimal_environment(probed_tools: Path) -> None:
    checks = {c.name: c for c in doctor.run_checks(allow_plaintext=True)}
    assert all(checks[name].ok for name in ("packer", "docker", "terraform/tofu", "terragrunt"))
    seen = _seen(probed_tools)
    assert set(seen) == {"packer", "docker", "terraform", "tofu", "terragrunt"}
    for tool, environments in seen.items():
        for env in environments:
            assert not set(LEAKY) & set(env), tool
            assert not any(v in env.values() for v in LEAKY.values()), tool
            assert env["PATH"] == os.environ["PATH"] and env["HOME"] == os.environ["HOME"]


def test_terragrunt_generation_probe_gets_a_minimal_environment(probed_tools: Path) -> None:
    info = tg.detect_generation(str(probed_tools.parent / "probe-bin" / "terragrunt"))
    assert info.generation is tg.Generation.V1
    (env,) = _seen(probed_tools)["terragrunt"]
    assert not set(LEAKY) & set(env)
