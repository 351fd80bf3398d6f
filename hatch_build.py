"""Hatch build hook: build python-hcl2's parser tables into the wheel, so no user's first command builds them.

It runs in the wheel's build environment, which holds the same lark and python-hcl2 that the install resolves
(both are build requirements). `refarch_tui.live.parser_tables` explains how the tables are checked at run
time; editable installs skip this and build the tables once into the user's cache instead.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TABLES_IN_WHEEL = "refarch_tui/live/_tables"


class ParserTablesHook(BuildHookInterface):
    PLUGIN_NAME = "parser-tables"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        source = Path(self.root) / "refarch_tui" / "live" / "parser_tables.py"
        spec = importlib.util.spec_from_file_location("_refarch_parser_tables", source)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = Path(tempfile.mkdtemp(prefix="refarch-parser-tables-"))
        for table in module.build_tables(out):
            build_data["force_include"][str(table)] = f"{TABLES_IN_WHEEL}/{table.name}"
