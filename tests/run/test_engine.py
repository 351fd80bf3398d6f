"""The engine against the fake terragrunt: order, retries, reruns, cancel, redaction, exit codes."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from refarch_tui import secrets
from refarch_tui.run import store
from refarch_tui.run.env import AccountEnvPlan
from refarch_tui.run.model import EventKind, RunEvent, UnitStatus
from refarch_tui.run.terragrunt_exec import group_members
from refarch_tui.state import Status, Workspace, WorkspaceState
from tests.run.helpers import attempts, calls, calls_for, make_run, statuses, use_fake_version

MakeWs = Callable[..., tuple[Workspace, WorkspaceState]]
VPC = "us-east-1/networking/vpc"
APP = "us-east-1/services/app"
IAM = "_global/iam"


async def test_accounts_run_in_deployment_order(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.02")
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state)
    await run.execute()
    assert run.succeeded(), statuses(run)
    span = {}
    for name in ("security", "shared-services", "dev", "stage", "prod"):
        (call,) = calls_for(fake_tg, name)
        span[name] = (call["start"], call["end"])
        # 1.x: the account-level root terragrunt.hcl is left out of the queue
        argv = call["argv"]
        assert argv[argv.index("--queue-exclude-dir") + 1] == "."
        assert argv[-2:] == ["--", "apply"] and "--non-interactive" in argv
        assert call["env"]["AWS_REGION"] == "us-east-1"
    assert span["security"][1] <= span["shared-services"][0]
    apps = [span[n] for n in ("dev", "stage", "prod")]
    assert span["shared-services"][1] <= min(start for start, _ in apps)
    # dev, stage and prod ran in parallel: each started before any of them finished
    assert max(start for start, _ in apps) < min(end for _, end in apps)
    assert all(u.attempts == 1 for u in run.units)
    # state records the apply per account
    assert workspace.load().record("terragrunt", "dev").status is Status.DONE


async def test_selected_accounts_only(tiny_live: Path, make_workspace: MakeWs, fake_tg: Path) -> None:
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["stage", "security"])
    await run.execute()
    assert list(run.accounts) == ["security", "stage"]
    assert [c["working_dir"].rsplit("/", 1)[-1] for c in calls(fake_tg)] == ["security", "stage"]


async def test_transient_error_retried_by_terragrunt_then_runner_with_honest_attempts(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vpc: the alarm error survives terragrunt's own 3 attempts, the runner's rerun (4th attempt) succeeds;
    # iam: one TLS timeout, absorbed by terragrunt's own retry (2 attempts, one invocation)
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:alarm-in-progress:3,dev/{IAM}:tls-timeout:1")
    workspace, state = make_workspace(tiny_live)
    events: list[RunEvent] = []
    run = make_run(workspace, state, accounts=["dev"], events=events)
    await run.execute()
    assert run.succeeded(), statuses(run)
    counts = attempts(run)
    assert counts[f"dev/{VPC}"] == 4
    assert counts[f"dev/{IAM}"] == 2
    assert counts[f"dev/{APP}"] == 1  # early exit the first time: it never ran then
    first, second = calls_for(fake_tg, "dev")
    assert "--queue-include-dir" not in first["argv"]
    included = [second["argv"][i + 1] for i, a in enumerate(second["argv"]) if a == "--queue-include-dir"]
    assert sorted(included) == sorted([APP, VPC])  # the failed unit and its skipped dependent, nothing else
    recovered = {(r.unit, r.error_id, r.by) for r in run.known_errors if r.recovered}
    assert (f"dev/{VPC}", "alarm-in-progress", "runner") in recovered
    assert (f"dev/{IAM}", "tls-timeout", "terragrunt") in recovered
    assert any(e.kind is EventKind.UNIT_RETRIED and e.unit == f"dev/{VPC}" for e in events)


async def test_modules_not_found_reruns_with_source_update(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:modules-not-found:5")
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"])
    await run.execute()
    assert run.succeeded(), statuses(run)
    first, second = calls_for(fake_tg, "dev")
    assert "--source-update" not in first["argv"] and "TG_SOURCE_UPDATE" not in first["env"]
    assert "--source-update" in second["argv"] and second["env"]["TG_SOURCE_UPDATE"] == "true"


@pytest.mark.parametrize(("fault", "waits"), [("modules-not-found", False), ("throttling", True)])
async def test_only_transient_errors_wait_before_the_rerun(
    tiny_live: Path,
    make_workspace: MakeWs,
    fake_tg: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    waits: bool,
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:{fault}:1")
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"], backoff_base=5.0)
    pauses: list[float] = []

    async def record_pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(run, "_sleep", record_pause)
    await run.execute()
    assert run.succeeded(), statuses(run)
    assert pauses == ([5.0] if waits else [0.0])


async def test_v0_retry_uses_strict_include_dir(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_version(monkeypatch, "0.67.16")
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:throttling:1")
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"])
    await run.execute()
    assert run.engine == "terragrunt-0"
    assert run.succeeded(), statuses(run)
    assert attempts(run)[f"dev/{VPC}"] == 2
    first, second = calls_for(fake_tg, "dev")
    assert first["argv"][:3] == ["run-all", "apply", "--terragrunt-non-interactive"]
    included = [
        second["argv"][i + 1] for i, a in enumerate(second["argv"]) if a == "--terragrunt-include-dir"
    ]
    assert sorted(included) == sorted([APP, VPC]) and "--terragrunt-strict-include" in second["argv"]


async def test_retries_are_bounded(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:throttling:99")
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"], max_auto_retries=2)
    await run.execute()
    assert len(calls_for(fake_tg, "dev")) == 3
    assert statuses(run)[f"dev/{VPC}"] == "failed" and attempts(run)[f"dev/{VPC}"] == 3
    assert statuses(run)[f"dev/{APP}"] == "skipped"
    assert "gave up" in run.accounts["dev"].units[f"dev/{VPC}"].note


async def test_suggestion_is_not_retried_and_later_accounts_wait(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", f"security/{VPC}:state-lock:1")
    workspace, state = make_workspace(tiny_live)
    events: list[RunEvent] = []
    run = make_run(workspace, state, events=events)
    await run.execute()
    assert len(calls(fake_tg)) == 1  # no automatic rerun, and shared-services etc. never started
    unit = run.accounts["security"].units[f"security/{VPC}"]
    assert unit.status is UnitStatus.FAILED and unit.known_error == "state-lock"
    assert "force-unlock" in unit.note
    assert statuses(run)[f"security/{APP}"] == "skipped"
    assert all(
        u.status is UnitStatus.SKIPPED
        for n in ("shared-services", "dev")
        for u in run.accounts[n].units.values()
    )
    assert any(r.by == "operator" and r.error_id == "state-lock" for r in run.known_errors)
    assert workspace.load().record("terragrunt", "security").status is Status.FAILED
    assert run.not_succeeded()["security"] == [f"security/{VPC}", f"security/{APP}"]


async def test_v1_exit_zero_with_failures_is_still_failed(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:generic:9")
    monkeypatch.setenv("FAKE_TG_EXIT0", "1")
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"])
    await run.execute()
    assert run.accounts["dev"].exit_codes == [0]
    assert statuses(run)[f"dev/{VPC}"] == "failed"
    assert statuses(run)[f"dev/{APP}"] == "skipped"
    assert not run.succeeded()
    report = run.report()
    units = {u["path"]: u["status"] for u in report["accounts"][0]["units"]}
    assert units[f"dev/{VPC}"] == "failed"


async def test_v1_exit_zero_with_failures_without_report_file(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even without the report file (0.98-rc had no fix), the parsed 'Run failed' block marks the unit."""
    from refarch_tui.run.terragrunt_exec import TerragruntExecutor
    from refarch_tui.tools import terragrunt as tg

    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:generic:9")
    monkeypatch.setenv("FAKE_TG_EXIT0", "1")
    workspace, state = make_workspace(tiny_live)
    import shutil

    path = shutil.which("terragrunt")
    assert path
    info = tg.TerragruntInfo(path, (0, 98, 0), tg.Generation.V1, has_report_file=False, has_queue_flags=True)
    run = make_run(workspace, state, accounts=["dev"], executor=TerragruntExecutor(info))
    await run.execute()
    assert "--report-file" not in calls_for(fake_tg, "dev")[0]["argv"]
    assert statuses(run)[f"dev/{VPC}"] == "failed" and not run.succeeded()


async def test_rerun_failed_runs_only_what_did_not_succeed(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TG_FAIL", f"dev/{VPC}:generic:1")
    workspace, state = make_workspace(tiny_live)
    first = make_run(workspace, state, accounts=["dev", "stage"])
    await first.execute()
    targets = first.not_succeeded()
    assert targets == {"dev": [f"dev/{VPC}", f"dev/{APP}"]}
    second = make_run(workspace, state, accounts=list(targets), only_units=targets)
    await second.execute()
    assert second.succeeded()
    assert sorted(u.path for u in second.units) == sorted(targets["dev"])
    argv = calls_for(fake_tg, "dev")[-1]["argv"]
    included = sorted(argv[i + 1] for i, a in enumerate(argv) if a == "--queue-include-dir")
    assert included == sorted([APP, VPC])
    assert workspace.load().record("terragrunt", "dev").status is Status.DONE


async def _wait_for(events: list[RunEvent], kind: EventKind, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(e.kind is kind for e in events):
        assert loop.time() < deadline, f"no {kind} within {timeout}s"
        await asyncio.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("ignore_sigint", [False, True])
async def test_cancel_stops_the_whole_process_group(
    tiny_live: Path,
    make_workspace: MakeWs,
    fake_tg: Path,
    monkeypatch: pytest.MonkeyPatch,
    ignore_sigint: bool,
) -> None:
    monkeypatch.setenv("FAKE_TG_SLOW", "0.3")
    monkeypatch.setenv("FAKE_TG_CHILD", "1")
    if ignore_sigint:
        monkeypatch.setenv("FAKE_TG_IGNORE_INT", "1")
    workspace, state = make_workspace(tiny_live)
    events: list[RunEvent] = []
    run = make_run(workspace, state, events=events, cancel_grace=0.5, term_grace=0.5)
    task = asyncio.create_task(run.execute())
    await _wait_for(events, EventKind.UNIT_STARTED)
    (pid_file,) = list(fake_tg.glob("child-*.pid"))
    leader = int(pid_file.name.split("-")[1].split(".")[0])
    child = int(pid_file.read_text())
    assert _alive(child)
    run.cancel()
    await asyncio.wait_for(task, 30)
    assert run._cancel_task is not None
    await run._cancel_task
    assert not _alive(leader) and not _alive(child)
    assert group_members(leader) == []  # nothing of the group runs any more (zombies aside)
    assert run.cancelled
    assert all(u.status is UnitStatus.SKIPPED for u in run.accounts["dev"].units.values())
    assert any(u.status is UnitStatus.CANCELLED for u in run.accounts["security"].units.values())
    assert run.summary()["cancelled"] is True


async def test_injected_secret_never_reaches_disk_or_events(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Zq8!hunter2-correct-horse-battery"
    secrets.store("dev-mysql-master-password", secret)
    secrets.forget_all_registered()  # as in a fresh process: the runner must register it itself
    monkeypatch.setenv("FAKE_TG_ECHO_ENV", "TF_VAR_master_password")
    workspace, state = make_workspace(tiny_live)
    plan = AccountEnvPlan(
        "dev", "us-east-1", secret_names={"TF_VAR_master_password": "dev-mysql-master-password"}
    )
    events: list[RunEvent] = []
    run = make_run(workspace, state, accounts=["dev"], events=events, env_plans={"dev": plan})
    await run.execute()
    assert run.succeeded()
    (call,) = calls_for(fake_tg, "dev")
    assert call["has_secret_env"] == ["TF_VAR_master_password"]  # it did reach the child, via env only
    assert secret not in " ".join(call["argv"])
    log_text = run.accounts["dev"].units[f"dev/{VPC}"].log_path.read_text()
    assert "database password is ***REDACTED***" in log_text
    for path in [*workspace.directory.rglob("*"), *run.directory.rglob("*")]:
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    assert not any(secret in e.message for e in events)
    assert not any(secret in line for u in run.units for line in u.log)
    assert secret not in str(run.report()) and secret not in str(run.summary())


async def test_a_secret_in_an_over_long_line_is_redacted_whole(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each unit prints a 2 MiB line (longer than the pump's MAX_LINE, so it is passed on in pieces) with the
    password straddling every 4 KiB boundary; no piece may hold a part of it."""
    secret = "Zq8!hunter2-correct-horse-battery"
    secrets.store("dev-mysql-master-password", secret)
    secrets.forget_all_registered()
    monkeypatch.setenv("FAKE_TG_ECHO_ENV", "TF_VAR_master_password")
    monkeypatch.setenv("FAKE_TG_LONG_LINE", str(2 << 20))
    workspace, state = make_workspace(tiny_live)
    plan = AccountEnvPlan(
        "dev", "us-east-1", secret_names={"TF_VAR_master_password": "dev-mysql-master-password"}
    )
    events: list[RunEvent] = []
    run = make_run(workspace, state, accounts=["dev"], events=events, env_plans={"dev": plan})
    await run.execute()
    assert run.succeeded(), statuses(run)
    raw_log = next(run.directory.rglob("raw/dev.log")).read_text()
    assert raw_log.count(secrets.REDACTED) >= 3 * (2 << 20) // 4096 - 3  # the long lines did get through
    halves = (secret[: len(secret) // 2], secret[len(secret) // 2 :])
    written = [p for p in [*workspace.directory.rglob("*"), *run.directory.rglob("*")] if p.is_file()]
    for path in written:
        text = path.read_text(errors="replace")
        assert secret not in text and secret not in text.replace("\n", ""), path
        assert halves[0] not in text and halves[1] not in text, path
    shown = [e.message for e in events] + [line for u in run.units for line in u.log]
    assert not any(secret in m or halves[0] in m or halves[1] in m for m in shown)


async def test_run_folders_are_private(tiny_live: Path, make_workspace: MakeWs, fake_tg: Path) -> None:
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev"])
    await run.execute()
    assert run.succeeded()
    folders = [run.directory.parent, run.directory, *(p for p in run.directory.rglob("*") if p.is_dir())]
    files = [p for p in run.directory.rglob("*") if p.is_file()]
    assert len(folders) > 2 and len(files) > 4
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in folders} == {p: 0o700 for p in folders}
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in files} == {p: 0o600 for p in files}


async def test_missing_secret_fails_the_account_with_an_action(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, state = make_workspace(tiny_live)
    plan = AccountEnvPlan("dev", "us-east-1", secret_names={"TF_VAR_master_password": "nope"})
    run = make_run(workspace, state, accounts=["dev"], env_plans={"dev": plan})
    await run.execute()
    assert calls(fake_tg) == []
    assert run.accounts["dev"].status.value == "failed"
    assert "Data store passwords" in run.accounts["dev"].note


async def test_env_for_account_reaches_each_account_and_shell_aws_vars_do_not(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "operators-own")
    monkeypatch.setenv("TG_IAM_ASSUME_ROLE", "arn:aws:iam::1:role/leaked")
    workspace, state = make_workspace(tiny_live)
    run = make_run(
        workspace,
        state,
        accounts=["dev", "prod"],
        env_for_account=lambda a: {"FAKE_ACCOUNT": a, "REFARCH_IAM_ROLE": f"arn:aws:iam::{a}:role/admin"},
    )
    await run.execute()
    for name in ("dev", "prod"):
        (call,) = calls_for(fake_tg, name)
        assert call["env"]["FAKE_ACCOUNT"] == name
        assert call["env"]["TG_IAM_ASSUME_ROLE"] == f"arn:aws:iam::{name}:role/admin"
        assert "AWS_PROFILE" not in call["env"]


async def test_persisted_run_matches_the_live_report(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["security", "dev"])
    await run.execute()
    record = store.load_run(workspace.runs_dir)
    assert record is not None and record.complete and record.run_id == run.id
    assert record.report() == run.report()
    assert (run.directory / "summary.json").is_file()
    assert all(Path(u["log"]).is_file() for a in run.report()["accounts"] for u in a["units"])


async def test_queued_route53_import_runs_before_the_account(
    tiny_live: Path, make_workspace: MakeWs, fake_tg: Path
) -> None:
    workspace, state = make_workspace(tiny_live)
    workspace.update_step(
        state,
        "route53",
        "dev",
        Status.DONE,
        imports=[{"unit": f"dev/{VPC}", "address": "aws_route53_zone.primary_domain", "id": "Z1AB"}],
    )
    run = make_run(workspace, state, accounts=["dev"])
    await run.execute()
    assert run.succeeded()
    recorded = calls(fake_tg)
    assert len(recorded) == 2
    assert recorded[0].get("import") and recorded[0]["argv"][-3:] == [
        "import",
        "aws_route53_zone.primary_domain",
        "Z1AB",
    ]
    assert recorded[0]["cwd"].endswith(f"dev/{VPC}")
    assert recorded[1]["argv"][-2:] == ["--", "apply"]
    assert (
        "import aws_route53_zone.primary_domain Z1AB"
        in run.accounts["dev"].units[f"dev/{VPC}"].log_path.read_text()
    )


def test_block_fast_path_and_line_path_agree(tiny_live: Path, make_workspace: MakeWs, no_tg: None) -> None:
    from refarch_tui.run.engine import AccountSession
    from refarch_tui.run.rehearsal import RehearsalExecutor

    lines = [
        f"10:00:00.000 STDOUT [{VPC}] tofu: Initializing the backend...",
        f"10:00:00.001 STDOUT [{VPC}] tofu: aws_vpc.main: Creating...",
        f"10:00:00.002 STDOUT [{APP}] tofu: module.app.aws_ecs_service.this[0]: Still creating... [10s elapsed]",  # noqa: E501
        f"10:00:00.003 STDOUT [{VPC}] tofu: aws_vpc.main: Creation complete after 2s [id=vpc-1]",
        f"10:00:00.004 STDOUT [{VPC}] tofu: Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
        "a raw continuation line",
    ]
    outcomes = []
    for block in (True, False):
        workspace, state = make_workspace(tiny_live)
        run = make_run(workspace, state, accounts=["dev"], executor=RehearsalExecutor(speed=0))
        events: list[RunEvent] = []
        run.subscribe(events.append)
        account = run.accounts["dev"]
        session = AccountSession(
            run,
            account,
            list(account.units.values()),
            working_dir=tiny_live / "dev",
            env={},
            source_update=False,
            number=1,
        )
        if block:
            session.ingest_block("\n".join(lines), "stdout")
        else:
            for line in lines:
                session.ingest(line, "stdout")
        session.close()
        outcomes.append(
            (
                {
                    p: (u.status, u.phase, u.attempts, u.resources, list(u.log))
                    for p, u in account.units.items()
                },
                [(e.kind, e.unit) for e in events if e.kind is not EventKind.UNIT_RESOURCE],
                {e.unit for e in events if e.kind is EventKind.UNIT_RESOURCE},
                account.lines,
            )
        )
    assert outcomes[0] == outcomes[1]
    units = outcomes[0][0]
    assert units[f"dev/{VPC}"][0] is UnitStatus.SUCCEEDED and units[f"dev/{VPC}"][3] == 2
    assert units[f"dev/{APP}"][1] == "applying" and units[f"dev/{APP}"][4][-1].startswith("SIMULATED")


async def test_a_bug_in_an_executor_fails_that_account_only(
    tiny_live: Path, make_workspace: MakeWs, no_tg: None
) -> None:
    from refarch_tui.run.rehearsal import RehearsalExecutor

    class Broken(RehearsalExecutor):
        async def invoke(self, session):  # type: ignore[no-untyped-def]
            if session.account.name == "stage":
                raise RuntimeError("boom")
            return await super().invoke(session)

    workspace, state = make_workspace(tiny_live)
    run = make_run(workspace, state, accounts=["dev", "stage"], executor=Broken(speed=0, inject={}))
    await run.execute()
    assert run.accounts["dev"].status.value == "succeeded"
    assert run.accounts["stage"].status.value == "failed" and "boom" in run.accounts["stage"].note
    assert (run.directory / "summary.json").is_file()
