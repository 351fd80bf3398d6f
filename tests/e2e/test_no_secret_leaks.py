"""A whole sandbox flow with real secrets in play, then every file the product wrote is searched for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from refarch_tui import logsetup, paths, sandbox, secrets
from refarch_tui.aws import emulator
from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig
from refarch_tui.aws.keys import AccessKeys
from refarch_tui.state import Status

REPO = Path(__file__).resolve().parents[2]
FAKE_TERRAGRUNT_DIR = REPO / "tests" / "run" / "bin"
TYPED_SECRET_KEY = "tYpEdSecretKeyThatMustNeverBeWritten0123"  # 40 characters, like a real one


def every_file_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_secrets_never_reach_state_journal_logs_runs_or_reports(tmp_path: Path) -> None:
    workspace, state = sandbox.open_sandbox()
    try:
        info = emulator.wait_ready(workspace.directory)
        # the operator types keys: in the sandbox they are ignored and never stored
        access = AwsAccess(
            state,
            workspace=workspace,
            endpoint_url=info.endpoint,
            sandbox_keys=AccessKeys(info.access_key_id, info.secret_access_key),
        )
        secrets.register_secret(TYPED_SECRET_KEY)
        access.configure(
            AuthConfig(assume_roles=True), keys=AccessKeys("AKIAIOSFODNN7EXAMPLE", TYPED_SECRET_KEY)
        )
        assert access.check_all()["dev"].ok

        # the passwords step: a generated password goes to the keyring, its name to state
        password = secrets.generate_password()
        secrets.store("passwords/dev/mysql-master", password)
        workspace.update_step(
            state,
            "passwords",
            "dev",
            Status.DONE,
            secret_env={"TF_VAR_master_password": "passwords/dev/mysql-master"},
        )

        # the apply, in line mode, with a terragrunt that prints the password it was given
        report = tmp_path / "report.json"
        env = {
            **os.environ,
            "PATH": f"{FAKE_TERRAGRUNT_DIR}{os.pathsep}{os.environ['PATH']}",
            "FAKE_TG_ECHO_ENV": "TF_VAR_master_password",
            "FAKE_TG_STATE_DIR": str(tmp_path / "fake-tg"),
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "refarch_tui",
                "apply",
                "--no-tui",
                "--sandbox",
                "--account",
                "dev",
                "--report",
                str(report),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(report.read_text())["engine"] == "terragrunt-1"
        status = subprocess.run(
            [sys.executable, "-m", "refarch_tui", "status", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        emulator.stop(workspace.directory)

    files = every_file_under(workspace.directory, paths.log_dir(), paths.cache_dir(), tmp_path)
    assert any(p.name == "state.json" for p in files) and any(p.name == "journal.jsonl" for p in files)
    unit_logs = [p for p in files if p.suffix == ".log" and "runs" in p.parts]
    assert unit_logs, "the run wrote no per-unit logs"
    # the fake terragrunt did print the password; what was stored is the redaction marker instead
    assert any(secrets.REDACTED in p.read_text(errors="replace") for p in unit_logs)
    texts = {str(p): p.read_bytes().decode("utf-8", errors="replace") for p in files}
    texts["stdout"] = result.stdout + result.stderr
    texts["status --json"] = status
    for secret in (password, TYPED_SECRET_KEY):
        leaks = [name for name, text in texts.items() if secret in text]
        assert leaks == [], f"secret found in {leaks}"
    assert logsetup.log_file().exists()
