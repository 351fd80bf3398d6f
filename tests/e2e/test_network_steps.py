"""Route 53, TLS certificates and OpenVPN sizing on a fresh sandbox, in line mode, the way an operator runs
them: each step with its defaults and --apply-edits, verify, the apply (fake terragrunt) that runs the
queued zone imports first, then the follow-ups it makes due and the exact downgrade command they give."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from refarch_tui import paths

REPO = Path(__file__).resolve().parents[2]
FAKE_TERRAGRUNT_DIR = REPO / "tests" / "run" / "bin"
APPS = ["dev", "stage", "prod"]


@pytest.fixture
def sandbox_stopped() -> Iterator[None]:
    yield
    subprocess.run(
        [sys.executable, "-m", "refarch_tui", "sandbox", "--stop"], capture_output=True, timeout=60
    )


def _cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refarch_tui", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env=env or dict(os.environ),
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


@pytest.mark.slow
def test_the_three_steps_with_defaults_then_the_apply_and_the_downgrade(
    sandbox_stopped: None, tmp_path: Path
) -> None:
    results: dict[str, list[dict[str, Any]]] = {}
    for step in ("route53", "certs", "vpn"):
        done = _cli("step", step, "--sandbox", "--apply-edits", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        document = _json(done)
        assert document["step"] == step
        results[step] = document["results"]
        assert all(r["status"] == "done" for r in document["results"]), document
    assert [r["account"] for r in results["route53"]] == APPS
    assert [r["account"] for r in results["vpn"]] == ["shared-services", *APPS]
    assert all("no zone yet; Terraform creates it" in r["message"] for r in results["route53"])
    for result in results["certs"]:
        assert result["facts"]["zones_created"] and result["facts"]["public"][0]["status"] == "ISSUED"
        assert result["facts"]["internal"] and result["facts"]["java"]["keystore"]
    assert [(e["key"], e["old"], e["new"], e["applied"]) for r in results["vpn"] for e in r["edits"]] == [
        ("instance_type", "t2.micro", "t2.medium", True)
    ] * 4

    verified = _cli("verify", "--sandbox", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    checked = {(c["step"], c["account"]): c["status"] for c in _json(verified)["checked"]}
    assert {checked[(s, a)] for s in ("route53", "certs") for a in APPS} == {"done"}
    assert _json(_cli("status", "--json"))["followups"] == []  # nothing is due before the apply

    again = _cli("step", "certs", "--sandbox", "--apply-edits", "--json")
    assert again.returncode == 0 and all(
        c["reused"] for r in _json(again)["results"] for c in r["facts"]["public"] + r["facts"]["internal"]
    )

    calls = tmp_path / "fake-tg"
    env = {
        **os.environ,
        "PATH": f"{FAKE_TERRAGRUNT_DIR}{os.pathsep}{os.environ['PATH']}",
        "FAKE_TG_STATE_DIR": str(calls),
        "REFARCH_RETRY_BACKOFF": "0",
    }
    applied = _cli("apply", "--no-tui", "--sandbox", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    recorded = [json.loads(line) for line in (calls / "calls.jsonl").read_text().splitlines()]
    for result in results["certs"]:
        account, zone_id = result["account"], result["facts"]["zones_created"][0]["zone_id"]
        imports = [i for i, c in enumerate(recorded) if c.get("import") and f"/{account}/" in c["cwd"] + "/"]
        applies = [i for i, c in enumerate(recorded) if c.get("working_dir", "").endswith("/" + account)]
        assert len(imports) == 1 and imports[0] < applies[0], (account, recorded)
        assert recorded[imports[0]]["argv"][-2:] == ["aws_route53_zone.primary_domain", zone_id]
        assert recorded[imports[0]]["cwd"].endswith(f"{account}/us-east-1/networking/route53-public")

    followups = _json(_cli("status", "--json"))["followups"]
    downgrades = [f for f in followups if f["step"] == "vpn"]
    assert [f["account"] for f in downgrades] == ["shared-services", *APPS]
    assert downgrades[1]["message"] == "downgrade OpenVPN in dev to t2.micro"
    assert downgrades[1]["command"] == (
        "refarch-tui step vpn --sandbox --account dev --set downgrade=true --apply-edits"
    )
    # the certs step queued the zones' imports, so the Route 53 follow-up (name servers) is due as well
    assert {f["account"] for f in followups if f["step"] == "route53"} == set(APPS)

    argv = shlex.split(downgrades[1]["command"])
    assert argv[0] == "refarch-tui"
    down = _cli(*argv[1:], "--json")
    assert down.returncode == 0, down.stdout + down.stderr
    [result] = _json(down)["results"]
    assert [(e["old"], e["new"], e["applied"]) for e in result["edits"]] == [("t2.medium", "t2.micro", True)]
    unit = (
        paths.sandbox_workspace_dir()
        / "live"
        / "dev"
        / "us-east-1"
        / "mgmt"
        / "openvpn-server"
        / "terragrunt.hcl"
    )
    assert 'instance_type            = "t2.micro"' in unit.read_text()
    left = [f["account"] for f in _json(_cli("status", "--json"))["followups"] if f["step"] == "vpn"]
    assert left == ["shared-services", "stage", "prod"]
