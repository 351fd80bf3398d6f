"""Scanning generated live repos (1,000 and 10,000 units) versus plain python-hcl2 parsing the same files.

Generates 5 accounts x 2 regions x N units in a temp dir. Each unit (45-60 lines) has a terraform source,
includes the account root (`find_in_parent_folders()`) and a shared `_envcommon/<category>.hcl` (named,
`expose = true`, found through `get_repo_root()`), reads account.hcl and region.hcl with
`read_terragrunt_config`, and has up to three `dependency` blocks and a `dependencies` block. Per size:
- cold scan / baseline   (target <= 0.5: parallel parsing in processes, each parent file parsed once)
- warm re-scan / baseline (target <= 0.03: a cache that needs one stat per file)
where baseline = `hcl2.loads` of every generated file, sequentially. Prints ratios; asserts nothing.

    .venv/bin/python benchmarks/graph.py [--units 1000 10000] [--keep]
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

ENVCOMMON = """\
# Settings every {category} unit shares, in every account.
locals {{
  source_base_url = "git::git@github.com:acme/infrastructure-modules.git//{category}"
  common_tags = {{
    Category  = "{category}"
    ManagedBy = "terragrunt"
  }}
}}
inputs = {{
  tags = local.common_tags
}}
"""

UNIT = """\
# ---------------------------------------------------------------------------------------------------
# {name} in {account} / {region}
# A generated unit for the benchmark: realistic shape, nothing deployable.
# ---------------------------------------------------------------------------------------------------

# The module this unit deploys.
terraform {{
  source = "${{include.envcommon.locals.source_base_url}}/{name}?ref=v0.{n}.0"
}}

include "root" {{
  path = find_in_parent_folders()
}}

include "envcommon" {{
  path           = "${{get_repo_root()}}/_envcommon/{category}.hcl"
  expose         = true
  merge_strategy = "deep"
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
  allowed_cidrs  = ["10.0.0.0/8", "172.16.0.0/12"]
{dep_inputs}}}
"""

DEPENDENCY = """
dependency "{label}" {{
  config_path = "../{target}"
  mock_outputs = {{
    id = "mock-{label}"
  }}
}}
"""


def generate(root: Path, units_per_region: int) -> list[Path]:
    files: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files.append(path)

    (root / ".git").mkdir(parents=True)  # a repository: get_repo_root() finds it
    for category in CATEGORIES:
        write(root / "_envcommon" / f"{category}.hcl", ENVCOMMON.format(category=category))
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
                name = f"unit-{n:04d}"
                # each unit depends on up to four earlier units: a realistic, layered DAG
                targets = [f"unit-{t:04d}" for t in (n - 1 - n % 7, n // 3, n // 5, n // 11) if 0 <= t < n]
                targets = list(dict.fromkeys(targets))
                deps = "".join(DEPENDENCY.format(label=f"d{i}", target=t) for i, t in enumerate(targets[:3]))
                if len(targets) > 3:  # ... and a dependencies block for the rest
                    deps += f'\ndependencies {{\n  paths = ["../{targets[3]}"]\n}}\n'
                dep_inputs = "".join(
                    f"  d{i}_id = dependency.d{i}.outputs.id\n" for i in range(min(3, len(targets)))
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


def measure(units: int, keep: bool) -> None:
    import hcl2
    from hcl2.utils import SerializationOptions

    from refarch_tui.live import scan, waves

    tmp = Path(tempfile.mkdtemp(prefix="refarch-graph-bench-"))
    try:
        root = tmp / "live"
        per_region = max(1, units // (len(ACCOUNTS) * len(REGIONS)))
        files = generate(root, per_region)
        unit_files = [f for f in files if f.name == "terragrunt.hcl" and f.parent.parent.name in REGIONS]
        lines = [len(f.read_text().splitlines()) for f in unit_files]
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
        edges = sum(len(u.dependencies) for u in tree.units.values())
        runnable = sum(1 for u in tree.units.values() if u.runnable)
        print(
            f"tree: {len(tree.units)} units ({len(unit_files)} leaf units, {min(lines)}-{max(lines)} lines, "
            f"{runnable} runnable), {edges} edges, {len(files)} HCL files, {len(tree.errors)} errors, "
            f"{len(tree.unresolved)} unresolved, {wave_count} waves"
        )
        print(f"  baseline (sequential hcl2.loads of every file): {baseline:.3f} s")
        print(f"  cold scan:  {cold:.3f} s   ratio {cold / baseline:.3f}   (target <= 0.5)")
        print(f"  warm scan:  {warm:.4f} s   ratio {warm / baseline:.4f}  (target <= 0.03)")
        if keep:
            print(f"  kept: {root}")
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--units", type=int, nargs="+", default=[1000, 10000], help="tree sizes (default: 1000 10000)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated trees and print where")
    args = parser.parse_args()

    import hcl2.parser

    from refarch_tui.live.hclparse import _fast_parser

    hcl2.parser.parser()  # load the grammars once, for both sides
    _fast_parser()
    for units in args.units:
        measure(units, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
