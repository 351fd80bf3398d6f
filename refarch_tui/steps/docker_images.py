"""Docker images (seed: "Build Docker images"), done once in the owning account (shared-services).

An app is what the units with both an `image` and a `version` input deploy, named by the image's repository
(`…/sample-app-backend` → sample-app-backend). Its source is `<apps_dir>/<app>` (the bundled sample apps
by default) and must hold a Dockerfile. The tag is the short git SHA of the source's repository, else a
UTC timestamp. In the owning account's ECR: the repository is created when missing (scan on push; tag
mutability as asked), its policy lets every deploying account pull; then `docker login --password-stdin`
(the token never in argv or a log), `docker build`, `docker tag`, `docker push`, streamed
(`tools.build_process`), and the digest docker prints is recorded.

Docker missing or its daemon down is said plainly. In the sandbox the step then does a SIMULATED push: it
registers the tag in the emulator's ECR with PutImage (no image is built), so edits, verify and apply work.
Edits: `version` (and `image` where the repository URI differs) in every unit of the app in every account.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refarch_tui import paths, secrets
from refarch_tui.live.edits import EditRefused, PlannedEdit, find_units_with_input, plan_set_inputs
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps.contract import (
    AnswerSpec,
    StepCancelled,
    StepContext,
    StepError,
    StepPlan,
    StepResult,
    Verification,
)
from refarch_tui.steps.record import hcl_drift
from refarch_tui.tools import build_process

STEP_ID = "docker_images"
SIMULATED = "SIMULATED push (no image built: the tag is registered in the emulator's ECR)"
_DIGEST = re.compile(r"digest:\s*(sha256:[0-9a-f]{64})")

ANSWERS = (
    AnswerSpec(
        "apps",
        None,
        "the apps to build (default: every app a unit deploys with image + version)",
        kind="list",
    ),
    AnswerSpec(
        "apps_dir",
        None,
        "where the app sources are (<apps_dir>/<app>/Dockerfile); default: the bundled samples",
    ),
    AnswerSpec(
        "tag", None, "the image tag (default: the short git SHA of the app's repository, else a timestamp)"
    ),
    AnswerSpec(
        "pushed_tag",
        None,
        "use an image already pushed to the owning account's ECR under this tag (no docker; checked in ECR)",
    ),
    AnswerSpec("immutable_tags", False, "create new repositories with immutable tags", kind="bool"),
    AnswerSpec(
        "simulate",
        "auto",
        "auto: a SIMULATED push in the sandbox when docker cannot build; always (sandbox only); never",
        kind="choice",
        choices=("auto", "always", "never"),
    ),
)


def _env(ctx: StepContext) -> dict[str, str]:
    return build_process.build_env({}, region=ctx.region)  # docker needs no AWS credentials of ours


def docker_problem(env: Mapping[str, str]) -> str | None:
    """None when docker can build here; else which of the two is wrong."""
    docker = shutil.which("docker", path=env.get("PATH"))
    if docker is None:
        return "docker is not installed (no `docker` on PATH): install Docker Engine or Docker Desktop"
    try:
        done = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=20,
            env=dict(env),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker is installed but does not answer ({exc}): start the Docker daemon"
    if done.returncode != 0 or not done.stdout.strip():
        said = (done.stderr or done.stdout).strip().splitlines()
        detail = secrets.redact(said[-1]) if said else ""
        return (
            f"docker is installed but its daemon is not running ({detail or 'no server version'}): start it"
        )
    return None


def find_apps(ctx: StepContext) -> dict[str, dict[str, Any]]:
    """app -> {"units": [paths], "accounts": [names], "images": {unit: image}}, from every account."""
    apps: dict[str, dict[str, Any]] = {}
    for unit in sorted(find_units_with_input(ctx.tree, "image", "version"), key=lambda u: u.path):
        if not unit.runnable or "image" not in unit.inputs or "version" not in unit.inputs:
            continue
        image = unit.inputs["image"]
        literal = isinstance(image, str) and "image" not in unit.unresolved
        name = str(image).rsplit("/", 1)[-1].split(":", 1)[0] if literal else unit.path.rsplit("/", 1)[-1]
        entry = apps.setdefault(name, {"units": [], "accounts": [], "images": {}})
        entry["units"].append(unit.path)
        if unit.account and unit.account not in entry["accounts"]:
            entry["accounts"].append(unit.account)
        entry["images"][unit.path] = str(image) if literal else ""
    return apps


def default_tag(source: Path, env: Mapping[str, str]) -> str:
    git = shutil.which("git", path=env.get("PATH"))
    if git is not None:
        try:
            done = subprocess.run(
                [git, "-C", str(source), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=20,
                env=dict(env),
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0 and re.fullmatch(r"[0-9a-f]{4,40}", done.stdout.strip()):
            return done.stdout.strip()
    return time.strftime("%Y%m%d%H%M%S", time.gmtime())


def source_digest(source: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    apps = find_apps(ctx)
    if not apps:
        return StepPlan(
            STEP_ID, ctx.account, dict(answers), not_applicable="no unit has both image and version"
        )
    wanted = list(answers.get("apps") or apps)
    unknown = [a for a in wanted if a not in apps]
    if unknown:
        raise StepError(f"no unit deploys {', '.join(unknown)}; the apps are: {', '.join(apps)}")
    apps_dir = Path(str(answers.get("apps_dir") or paths.sample_apps_dir())).expanduser()
    env = _env(ctx)
    simulate = str(answers.get("simulate") or "auto")
    pushed_tag = str(answers.get("pushed_tag") or "")
    problem = None if simulate == "always" or pushed_tag else docker_problem(env)
    simulated = not pushed_tag and (
        simulate == "always" or (problem is not None and simulate == "auto" and ctx.sandbox)
    )
    if simulated and not ctx.sandbox:
        raise StepError(
            "a SIMULATED push only exists in the sandbox; use simulate=never with a working docker"
        )
    if problem is not None and not simulated:
        raise StepError(problem + ("" if ctx.sandbox else "; then run this step again"))
    ids = ctx.account_ids()
    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    if problem is not None:
        result.warnings.append(f"{problem} — so this run does a {SIMULATED}")
    elif simulated:
        result.warnings.append(f"simulate=always: a {SIMULATED}")
    chosen: list[dict[str, Any]] = []
    for app in wanted:
        source = apps_dir / app
        if not pushed_tag and not (source / "Dockerfile").is_file():
            raise StepError(f"{source} has no Dockerfile: put the app's source there or set apps_dir")
        tag = pushed_tag or str(answers.get("tag") or default_tag(source, env))
        accounts = apps[app]["accounts"]
        missing = [a for a in accounts if a not in ids]
        if missing:
            raise StepError(f"no account ID for {', '.join(missing)}: the pull policy needs them")
        chosen.append(
            {"app": app, "source": str(source), "tag": tag, "units": apps[app]["units"], "accounts": accounts}
        )
        result.actions.append(
            f"{app}: ECR repository in {ctx.account} ({ctx.region}), created if missing (scan on push); "
            f"pull allowed for {', '.join(accounts)}; tag {tag}"
        )
        if pushed_tag:
            result.actions.append(f"{app}: use the image already pushed as {tag} (checked in ECR, no docker)")
        elif simulated:
            result.actions.append(f"{app}: {SIMULATED}")
        else:
            result.commands += [
                "docker login --username AWS --password-stdin <registry>  (token on stdin, never shown)",
                f"docker build -t {app}:{tag} {source}",
                f"docker tag {app}:{tag} <repository URI>:{tag}",
                f"docker push <repository URI>:{tag}",
            ]
        result.actions.append(
            f"{app}: set version (and image when it differs) in {len(apps[app]['units'])} units"
        )
    result.data = {"apps": chosen, "simulated": simulated, "existing": bool(pushed_tag)}
    return result


def _docker(
    ctx: StepContext, argv: list[str], label: str, stdin: bytes | None = None
) -> build_process.BuildResult:
    ctx.check_cancel()
    log_path = build_process.log_path_for(ctx.workspace, STEP_ID, ctx.account, label)
    built = build_process.run_build(
        argv,
        env=_env(ctx),
        cwd=ctx.workspace.directory,
        log_path=log_path,
        on_line=ctx.progress,
        cancel=ctx.cancel,
        stdin_data=stdin,
    )
    if built.cancelled:
        raise StepCancelled(f"{' '.join(argv[:2])} was cancelled; nothing was recorded")
    if not built.ok:
        raise StepError(built.failure(" ".join(argv[:2])) + "\nnothing was recorded")
    return built


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    from refarch_tui.aws import ecr

    ids = ctx.account_ids()
    client = ctx.clients("ecr", ctx.region)
    simulated = bool(plan.data["simulated"])
    immutable = bool(plan.answers.get("immutable_tags"))
    images: list[dict[str, Any]] = []
    edits: list[PlannedEdit] = []
    refused: list[tuple[str, str]] = []
    logged_in: set[str] = set()
    for app in plan.data["apps"]:
        name, tag, source = app["app"], app["tag"], Path(app["source"])
        try:
            existing = ecr.image_digest(client, name, tag) if plan.data.get("existing") else None
            if plan.data.get("existing") and existing is None:
                raise StepError(
                    f"ECR in {ctx.account} ({ctx.region}) has no {name}:{tag}; push it first or drop "
                    "pushed_tag; nothing was recorded"
                )
            uri, created = ecr.ensure_repository(client, name, immutable=immutable)
            account_ids = sorted({ids[a] for a in app["accounts"]})
            ecr.set_pull_policy(client, name, account_ids)
            ctx.progress(f"{name}: repository {uri} ({'created' if created else 'exists'}); pull policy set")
            if existing is not None:
                digest = existing
                ctx.progress(f"{name}: found {uri}:{tag} in ECR ({digest})")
            elif simulated:
                ctx.progress(f"{name}: {SIMULATED}")
                digest = ecr.simulated_push(client, name, tag, source_digest(source))
            else:
                registry = uri.split("/", 1)[0]
                if registry not in logged_in:
                    username, password, _endpoint = ecr.login_token(client)
                    _docker(
                        ctx,
                        ["docker", "login", "--username", username, "--password-stdin", registry],
                        f"{name}-login",
                        stdin=password.encode(),
                    )
                    logged_in.add(registry)
                _docker(ctx, ["docker", "build", "-t", f"{name}:{tag}", str(source)], f"{name}-build")
                _docker(ctx, ["docker", "tag", f"{name}:{tag}", f"{uri}:{tag}"], f"{name}-tag")
                pushed = _docker(ctx, ["docker", "push", f"{uri}:{tag}"], f"{name}-push")
                found = [m.group(1) for line in pushed.lines if (m := _DIGEST.search(line))]
                digest = found[-1] if found else ""
                if ctx.sandbox and ecr.image_digest(client, name, tag) is None:
                    # the emulator's ECR has no registry endpoint for docker to push to
                    ctx.progress(f"{name}: sandbox: registering {tag} in the emulator's ECR (PutImage)")
                    ecr.simulated_push(client, name, tag, source_digest(source))
        except ecr.EcrError as exc:
            raise StepError(str(exc)) from None
        images.append(
            {
                "app": name,
                "repository": name,
                "uri": uri,
                "region": ctx.region,
                "tag": tag,
                "digest": digest,
                "account_ids": account_ids,
                "simulated": simulated,
                "created": created,
            }
        )
        for unit in app["units"]:
            values: dict[str, object] = {"version": tag}
            if find_image(ctx, unit) != uri:
                values["image"] = uri
            try:
                edit = plan_set_inputs(ctx.tree, unit, values, reason=f"{name} image {uri}:{tag}")
            except EditRefused as exc:
                refused.append((unit, exc.reason))
                continue
            if edit.new_text != edit.old_text:
                edits.append(edit)
    label = " (SIMULATED push)" if simulated else ""
    return StepResult(
        status=Status.DONE,
        facts={"images": [f"{i['uri']}:{i['tag']}" for i in images], "simulated": simulated},
        evidence={"images": images},
        edits=edits,
        refused=refused,
        message=f"pushed {', '.join(i['app'] + ':' + i['tag'] for i in images)}{label}",
    )


def find_image(ctx: StepContext, unit_path: str) -> str:
    unit = ctx.tree.units.get(unit_path)
    return str(unit.inputs.get("image", "")) if unit is not None else ""


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    from refarch_tui.aws import ecr

    for image in record.evidence.get("images") or []:
        client = ctx.clients("ecr", str(image["region"]))
        if ecr.image_digest(client, str(image["repository"]), str(image["tag"])) is None:
            return Verification.stale(
                f"ECR has no {image['uri']}:{image['tag']} any more: rerun docker_images"
            )
        missing = ecr.policy_missing(client, str(image["repository"]), list(image["account_ids"]))
        if missing:
            return Verification.stale(
                f"the policy of {image['repository']} no longer lets {', '.join(missing)} pull: "
                "rerun docker_images"
            )
    drift = hcl_drift(ctx.live_root, record)
    return Verification.stale(drift) if drift else Verification.ok()
