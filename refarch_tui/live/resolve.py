"""Terragrunt units from their configs, following terragrunt's documented rules as far as literals allow.

Anything that needs the environment, AWS, a command or another unit's outputs is `Unknown` and kept as the
expression text: that is *unresolved*, not an error. Errors are what terragrunt itself would fail on (a file
that does not parse or may not be read, an include or dependency target that does not exist,
`find_in_parent_folders` finding nothing). Every error and unresolved expression is attributed to the units
whose evaluation met it, so an error in an included file names each unit it affects, and a root config that
is only ever included is never judged on its own (terragrunt does not evaluate it on its own either).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from refarch_tui.live.evaluate import DEFAULT_CONFIG, JSON_SYNTAX, Evaluator, Parent, Scope, locals_of
from refarch_tui.live.files import FileIndex, inside
from refarch_tui.live.hclparse import Body, Expr, FileSummary
from refarch_tui.live.model import Unit
from refarch_tui.live.values import is_known, plain

NO_SOURCE = "no terraform source and no *.tf/*.tofu files"
RUN_ALL_EXCLUDED = frozenset({"all", "all_except_output"})


@dataclass
class _DependencyBlock:
    label: str
    line: int
    file: str
    block: Body
    scope: Scope


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _literal_str(attr: tuple[int, Expr] | None) -> str | None:
    if attr is None or attr[1][0] != "lit" or not isinstance(attr[1][2], str):
        return None
    return attr[1][2]


class Resolver(Evaluator):
    def __init__(self, root: str, summaries: dict[str, FileSummary], files: FileIndex) -> None:
        super().__init__(root, summaries, files)
        self.included: dict[str, set[str]] = {}  # config file -> the units that include it

    # -- units -------------------------------------------------------------------------------------

    def unit(self, unit_dir: str, has_tf: bool, unit_paths: set[str]) -> Unit:
        config = os.path.join(unit_dir, DEFAULT_CONFIG)
        rel = self.rel(unit_dir)
        account = None if rel == "." else rel.split("/", 1)[0]
        body = self.body(config)
        if body is None:
            summary = self.summaries.get(config)
            guess = bool(summary and summary.looks_runnable)
            return Unit(
                path=rel,
                account=account,
                dependencies=(),
                runnable=has_tf or guess,
                not_run_reason=None if has_tf or guess else "its terragrunt.hcl cannot be read",
            )
        parents = self._parents(body, config, unit_dir)
        include_map = {p.name: p.path for p in parents}
        exposed = {p.name: p for p in parents if p.expose and p.name and p.body is not None}
        for parent in parents:
            if parent.body is not None:
                parent.scope = Scope(
                    config_path=config,
                    file_path=parent.path,
                    unit_dir=unit_dir,
                    locals_exprs=locals_of(parent.body),
                    includes={**include_map, "": parent.path},
                    exposed=exposed,
                )
        child_scope = Scope(
            config_path=config,
            file_path=config,
            unit_dir=unit_dir,
            locals_exprs=locals_of(body),
            includes={**include_map, "": parents[0].path} if parents else {},
            exposed=exposed,
        )
        self.report_locals(child_scope, config)
        for parent in parents:
            if parent.scope is not None:
                self.report_locals(parent.scope, parent.path)

        layers: list[tuple[Body, Scope, str, str]] = [
            (p.body, p.scope, p.path, p.merge_strategy)
            for p in parents
            if p.body is not None and p.scope is not None and p.merge_strategy != "no_merge"
        ]
        layers.append((body, child_scope, config, "shallow"))
        inputs: dict[str, Any] = {}
        source_seen = False
        for layer_body, scope, path, strategy in layers:
            if "inputs" in layer_body.attrs:
                layer_inputs = self.inputs_of(layer_body, scope, path)
                inputs = (
                    _deep_merge(inputs, layer_inputs) if strategy == "deep" else {**inputs, **layer_inputs}
                )
            for _labels, _line, block in layer_body.blocks_of("terraform"):
                source_seen = source_seen or "source" in block.attrs
        dependencies = self._dependencies(layers, unit_dir, unit_paths)
        excluded = self._excluded(layers)
        runnable = (source_seen or has_tf) and excluded is None
        reason = excluded
        if reason is None and not runnable:
            reason = NO_SOURCE
        return Unit(
            path=rel,
            account=account,
            dependencies=tuple(sorted(dependencies)),
            runnable=runnable,
            inputs={k: plain(v) for k, v in inputs.items()},
            unresolved=frozenset(k for k, v in inputs.items() if not is_known(v)),
            not_run_reason=None if runnable else reason,
        )

    def _parents(self, body: Body, config: str, unit_dir: str) -> list[Parent]:
        bare = Scope(config_path=config, file_path=config, unit_dir=unit_dir)
        parents: list[Parent] = []
        for labels, line, block in body.blocks_of("include"):
            name = labels[0] if labels else ""
            label = f"include {name!r}" if name else "include"
            path_attr = block.attrs.get("path")
            if path_attr is None:
                self.error(config, line, f"{label} has no path")
                continue
            value = self.eval(path_attr[1], bare)
            if not isinstance(value, str):
                self.problem(config, path_attr[0], label, path_attr[1], value)
                continue
            path = os.path.normpath(os.path.join(unit_dir, value))
            strategy = _literal_str(block.attrs.get("merge_strategy")) or "shallow"
            if strategy not in ("no_merge", "shallow", "deep"):
                self.error(
                    config, line, f"{label}: merge_strategy {strategy!r} is not no_merge, shallow or deep"
                )
                strategy = "shallow"
            expose_attr = block.attrs.get("expose")
            expose = bool(expose_attr and expose_attr[1][0] == "lit" and expose_attr[1][2] is True)
            if not self.files.is_file(path):
                self.error(config, path_attr[0], f"{label}: {self._missing(path, value)}")
                continue
            if path.endswith(".json"):
                self.unresolved(config, path_attr[0], path_attr[1][1], JSON_SYNTAX)
                continue
            self.included.setdefault(path, set()).add(self.rel(unit_dir))
            parents.append(Parent(name, path, self.body(path), strategy, expose))
        return parents

    def _dependencies(
        self, layers: list[tuple[Body, Scope, str, str]], unit_dir: str, unit_paths: set[str]
    ) -> set[str]:
        """Edges from `dependency` blocks merged as terragrunt merges them, plus every `dependencies` path.

        A deep-merged include's block is overridden by the child's block of the same name (terragrunt PR
        #1906); a shallow include keeps both targets, as run --all does (issue #2510), except a parent's
        placeholder `config_path = ""` that the child overrides."""
        child_body, child_scope, child_path, _strategy = layers[-1]
        chosen: dict[str, _DependencyBlock] = {}
        extra: list[_DependencyBlock] = []
        for labels, line, block in child_body.blocks_of("dependency"):
            chosen[labels[0] if labels else "?"] = _DependencyBlock(
                labels[0] if labels else "?", line, child_path, block, child_scope
            )
        for layer_body, scope, path, strategy in reversed(layers[:-1]):
            for labels, line, block in layer_body.blocks_of("dependency"):
                entry = _DependencyBlock(labels[0] if labels else "?", line, path, block, scope)
                if entry.label not in chosen:
                    chosen[entry.label] = entry
                elif strategy == "shallow" and _literal_str(block.attrs.get("config_path")) != "":
                    extra.append(entry)
        targets: set[str] = set()
        for entry in [*chosen.values(), *extra]:
            self._dependency_edge(entry, unit_dir, unit_paths, targets)
        for layer_body, scope, path, _strategy in layers:
            for _labels, _line, block in layer_body.blocks_of("dependencies"):
                attr = block.attrs.get("paths")
                if attr is None:
                    continue
                value = self.eval(attr[1], scope)
                if attr[1][0] == "tuple":
                    items = list(zip(attr[1][2], value, strict=True))
                elif isinstance(value, list) and is_known(value):
                    items = [(("lit", repr(item), item), item) for item in value]
                else:
                    self.problem(path, attr[0], "dependencies paths", attr[1], value)
                    continue
                for item_expr, item in items:
                    self._add_target(
                        path, attr[0], "dependencies", item_expr, item, unit_dir, unit_paths, targets
                    )
        return targets

    def _dependency_edge(
        self, entry: _DependencyBlock, unit_dir: str, unit_paths: set[str], into: set[str]
    ) -> None:
        what = f"dependency {entry.label!r}"
        enabled_attr = entry.block.attrs.get("enabled")
        if enabled_attr is not None:
            enabled = self.eval(enabled_attr[1], entry.scope)
            if enabled is False:
                return  # terragrunt leaves a disabled dependency out of the graph
            if not isinstance(enabled, bool):
                self.problem(entry.file, enabled_attr[0], f"{what} enabled", enabled_attr[1], enabled)
        attr = entry.block.attrs.get("config_path")
        if attr is None:
            self.error(entry.file, entry.line, f"{what} has no config_path")
            return
        value = self.eval(attr[1], entry.scope)
        self._add_target(entry.file, attr[0], what, attr[1], value, unit_dir, unit_paths, into)

    def _add_target(
        self,
        file: str,
        line: int,
        what: str,
        expr: Expr,
        value: Any,
        unit_dir: str,
        unit_paths: set[str],
        into: set[str],
    ) -> None:
        if not isinstance(value, str):
            self.problem(file, line, what, expr, value)
            return
        if value == "":
            self.error(file, line, f"{what}: config_path is empty")
            return
        target = os.path.normpath(os.path.join(unit_dir, value))
        if target.endswith(".hcl"):
            target = os.path.dirname(target)
        rel = self.rel(target)
        # in a file several units include, the same words for each unit, so the error names them all
        shown = f"{value} ({rel})" if file == os.path.join(unit_dir, DEFAULT_CONFIG) else value
        if not inside(target, self.root):
            self.error(file, line, f"{what}: {shown} points outside the live repo")
            return
        if rel in unit_paths:
            into.add(rel)
            return
        refused = self.files.refusal(target) if self.files.exists(target) else None
        self.error(file, line, f"{what}: {shown} {refused or 'has no terragrunt.hcl'}")

    def _excluded(self, layers: list[tuple[Body, Scope, str, str]]) -> str | None:
        """Why `run --all` leaves the unit out (`skip = true`, `exclude { if = true }`), or None."""
        reason: str | None = None
        for layer_body, scope, path, _strategy in layers:  # the child, last, wins
            skip = layer_body.attrs.get("skip")
            if skip is not None:
                value = self.eval(skip[1], scope)
                if isinstance(value, bool):
                    reason = "skip = true: terragrunt skips it" if value else None
                else:
                    self.problem(path, skip[0], "skip", skip[1], value)
            for _labels, _line, block in layer_body.blocks_of("exclude"):
                condition = block.attrs.get("if")
                actions = self.eval(block.attrs["actions"][1], scope) if "actions" in block.attrs else []
                value = self.eval(condition[1], scope) if condition is not None else None
                if condition is not None and not isinstance(value, bool):
                    self.problem(path, condition[0], "exclude if", condition[1], value)
                elif (
                    value is True and isinstance(actions, list) and RUN_ALL_EXCLUDED & set(map(str, actions))
                ):
                    reason = "exclude { if = true } leaves it out of run --all"
        return reason
