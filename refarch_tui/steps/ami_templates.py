"""Packer templates under the modules directory, the units that consume their AMIs, and the copy of a
template that is actually built.

A template is a `*.json` file with a `builders` list (and, when the installed packer reads HCL2, a
`*.pkr.hcl` file: listed, never built by refarch-tui, which can only adjust JSON templates). It belongs to
the module folder it sits in, above a `packer/` folder: `services/ecs-cluster/packer/ecs-node.json` feeds
the units whose `terraform { source }` is `…//services/ecs-cluster`. A unit consumes an AMI through an input
named `ami`, `ami_id` or ending in `_ami`/`_ami_id` (`cluster_instance_ami`) whose literal value is an AMI ID
or a placeholder (`ami-REPLACE_ME`, `TODO`, "").

The built copy (in the workspace, never beside the operator's template) sets in every amazon builder the
build `region`, `ami_regions` (every region with a consuming unit) and `ami_users` (the accounts it is
shared with), and `{{template_dir}}` is replaced by the original's folder so file provisioners still find
their files. In the sandbox it also points `custom_endpoint_ec2` at the emulator, uses
`"communicator": "none"` and drops the provisioners and post-processors (the emulator's instances run
nothing: with SSH, packer waits forever), which the step says plainly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch_tui.live.model import LiveTree, Unit
from refarch_tui.steps.units import region_of, source_module

AMAZON_BUILDERS = ("amazon-ebs", "amazon-ebssurrogate", "amazon-instance", "amazon-ebsvolume")
AMI_INPUT = re.compile(r"^(?:ami|ami_id|.+_ami|.+_ami_id)$")
AMI_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")
PLACEHOLDER = re.compile(r"(?i)replace|todo|fixme|change_?me|fill|^ami-x+$|^<.*>$|^$")
_USER_VAR = re.compile(r"^\{\{\s*user\s+`([^`]+)`\s*\}\}$")
_TEMPLATE_DIR = re.compile(r"\{\{\s*template_dir\s*\}\}")
SKIPPED_PROVISIONING = (
    "SANDBOX: provisioning was skipped — the emulator's instances run nothing, so the sandbox copy of the "
    "template has no provisioners (nor post-processors) and uses communicator none: the AMI is the base "
    "image as it is"
)


class TemplateError(ValueError):
    """A template cannot be read or built; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Builder:
    name: str
    type: str
    settings: dict[str, Any]


@dataclass
class Template:
    path: Path
    module: str  # the module folder it belongs to, relative to the modules directory
    hcl2: bool = False
    builders: list[Builder] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    min_packer_version: str = ""
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".pkr.hcl").removesuffix(".json")

    @property
    def amazon(self) -> list[Builder]:
        return [b for b in self.builders if b.type in AMAZON_BUILDERS]

    def value(self, builder: Builder, key: str) -> Any:
        """A builder setting with `{{user `x`}}` replaced by the variable's default."""
        raw = builder.settings.get(key)
        if isinstance(raw, str):
            match = _USER_VAR.match(raw.strip())
            if match:
                return self.variables.get(match.group(1))
        return raw

    def encrypt_boot(self) -> bool:
        return any(truthy(self.value(b, "encrypt_boot")) for b in self.amazon)

    def listed_users(self) -> list[str]:
        """ami_users the template itself names (a list, or a comma-separated string)."""
        found: list[str] = []
        for builder in self.amazon:
            for user in as_list(self.value(builder, "ami_users")):
                if user not in found:
                    found.append(user)
        return found


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"))


def as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def module_of(modules_dir: Path, path: Path) -> str:
    """`services/ecs-cluster` for `<modules>/services/ecs-cluster/packer/ecs-node.json`."""
    parts = path.relative_to(modules_dir).parts[:-1]
    if "packer" in parts:
        parts = parts[: parts.index("packer")]
    return "/".join(parts)


def read_template(modules_dir: Path, path: Path) -> Template | None:
    """The template at `path`; None for a JSON file that is not a Packer template (package.json …)."""
    if path.name.endswith(".pkr.hcl"):
        return Template(path, module_of(modules_dir, path), hcl2=True)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("builders"), list):
        return None
    builders = []
    for index, raw in enumerate(document["builders"]):
        if isinstance(raw, dict):
            builders.append(
                Builder(str(raw.get("name") or raw.get("type") or index), str(raw.get("type")), raw)
            )
    variables = document.get("variables") if isinstance(document.get("variables"), dict) else {}
    return Template(
        path,
        module_of(modules_dir, path),
        builders=builders,
        variables=dict(variables or {}),
        min_packer_version=str(document.get("min_packer_version") or ""),
        document=document,
    )


def find_templates(modules_dir: Path | None, *, hcl2: bool) -> list[Template]:
    """Every Packer template under the modules directory, by path; `*.pkr.hcl` only when `hcl2`."""
    if modules_dir is None or not modules_dir.is_dir():
        return []
    found: list[Template] = []
    patterns = ["*.json", *(["*.pkr.hcl"] if hcl2 else [])]
    for pattern in patterns:
        for path in modules_dir.rglob(pattern):
            if any(
                part.startswith(".") or part == "node_modules" for part in path.relative_to(modules_dir).parts
            ):
                continue
            template = read_template(modules_dir, path) if path.is_file() else None
            if template is not None and (template.hcl2 or template.amazon):
                found.append(template)
    return sorted(found, key=lambda t: str(t.path))


@dataclass(frozen=True)
class Consumer:
    unit: str
    account: str
    region: str
    inputs: tuple[str, ...]  # the AMI inputs of the unit (ami_id, cluster_instance_ami…)
    module: str


def ami_inputs(unit: Unit) -> list[str]:
    """The unit's inputs that hold an AMI ID or a placeholder for one (literals only)."""
    names = []
    for name, value in sorted(unit.inputs.items()):
        if not AMI_INPUT.match(name) or name in unit.unresolved or not isinstance(value, str):
            continue
        if AMI_ID.match(value.strip()) or PLACEHOLDER.search(value.strip()):
            names.append(name)
    return names


def consumers(tree: LiveTree, live_root: Path, default_region: str) -> list[Consumer]:
    """Every runnable unit with an AMI input, in every account, by path."""
    found = []
    for path, unit in sorted(tree.units.items()):
        if not unit.runnable or unit.account is None:
            continue
        names = ami_inputs(unit)
        if names:
            module = source_module(live_root, unit) or path.rsplit("/", 1)[-1]
            found.append(Consumer(path, unit.account, region_of(unit, default_region), tuple(names), module))
    return found


def feeds(template: Template, consumer: Consumer) -> bool:
    return bool(template.module) and (
        consumer.module == template.module or consumer.module.endswith("/" + template.module)
    )


def _replace_template_dir(value: Any, folder: str) -> Any:
    if isinstance(value, str):
        return _TEMPLATE_DIR.sub(lambda _m: folder, value)
    if isinstance(value, list):
        return [_replace_template_dir(v, folder) for v in value]
    if isinstance(value, dict):
        return {k: _replace_template_dir(v, folder) for k, v in value.items()}
    return value


def build_copy(
    template: Template,
    *,
    region: str,
    ami_regions: Sequence[str],
    ami_users: Sequence[str],
    encrypt_boot: bool,
    sandbox_endpoint: str | None,
) -> dict[str, Any]:
    """The template document that is built (see the module docstring)."""
    if template.hcl2:
        raise TemplateError(f"{template.path} is HCL2: refarch-tui adjusts and builds JSON templates only")
    document: dict[str, Any] = _replace_template_dir(
        json.loads(json.dumps(template.document)), str(template.path.parent)
    )
    builders = []
    for raw in document["builders"]:
        if isinstance(raw, dict) and raw.get("type") in AMAZON_BUILDERS:
            raw = dict(raw)
            raw["region"] = region
            raw["ami_regions"] = [r for r in ami_regions if r != region]
            raw["ami_users"] = list(ami_users)
            if encrypt_boot:
                raw["encrypt_boot"] = True
            if sandbox_endpoint is not None:
                raw["custom_endpoint_ec2"] = sandbox_endpoint
                raw["communicator"] = "none"
        builders.append(raw)
    document["builders"] = builders
    if sandbox_endpoint is not None:
        document.pop("provisioners", None)
        document.pop("post-processors", None)
    return document


def variable_overrides(template: Template, values: Mapping[str, str]) -> dict[str, str]:
    """`-var` values for the variables the template declares (aws_region, custom_endpoint_ec2…)."""
    return {name: value for name, value in values.items() if name in template.variables}
