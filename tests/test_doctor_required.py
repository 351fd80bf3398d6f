"""doctor: one line for terraform *or* tofu; exit 1 exactly when a tool the mode needs is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from refarch_tui import cli
from refarch_tui.state import Account, Mode
from refarch_tui.workspaces import create_workspace

FAKE_TERRAGRUNT = Path(__file__).resolve().parent / "run" / "bin" / "terragrunt"


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only what a test puts there (plus the system's /usr/bin:/bin)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return directory


def install(bin_dir: Path, name: str, version_line: str) -> None:
    tool = bin_dir / name
    tool.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    tool.chmod(0o755)


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    code = cli.main(["doctor", *argv])
    text = capsys.readouterr().out
    code_json = cli.main(["doctor", "--json", *argv])
    document = json.loads(capsys.readouterr().out)
    assert code_json == code
    return code, text, document


def sandbox_workspace(tmp_path: Path) -> Path:
    workspace, _ = create_workspace(
        tmp_path / "live", [Account("dev", "368294012756")], ["us-east-1"], mode=Mode.SANDBOX,
        directory=tmp_path / "ws",
    )  # fmt: skip
    return workspace.directory


def iac_lines(text: str) -> list[str]:
    """The tool lines (one per check) that mention terraform or tofu."""
    checks = [line for line in text.splitlines() if line.split(" ", 1)[0] in ("ok", "MISSING", "absent")]
    return [line for line in checks if "terraform" in line or "tofu" in line]


def test_one_iac_line_when_only_terraform_is_installed(
    bin_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(bin_dir, "terraform", "Terraform v1.11.4")
    _, text, document = doctor(capsys)
    lines = iac_lines(text)
    assert len(lines) == 1 and lines[0].startswith("ok") and "terraform 1.11.4" in lines[0], text
    assert "MISSING  tofu" not in text
    assert [c["name"] for c in document["checks"]].count("terraform/tofu") == 1
    assert not {"terraform", "tofu"} & {c["name"] for c in document["checks"]}


def test_one_iac_line_when_only_tofu_is_installed(bin_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install(bin_dir, "tofu", "OpenTofu v1.8.2")
    _, text, _ = doctor(capsys)
    lines = iac_lines(text)
    assert len(lines) == 1 and lines[0].startswith("ok") and "tofu 1.8.2" in lines[0], text


def test_real_aws_without_terragrunt_exits_1_and_says_what_is_missing(
    bin_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(bin_dir, "terraform", "Terraform v1.11.4")
    code, text, document = doctor(capsys)
    assert code == 1
    assert document["mode"] == "real" and document["missing_required"] == ["terragrunt"]
    assert "MISSING  terragrunt" in text and "missing for real AWS: terragrunt" in text


def test_real_aws_without_terraform_or_tofu_exits_1(
    bin_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bin_dir / "terragrunt").symlink_to(FAKE_TERRAGRUNT)
    code, text, document = doctor(capsys)
    assert code == 1 and document["missing_required"] == ["terraform/tofu"]
    assert len(iac_lines(text)) == 1 and "MISSING  terraform/tofu" in text


def test_real_aws_with_everything_exits_0(bin_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bin_dir / "terragrunt").symlink_to(FAKE_TERRAGRUNT)
    install(bin_dir, "tofu", "OpenTofu v1.8.2")
    code, text, document = doctor(capsys)
    assert code == 0, text
    assert document["missing_required"] == []
    # packer and docker are needed by one step each: reported, never a failure
    assert {c["name"] for c in document["checks"] if not c["required"]} == {"packer", "docker"}


def test_the_sandbox_needs_neither_terragrunt_nor_terraform(
    bin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text, document = doctor(capsys, "--workspace", str(sandbox_workspace(tmp_path)))
    assert code == 0, text
    assert document["mode"] == "sandbox" and document["missing_required"] == []
    assert "absent   terragrunt" in text and "MISSING" not in text
