"""After the lambdas step in every account, an apply of every account with the fake terragrunt: the
accounts that deploy the Lambda (dev, stage, prod) get TF_VAR_lambda_zip_path = the built package in
their terragrunt's environment; the others do not; it is never in the operator's own environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refarch_tui.steps import lambdas
from tests.run.helpers import make_run
from tests.steps import helpers, terragrunt_spy
from tests.steps.conftest import MakeCtx
from tests.steps.terragrunt_spy import account_of

LAMBDA_ACCOUNTS = {"dev", "stage", "prod"}
VARIABLE = "TF_VAR_lambda_zip_path"


async def test_the_lambda_accounts_apply_with_the_package_variable(
    make_ctx: MakeCtx, fake_tg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_ctx("dev")
    accounts = [a.name for a in first.state.accounts]
    packages: dict[str, str] = {}
    for account in accounts:
        ctx = make_ctx(account)
        plan = lambdas.plan(ctx, helpers.resolve(lambdas))
        if plan.not_applicable:
            assert account not in LAMBDA_ACCOUNTS
            continue
        result, _record = helpers.run_and_record(lambdas, ctx)
        packages[account] = result.run_env[VARIABLE]
    assert set(packages) == LAMBDA_ACCOUNTS
    package = packages["dev"]
    assert Path(package).is_file()

    seen = terragrunt_spy.install(tmp_path, monkeypatch, f"note = {{'value': os.environ.get({VARIABLE!r})}}")
    run = make_run(first.workspace, first.state, accounts=accounts)
    await run.execute()
    assert run.succeeded(), run.report()
    assert VARIABLE not in os.environ
    notes = terragrunt_spy.notes(seen)
    applies = [n for n in notes if "apply" in n["argv"]]
    assert {account_of(n["argv"]) for n in applies} == set(accounts)
    for note in applies:
        account = account_of(note["argv"])
        if account in LAMBDA_ACCOUNTS:
            assert note["value"] == package, account
        else:
            assert note["value"] is None, f"{account} got {VARIABLE}"
