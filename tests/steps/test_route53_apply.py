"""The Route 53 step's queued import reaches the runner (fake terragrunt), and what the apply changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from refarch_tui.steps import followups, route53
from refarch_tui.steps.contract import StepContext
from tests.run.helpers import calls, make_run
from tests.steps import helpers
from tests.steps.conftest import MakeCtx, add_zone

UNIT = "dev/us-east-1/networking/route53-public"
ADDRESS = "aws_route53_zone.primary_domain"


async def _apply_dev(ctx: StepContext) -> None:
    run = make_run(ctx.workspace, ctx.state, accounts=["dev"])
    await run.execute()
    assert run.succeeded(), run.report()


async def test_the_import_queued_by_the_step_runs_before_the_accounts_apply(
    make_ctx: MakeCtx, fake_tg: Path
) -> None:
    ctx = make_ctx("dev")
    zone_id = add_zone(ctx, "acme-dev.com")
    helpers.run_and_record(route53, ctx)
    await _apply_dev(ctx)
    recorded = calls(fake_tg)
    assert recorded[0].get("import"), recorded[0]
    assert recorded[0]["argv"][-3:] == ["import", ADDRESS, zone_id]
    assert recorded[0]["cwd"].endswith(UNIT)
    assert recorded[0]["end"] <= recorded[1]["start"]
    assert recorded[1]["argv"][-2:] == ["--", "apply"] and recorded[1]["working_dir"].endswith("/dev")
    assert len([c for c in recorded if c.get("import")]) == 1


async def test_resource_already_managed_by_terraform_counts_as_done(
    make_ctx: MakeCtx, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_IMPORT_MANAGED", "1")
    ctx = make_ctx("dev")
    add_zone(ctx, "acme-dev.com")
    helpers.run_and_record(route53, ctx)
    run = make_run(ctx.workspace, ctx.state, accounts=["dev"])
    await run.execute()
    assert run.succeeded()
    log = run.accounts["dev"].units[UNIT].log_path.read_text()
    assert "Error: Resource already managed by Terraform" in log
    assert f"{ADDRESS} is already managed by Terraform: the queued import counts as done" in log
    assert calls(fake_tg)[-1]["argv"][-2:] == ["--", "apply"]


async def test_a_failed_import_stops_the_account_with_the_reason(
    make_ctx: MakeCtx, fake_tg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = tmp_path / "failing-bin"
    failing.mkdir()
    real = Path(__file__).resolve().parents[1] / "run" / "bin" / "terragrunt"
    (failing / "terragrunt").write_text(
        '#!/bin/sh\ncase " $* " in *" import "*)'
        " echo 'Error: Cannot import non-existent remote object' >&2;"
        f' exit 1;; esac\nexec {real} "$@"\n'
    )
    (failing / "terragrunt").chmod(0o755)
    monkeypatch.setenv("PATH", f"{failing}:{Path(real).parent}:/usr/bin:/bin")
    ctx = make_ctx("dev")
    add_zone(ctx, "acme-dev.com")
    helpers.run_and_record(route53, ctx)
    run = make_run(ctx.workspace, ctx.state, accounts=["dev"])
    await run.execute()
    assert not run.succeeded()
    unit = run.accounts["dev"].units[UNIT]
    assert "the queued import of aws_route53_zone.primary_domain" in unit.note
    assert not any(c["argv"][-2:] == ["--", "apply"] for c in calls(fake_tg))


async def test_after_terraform_created_the_zone_its_name_servers_are_shown(
    make_ctx: MakeCtx, fake_tg: Path
) -> None:
    ctx = make_ctx("dev")
    _result, _record = helpers.run_and_record(route53, ctx)
    assert list(followups.due(ctx.workspace, ctx.state)) == []  # nothing to point at before the apply
    await _apply_dev(ctx)
    [due] = [f for f in followups.due(ctx.workspace, ctx.state) if f["step"] == "route53"]
    assert due["account"] == "dev" and "point the registrar of acme-dev.com" in due["message"]
    assert due["command"].endswith(
        "step route53 --workspace " + str(ctx.workspace.directory) + " --account dev"
    )

    zone_id = add_zone(ctx, "acme-dev.com", "Public zone for the dev environment")  # what the apply created
    assert route53.verify(make_ctx("dev"), ctx.state.record("route53", "dev")).holds
    again = helpers.run(route53, make_ctx("dev"))
    assert again.imports == []  # Terraform holds it already
    zone = again.facts["zones"][0]
    assert zone["action"] == "managed" and zone["zone_id"] == zone_id and zone["name_servers"]
    assert f"point its registrar at {', '.join(zone['name_servers'])}" in again.message
