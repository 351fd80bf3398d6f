"""A real `terraform init` + `apply` with the S3 backend the backends step configured, against the emulator:
the state object lands in the step's bucket under the key, and the S3 backend wrote its state digest into
the step's lock table (proof that the table is the one it locks with).

Only the S3 backend is exercised (built into terraform, no provider needed), so the configuration has an
output and no resource. Skips, with that reason, when terraform is not on PATH (it cannot be installed from
the package registries; this machine image has 1.11.4 — see ../shared/reference/test-environment.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from refarch_tui.live.edits import read_value
from refarch_tui.state import Status
from refarch_tui.steps import runner
from tests.steps.conftest import MakeCtx

TERRAFORM = shutil.which("terraform")
KEY = "dev/smoke/terraform.tfstate"


def _backend_block(bucket: str, table: str, region: str, endpoint: str) -> str:
    return f"""\
terraform {{
  backend "s3" {{
    bucket                      = "{bucket}"
    key                         = "{KEY}"
    region                      = "{region}"
    dynamodb_table              = "{table}"
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    endpoints = {{
      s3       = "{endpoint}"
      dynamodb = "{endpoint}"
      sts      = "{endpoint}"
      iam      = "{endpoint}"
    }}
  }}
}}

output "smoke" {{
  value = "state written through the backend refarch-tui configured"
}}
"""


@pytest.mark.skipif(TERRAFORM is None, reason="no terraform on PATH (not installable from the registries)")
def test_terraform_apply_uses_the_bucket_and_lock_table_the_step_configured(
    make_ctx: MakeCtx, tmp_path: Path
) -> None:
    assert TERRAFORM is not None
    ctx = make_ctx("dev")
    outcome = runner.run_step(ctx, "backends", {}, accept=runner.accept_all)
    assert outcome.status is Status.DONE, outcome.message
    # the backend as the HCL now names it: what terragrunt would hand to terraform
    text = (ctx.live_root / "dev" / "terragrunt.hcl").read_text()
    bucket, table, region = (
        read_value(text, ("remote_state", "config", key))[1] for key in ("bucket", "dynamodb_table", "region")
    )
    account_env = dict(ctx.child_env())
    endpoint = account_env["AWS_ENDPOINT_URL"]
    work = tmp_path / "tf"
    work.mkdir()
    (work / "main.tf").write_text(_backend_block(bucket, table, region, endpoint))
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("disable_checkpoint = true\n")
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TF_IN_AUTOMATION": "1",
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "CHECKPOINT_DISABLE": "1",
        **account_env,
    }
    printed = []
    for argv in (
        ["init", "-input=false", "-no-color"],
        ["apply", "-auto-approve", "-input=false", "-no-color"],
    ):
        done = subprocess.run(
            [TERRAFORM, *argv], cwd=work, env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stdout + done.stderr
        printed.append(done.stdout)
    assert 'Successfully configured the backend "s3"' in printed[0]
    assert not (work / "terraform.tfstate").exists()  # nothing local: the state is remote

    s3 = ctx.clients("s3", region)
    state = json.loads(s3.get_object(Bucket=bucket, Key=KEY)["Body"].read())
    assert state["outputs"]["smoke"]["value"].startswith("state written through the backend")
    versions = s3.list_object_versions(Bucket=bucket, Prefix=KEY)["Versions"]
    assert versions and all(v["VersionId"] not in ("", "null") for v in versions)  # versioning is on
    items = ctx.clients("dynamodb", region).scan(TableName=table)["Items"]
    assert {"S": f"{bucket}/{KEY}-md5"} in [item["LockID"] for item in items], items
