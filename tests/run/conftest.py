"""Fixtures for the runner: a tiny multi-account live tree, a workspace on it, and the fake terragrunt."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from refarch_tui.state import Account, Mode, Workspace, WorkspaceState

BIN = Path(__file__).resolve().parent / "bin"
ACCOUNTS = ("security", "shared-services", "dev", "stage", "prod")

ROOT_HCL = """
remote_state {
  backend = "s3"
  config = {
    bucket = "acme-${path_relative_to_include()}"
    key    = "${path_relative_to_include()}/terraform.tfstate"
    region = "us-east-1"
  }
}
"""

UNIT_HCL = """
terraform {
  source = "git::git@github.com:acme/modules.git//%(module)s?ref=v0.1.0"
}

include {
  path = find_in_parent_folders()
}
%(deps)s
inputs = {
  name = "%(name)s"
}
"""

DEP_HCL = """
dependency "%(name)s" {
  config_path = "%(path)s"
}
"""

# unit (relative to the account) -> its dependencies (relative to the unit)
UNITS = {
    "_global/iam": [],
    "us-east-1/networking/vpc": [],
    "us-east-1/services/app": ["../../networking/vpc"],
}


def write_live(
    root: Path, accounts: tuple[str, ...] = ACCOUNTS, units: dict[str, list[str]] | None = None
) -> Path:
    for account in accounts:
        (root / account).mkdir(parents=True, exist_ok=True)
        (root / account / "terragrunt.hcl").write_text(ROOT_HCL)
        (root / account / "account.hcl").write_text(f'locals {{\n  account_name = "{account}"\n}}\n')
        for unit, deps in (units or UNITS).items():
            directory = root / account / unit
            directory.mkdir(parents=True, exist_ok=True)
            dep_text = "".join(DEP_HCL % {"name": Path(d).name.replace("-", "_"), "path": d} for d in deps)
            (directory / "terragrunt.hcl").write_text(
                UNIT_HCL % {"module": unit.split("/")[-1], "deps": dep_text, "name": Path(unit).name}
            )
    return root


@pytest.fixture
def tiny_live(tmp_path: Path) -> Path:
    return write_live(tmp_path / "live")


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., tuple[Workspace, WorkspaceState]]:
    def make(live: Path, mode: Mode = Mode.SANDBOX) -> tuple[Workspace, WorkspaceState]:
        workspace = Workspace(tmp_path / "ws")
        state = WorkspaceState(
            live_dir=str(live),
            mode=mode,
            accounts=[Account(name) for name in ACCOUNTS if (live / name).is_dir()],
            regions=["us-east-1"],
        )
        workspace.save(state)
        return workspace, state

    return make


@pytest.fixture
def fake_tg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts the fake terragrunt first on PATH; returns its state dir (calls.jsonl, attempt counters)."""
    state = tmp_path / "fake-tg-state"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_TG_STATE_DIR", str(state))
    monkeypatch.setenv("REFARCH_RETRY_BACKOFF", "0")
    for name in list(os.environ):
        if name.startswith("FAKE_TG_") and name != "FAKE_TG_STATE_DIR":
            monkeypatch.delenv(name)
    return state


@pytest.fixture
def no_tg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH without any terragrunt (the rehearsal engine is used)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("REFARCH_REHEARSAL_SPEED", "0")
    monkeypatch.setenv("REFARCH_RETRY_BACKOFF", "0")
