"""docker_images with a fake `docker` on PATH (argv and stdin use recorded, failures on demand) and ECR in
the emulator: repository, pull policy, login via stdin, build/tag/push streamed, digest recorded, edits of
version in every app unit, verify; no docker at all -> SIMULATED push; daemon down said plainly."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from refarch_tui.state import Status
from refarch_tui.steps import docker_images
from refarch_tui.steps.contract import StepError
from tests.aws.conftest import ACCOUNTS
from tests.steps import fake_docker, helpers
from tests.steps.conftest import MakeCtx

APPS = ("sample-app-backend", "sample-app-frontend")
APP_ACCOUNTS = {"dev", "stage", "prod"}


@pytest.fixture
def docker_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    record = tmp_path / "docker-calls"
    fake_docker.install(tmp_path / "fake-bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'fake-bin'}:/usr/bin:/bin")
    return record


def _units(ctx_live: Path, app: str) -> list[Path]:
    return sorted(ctx_live.glob(f"*/*/services/{app}/terragrunt.hcl"))


def test_build_tag_push_with_the_fake_docker(make_ctx: MakeCtx, docker_record: Path) -> None:
    progress: list[str] = []
    ctx = make_ctx("shared-services", progress=progress.append)
    plan = docker_images.plan(ctx, helpers.resolve(docker_images, tag="t1"))
    assert not plan.data["simulated"] and not plan.warnings
    result, record = helpers.run_and_record(docker_images, ctx, tag="t1")
    assert record.status is Status.DONE and not result.facts["simulated"]
    calls = fake_docker.calls(docker_record)
    verbs = [c["argv"][0] for c in calls]
    assert verbs[0] == "version"  # plan checks the daemon
    work = [v for v in verbs if v != "version"]
    assert work == ["login", "build", "tag", "push", "build", "tag", "push"]  # one registry, one login
    ecr = ctx.clients("ecr", "us-east-1")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]
    login = next(c for c in calls if c["argv"][0] == "login")
    assert "--password-stdin" in login["argv"] and login["stdin"]["length"] == len(password)
    assert not any(password in " ".join(c["argv"]) or token in " ".join(c["argv"]) for c in calls)
    for path in ctx.workspace.directory.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert password not in text and token not in text, path
    assert any("digest: sha256:" in line for line in progress)  # streamed
    for image in record.evidence["images"]:
        assert image["digest"].startswith("sha256:") and not image["simulated"]
        assert set(image["account_ids"]) == {ACCOUNTS[a] for a in APP_ACCOUNTS}
        repo = ecr.describe_repositories(repositoryNames=[image["repository"]])["repositories"][0]
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
        policy = json.loads(ecr.get_repository_policy(repositoryName=image["repository"])["policyText"])
        statement = policy["Statement"][0]
        assert set(statement["Action"]) == set(docker_images_pull())
    for app in APPS:
        files = _units(ctx.live_root, app)
        assert len(files) == 4  # dev, stage, prod us-east-1, prod us-west-2
        assert all('version                 = "t1"' in f.read_text() for f in files), app


def docker_images_pull() -> tuple[str, ...]:
    from refarch_tui.aws.ecr import PULL_ACTIONS

    return PULL_ACTIONS


def test_verify_goes_stale_when_the_image_or_policy_goes(make_ctx: MakeCtx, docker_record: Path) -> None:
    ctx = make_ctx("shared-services")
    _, record = helpers.run_and_record(docker_images, ctx, tag="t2")
    assert docker_images.verify(ctx, record).holds
    ecr = ctx.clients("ecr", "us-east-1")
    ecr.delete_repository_policy(repositoryName="sample-app-frontend")
    stale = docker_images.verify(ctx, record)
    assert not stale.holds and "no longer lets" in stale.reason
    ecr.batch_delete_image(repositoryName="sample-app-backend", imageIds=[{"imageTag": "t2"}])
    gone = docker_images.verify(ctx, record)
    assert not gone.holds and "ECR has no" in gone.reason


def test_no_docker_at_all_gives_a_labelled_simulated_push(
    make_ctx: MakeCtx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    ctx = make_ctx("shared-services")
    plan = docker_images.plan(ctx, helpers.resolve(docker_images))
    assert plan.data["simulated"]
    assert any("docker is not installed" in w and "SIMULATED" in w for w in plan.warnings)
    tag = plan.data["apps"][0]["tag"]
    assert tag.isdigit() and len(tag) == 14  # no git on PATH: a timestamp
    result, record = helpers.run_and_record(docker_images, ctx)
    assert result.facts["simulated"] and "SIMULATED" in result.message
    ecr = ctx.clients("ecr", "us-east-1")
    found = ecr.describe_images(repositoryName="sample-app-backend", imageIds=[{"imageTag": tag}])
    assert found["imageDetails"]
    assert docker_images.verify(ctx, record).holds


def test_daemon_down_is_said_and_refused_outside_the_sandbox(
    make_ctx: MakeCtx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "calls"
    fake_docker.install(tmp_path / "bin", record, no_daemon=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    ctx = make_ctx("shared-services")
    plan = docker_images.plan(ctx, helpers.resolve(docker_images))
    assert plan.data["simulated"] and any("daemon is not running" in w for w in plan.warnings)
    ctx.sandbox = False
    with pytest.raises(StepError, match="daemon is not running"):
        docker_images.plan(ctx, helpers.resolve(docker_images))
    with pytest.raises(StepError, match="only exists in the sandbox"):
        docker_images.plan(ctx, helpers.resolve(docker_images, simulate="always"))


def test_a_failing_push_records_nothing(
    make_ctx: MakeCtx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "calls"
    fake_docker.install(tmp_path / "bin", record, fail="push")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    ctx = make_ctx("shared-services")
    plan = docker_images.plan(ctx, helpers.resolve(docker_images, tag="t3"))
    with pytest.raises(StepError) as caught:
        docker_images.execute(ctx, plan)
    assert "docker push failed (exit 1)" in str(caught.value)
    assert "fake docker push failed on demand" in str(caught.value)
    assert "docker_images" not in ctx.workspace.load().steps


def test_an_app_without_a_dockerfile_is_refused(
    make_ctx: MakeCtx, tmp_path: Path, docker_record: Path
) -> None:
    (tmp_path / "apps" / "sample-app-backend").mkdir(parents=True)
    ctx = make_ctx("shared-services")
    with pytest.raises(StepError, match="has no Dockerfile"):
        docker_images.plan(ctx, helpers.resolve(docker_images, apps_dir=str(tmp_path / "apps")))


def test_an_already_pushed_tag_is_checked_in_ecr_without_docker(
    make_ctx: MakeCtx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ctx = make_ctx("shared-services")
    ecr = ctx.clients("ecr", "us-east-1")
    plan = docker_images.plan(
        ctx, helpers.resolve(docker_images, pushed_tag="v9", apps=["sample-app-backend"])
    )
    assert not plan.warnings and not plan.commands
    with pytest.raises(StepError, match="has no sample-app-backend:v9"):
        docker_images.execute(ctx, plan)
    assert not ecr.describe_repositories()["repositories"]  # nothing created for a tag that is not there
    from refarch_tui.aws import ecr as ecr_module

    ecr_module.ensure_repository(ecr, "sample-app-backend", immutable=False)
    ecr_module.simulated_push(ecr, "sample-app-backend", "v9", "0" * 64)
    _result, record = helpers.run_and_record(docker_images, ctx, pushed_tag="v9", apps=["sample-app-backend"])
    assert record.evidence["images"][0]["digest"].startswith("sha256:")
    assert docker_images.verify(ctx, record).holds
    assert all(
        'version                 = "v9"' in f.read_text() for f in _units(ctx.live_root, "sample-app-backend")
    )
