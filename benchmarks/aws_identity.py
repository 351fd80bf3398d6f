"""Identity check of the five sandbox accounts against a local moto server (in its own process, as in the
sandbox): parallel, as the app does it, versus one account after another; each run from fresh sessions
(assume-role + get-caller-identity per account). `--latency` adds a sleep before each request, standing in
for the round trip to real AWS (local moto answers in about a millisecond).

Prints median seconds and the ratio parallel/serial (lower is better; < 1 means the threads help).

    .venv/bin/python benchmarks/aws_identity.py [--runs 5] [--latency 0 0.1]
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig
from refarch_tui.state import Account, Mode, WorkspaceState

ACCOUNTS = {
    "security": "104983213567",
    "shared-services": "235829751430",
    "dev": "368294012756",
    "stage": "481039572864",
    "prod": "596120384729",
}


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
            return server, endpoint
        except OSError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("moto did not start")


def measure(endpoint: str, latency: float, runs: int) -> None:
    state = WorkspaceState(
        live_dir=tempfile.gettempdir(),
        mode=Mode.SANDBOX,
        accounts=[Account(n, i) for n, i in ACCOUNTS.items()],
        regions=["us-east-1"],
    )

    def delay(**_kwargs: object) -> None:
        time.sleep(latency)

    def hook(_who: str, _service: str, client: Any) -> None:
        if latency:
            client.meta.events.register("before-send", delay)

    def fresh() -> AwsAccess:
        access = AwsAccess(state, endpoint_url=endpoint, client_hook=hook)
        access.configure(AuthConfig(assume_roles=True))
        return access

    fresh().check_all()  # warm-up: imports and service models
    parallel, serial, recheck = [], [], []
    for _ in range(runs):
        access = fresh()
        started = time.perf_counter()
        results = access.check_all()
        parallel.append(time.perf_counter() - started)
        assert all(r.ok for r in results.values()), [r.explanation for r in results.values()]
        started = time.perf_counter()
        access.check_all()
        recheck.append(time.perf_counter() - started)
        access = fresh()
        started = time.perf_counter()
        access.prepare()
        for name in ACCOUNTS:
            assert access.check(name).ok
        serial.append(time.perf_counter() - started)
    p, s, r = statistics.median(parallel), statistics.median(serial), statistics.median(recheck)
    print(
        f"latency {latency * 1000:>4.0f} ms: parallel {p:.3f}s  serial {s:.3f}s  ratio {p / s:.2f}  "
        f"(re-check with cached sessions {r:.3f}s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.1])
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    server, endpoint = start_moto()
    try:
        for latency in args.latency:
            measure(endpoint, latency, args.runs)
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
