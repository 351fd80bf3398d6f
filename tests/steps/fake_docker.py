"""A fake `docker` on PATH for the docker_images tests: records each call's argv and whether it read stdin
(and a digest of what it read, never the value) in $FAKE_DOCKER_RECORD/<n>.json; FAKE_DOCKER_FAIL=<verb>
makes that verb fail, FAKE_DOCKER_NO_DAEMON=1 makes `docker version` fail like a stopped daemon."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

SCRIPT = """#!{python}
import hashlib, json, os, sys, time
record = os.environ.get("FAKE_DOCKER_RECORD") or {record!r}
verb = sys.argv[1] if len(sys.argv) > 1 else ""
note = {{"argv": sys.argv[1:], "stdin": None}}
if "--password-stdin" in sys.argv:
    data = sys.stdin.read()
    note["stdin"] = {{"length": len(data), "sha256": hashlib.sha256(data.encode()).hexdigest()}}
with open(os.path.join(record, f"{{time.time_ns()}}-{{os.getpid()}}.json"), "w") as f:
    json.dump(note, f)
if verb == "version":
    if os.environ.get("FAKE_DOCKER_NO_DAEMON") or {no_daemon!r}:
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.", file=sys.stderr)
        sys.exit(1)
    print("27.0.0")
    sys.exit(0)
if verb == (os.environ.get("FAKE_DOCKER_FAIL") or {fail!r}):
    print(f"ERROR: fake docker {{verb}} failed on demand", file=sys.stderr)
    sys.exit(1)
if verb == "login":
    print("Login Succeeded")
elif verb == "build":
    print("#1 [internal] load build definition from Dockerfile")
    print("#9 naming to docker.io/library/" + sys.argv[-2] + " done")
elif verb == "push":
    ref = sys.argv[-1]
    print(f"The push refers to repository [{{ref.rsplit(':', 1)[0]}}]")
    digest = hashlib.sha256(ref.encode()).hexdigest()
    print(f"{{ref.rsplit(':', 1)[1]}}: digest: sha256:{{digest}} size: 1570")
"""


def install(bin_dir: Path, record: Path, *, fail: str = "", no_daemon: bool = False) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    record.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "docker"
    path.write_text(SCRIPT.format(python=sys.executable, record=str(record), fail=fail, no_daemon=no_daemon))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def calls(record: Path) -> list[dict[str, object]]:
    import json

    return [json.loads(p.read_text()) for p in sorted(record.glob("*.json"))]


__all__ = ["calls", "install", "os"]
