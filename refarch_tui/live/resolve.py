"""Static evaluation of terragrunt configs: includes, locals, read_terragrunt_config and friends.

Only what literals allow: anything that needs the environment, AWS, git or another unit's outputs stays
`Unknown` and is reported as the original expression text.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from refarch_tui.live.hclparse import Body, Expr, FileSummary
from refarch_tui.live.model import LiveError, Unit

DEFAULT_CONFIG = "terragrunt.hcl"


class Unknown:
    """A value we cannot compute statically; `src` is the expression as written."""

    __slots__ = ("src",)

    def __init__(self, src: str) -> None:
        self.src = src

    def __repr__(self) -> str:
        return f"Unknown({self.src!r})"


def is_known(value: Any) -> bool:
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def plain(value: Any) -> Any:
    """Unknown parts replaced by their expression text."""
    if isinstance(value, Unknown):
        return value.src
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass
class Scope:
    config_path: str  # the config whose directory the path functions use (the child unit for includes)
    locals_exprs: dict[str, Expr] = field(default_factory=dict)
    includes: dict[str, str] = field(default_factory=dict)  # include name ("" = unnamed/current) -> path
    exposed: dict[str, Any] = field(default_factory=dict)
    locals_cache: dict[str, Any] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)


@dataclass
class _Parent:
    name: str
    path: str
    body: Body | None
    scope: Scope | None
    merge_strategy: str


def _locals_of(body: Body) -> dict[str, Expr]:
    merged: dict[str, Expr] = {}
    for _labels, _line, block in body.blocks_of("locals"):
        merged.update({name: expr for name, (_l, expr) in block.attrs.items()})
    return merged


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class Resolver:
    def __init__(
        self,
        root: str,
        summaries: dict[str, FileSummary],
        known_files: set[str],
        parse_external: Callable[[str], FileSummary],
    ) -> None:
        self.root = root
        self.summaries = summaries
        self.known_files = known_files
        self.parse_external = parse_external
        self.errors: dict[tuple[str, int | None, str], LiveError] = {}
        self.external_files: set[str] = set()
        self._find_memo: dict[tuple[str, str], str | None] = {}
        self._read_memo: dict[str, Any] = {}
        self._reading: set[str] = set()

    # -- files -------------------------------------------------------------------------------------

    def rel(self, path: str) -> str:
        rel = os.path.relpath(path, self.root)
        return "." if rel == "." else rel.replace(os.sep, "/")

    def error(self, path: str, line: int | None, message: str) -> None:
        key = (self.rel(path), line, message)
        self.errors.setdefault(key, LiveError(path=key[0], line=line, message=message))

    def exists(self, path: str) -> bool:
        if path in self.known_files:
            return True
        if path.startswith(self.root + os.sep):
            inside = path[len(self.root) + 1 :].split(os.sep)
            if not any(part.startswith(".") for part in inside):
                return False  # the walk saw every visible file under the root
        found = os.path.isfile(path)
        if found:
            self.external_files.add(path)
        return found

    def body(self, path: str) -> Body | None:
        summary = self.summaries.get(path)
        if summary is None:
            if not self.exists(path):
                return None
            summary = self.parse_external(path)
            self.summaries[path] = summary
        if summary.body is None:
            self.error(path, summary.error_line, summary.error or "could not be parsed")
        return summary.body

    # -- evaluation --------------------------------------------------------------------------------

    def eval(self, expr: Expr, scope: Scope) -> Any:
        kind = expr[0]
        if kind == "lit":
            return expr[2]
        if kind == "tpl":
            out: list[str] = []
            for part in expr[2]:
                if isinstance(part, str):
                    out.append(part)
                    continue
                value = self.eval(part, scope)
                if isinstance(value, bool):
                    out.append("true" if value else "false")
                elif isinstance(value, str | int | float):
                    out.append(str(value))
                else:
                    return Unknown(expr[1])
            return "".join(out)
        if kind == "tuple":
            return [self.eval(item, scope) for item in expr[2]]
        if kind == "obj":
            result: dict[str, Any] = {}
            for key, value_expr, _line in expr[2]:
                if key is None:
                    return Unknown(expr[1])
                result[key] = self.eval(value_expr, scope)
            return result
        if kind == "trav":
            return self._traverse(expr, scope)
        if kind == "call":
            return self._call(expr, scope)
        return Unknown(expr[1])

    def _traverse(self, expr: Expr, scope: Scope) -> Any:
        _kind, src, name, steps = expr
        if not steps:
            return Unknown(src)
        if name == "local":
            value = self.local(str(steps[0]), scope)
        elif name == "include":
            value = scope.exposed.get(str(steps[0]), Unknown(src))
        else:
            return Unknown(src)
        for step in steps[1:]:
            in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
            in_list = isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value)
            if in_dict or in_list:
                value = value[step]
            else:
                return Unknown(src)
        return value if not isinstance(value, Unknown) else Unknown(src)

    def local(self, name: str, scope: Scope) -> Any:
        if name in scope.locals_cache:
            return scope.locals_cache[name]
        expr = scope.locals_exprs.get(name)
        if expr is None or name in scope.in_progress:
            return Unknown(f"local.{name}")
        scope.in_progress.add(name)
        try:
            value = self.eval(expr, scope)
        finally:
            scope.in_progress.discard(name)
        scope.locals_cache[name] = value
        return value

    def _call(self, expr: Expr, scope: Scope) -> Any:
        _kind, src, fname, arg_exprs = expr
        args = [self.eval(a, scope) for a in arg_exprs]
        unknown = Unknown(src)
        config_dir = os.path.dirname(scope.config_path)
        if fname == "merge":
            merged: dict[str, Any] = {}
            for arg in args:
                if not isinstance(arg, dict):
                    return unknown
                merged.update(arg)
            return merged
        if not all(is_known(a) for a in args):
            return unknown
        if fname == "find_in_parent_folders":
            name = args[0] if args else DEFAULT_CONFIG
            if not isinstance(name, str) or not name:
                name = DEFAULT_CONFIG
            found = self.find_in_parent_folders(config_dir, name)
            if found is None:
                return args[1] if len(args) > 1 else unknown
            return found
        if fname == "read_terragrunt_config":
            if not args or not isinstance(args[0], str):
                return unknown
            path = os.path.normpath(os.path.join(config_dir, args[0]))
            result = self.read_config(path)
            if isinstance(result, Unknown) and len(args) > 1:
                return args[1]
            return unknown if isinstance(result, Unknown) else result
        if fname in ("get_terragrunt_dir", "get_original_terragrunt_dir"):
            return config_dir
        if fname in ("get_parent_terragrunt_dir", "path_relative_to_include", "path_relative_from_include"):
            key = args[0] if args and isinstance(args[0], str) else ""
            include_path = scope.includes.get(key)
            if include_path is None:
                if fname == "get_parent_terragrunt_dir":
                    return config_dir
                return "."
            include_dir = os.path.dirname(include_path)
            if fname == "get_parent_terragrunt_dir":
                return include_dir
            if fname == "path_relative_to_include":
                return os.path.relpath(config_dir, include_dir).replace(os.sep, "/")
            return os.path.relpath(include_dir, config_dir).replace(os.sep, "/")
        return self._pure_function(fname, args, unknown)

    @staticmethod
    def _pure_function(fname: str, args: list[Any], unknown: Unknown) -> Any:
        try:
            if fname == "dirname" and isinstance(args[0], str):
                return posixpath.dirname(args[0])
            if fname == "basename" and isinstance(args[0], str):
                return posixpath.basename(args[0])
            if fname == "abspath" and isinstance(args[0], str):
                return os.path.abspath(args[0])
            if fname == "lower" and isinstance(args[0], str):
                return args[0].lower()
            if fname == "upper" and isinstance(args[0], str):
                return args[0].upper()
            if fname == "trimspace" and isinstance(args[0], str):
                return args[0].strip()
            if fname == "join" and isinstance(args[0], str) and isinstance(args[1], list):
                return args[0].join(str(x) for x in args[1])
            if fname == "split" and isinstance(args[0], str) and isinstance(args[1], str):
                return args[1].split(args[0])
            if fname == "concat" and all(isinstance(a, list) for a in args):
                return [x for a in args for x in a]
            if fname == "replace" and all(isinstance(a, str) for a in args[:3]) and len(args) == 3:
                if args[1].startswith("/") and args[1].endswith("/") and len(args[1]) > 1:
                    return unknown  # regular-expression form
                return args[0].replace(args[1], args[2])
            if fname == "format" and isinstance(args[0], str):
                fmt = args[0]
                if "%" in fmt.replace("%s", "").replace("%d", "").replace("%%", ""):
                    return unknown
                return fmt.replace("%d", "%s") % tuple(args[1:])
            if fname in ("tostring", "tonumber", "tolist", "toset", "tomap") and len(args) == 1:
                return args[0]
        except (IndexError, TypeError, ValueError):
            return unknown
        return unknown

    def find_in_parent_folders(self, start_dir: str, name: str) -> str | None:
        key = (start_dir, name)
        if key in self._find_memo:
            return self._find_memo[key]
        found: str | None = None
        current = start_dir
        while True:
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
            candidate = os.path.join(current, name)
            if self.exists(candidate):
                found = candidate
                break
        self._find_memo[key] = found
        return found

    def read_config(self, path: str) -> Any:
        """`read_terragrunt_config(path)`: the file evaluated in its own context (memoised per file)."""
        if path in self._read_memo:
            return self._read_memo[path]
        if path in self._reading:
            return Unknown(f"read_terragrunt_config({path!r})")
        body = self.body(path)
        if body is None:
            result: Any = Unknown(f"read_terragrunt_config({path!r})")
        else:
            self._reading.add(path)
            try:
                scope = Scope(config_path=path, locals_exprs=_locals_of(body))
                result = {"locals": {n: self.local(n, scope) for n in scope.locals_exprs}}
                for name, (_line, expr) in body.attrs.items():
                    result[name] = self.eval(expr, scope)
            finally:
                self._reading.discard(path)
        self._read_memo[path] = result
        return result

    # -- units -------------------------------------------------------------------------------------

    def unit(self, unit_dir: str, has_tf: bool, unit_paths: set[str]) -> Unit:
        config = os.path.join(unit_dir, DEFAULT_CONFIG)
        rel = self.rel(unit_dir)
        account = None if rel == "." else rel.split("/", 1)[0]
        body = self.body(config)
        if body is None:
            summary = self.summaries.get(config)
            guess = bool(summary and summary.looks_runnable)
            return Unit(path=rel, account=account, dependencies=(), runnable=has_tf or guess)

        # includes are evaluated before locals, in the unit's own context
        bare = Scope(config_path=config)
        parents: list[_Parent] = []
        for labels, line, block in body.blocks_of("include"):
            name = labels[0] if labels else ""
            path_attr = block.attrs.get("path")
            if path_attr is None:
                self.error(config, line, f"include {name or '(unnamed)'} has no path")
                continue
            value = self.eval(path_attr[1], bare)
            if not isinstance(value, str):
                self.error(config, path_attr[0], self._include_problem(name, path_attr[1], unit_dir))
                continue
            path = os.path.normpath(os.path.join(unit_dir, value))
            strategy_attr = block.attrs.get("merge_strategy")
            strategy = strategy_attr[1][2] if strategy_attr and strategy_attr[1][0] == "lit" else "shallow"
            parent_body = self.body(path)
            if parent_body is None and not self.exists(path):
                self.error(config, path_attr[0], f"include {name or '(unnamed)'}: {value} does not exist")
            parents.append(_Parent(name, path, parent_body, None, str(strategy)))

        include_map = {p.name: p.path for p in parents}
        exposed: dict[str, Any] = {}
        for parent in parents:
            if parent.body is None:
                continue
            includes = dict(include_map)
            includes[""] = parent.path
            parent.scope = Scope(config_path=config, locals_exprs=_locals_of(parent.body), includes=includes)
        for labels, _line, block in body.blocks_of("include"):
            expose = block.attrs.get("expose")
            name = labels[0] if labels else ""
            if not (expose and expose[1][0] == "lit" and expose[1][2] is True and name):
                continue
            for parent in parents:
                if parent.name == name and parent.scope is not None and parent.body is not None:
                    exposed[name] = {
                        "locals": {n: self.local(n, parent.scope) for n in parent.scope.locals_exprs},
                        "inputs": self._inputs(parent.body, parent.scope, parent.path)[0]
                        if "inputs" in parent.body.attrs
                        else {},
                    }
        child_scope = Scope(
            config_path=config,
            locals_exprs=_locals_of(body),
            includes={**include_map, "": parents[0].path} if parents else {},
            exposed=exposed,
        )

        inputs: dict[str, Any] = {}
        dependencies: dict[str, tuple[int, str]] = {}  # target rel path -> (line, file)
        source_seen = False
        layers: list[tuple[Body, Scope, str, str]] = [
            (p.body, p.scope, p.path, p.merge_strategy)
            for p in parents
            if p.body is not None and p.scope is not None and p.merge_strategy != "no_merge"
        ]
        layers.append((body, child_scope, config, "shallow"))
        for layer_body, scope, path, strategy in layers:
            if "inputs" in layer_body.attrs:
                layer_inputs, _exact = self._inputs(layer_body, scope, path)
                deep = strategy == "deep"
                inputs = _deep_merge(inputs, layer_inputs) if deep else {**inputs, **layer_inputs}
            for _labels, _line, block in layer_body.blocks_of("terraform"):
                if "source" in block.attrs:
                    source_seen = True
            for labels, line, block in layer_body.blocks_of("dependency"):
                attr = block.attrs.get("config_path")
                label = labels[0] if labels else "?"
                if attr is None:
                    self.error(path, line, f'dependency "{label}" has no config_path')
                    continue
                self._add_dependency(
                    unit_dir, path, attr[0], attr[1], scope, f'dependency "{label}"', dependencies, unit_paths
                )
            for _labels, _line, block in layer_body.blocks_of("dependencies"):
                attr = block.attrs.get("paths")
                if attr is None:
                    continue
                paths_value = self.eval(attr[1], scope)
                item_exprs: list[Expr] = []
                if attr[1][0] == "tuple":
                    item_exprs = list(attr[1][2])
                elif isinstance(paths_value, list) and is_known(paths_value):
                    item_exprs = [("lit", repr(item), item) for item in paths_value]
                else:
                    problem = f"dependencies paths `{attr[1][1]}` cannot be resolved statically"
                    self.error(path, attr[0], problem)
                for item_expr in item_exprs:
                    self._add_dependency(
                        unit_dir, path, attr[0], item_expr, scope, "dependencies", dependencies, unit_paths
                    )

        unresolved = frozenset(k for k, v in inputs.items() if not is_known(v))
        deps = tuple(sorted(d for d in dependencies))
        return Unit(
            path=rel,
            account=account,
            dependencies=deps,
            runnable=source_seen or has_tf,
            inputs={k: plain(v) for k, v in inputs.items()},
            unresolved=unresolved,
        )

    def _include_problem(self, name: str, expr: Expr, unit_dir: str) -> str:
        label = f"include {name!r}" if name else "include"
        if expr[0] == "call" and expr[2] == "find_in_parent_folders":
            arg = expr[3][0] if expr[3] else None
            wanted = (
                arg[2] if arg is not None and arg[0] == "lit" and isinstance(arg[2], str) else DEFAULT_CONFIG
            )
            return f"{label}: `{expr[1]}` finds no {wanted} in a parent folder of {self.rel(unit_dir)}"
        return f"{label}: path `{expr[1]}` cannot be resolved statically"

    def _inputs(self, body: Body, scope: Scope, path: str) -> tuple[dict[str, Any], bool]:
        line, expr = body.attrs["inputs"]
        if expr[0] == "obj":
            result: dict[str, Any] = {}
            for key, value_expr, _line in expr[2]:
                if key is not None:
                    value = self.eval(value_expr, scope)
                    result[key] = value if is_known(value) else _partial(value, value_expr)
            return result, True
        value = self.eval(expr, scope)
        if isinstance(value, dict):
            return value, False
        self.error(path, line, f"inputs `{_short(expr[1])}` cannot be resolved statically")
        return {}, False

    def _add_dependency(
        self,
        unit_dir: str,
        file: str,
        line: int,
        expr: Expr,
        scope: Scope,
        what: str,
        into: dict[str, tuple[int, str]],
        unit_paths: set[str],
    ) -> None:
        value = self.eval(expr, scope)
        if not isinstance(value, str):
            self.error(file, line, f"{what}: path `{expr[1]}` cannot be resolved statically")
            return
        target = os.path.normpath(os.path.join(unit_dir, value))
        if target.endswith(".hcl"):
            target = os.path.dirname(target)
        if target != self.root and not target.startswith(self.root + os.sep):
            self.error(file, line, f"{what}: {value} points outside the live repo ({target})")
            return
        rel = self.rel(target)
        if rel not in unit_paths:
            self.error(file, line, f"{what}: {value} ({rel}) has no terragrunt.hcl")
            return
        into.setdefault(rel, (line, file))


def _partial(value: Any, expr: Expr) -> Any:
    """A value that is not fully known is reported as the whole expression, as written."""
    return Unknown(expr[1])


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
