"""AMIs with Packer (seed: "Build AMIs"), built once in the owning account (shared-services by default).

Templates and the units consuming their AMIs are found by `ami_templates`. Before anything runs, the
preflight checks, each with its fix: packer is installed (and new enough for the templates); the owning
account's identity is the one confirmed; its build region has exactly one VPC and a public subnet tagged
`gruntwork.io/allow-packer=true` (else: deploy `networking/vpc-mgmt` there); the base image filter finds
an image; `encrypt_boot` is not combined with sharing (encrypted AMIs may not be shared); every account
it is shared with has an ID. The build copy gets `ami_regions` = every region with a consuming unit and
`ami_users` = those units' accounts.

`packer build -machine-readable` runs with the owning account's environment only (`build_process`), its
progress shown per builder; `artifact,0,id` gives the AMI of each region. Cancel: SIGINT, then the process
group is stopped. A failed build shows packer's last errors and keeps its log. In the sandbox the copy
points at the emulator, with communicator none and no provisioners, and the step says so on screen.
Edits: each consuming unit gets the AMI of its own region; units no template feeds are named, not edited.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from refarch_tui.atomic import atomic_write_text
from refarch_tui.live.edits import EditRefused, PlannedEdit, plan_set_inputs
from refarch_tui.state import Status, StepRecord
from refarch_tui.steps import ami_templates
from refarch_tui.steps.ami_templates import Consumer, Template
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
from refarch_tui.tools import build_process, packer
from refarch_tui.tools.hints import TOOL_HINTS

STEP_ID = "amis"
VPC_MODULE = "networking/vpc-mgmt"

ANSWERS = (
    AnswerSpec(
        "templates",
        None,
        "the templates to build, by name (ecs-node) or path; default: every one that feeds a unit",
        kind="list",
    ),
    AnswerSpec(
        "modules_dir",
        None,
        "where the Packer templates are (your infrastructure-modules checkout); default: the workspace's "
        "(the sandbox's bundled sample modules); a new value is remembered for this workspace",
    ),
    AnswerSpec(
        "share",
        True,
        "share each AMI with the accounts whose units use it (ami_users); false: only this account's units",
        kind="bool",
    ),
    AnswerSpec(
        "encrypt_boot",
        False,
        "encrypt the root volume (encrypted AMIs may not be shared: needs share=false)",
        kind="bool",
    ),
    AnswerSpec("build_region", None, "the region packer builds in; default: the account's first region"),
)


def _modules_dir(ctx: StepContext, answers: Mapping[str, Any]) -> Path:
    given = str(answers.get("modules_dir") or "")
    folder = Path(given).expanduser() if given else ctx.modules_dir
    if folder is None or not folder.is_dir():
        raise StepError(
            f"no modules directory {'at ' + str(folder) if folder else 'is set'}: give modules_dir=<your "
            "infrastructure-modules checkout> (it is remembered for this workspace)"
        )
    return folder.resolve()


def _problem(what: str, fix: str) -> str:
    return f"✗ {what} — fix: {fix}"


def _chosen(templates: list[Template], wanted: list[str], fed: dict[str, list[Consumer]]) -> list[Template]:
    if not wanted:
        return [t for t in templates if fed.get(str(t.path)) and not t.hcl2]
    chosen = []
    for name in wanted:
        match = [t for t in templates if name in (t.name, str(t.path)) or str(t.path).endswith("/" + name)]
        if not match:
            raise StepError(f"no Packer template {name!r}; found: {', '.join(t.name for t in templates)}")
        chosen += [t for t in match if t not in chosen]
    return chosen


def _vpc_fix(ctx: StepContext, region: str) -> str:
    units = [
        u.path
        for u in ctx.tree.units_of(ctx.account)
        if u.path.endswith("/" + VPC_MODULE) and f"/{region}/" in f"/{u.path}/"
    ]
    where = f" (unit {units[0]})" if units else ""
    return (
        f"deploy {VPC_MODULE} in {ctx.account} {region}{where}: it tags its VPC and public subnets with "
        "gruntwork.io/allow-packer=true; then run this step again"
    )


def _preflight(
    ctx: StepContext,
    answers: Mapping[str, Any],
    info: packer.PackerInfo | None,
    chosen: list[Template],
    region: str,
    shared_ids: dict[str, str],
) -> tuple[list[str], list[str]]:
    """(lines that passed, problems with their fixes)."""
    from refarch_tui.aws import amis as ec2_amis

    passed: list[str] = []
    problems: list[str] = []
    if info is None:
        problems.append(_problem("packer is not installed (no `packer` on PATH)", TOOL_HINTS["packer"]))
    elif info.version is None or info.version < packer.MIN_VERSION:
        problems.append(
            _problem(
                f"packer {info.version_text} at {info.path} is too old or unreadable",
                f"install packer ≥ {'.'.join(map(str, packer.MIN_VERSION))}",
            )
        )
    else:
        passed.append(f"✓ packer {info.version_text} at {info.path}")
        for template in chosen:
            wanted = packer.parse_version(template.min_packer_version or "")
            if wanted is not None and info.version < wanted:
                problems.append(
                    _problem(
                        f"{template.path.name} needs packer ≥ {template.min_packer_version}, "
                        f"this is {info.version_text}",
                        "install a newer packer",
                    )
                )
    try:
        caller = ctx.clients("sts", region).get_caller_identity()
    except Exception as exc:  # any failure here means: not the confirmed identity
        problems.append(
            _problem(f"the identity of {ctx.account} cannot be confirmed ({exc})", "authenticate again")
        )
    else:
        if ctx.account_id and str(caller.get("Account")) != ctx.account_id:
            problems.append(
                _problem(
                    f"the credentials act in {caller.get('Account')}, not {ctx.account} ({ctx.account_id})",
                    f"authenticate to {ctx.account}",
                )
            )
        else:
            passed.append(f"✓ identity {caller.get('Arn')} in {ctx.account} ({caller.get('Account')})")

    ec2 = ctx.clients("ec2", region)
    try:
        network = ec2_amis.packer_network(ec2)
    except ec2_amis.AmiError as exc:
        problems.append(_problem(str(exc), "check the account's access to EC2"))
    else:
        if not network.vpc_ids:
            problems.append(
                _problem(f"no VPC tagged gruntwork.io/allow-packer=true in {region}", _vpc_fix(ctx, region))
            )
        elif len(network.vpc_ids) > 1:
            problems.append(
                _problem(
                    f"{len(network.vpc_ids)} VPCs are tagged gruntwork.io/allow-packer=true in {region} "
                    f"({', '.join(network.vpc_ids)}); packer needs exactly one",
                    "remove the tag from all but one",
                )
            )
        elif not network.public_subnet_ids:
            detail = (
                f" (tagged but private: {', '.join(network.private_subnet_ids)})"
                if network.private_subnet_ids
                else ""
            )
            problems.append(
                _problem(
                    f"no public subnet tagged gruntwork.io/allow-packer=true in {network.vpc_ids[0]}{detail}",
                    _vpc_fix(ctx, region),
                )
            )
        else:
            passed.append(
                f"✓ build VPC {network.vpc_ids[0]} with public subnet {network.public_subnet_ids[0]} "
                f"in {region}"
            )

    share = bool(answers.get("share"))
    for template in chosen:
        encrypt = bool(answers.get("encrypt_boot")) or template.encrypt_boot()
        if encrypt and (shared_ids or template.listed_users()):
            problems.append(
                _problem(
                    f"{template.path.name}: encrypt_boot together with ami_users — encrypted AMIs may not be "
                    "shared with other accounts",
                    "choose one: share=false (each account builds its own encrypted AMI) or encrypt_boot off",
                )
            )
        for builder in template.amazon:
            source_filter = template.value(builder, "source_ami_filter")
            if not isinstance(source_filter, dict):
                continue
            try:
                found = ec2_amis.source_images(ec2, source_filter)
            except ec2_amis.AmiError as exc:
                problems.append(_problem(str(exc), "check the account's access to EC2"))
                continue
            if not found:
                problems.append(
                    _problem(
                        f"{template.path.name} ({builder.name}): no base image in {region} matches its "
                        "source_ami_filter",
                        "check the filter's name pattern and owners, or the build region",
                    )
                )
            else:
                passed.append(f"✓ {builder.name}: base image {found[0]} in {region}")
    if share and shared_ids:
        passed.append("✓ ami_users: " + ", ".join(f"{name} ({i})" for name, i in sorted(shared_ids.items())))
    return passed, problems


def _share_targets(
    ctx: StepContext, consumers: list[Consumer], share: bool
) -> tuple[dict[str, str], list[str]]:
    """(account -> ID shared with, accounts lacking an ID)."""
    if not share:
        return {}, []
    ids = ctx.account_ids()
    accounts = sorted({c.account for c in consumers if c.account != ctx.account})
    missing = [a for a in accounts if a not in ids]
    return {a: ids[a] for a in accounts if a in ids and ids[a] != ctx.account_id}, missing


def plan(ctx: StepContext, answers: Mapping[str, Any]) -> StepPlan:
    modules_dir = _modules_dir(ctx, answers)
    env = build_process.build_env({}, region=ctx.region)
    info = packer.detect(env)
    hcl2 = info.hcl2 if info is not None else "none"
    templates = ami_templates.find_templates(modules_dir, hcl2=hcl2 != "none")
    consumers = ami_templates.consumers(ctx.tree, ctx.live_root, ctx.region)
    fed = {str(t.path): [c for c in consumers if ami_templates.feeds(t, c)] for t in templates if not t.hcl2}
    chosen = _chosen(templates, list(answers.get("templates") or []), fed)
    if not chosen:
        return StepPlan(
            STEP_ID,
            ctx.account,
            dict(answers),
            not_applicable=f"no Packer template under {modules_dir} feeds a unit with an AMI input",
        )
    region = str(answers.get("build_region") or ctx.region)
    share = bool(answers.get("share"))
    chosen_consumers = [c for t in chosen for c in fed.get(str(t.path), [])]
    shared_ids, missing_ids = _share_targets(ctx, chosen_consumers, share)
    passed, problems = _preflight(ctx, answers, info, chosen, region, shared_ids)
    if missing_ids:
        problems.append(
            _problem(
                f"no account ID for {', '.join(missing_ids)}, which use these AMIs (ami_users needs IDs)",
                "add the IDs to the workspace's accounts",
            )
        )
    endpoint = None
    if ctx.sandbox:
        endpoint = ctx.child_env().get("AWS_ENDPOINT_URL")
        if not endpoint:
            problems.append(_problem("the sandbox has no emulator endpoint", "start the sandbox again"))
    if problems:
        raise StepError("Build AMIs cannot start:\n" + "\n".join(problems + passed))

    result = StepPlan(STEP_ID, ctx.account, dict(answers))
    result.actions += passed
    plans = []
    for template in chosen:
        users = sorted(shared_ids.values()) if share else []
        fed_here = fed.get(str(template.path), [])
        regions = sorted({region, *(c.region for c in fed_here if share or c.account == ctx.account)})
        builders = ", ".join(b.name for b in template.amazon)
        result.actions.append(
            f"build {template.path.relative_to(modules_dir)} (builders: {builders}) "
            f"in {ctx.account} {region}; "
            f"ami_regions {', '.join(regions)}; "
            + (f"shared with {', '.join(sorted(shared_ids))}" if users else "not shared")
        )
        for consumer in fed_here:
            result.actions.append(
                f"  then {', '.join(consumer.inputs)} in {consumer.unit} ({consumer.region})"
            )
        result.commands.append(
            f"packer build -machine-readable <workspace>/builds/amis/{template.name}-<time>.json"
        )
        plans.append(
            {
                "template": str(template.path),
                "regions": regions,
                "account_ids": users,
                "shared_with": sorted(shared_ids) if users else [],
                "encrypt_boot": bool(answers.get("encrypt_boot")),
            }
        )
    fed_units = {c.unit for t in chosen for c in fed.get(str(t.path), [])}
    not_fed = [c for c in consumers if not any(ami_templates.feeds(t, c) for t in templates)]
    for consumer in not_fed:
        result.warnings.append(
            f"{consumer.unit}: no Packer template under the modules directory feeds {consumer.module} — "
            f"set {', '.join(consumer.inputs)} by hand"
        )
    for template in templates:
        if template.hcl2:
            support = "only partially (HCL2 beta)" if hcl2 == "partial" else "fully"
            result.warnings.append(
                f"{template.path.relative_to(modules_dir)} is HCL2: packer "
                f"{info.version_text if info else ''} "
                f"supports HCL2 {support}, and refarch-tui builds JSON templates only — build it yourself"
            )
        elif str(template.path) not in {p["template"] for p in plans} and not fed.get(str(template.path)):
            result.actions.append(f"not built: {template.path.relative_to(modules_dir)} (no unit uses it)")
    if ctx.sandbox:
        result.warnings.append(ami_templates.SKIPPED_PROVISIONING)
    result.data = {
        "modules_dir": str(modules_dir),
        "packer": info.path if info else "packer",
        "region": region,
        "endpoint": endpoint,
        "builds": plans,
        "fed_units": sorted(fed_units),
        "not_fed": [c.unit for c in not_fed],
    }
    return result


def _build_one(ctx: StepContext, plan: StepPlan, build: dict[str, Any], template: Template) -> dict[str, Any]:
    region = str(plan.data["region"])
    endpoint = plan.data.get("endpoint")
    document = ami_templates.build_copy(
        template,
        region=region,
        ami_regions=build["regions"],
        ami_users=build["account_ids"],
        encrypt_boot=bool(build["encrypt_boot"]),
        sandbox_endpoint=endpoint,
    )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    copy = ctx.workspace.directory / "builds" / "amis" / f"{template.name}-{stamp}.json"
    atomic_write_text(copy, json.dumps(document, indent=2) + "\n")
    variables = ami_templates.variable_overrides(
        template, {"aws_region": region, **({"custom_endpoint_ec2": endpoint} if endpoint else {})}
    )
    argv = packer.build_argv(str(plan.data["packer"]), str(copy), variables)
    log_path = build_process.log_path_for(ctx.workspace, STEP_ID, ctx.account, template.name)
    builders = [b.name for b in template.builders]
    ctx.progress(f"building {template.path.name} in {region} (full log: {log_path})")

    def on_line(raw: str) -> None:
        text = packer.progress_text(raw, builders)
        if text is not None:
            ctx.progress(text)

    ctx.check_cancel()
    built = build_process.run_build(
        argv,
        env=build_process.build_env(ctx.child_env(), region=region, extra={"CHECKPOINT_DISABLE": "1"}),
        cwd=template.path.parent,  # relative paths in the template are relative to where packer runs
        log_path=log_path,
        on_line=on_line,
        cancel=ctx.cancel,
    )
    if built.cancelled:
        raise StepCancelled(f"the packer build was cancelled; nothing was recorded (log: {log_path})")
    if not built.ok:
        said = packer.errors(built.stdout)
        tail = "\n".join(f"  {line}" for line in said[-5:])
        raise StepError(
            built.failure(f"packer build of {template.path.name}")
            + (f"\npacker said:\n{tail}" if tail else "")
            + "\nnothing was recorded"
        )
    try:
        per_builder = packer.artifact_amis(built.stdout)
    except packer.PackerOutputError as exc:
        raise StepError(f"{exc}; nothing was recorded (log: {log_path})") from None
    amis: dict[str, str] = {}
    for found in per_builder.values():
        amis.update(found)
    missing = [r for r in build["regions"] if r not in amis]
    if missing:
        raise StepError(
            f"packer built {template.path.name} but named no AMI for {', '.join(missing)} "
            f"(got {amis or 'none'}); nothing was recorded (log: {log_path})"
        )
    return {
        "template": str(template.path),
        "name": template.name,
        "region": region,
        "amis": amis,
        "account_ids": list(build["account_ids"]),
        "shared_with": list(build["shared_with"]),
        "log": str(log_path),
        "copy": str(copy),
        "provisioning_skipped": bool(endpoint),
    }


def _edits(
    ctx: StepContext, built: dict[str, Any], fed: list[Consumer], share: bool
) -> tuple[list[PlannedEdit], list[tuple[str, str]]]:
    edits: list[PlannedEdit] = []
    refused: list[tuple[str, str]] = []
    for consumer in fed:
        if not share and consumer.account != ctx.account:
            refused.append(
                (
                    consumer.unit,
                    f"{built['name']} is not shared (share=false): build it in {consumer.account}",
                )
            )
            continue
        ami = built["amis"].get(consumer.region)
        if ami is None:
            refused.append((consumer.unit, f"{built['name']} has no AMI in {consumer.region}"))
            continue
        try:
            edit = plan_set_inputs(
                ctx.tree,
                consumer.unit,
                dict.fromkeys(consumer.inputs, ami),
                reason=f"{built['name']} AMI in {consumer.region}",
            )
        except EditRefused as exc:
            refused.append((consumer.unit, exc.reason))
            continue
        if edit.new_text != edit.old_text:
            edits.append(edit)
    return edits, refused


def execute(ctx: StepContext, plan: StepPlan) -> StepResult:
    modules_dir = Path(str(plan.data["modules_dir"]))
    templates = {str(t.path): t for t in ami_templates.find_templates(modules_dir, hcl2=False)}
    consumers = ami_templates.consumers(ctx.tree, ctx.live_root, ctx.region)
    share = bool(plan.answers.get("share"))
    results: list[dict[str, Any]] = []
    edits: list[PlannedEdit] = []
    refused: list[tuple[str, str]] = []
    for build in plan.data["builds"]:
        template = templates.get(str(build["template"]))
        if template is None:
            raise StepError(
                f"{build['template']} is gone or no longer a Packer template; nothing was recorded"
            )
        built = _build_one(ctx, plan, build, template)
        results.append(built)
        fed = [c for c in consumers if ami_templates.feeds(template, c)]
        more_edits, more_refused = _edits(ctx, built, fed, share)
        edits += more_edits
        refused += more_refused
    for unit in plan.data["not_fed"]:
        refused.append((unit, "no Packer template under the modules directory feeds it: set its AMI by hand"))
    if plan.answers.get("modules_dir"):
        ctx.state.settings["modules_dir"] = str(modules_dir)  # remembered: saved with the record
    skipped = any(r["provisioning_skipped"] for r in results)
    summary = "; ".join(
        f"{r['name']}: " + ", ".join(f"{region} {ami}" for region, ami in sorted(r["amis"].items()))
        for r in results
    )
    shared = sorted({name for r in results for name in r["shared_with"]})
    message = f"built {summary}" + (f"; shared with {', '.join(shared)}" if shared else "; not shared")
    if skipped:
        message += f". {ami_templates.SKIPPED_PROVISIONING}"
    return StepResult(
        status=Status.DONE,
        facts={
            "amis": {r["name"]: dict(sorted(r["amis"].items())) for r in results},
            "shared_with": shared,
            "not_fed": list(plan.data["not_fed"]),
            "provisioning_skipped": skipped,
        },
        evidence={"builds": results},
        edits=edits,
        refused=refused,
        message=message,
    )


def verify(ctx: StepContext, record: StepRecord) -> Verification:
    from refarch_tui.aws import amis as ec2_amis

    for build in record.evidence.get("builds") or []:
        for region, ami in sorted(dict(build.get("amis") or {}).items()):
            try:
                problem = ec2_amis.image_problem(
                    ctx.clients("ec2", str(region)),
                    str(ami),
                    str(region),
                    list(build.get("account_ids") or []),
                )
            except ec2_amis.AmiError as exc:
                return Verification.stale(str(exc))
            if problem:
                return Verification.stale(f"{problem}: rerun amis")
    drift = hcl_drift(ctx.live_root, record)
    return Verification.stale(drift) if drift else Verification.ok()
