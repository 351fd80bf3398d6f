"""Generation detection and the one command builder, for terragrunt 1.x and 0.x."""

from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.tools import terragrunt as tg
from tests.run.helpers import use_fake_version

V1 = tg.TerragruntInfo("terragrunt", (1, 1, 3), tg.Generation.V1, has_report_file=True, has_queue_flags=True)
V0 = tg.TerragruntInfo("terragrunt", (0, 67, 16), tg.Generation.V0)
OLD = tg.TerragruntInfo("terragrunt", (0, 19, 0), tg.Generation.V0)


def test_parse_version() -> None:
    assert tg.parse_version("terragrunt version v1.1.3\n") == (1, 1, 3)
    assert tg.parse_version("terragrunt version v0.67.16") == (0, 67, 16)
    assert tg.parse_version("nonsense") is None


def test_classify_by_version_and_probe() -> None:
    def no_probe() -> tg.ProbeResult:
        raise AssertionError("the version alone decides here")

    assert tg.classify("tg", "terragrunt version v1.1.3", no_probe).generation is tg.Generation.V1
    assert tg.classify("tg", "terragrunt version v0.67.16", no_probe).generation is tg.Generation.V0
    redesigned = tg.probe_from_help(0, "OPTIONS:\n --all\n --queue-include-dir\n --report-file")
    info = tg.classify("tg", "terragrunt version v0.80.0", lambda: redesigned)
    assert info.generation is tg.Generation.V1 and info.has_queue_flags and info.has_report_file
    forwarded = tg.probe_from_help(1, 'ERROR  OpenTofu has no command named "run".')
    assert tg.classify("tg", "terragrunt version v0.75.0", lambda: forwarded).generation is tg.Generation.V0
    # a redesigned CLI whose `run` lacks the queue flags falls back to the old include flag
    partial = tg.probe_from_help(0, "OPTIONS:\n --all\n")
    info = tg.classify("tg", "terragrunt version v0.74.0", lambda: partial)
    argv = tg.build_command(
        info, tg.RunOptions("apply", Path("/live/dev"), include_dirs=["a"], report_file=Path("/r.json"))
    )
    assert "--terragrunt-include-dir" in argv and "--report-file" not in argv


def test_v1_apply_command() -> None:
    argv = tg.build_command(
        V1,
        tg.RunOptions(
            "apply",
            Path("/live/dev"),
            source="../modules",
            source_update=True,
            include_dirs=["us-east-1/networking/vpc"],
            exclude_dirs=["."],
            report_file=Path("/runs/r.json"),
        ),
    )
    assert argv[:4] == ["terragrunt", "run", "--all", "--non-interactive"]
    assert argv[argv.index("--working-dir") + 1] == "/live/dev"
    assert argv[argv.index("--source") + 1] == "../modules"
    assert "--source-update" in argv
    assert argv[argv.index("--queue-include-dir") + 1] == "us-east-1/networking/vpc"
    assert argv[argv.index("--queue-exclude-dir") + 1] == "."
    assert argv[argv.index("--report-file") + 1] == "/runs/r.json"
    # terraform's own arguments only after `--` (1.x rejects them before it)
    assert argv[-2:] == ["--", "apply"]
    assert not any(a.startswith("--terragrunt-") for a in argv)


@pytest.mark.parametrize("command", ["apply", "destroy", "plan"])
def test_v1_commands(command: tg.Command) -> None:
    argv = tg.build_command(V1, tg.RunOptions(command, Path("/w")))
    assert argv[-2:] == ["--", command]


def test_v0_apply_command() -> None:
    argv = tg.build_command(
        V0,
        tg.RunOptions(
            "apply",
            Path("/live/dev"),
            source="../modules",
            source_update=True,
            include_dirs=["us-east-1/networking/vpc"],
            exclude_dirs=["us-east-1/x"],
            report_file=Path("/runs/r.json"),
            log_format="json",
        ),
    )
    assert argv[:3] == ["terragrunt", "run-all", "apply"]
    assert "--terragrunt-non-interactive" in argv
    assert argv[argv.index("--terragrunt-working-dir") + 1] == "/live/dev"
    assert argv[argv.index("--terragrunt-source") + 1] == "../modules"
    assert "--terragrunt-source-update" in argv
    assert argv[argv.index("--terragrunt-include-dir") + 1] == "us-east-1/networking/vpc"
    assert "--terragrunt-strict-include" in argv  # else 0.x would pull the dependencies in again
    assert argv[argv.index("--terragrunt-exclude-dir") + 1] == "us-east-1/x"
    # 0.67 has neither a report file nor --log-format; unknown flags would be forwarded to tofu
    assert "--report-file" not in argv and "--log-format" not in argv
    assert "--non-interactive" not in argv and "--" not in argv


def test_v0_before_run_all_uses_apply_all() -> None:
    assert tg.build_command(OLD, tg.RunOptions("apply", Path("/w")))[:2] == ["terragrunt", "apply-all"]
    assert tg.build_command(OLD, tg.RunOptions("destroy", Path("/w")))[:2] == ["terragrunt", "destroy-all"]


def test_env_names_per_generation() -> None:
    assert tg.generation_env(V1, source_update=True, iam_role="arn:r") == {
        "TG_SOURCE_UPDATE": "true",
        "TG_IAM_ASSUME_ROLE": "arn:r",
    }
    assert tg.generation_env(V0, source_update=True, iam_role="arn:r") == {
        "TERRAGRUNT_SOURCE_UPDATE": "true",
        "TERRAGRUNT_IAM_ROLE": "arn:r",
    }
    assert tg.rename_role_keys(V1, {"REFARCH_IAM_ROLE": "arn:a", "X": "1"}) == {
        "X": "1",
        "TG_IAM_ASSUME_ROLE": "arn:a",
    }
    assert tg.rename_role_keys(V0, {"TG_IAM_ASSUME_ROLE": "arn:a"}) == {"TERRAGRUNT_IAM_ROLE": "arn:a"}


def test_import_commands() -> None:
    v1 = tg.build_import_command(V1, Path("/l/dev/r53"), "aws_route53_zone.primary_domain", "Z1")
    assert v1[-4:] == ["--", "import", "aws_route53_zone.primary_domain", "Z1"]
    v0 = tg.build_import_command(V0, Path("/l/dev/r53"), "aws_route53_zone.primary_domain", "Z1")
    assert (
        v0[1:4] == ["import", "aws_route53_zone.primary_domain", "Z1"]
        and "--terragrunt-non-interactive" in v0
    )


@pytest.mark.parametrize(
    ("version", "generation"),
    [("1.1.3", tg.Generation.V1), ("0.67.16", tg.Generation.V0), ("0.80.0", tg.Generation.V1)],
)
def test_detect_generation_with_the_fake(
    fake_tg: Path, monkeypatch: pytest.MonkeyPatch, version: str, generation: tg.Generation
) -> None:
    import shutil

    use_fake_version(monkeypatch, version)
    path = shutil.which("terragrunt")
    assert path is not None
    info = tg.detect_generation(path)
    assert info.generation is generation
    assert info.version == tuple(int(x) for x in version.split("."))
    assert "terragrunt v" + version in info.describe()
