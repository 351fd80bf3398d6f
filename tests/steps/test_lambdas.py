"""The lambdas step: finds build.sh, runs it streamed, parses the instruction into run_env, checks the
package; failures record nothing; verify re-checks size and sha256; later accounts reuse the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.state import Status
from refarch_tui.steps import lambdas
from refarch_tui.steps.contract import StepError
from tests.steps import helpers
from tests.steps.conftest import MakeCtx

SCRIPT = "lambda/long-running-scheduled/src/build.sh"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["done", "export TF_VAR_lambda_zip_path=/b/lambda.zip"],
            ("TF_VAR_lambda_zip_path", "/b/lambda.zip"),
        ),
        (["export  ZIP='/b/with space.zip'"], ("ZIP", "/b/with space.zip")),
        (['$ export ZIP="/b/x.zip"'], ("ZIP", "/b/x.zip")),
        (["Set the TF_VAR_pkg environment variable to /b/p.zip."], ("TF_VAR_pkg", "/b/p.zip")),
        (["please set `PKG` variable to: build/p.zip"], ("PKG", "build/p.zip")),
        (["export A=/first.zip", "noise", "export B=/second.zip"], ("B", "/second.zip")),
        (["Building...", "Deployment package created: /b/lambda.zip"], None),
        ([], None),
    ],
)
def test_parse_instruction(lines: list[str], expected: tuple[str, str] | None) -> None:
    assert lambdas.parse_instruction(lines) == expected


def test_sample_build_records_run_env_and_verifies(make_ctx: MakeCtx) -> None:
    progress: list[str] = []
    ctx = make_ctx("dev", progress=progress.append)
    plan = lambdas.plan(ctx, helpers.resolve(lambdas))
    assert not plan.not_applicable and plan.data["function"] == "long-running-scheduled"
    assert plan.data["units"] == ["dev/us-east-1/lambda/long-running-scheduled"]
    result, record = helpers.run_and_record(lambdas, ctx)
    package = Path(result.run_env["TF_VAR_lambda_zip_path"])
    assert package.is_file() and package == (
        ctx.modules_dir / "lambda/long-running-scheduled/build/lambda.zip"
    )
    assert record.status is Status.DONE and record.run_env == result.run_env
    assert record.evidence["size"] == package.stat().st_size and len(record.evidence["sha256"]) == 64
    assert any("Deployment package created" in line for line in progress)  # streamed live
    log = Path(record.evidence["log"])
    assert log.is_relative_to(ctx.workspace.directory) and "export TF_VAR_lambda_zip_path" in log.read_text()
    assert lambdas.verify(ctx, record).holds

    # stage reuses the unchanged package, so dev keeps verifying
    stage = make_ctx("stage")
    stage_plan = lambdas.plan(stage, helpers.resolve(lambdas))
    assert stage_plan.data["reuse"] is not None and not stage_plan.commands
    _, stage_record = helpers.run_and_record(lambdas, stage)
    assert stage_record.run_env == record.run_env

    package.write_bytes(package.read_bytes() + b"x")
    stale = lambdas.verify(ctx, record)
    assert not stale.holds and "changed" in stale.reason
    package.unlink()
    gone = lambdas.verify(ctx, record)
    assert not gone.holds and "gone" in gone.reason


def test_accounts_without_the_lambda_are_not_applicable(make_ctx: MakeCtx) -> None:
    plan = lambdas.plan(make_ctx("shared-services"), helpers.resolve(lambdas))
    assert "no unit in shared-services deploys lambda/long-running-scheduled" in plan.not_applicable


def _script(make_ctx: MakeCtx, body: str) -> MakeCtx:
    ctx = make_ctx("dev")
    assert ctx.modules_dir is not None
    (ctx.modules_dir / SCRIPT).write_text("#!/bin/sh\n" + body)
    return make_ctx


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("echo 'compiling'\necho 'ERROR: zip exploded' >&2\nexit 4\n", "failed (exit 4)"),
        ("echo 'built it, somewhere'\n", "printed no instruction"),
        ("echo 'export TF_VAR_lambda_zip_path=/nonexistent/lambda.zip'\n", "there is no file /nonexistent"),
    ],
)
def test_a_bad_script_records_nothing(make_ctx: MakeCtx, body: str, says: str) -> None:
    _script(make_ctx, body)
    ctx = make_ctx("dev")
    plan = lambdas.plan(ctx, helpers.resolve(lambdas))
    with pytest.raises(StepError) as caught:
        lambdas.execute(ctx, plan)
    message = str(caught.value)
    assert says in message and "nothing was recorded" in message
    if "exit 4" in says:
        assert "ERROR: zip exploded" in message  # the last error lines
    assert "lambdas" not in ctx.workspace.load().steps


def test_no_build_scripts_says_where_it_looked(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = make_ctx("dev")
    ctx.modules_dir = tmp_path / "empty"
    with pytest.raises(StepError, match="no Lambda build script"):
        lambdas.plan(ctx, helpers.resolve(lambdas))
    ctx.modules_dir = make_ctx("dev").modules_dir
    with pytest.raises(StepError, match="no build script for 'nope'"):
        lambdas.plan(ctx, helpers.resolve(lambdas, function="nope"))
