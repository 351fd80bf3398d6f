"""The installed `refarch-tui` on a fresh sandbox: `step docker_images --sandbox --apply-edits --json` with
the defaults, once with the fake docker on PATH and once with no docker at all (SIMULATED push); `verify`
holds both times; no ECR token in anything printed, written or passed in argv."""

from __future__ import annotations

import json
from pathlib import Path

from tests.steps import fake_docker
from tests.steps.installed import cli


def _versions(sandbox_dir: Path) -> set[str]:
    found = set()
    for path in (sandbox_dir / "live").glob("*/*/services/sample-app-*/terragrunt.hcl"):
        for line in path.read_text().splitlines():
            if line.strip().startswith("version"):
                found.add(line.split("=", 1)[1].strip().strip('"'))
    return found


def _check(sandbox_dir: Path, path: str) -> dict[str, object]:
    run = cli("step", "docker_images", "--sandbox", "--apply-edits", "--json", path=path)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    statuses = {r["account"]: r["status"] for r in document["results"]}
    assert statuses.get("shared-services") == "done", statuses
    checked = cli("verify", "--sandbox", "--json", path=path)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    entries = [e for e in json.loads(checked.stdout)["checked"] if e["step"] == "docker_images"]
    assert [e["status"] for e in entries] == ["done"]
    state = json.loads((sandbox_dir / "state.json").read_text())
    record: dict[str, object] = state["steps"]["docker_images"]["shared-services"]
    return {"record": record, "printed": run.stdout + run.stderr + checked.stdout + checked.stderr}


def test_with_the_fake_docker_then_with_no_docker(sandbox_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake_docker.install(tmp_path / "bin", calls)
    first = _check(sandbox_dir, f"{tmp_path / 'bin'}:/usr/bin:/bin")
    images = first["record"]["evidence"]["images"]  # type: ignore[index]
    assert all(not i["simulated"] and i["digest"].startswith("sha256:") for i in images)
    verbs = [c["argv"][0] for c in fake_docker.calls(calls)]
    assert {"build", "tag"} <= set(verbs) and not {"login", "push"} & set(verbs)  # sandbox: no real registry
    tags = {i["tag"] for i in images}
    assert _versions(sandbox_dir) == tags

    # nothing secret in what was printed or written (the emulator's shared-services token, moto's
    # "<registry id>-auth-token", is never even asked for in the sandbox)
    password = "235829751430-auth-token"
    texts = [str(first["printed"])] + [
        p.read_text(errors="replace")
        for p in sandbox_dir.rglob("*")
        if p.is_file() and p.stat().st_size < 5e6
    ]
    argvs = [" ".join(c["argv"]) for c in fake_docker.calls(calls)]  # type: ignore[arg-type]
    assert not any(password in t for t in texts + argvs)

    second = _check(sandbox_dir, "/usr/bin:/bin")  # no docker anywhere on PATH
    images = second["record"]["evidence"]["images"]  # type: ignore[index]
    assert all(i["simulated"] for i in images)
    assert "SIMULATED" in str(second["printed"])
    assert _versions(sandbox_dir) == {i["tag"] for i in images}
