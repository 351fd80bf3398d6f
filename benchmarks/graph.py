"""Scanning a 1,000-unit live repo, versus plain python-hcl2 parsing the same files one after another.

Generates 5 accounts x 2 regions x 100 units (each unit 40-50 lines: terraform source, include of the account
root, read_terragrunt_config of account.hcl and region.hcl, dependency blocks, inputs) in a temp dir, then
prints, from one run:
- cold scan / baseline   (target <= 0.5: parallel parsing in processes, each parent file parsed once)
- warm re-scan / baseline (target <= 0.03: a cache that needs one stat per file)
where baseline = `hcl2.loads` of every generated file, sequentially. Prints ratios; asserts nothing.

    .venv/bin/python benchmarks/graph.py [--units 100] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ACCOUNTS = ["security", "shared-services", "dev", "stage", "prod"]
REGIONS = ["us-east-1", "us-west-2"]
CATEGORIES = ["networking", "data-stores", "services", "mgmt", "lambda"]

ACCOUNT_ROOT = """\
# Root configuration for the {account} account: remote state only, no terraform source.
remote_state {{
  backend = "s3"
  config = {{
    bucket         = "acme-{account}-terraform-state"
    key            = "${{path_relative_to_include()}}/terraform.tfstate"
    region         = "us-east-1"
    encrypt        = true
    dynamodb_table = "acme-{account}-terraform-locks"
  }}
}}
"""

UNIT = """\
# ---------------------------------------------------------------------------------------------------
# {name} in {account} / {region}
# A generated unit for the benchmark: realistic shape, nothing deployable.
# ---------------------------------------------------------------------------------------------------

# The module this unit deploys.
terraform {{
  source = "git::git@github.com:acme/infrastructure-modules.git//{category}/{name}?ref=v0.{n}.0"
}}

include {{
  path = find_in_parent_folders()
}}

locals {{
  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region_vars  = read_terragrunt_config(find_in_parent_folders("region.hcl"))

  account_name = local.account_vars.locals.account_name
  account_id   = local.account_vars.locals.account_id
  aws_region   = local.region_vars.locals.aws_region
}}
{dependencies}
inputs = {{
  aws_region     = local.aws_region
  aws_account_id = local.account_id
  name           = "{name}-${{local.account_name}}"

  # Sizing.
  instance_type  = "t3.small"
  min_size       = {min_size}
  max_size       = {max_size}
  ami_id         = "ami-REPLACE_ME"
  keypair_name   = "REPLACE_ME"
  tags = {{
    Team    = "platform"
    Service = "{name}"
  }}
  allowed_cidrs  = ["10.0.0.0/8", "172.16.0.0/12"]
{dep_inputs}}}
"""

DEPENDENCY = """
dependency "{label}" {{
  config_path = "../{target}"
}}
"""


def generate(root: Path, units_per_region: int) -> list[Path]:
    files: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files.append(path)

    for a_index, account in enumerate(ACCOUNTS):
        write(root / account / "terragrunt.hcl", ACCOUNT_ROOT.format(account=account))
        write(
            root / account / "account.hcl",
            f'locals {{\n  account_name = "{account}"\n  account_id   = "{100000000000 + a_index}"\n}}\n',
        )
        for region in REGIONS:
            write(root / account / region / "region.hcl", f'locals {{\n  aws_region = "{region}"\n}}\n')
            for n in range(units_per_region):
                category = CATEGORIES[n % len(CATEGORIES)]
                name = f"unit-{n:03d}"
                # each unit depends on up to two earlier units: a realistic, layered DAG
                targets = [f"unit-{t:03d}" for t in (n - 1 - n % 7, n // 3) if 0 <= t < n]
                targets = list(dict.fromkeys(targets))
                deps = "".join(
                    DEPENDENCY.format(label=f"d{i}", target=t) for i, t in enumerate(targets[:1])
                )  # one dependency block (8 lines) ...
                if len(targets) > 1:  # ... and a dependencies block for the rest
                    deps += f'\ndependencies {{\n  paths = ["../{targets[1]}"]\n}}\n'
                dep_inputs = "".join(
                    f"  d{i}_id = dependency.d{i}.outputs.id\n" for i in range(min(1, len(targets)))
                )
                text = UNIT.format(
                    name=name,
                    account=account,
                    region=region,
                    category=category,
                    n=n % 9,
                    dependencies=deps,
                    min_size=1 + n % 3,
                    max_size=4 + n % 5,
                    dep_inputs=dep_inputs,
                )
                write(root / account / region / name / "terragrunt.hcl", text)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=100, help="units per account and region (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree and print where it is")
    args = parser.parse_args()

    import hcl2
    import hcl2.parser
    from hcl2.utils import SerializationOptions

    from refarch_tui.live import scan, waves
    from refarch_tui.live.hclparse import _fast_parser

    tmp = Path(tempfile.mkdtemp(prefix="refarch-graph-bench-"))
    try:
        root = tmp / "live"
        files = generate(root, args.units)
        unit_files = [f for f in files if f.name == "terragrunt.hcl" and f.parent.parent.name in REGIONS]
        lines = [len(f.read_text().splitlines()) for f in unit_files]
        hcl2.parser.parser()  # load the grammars once, for both sides
        _fast_parser()
        options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)

        start = time.perf_counter()
        for path in files:
            hcl2.loads(path.read_text(), serialization_options=options)
        baseline = time.perf_counter() - start

        cache = tmp / "cache"
        start = time.perf_counter()
        tree = scan(root, cache_dir=cache)
        cold = time.perf_counter() - start

        start = time.perf_counter()
        warm_tree = scan(root, cache_dir=cache)
        warm = time.perf_counter() - start

        assert warm_tree.units == tree.units
        wave_count = len(waves(tree))
        print(
            f"tree: {len(tree.units)} units ({len(unit_files)} leaf units, {min(lines)}-{max(lines)} lines), "
            f"{len(files)} HCL files, {len(tree.errors)} errors, {wave_count} waves"
        )
        print(f"baseline (sequential hcl2.loads of every file): {baseline:.3f} s")
        print(f"cold scan:  {cold:.3f} s   ratio {cold / baseline:.3f}   (target <= 0.5)")
        print(f"warm scan:  {warm:.4f} s   ratio {warm / baseline:.4f}  (target <= 0.03)")
        if args.keep:
            print(f"kept: {root}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
