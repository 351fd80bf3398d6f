"""Static evaluation of terragrunt configs, following terragrunt's documented rules as far as literals allow.

Anything that needs the environment, AWS, a command or another unit's outputs is `Unknown` and kept as the
expression text: that is *unresolved*, not an error. Errors are what terragrunt itself would fail on (a file
that does not parse or may not be read, an include or dependency target that does not exist,
`find_in_parent_folders` finding nothing). Every error and unresolved expression is attributed to the units
whose evaluation met it, so an error in an included file names each unit it affects, and a root config that
is only ever included is never judged on its own (terragrunt does not evaluate it on its own either).
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from refarch_tui.live.files import FileIndex, inside
from refarch_tui.live.hclparse import Body, Expr, FileSummary, Refused
from refarch_tui.live.model import LiveError, Unit, Unresolved

DEFAULT_CONFIG = "terragrunt.hcl"
MAX_DATA_NODES = 100_000  # values in one decoded YAML/JSON file (YAML aliases can make a small file huge)
NO_SOURCE = "no terraform source and no *.tf/*.tofu files"
RUN_ALL_EXCLUDED = frozenset({"all", "all_except_output"})


class Unknown:
    """A value the engine cannot compute statically: `src` is the expression as written, `reason` says why.

    `failed` marks what terragrunt itself would fail on; `cause_reported` marks a failure whose cause is
    already an error of its own (a file that does not parse), so it is not reported twice."""

    __slots__ = ("cause_reported", "failed", "reason", "src")

    def __init__(self, src: str, reason: str, *, failed: bool = False, cause_reported: bool = False) -> None:
        self.src = src
        self.reason = reason
        self.failed = failed
        self.cause_reported = cause_reported

    def __repr__(self) -> str:
        return f"Unknown({self.src!r}, {self.reason!r}{', failed' if self.failed else ''})"


def is_known(value: Any) -> bool:
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    items: Iterable[Any] = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for item in items:
        found = first_unknown(item)
        if found is not None:
            return found
    return None


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
    config_path: str  # terragrunt's config path: the unit's terragrunt.hcl, or a read_terragrunt_config file
    file_path: str  # the file holding the expressions (file() is relative to its folder)
    unit_dir: str  # the unit being evaluated: terragrunt's working dir (get_repo_root, original dir)
    locals_exprs: dict[str, tuple[int, Expr]] = field(default_factory=dict)
    includes: dict[str, str] = field(default_factory=dict)  # include name ("" = unnamed/current) -> path
    exposed: dict[str, _Parent] = field(default_factory=dict)
    locals_cache: dict[str, Any] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)


@dataclass
class _Parent:
    name: str
    path: str
    body: Body | None
    merge_strategy: str
    expose: bool
    scope: Scope | None = None
    inputs_memo: Any = None


@dataclass
class _DependencyBlock:
    label: str
    line: int
    file: str
    block: Body
    scope: Scope


@dataclass
class _Memo:
    value: Any
    errors: list[tuple[str, int | None, str]]
    unresolved: list[tuple[str, int | None, str, str]]


def _locals_of(body: Body) -> dict[str, tuple[int, Expr]]:
    merged: dict[str, tuple[int, Expr]] = {}
    for _labels, _line, block in body.blocks_of("locals"):
        merged.update(block.attrs)
    return merged


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


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _count_nodes(value: Any, budget: int) -> int:
    """How many values `value` holds, counting shared ones each time they appear; stops past `budget`."""
    count = 0
    stack = [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _plain_data(value: Any) -> Any:
    """YAML/JSON data as HCL would see it: maps with string keys, lists, strings, numbers, bools, null."""
    if isinstance(value, dict):
        return {str(k): _plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_data(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # dates and other YAML types become their text, as terragrunt's cty conversion does


class Resolver:
    def __init__(self, root: str, summaries: dict[str, FileSummary], files: FileIndex) -> None:
        self.root = root
        self.summaries = summaries
        self.files = files
        self.included: dict[str, set[str]] = {}  # config file -> the units that include it
        self._errors: dict[tuple[str, int | None, str], set[str | None]] = {}
        self._unresolved: dict[tuple[str, int | None, str, str], set[str | None]] = {}
        self._unit: str | None = None
        self._reported: set[int] = set()
        self._find_memo: dict[tuple[str, str], str | None] = {}
        self._repo_memo: dict[str, str | None] = {}
        self._read_memo: dict[tuple[str, str | None], _Memo] = {}
        self._reading: list[tuple[str, list[bool]]] = []  # files being read; [unit-dependent?]
        self._recording: list[_Memo] = []

    # -- bookkeeping -------------------------------------------------------------------------------

    def rel(self, path: str) -> str:
        rel = os.path.relpath(path, self.root)
        return "." if rel == "." else rel.replace(os.sep, "/")

    def begin_unit(self, unit_rel: str | None) -> None:
        self._unit = unit_rel
        self._reported = set()

    def error(self, path: str, line: int | None, message: str) -> None:
        key = (self.rel(path), line, message)
        self._errors.setdefault(key, set()).add(self._unit)
        for memo in self._recording:
            memo.errors.append(key)

    def unresolved(self, path: str, line: int | None, expression: str, reason: str) -> None:
        key = (self.rel(path), line, _short(expression), reason)
        self._unresolved.setdefault(key, set()).add(self._unit)
        for memo in self._recording:
            memo.unresolved.append(key)

    def _replay(self, memo: _Memo) -> None:
        for key in memo.errors:
            self._errors.setdefault(key, set()).add(self._unit)
        for ukey in memo.unresolved:
            self._unresolved.setdefault(ukey, set()).add(self._unit)
        for outer in self._recording:
            outer.errors.extend(memo.errors)
            outer.unresolved.extend(memo.unresolved)

    def problem(self, path: str, line: int | None, what: str, expr: Expr, value: Any) -> None:
        """A value that should have been known: an error when terragrunt would fail too, else unresolved."""
        unknown = first_unknown(value)
        if unknown is None:
            self.error(path, line, f"{what}: `{_short(expr[1])}` is not {_expected(what)}")
        elif unknown.failed:
            if not unknown.cause_reported:
                self.error(path, line, f"{what}: {unknown.reason}")
        else:
            self.unresolved(path, line, expr[1], unknown.reason)

    def results(self, standalone_dropped: set[str]) -> tuple[list[LiveError], list[Unresolved]]:
        """Errors and unresolved expressions, leaving out what only the standalone evaluation of the units
        in `standalone_dropped` met; an error in a file other units include names them."""
        errors = []
        for (path, line, message), units in self._errors.items():
            kept = {u for u in units if u not in standalone_dropped}
            if not kept:
                continue
            named = sorted(u for u in kept if u is not None)
            own = len(named) == 1 and path == _config_rel(named[0])
            if named and not own:
                noun = "unit" if len(named) == 1 else f"{len(named)} units"
                message = f"{message} (affects {noun}: {', '.join(named)})"
            errors.append(LiveError(path=path, line=line, message=message))
        unresolved = [
            Unresolved(path=path, line=line, expression=expression, reason=reason)
            for (path, line, expression, reason), units in self._unresolved.items()
            if any(u not in standalone_dropped for u in units)
        ]
        errors.sort(key=lambda e: (e.path, e.line or 0, e.message))
        unresolved.sort(key=lambda u: (u.path, u.line or 0, u.expression, u.reason))
        return errors, unresolved

    # -- files -------------------------------------------------------------------------------------

    def body(self, path: str) -> Body | None:
        summary = self.summaries.get(path)
        if summary is None:
            if not self.files.is_file(path):
                return None
            summary = self._summarise_other(path)
            self.summaries[path] = summary
        if summary.body is None:
            self.error(path, summary.error_line, summary.error or "could not be parsed")
        return summary.body

    def _summarise_other(self, path: str) -> FileSummary:
        from refarch_tui.live.hclparse import summarise

        try:
            return summarise(self.files.read(path))
        except Refused as exc:
            return FileSummary(body=None, error=str(exc))

    def _missing(self, path: str, value: str) -> str:
        reason = self.files.refusal(path) if self.files.exists(path) else None
        return f"{value} {reason}" if reason else f"{value} does not exist"

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
                elif isinstance(value, int | float | str):
                    out.append(_number_text(value) if not isinstance(value, str) else value)
                else:
                    unknown = first_unknown(value)
                    if unknown is not None:
                        return unknown
                    return Unknown(
                        expr[1], "a template can only hold strings, numbers and bools", failed=True
                    )
            return "".join(out)
        if kind == "tuple":
            return [self.eval(item, scope) for item in expr[2]]
        if kind == "obj":
            result: dict[str, Any] = {}
            for key, value_expr, _line in expr[2]:
                if key is None:
                    return Unknown(expr[1], "an object key that is an expression is not evaluated")
                result[key] = self.eval(value_expr, scope)
            return result
        if kind == "trav":
            return self._traverse(expr, scope)
        if kind == "call":
            return self._call(expr, scope)
        if kind == "cond":
            test = self.eval(expr[2], scope)
            if isinstance(test, bool):
                return self.eval(expr[3] if test else expr[4], scope)
            return test if isinstance(test, Unknown) else Unknown(expr[1], "the condition is not a bool")
        if kind == "bin":
            return self._binary(expr, scope)
        if kind == "unary":
            return self._unary(expr, scope)
        return Unknown(expr[1], "for expressions, splats and template directives are not evaluated")

    def _binary(self, expr: Expr, scope: Scope) -> Any:
        _kind, src, operator, left_expr, right_expr = expr
        left = self.eval(left_expr, scope)
        if operator in ("&&", "||") and isinstance(left, bool):
            if left is (operator == "||"):
                return left  # short-circuits, as terraform's evaluation may
            right = self.eval(right_expr, scope)
            return right if isinstance(right, bool | Unknown) else Unknown(src, "not a bool", failed=True)
        right = self.eval(right_expr, scope)
        for side in (left, right):
            unknown = first_unknown(side)
            if unknown is not None:
                return unknown
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
        if operator in ("==", "!="):
            equal = left == right and (numeric or type(left) is type(right))
            return equal if operator == "==" else not equal
        if not numeric:
            return Unknown(src, f"`{operator}` needs numbers", failed=True)
        try:
            return {
                "<": lambda: left < right,
                ">": lambda: left > right,
                "<=": lambda: left <= right,
                ">=": lambda: left >= right,
                "+": lambda: left + right,
                "-": lambda: left - right,
                "*": lambda: left * right,
                "/": lambda: left / right,
                "%": lambda: left % right,
            }[operator]()
        except (KeyError, ZeroDivisionError):
            return Unknown(src, f"`{operator}` cannot be evaluated here", failed=operator in "/%")

    def _unary(self, expr: Expr, scope: Scope) -> Any:
        _kind, src, operator, operand_expr = expr
        value = self.eval(operand_expr, scope)
        if isinstance(value, Unknown):
            return value
        if operator == "!" and isinstance(value, bool):
            return not value
        if operator == "-" and isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        return Unknown(src, f"`{operator}` does not apply to this value", failed=True)

    def _traverse(self, expr: Expr, scope: Scope) -> Any:
        _kind, src, name, steps = expr
        if not steps:
            return Unknown(src, f"`{name}` is not known statically")
        value: Any
        rest = steps[1:]
        if name == "local":
            value = self.local(str(steps[0]), scope)
        elif name == "include":
            parent = scope.exposed.get(str(steps[0]))
            if parent is None:
                return Unknown(src, f"include {steps[0]!r} is not exposed (expose = true) or not read")
            value, rest = self._exposed(parent, steps[1:], src)
        elif name == "dependency":
            return Unknown(src, f"another unit's output (dependency {steps[0]!r}), known once it is applied")
        elif name == "feature":
            return Unknown(src, f"a feature flag ({steps[0]}), set when terragrunt runs")
        elif name == "values":
            return Unknown(src, "a stack value, set by `terragrunt stack generate`")
        else:
            return Unknown(src, f"`{name}.{steps[0]}` is not known statically")
        for step in rest:
            if isinstance(value, Unknown):
                return value
            in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
            in_list = isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value)
            if in_dict or in_list:
                value = value[step]
            else:
                return Unknown(src, f"has no {step!r} (as far as the engine can tell)")
        return value

    def _exposed(self, parent: _Parent, steps: tuple[Any, ...], src: str) -> tuple[Any, tuple[Any, ...]]:
        """`include.<name>.…` of an exposed include, evaluated only as far as the expression asks."""
        assert parent.scope is not None and parent.body is not None
        if not steps:
            return Unknown(src, "a whole included config is not evaluated"), ()
        head = steps[0]
        if head == "locals" and len(steps) > 1:
            return self.local(str(steps[1]), parent.scope), steps[2:]
        if head == "locals":
            return {n: self.local(n, parent.scope) for n in parent.scope.locals_exprs}, ()
        if head == "inputs":
            if parent.inputs_memo is None:
                parent.inputs_memo = self._inputs(parent.body, parent.scope, parent.path)
            return parent.inputs_memo, steps[1:]
        if head == "dependency" and len(steps) > 2:
            for labels, _line, block in parent.body.blocks_of("dependency"):
                if labels and labels[0] == steps[1] and steps[2] in block.attrs:
                    return self.eval(block.attrs[str(steps[2])][1], parent.scope), steps[3:]
            return Unknown(src, "not found in the included config"), ()
        if isinstance(head, str) and head in parent.body.attrs:
            return self.eval(parent.body.attrs[head][1], parent.scope), steps[1:]
        return Unknown(src, "not evaluated in the included config"), ()

    def local(self, name: str, scope: Scope) -> Any:
        if name in scope.locals_cache:
            return scope.locals_cache[name]
        entry = scope.locals_exprs.get(name)
        if entry is None:
            return Unknown(f"local.{name}", f"there is no local {name!r}", failed=True)
        if name in scope.in_progress:
            return Unknown(f"local.{name}", f"local {name!r} refers to itself", failed=True)
        scope.in_progress.add(name)
        try:
            value = self.eval(entry[1], scope)
        finally:
            scope.in_progress.discard(name)
        scope.locals_cache[name] = value
        return value

    def report_locals(self, scope: Scope, path: str) -> None:
        """Terragrunt evaluates every local: one that fails is an error at its line."""
        for name, (line, _expr) in scope.locals_exprs.items():
            value = self.local(name, scope)
            unknown = first_unknown(value)
            if unknown is None or not unknown.failed or id(unknown) in self._reported:
                continue
            self._reported.add(id(unknown))
            if not unknown.cause_reported:
                self.error(path, line, f"local.{name}: {unknown.reason}")

    def _mark_unit_dependent(self) -> None:
        for _path, flag in self._reading:
            flag[0] = True

    def _call(self, expr: Expr, scope: Scope) -> Any:
        _kind, src, fname, arg_exprs = expr
        if fname == "try":
            return self._try(src, arg_exprs, scope)
        if fname == "can":
            value = self.eval(arg_exprs[0], scope) if arg_exprs else None
            unknown = first_unknown(value)
            return True if unknown is None else (False if unknown.failed else unknown)
        args = [self.eval(a, scope) for a in arg_exprs]
        config_dir = os.path.dirname(scope.config_path)
        if fname == "merge":
            merged: dict[str, Any] = {}
            for arg in args:
                if isinstance(arg, Unknown):
                    return arg
                if not isinstance(arg, dict):
                    return Unknown(src, "merge() takes objects", failed=True)
                merged.update(arg)
            return merged
        for arg in args:
            unknown = first_unknown(arg)
            if unknown is not None:
                return unknown
        if fname == "find_in_parent_folders":
            name = args[0] if args and isinstance(args[0], str) and args[0] else DEFAULT_CONFIG
            found = self.find_in_parent_folders(config_dir, name)
            if found is not None:
                return found
            if len(args) > 1:
                return args[1]
            return Unknown(src, f"`{_short(src)}` finds no {name} in any parent folder", failed=True)
        if fname == "read_terragrunt_config":
            if not args or not isinstance(args[0], str):
                return Unknown(src, "read_terragrunt_config() takes a path", failed=True)
            path = os.path.normpath(os.path.join(config_dir, args[0]))
            result = self.read_config(path, scope, src)
            if isinstance(result, Unknown) and len(args) > 1 and not self.files.is_file(path):
                return args[1]
            return result
        if fname in ("file", "fileexists", "yamldecode", "jsondecode"):
            return self._data_function(fname, src, args, scope)
        if fname == "get_terragrunt_dir":
            return config_dir
        if fname == "get_original_terragrunt_dir":
            self._mark_unit_dependent()
            return scope.unit_dir
        if fname in ("get_repo_root", "get_path_to_repo_root", "get_path_from_repo_root"):
            return self._repo_function(fname, src, scope)
        if fname in ("get_parent_terragrunt_dir", "path_relative_to_include", "path_relative_from_include"):
            key = args[0] if args and isinstance(args[0], str) else ""
            include_path = scope.includes.get(key)
            if include_path is None:
                return config_dir if fname == "get_parent_terragrunt_dir" else "."
            include_dir = os.path.dirname(include_path)
            if fname == "get_parent_terragrunt_dir":
                return include_dir
            if fname == "path_relative_to_include":
                return os.path.relpath(config_dir, include_dir).replace(os.sep, "/")
            return os.path.relpath(include_dir, config_dir).replace(os.sep, "/")
        if fname == "get_env":
            return Unknown(src, f"reads the environment variable {args[0] if args else '?'}")
        if fname in ("run_cmd", "sops_decrypt_file"):
            return Unknown(src, f"{fname}() runs when terragrunt does")
        if fname.startswith("get_aws_") or fname == "get_terraform_command":
            return Unknown(src, f"{fname}() is known only when terragrunt runs")
        return _pure_function(fname, args, src)

    def _try(self, src: str, arg_exprs: tuple[Expr, ...], scope: Scope) -> Any:
        for arg_expr in arg_exprs:
            value = self.eval(arg_expr, scope)
            unknown = first_unknown(value)
            if unknown is None:
                return value
            if not unknown.failed:
                return value  # nothing in it fails now; what is unknown stays unknown
        return Unknown(src, "no argument of try() can be evaluated", failed=True)

    def _data_function(self, fname: str, src: str, args: list[Any], scope: Scope) -> Any:
        if not args or not isinstance(args[0], str):
            return Unknown(src, f"{fname}() takes a string", failed=True)
        if fname in ("yamldecode", "jsondecode"):
            return _decode(fname, args[0], src)
        path = os.path.normpath(os.path.join(os.path.dirname(scope.file_path), args[0]))
        if fname == "fileexists":
            return self.files.is_file(path)
        if not self.files.is_file(path):
            return Unknown(src, f"{self._missing(path, args[0])}", failed=True)
        try:
            return self.files.read(path)
        except Refused as exc:
            return Unknown(src, f"{args[0]} {exc}", failed=True)

    def _repo_function(self, fname: str, src: str, scope: Scope) -> Any:
        self._mark_unit_dependent()
        repo = self.repo_root(scope.unit_dir)
        if repo is None:
            return Unknown(src, "not inside a git repository (no .git in any parent folder)")
        if fname == "get_repo_root":
            return repo
        if fname == "get_path_to_repo_root":
            return os.path.relpath(repo, scope.unit_dir).replace(os.sep, "/")
        return os.path.relpath(scope.unit_dir, repo).replace(os.sep, "/")

    def repo_root(self, directory: str) -> str | None:
        """The nearest folder at or above `directory` holding `.git` (what `git rev-parse --show-toplevel`
        finds), memoised per folder."""
        if directory in self._repo_memo:
            return self._repo_memo[directory]
        found: str | None
        if self.files.exists(os.path.join(directory, ".git")):
            found = directory
        else:
            parent = os.path.dirname(directory)
            found = None if parent == directory else self.repo_root(parent)
        self._repo_memo[directory] = found
        return found

    def find_in_parent_folders(self, start_dir: str, name: str) -> str | None:
        """The nearest `name` (a file or a directory, as terragrunt matches it) strictly above `start_dir`."""
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
            candidate = os.path.normpath(os.path.join(current, name))
            if self.files.exists(candidate):
                found = candidate
                break
        self._find_memo[key] = found
        return found

    def read_config(self, path: str, caller: Scope, src: str) -> Any:
        """`read_terragrunt_config(path)`: the file evaluated in its own context. Memoised per file, or per
        file and unit when its values depend on the unit (get_original_terragrunt_dir, get_repo_root…)."""
        for key in ((path, None), (path, caller.unit_dir)):
            memo = self._read_memo.get(key)
            if memo is not None:
                self._replay(memo)
                return memo.value
        if any(reading == path for reading, _flag in self._reading):
            return Unknown(src, f"{self.rel(path)} reads itself", failed=True)
        memo = _Memo(None, [], [])
        flag = [False]
        self._reading.append((path, flag))
        self._recording.append(memo)
        try:
            memo.value = self._read_config_now(path, caller, src)
        finally:
            self._recording.pop()
            self._reading.pop()
        if flag[0]:
            self._mark_unit_dependent()
        self._read_memo[(path, caller.unit_dir if flag[0] else None)] = memo
        return memo.value

    def _read_config_now(self, path: str, caller: Scope, src: str) -> Any:
        if not self.files.is_file(path):
            return Unknown(src, f"{self._missing(path, self.rel(path))}", failed=True)
        body = self.body(path)
        if body is None:
            return Unknown(src, f"{self.rel(path)} cannot be read", failed=True, cause_reported=True)
        scope = Scope(
            config_path=path, file_path=path, unit_dir=caller.unit_dir, locals_exprs=_locals_of(body)
        )
        self.report_locals(scope, path)
        result: dict[str, Any] = {"locals": {n: self.local(n, scope) for n in scope.locals_exprs}}
        for name, (_line, expr) in body.attrs.items():
            result[name] = self.eval(expr, scope)
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
                    locals_exprs=_locals_of(parent.body),
                    includes={**include_map, "": parent.path},
                    exposed=exposed,
                )
        child_scope = Scope(
            config_path=config,
            file_path=config,
            unit_dir=unit_dir,
            locals_exprs=_locals_of(body),
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
                layer_inputs = self._inputs(layer_body, scope, path)
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

    def _parents(self, body: Body, config: str, unit_dir: str) -> list[_Parent]:
        bare = Scope(config_path=config, file_path=config, unit_dir=unit_dir)
        parents: list[_Parent] = []
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
            self.included.setdefault(path, set()).add(self.rel(unit_dir))
            parents.append(_Parent(name, path, self.body(path), strategy, expose))
        return parents

    def _inputs(self, body: Body, scope: Scope, path: str) -> dict[str, Any]:
        line, expr = body.attrs["inputs"]
        if expr[0] == "obj":
            result: dict[str, Any] = {}
            for key, value_expr, _line in expr[2]:
                if key is not None:
                    value = self.eval(value_expr, scope)
                    result[key] = value if is_known(value) else _as_written(value, value_expr)
            return result
        value = self.eval(expr, scope)
        if isinstance(value, dict):
            return value
        self.problem(path, line, "inputs", expr, value)
        return {}

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


def _config_rel(unit_rel: str) -> str:
    return DEFAULT_CONFIG if unit_rel == "." else f"{unit_rel}/{DEFAULT_CONFIG}"


def _expected(what: str) -> str:
    if what.endswith(("enabled", "skip", " if")):
        return "a bool"
    return "an object" if what == "inputs" else "a list" if what.endswith("paths") else "a string"


def _as_written(value: Any, expr: Expr) -> Any:
    """A value that is not fully known is reported as the whole expression, as written."""
    unknown = first_unknown(value)
    return Unknown(expr[1], unknown.reason if unknown else "not known statically")


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decode(fname: str, text: str, src: str) -> Any:
    try:
        if fname == "jsondecode":
            data = json.loads(text)
        else:
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            data = yaml.load(text, Loader=loader)  # a safe loader: plain data only
    except RecursionError:
        return Unknown(src, f"{fname}(): the document nests too deeply", failed=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Unknown(
            src, f"{fname}(): not valid {'JSON' if fname == 'jsondecode' else 'YAML'} ({first})", failed=True
        )
    if _count_nodes(data, MAX_DATA_NODES) > MAX_DATA_NODES:
        return Unknown(
            src, f"{fname}(): more than {MAX_DATA_NODES} values (YAML aliases?); not evaluated", failed=True
        )
    try:
        return _plain_data(data)
    except RecursionError:
        return Unknown(src, f"{fname}(): the document nests too deeply", failed=True)


def _pure_function(fname: str, args: list[Any], src: str) -> Any:
    unknown = Unknown(src, f"{fname}() is not evaluated statically")
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
        if fname == "trimprefix" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].removeprefix(args[1])
        if fname == "trimsuffix" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].removesuffix(args[1])
        if fname == "startswith" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].startswith(args[1])
        if fname == "endswith" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[0].endswith(args[1])
        if fname == "join" and isinstance(args[0], str) and isinstance(args[1], list):
            return args[0].join(str(x) for x in args[1])
        if fname == "split" and isinstance(args[0], str) and isinstance(args[1], str):
            return args[1].split(args[0])
        if fname == "concat" and all(isinstance(a, list) for a in args):
            return [x for a in args for x in a]
        if fname == "contains" and isinstance(args[0], list):
            return args[1] in args[0]
        if fname == "length" and isinstance(args[0], list | dict | str):
            return len(args[0])
        if fname == "keys" and isinstance(args[0], dict):
            return sorted(args[0])
        if fname == "values" and isinstance(args[0], dict):
            return [args[0][k] for k in sorted(args[0])]
        if fname == "lookup" and isinstance(args[0], dict) and isinstance(args[1], str):
            if args[1] in args[0]:
                return args[0][args[1]]
            if len(args) > 2:
                return args[2]
            return Unknown(src, f"lookup(): no key {args[1]!r}", failed=True)
        if fname == "element" and isinstance(args[0], list) and isinstance(args[1], int) and args[0]:
            return args[0][args[1] % len(args[0])]
        if fname == "coalesce":
            return next((a for a in args if a not in (None, "")), unknown)
        if fname == "replace" and all(isinstance(a, str) for a in args[:3]) and len(args) == 3:
            if args[1].startswith("/") and args[1].endswith("/") and len(args[1]) > 1:
                return unknown  # regular-expression form
            return args[0].replace(args[1], args[2])
        if fname == "format" and isinstance(args[0], str):
            fmt = args[0]
            if "%" in fmt.replace("%s", "").replace("%d", "").replace("%%", ""):
                return unknown
            return fmt.replace("%d", "%s") % tuple(args[1:])
        if fname in ("tostring", "tonumber", "tolist", "toset", "tomap", "tobool") and len(args) == 1:
            return args[0]
    except (IndexError, TypeError, ValueError):
        return unknown
    return unknown
