"""Finding the units a step cares about, and reading their literal inputs with a reason when they are not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from refarch_tui.live.edits import unit_region
from refarch_tui.live.model import LiveTree, Unit
from refarch_tui.steps.contract import StepError

CONFIG = "terragrunt.hcl"
_SOURCE = re.compile(r"source\s*=\s*\"([^\"]+)\"")


def of_kind(tree: LiveTree, account: str, kind: str) -> list[Unit]:
    """The account's runnable units whose folder is named `kind` (route53-public, alb-internal…), by path."""
    return [
        unit
        for unit in sorted(tree.units_of(account), key=lambda u: u.path)
        if unit.runnable and unit.path.rsplit("/", 1)[-1] == kind
    ]


def config_file(unit: Unit) -> str:
    return f"{unit.path}/{CONFIG}"


def source_module(live_root: Path, unit: Unit) -> str:
    """The module folder a unit deploys: its `terraform { source }` after `//`, without `?ref=`
    (`git::…//services/ecs-cluster?ref=v0.4.0` -> `services/ecs-cluster`); "" when there is none."""
    try:
        text = (live_root / config_file(unit)).read_text(encoding="utf-8")
    except OSError:
        return ""
    match = _SOURCE.search(text)
    return match.group(1).rsplit("//", 1)[-1].split("?", 1)[0].strip("/") if match else ""


def region_of(unit: Unit, default: str) -> str:
    return unit_region(unit) or default


def literal_input(unit: Unit, name: str) -> Any | None:
    """The input's literal value, None when absent; StepError for an expression the tool cannot read."""
    if name not in unit.inputs:
        return None
    if name in unit.unresolved:
        raise StepError(
            f"{name} in {config_file(unit)} is `{unit.inputs[name]}`, which refarch-tui cannot read without "
            "running terragrunt; write the value itself there"
        )
    return unit.inputs[name]


def string_input(unit: Unit, name: str) -> str | None:
    value = literal_input(unit, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise StepError(f"{name} in {config_file(unit)} is {value!r}, not a string")
    return value


def listener_domains(unit: Unit) -> list[str]:
    """The `tls_domain_name`s of an ALB unit's `https_listener_ports_and_acm_ssl_certs`, in order."""
    listeners = literal_input(unit, "https_listener_ports_and_acm_ssl_certs")
    names: list[str] = []
    if not isinstance(listeners, list):
        return names
    for listener in listeners:
        if isinstance(listener, dict) and isinstance(listener.get("tls_domain_name"), str):
            text = listener["tls_domain_name"]
            if text not in names:
                names.append(text)
    return names
