"""After the lambdas step in every account, an apply of every account with the fake terragrunt: the
accounts that deploy the Lambda (dev, stage, prod) get TF_VAR_lambda_zip_path = the built package in
their terragrunt's environment; the others do not; it is never in the operator's own environment."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from refarch_tui.steps import lambdas
from tests.run.helpers import make_run
from tests.steps import helpers
from tests.steps.conftest import MakeCtx

REAL = Path(__file__).resolve().parents[1] / "run" / "bin" / "terragrunt"
LAMBDA_ACCOUNTS = {"dev", "stage", "prod"}
VARIABLE = "TF_VAR_lambda_zip_path"


def _spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seen = tmp_path / "seen"
    seen.mkdir()
    bin_dir = tmp_path / "spy-bin"
    bin_dir.mkdir()
    (bin_dir / "terragrunt").write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"note = {{'argv': sys.argv[1:], 'value': os.environ.get({VARIABLE!r})}}\n"
        f"with open({str(seen)!r} + f'/{{os.getpid()}}.json', 'w') as f:\n"
        "    json.dump(note, f)\n"
        f"os.execv({str(REAL)!r}, [{str(REAL)!r}, *sys.argv[1:]])\n"
    )
    (bin_dir / "terragrunt").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{REAL.parent}:/usr/bin:/bin")
    return seen


def _account_of(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg in ("--working-dir", "--terragrunt-working-dir"):
            return Path(argv[i + 1]).name
        if arg.startswith(("--working-dir=", "--terragrunt-working-dir=")):
            return Path(arg.split("=", 1)[1]).name
    return ""


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

    seen = _spy(tmp_path, monkeypatch)
    run = make_run(first.workspace, first.state, accounts=accounts)
    await run.execute()
    assert run.succeeded(), run.report()
    assert VARIABLE not in os.environ
    notes = [json.loads(p.read_text()) for p in seen.glob("*.json")]
    applies = [n for n in notes if "apply" in n["argv"]]
    assert {_account_of(n["argv"]) for n in applies} == set(accounts)
    for note in applies:
        account = _account_of(note["argv"])
        if account in LAMBDA_ACCOUNTS:
            assert note["value"] == package, account
        else:
            assert note["value"] is None, f"{account} got {VARIABLE}"
