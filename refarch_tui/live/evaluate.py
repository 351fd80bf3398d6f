"""Evaluating terragrunt expressions statically, in the context terragrunt gives them.

`Evaluator` knows terragrunt's functions (find_in_parent_folders, read_terragrunt_config, get_repo_root,
file, yamldecode…) and keeps the books: every error and unresolved expression it meets is attributed to the
unit being evaluated, so one in an included file can name every unit it affects, and what only a root
config's evaluation on its own met can be dropped (terragrunt never evaluates it on its own).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from refarch_tui.live.files import FileIndex
from refarch_tui.live.hclparse import Body, Expr, FileSummary, Refused
from refarch_tui.live.model import LiveError, Unresolved
from refarch_tui.live.values import (
    Unknown,
    decode,
    first_unknown,
    follow,
    is_known,
    number_text,
    pure_function,
    short,
)

DEFAULT_CONFIG = "terragrunt.hcl"
JSON_SYNTAX = "a config in HCL's JSON syntax (*.hcl.json) is not read by refarch-tui"


@dataclass
class Scope:
    config_path: str  # terragrunt's config path: the unit's terragrunt.hcl, or a read_terragrunt_config file
    file_path: str  # the file holding the expressions (file() is relative to its folder)
    unit_dir: str  # the unit being evaluated: terragrunt's working dir (get_repo_root, original dir)
    locals_exprs: dict[str, tuple[int, Expr]] = field(default_factory=dict)
    includes: dict[str, str] = field(default_factory=dict)  # include name ("" = unnamed/current) -> path
    exposed: dict[str, Parent] = field(default_factory=dict)
    locals_cache: dict[str, Any] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)


@dataclass
class Parent:
    name: str
    path: str
    body: Body | None
    merge_strategy: str
    expose: bool
    scope: Scope | None = None
    inputs_memo: Any = None


@dataclass
class _Memo:
    value: Any
    errors: list[tuple[str, int | None, str]]
    unresolved: list[tuple[str, int | None, str, str]]


def locals_of(body: Body) -> dict[str, tuple[int, Expr]]:
    merged: dict[str, tuple[int, Expr]] = {}
    for _labels, _line, block in body.blocks_of("locals"):
        merged.update(block.attrs)
    return merged


class Evaluator:
    def __init__(self, root: str, summaries: dict[str, FileSummary], files: FileIndex) -> None:
        self.root = root
        self._root_prefix = root.rstrip(os.sep) + os.sep
        self.summaries = summaries
        self.files = files
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
        """`path` relative to the live root, POSIX; paths here are already normalised and absolute, so the
        common case is a slice (os.path.relpath costs more than the rest of a unit's resolution)."""
        if path == self.root:
            return "."
        if path.startswith(self._root_prefix):
            rel = path[len(self._root_prefix) :]
        else:
            rel = os.path.relpath(path, self.root)
        return rel if os.sep == "/" else rel.replace(os.sep, "/")

    def begin_unit(self, unit_rel: str | None) -> None:
        self._unit = unit_rel
        self._reported = set()

    def error(self, path: str, line: int | None, message: str) -> None:
        key = (self.rel(path), line, message)
        self._errors.setdefault(key, set()).add(self._unit)
        for memo in self._recording:
            memo.errors.append(key)

    def unresolved(self, path: str, line: int | None, expression: str, reason: str) -> None:
        key = (self.rel(path), line, short(expression), reason)
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
            self.error(path, line, f"{what}: `{short(expr[1])}` is not {_expected(what)}")
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
                    out.append(number_text(value) if not isinstance(value, str) else value)
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
        if kind == "get":
            return follow(self.eval(expr[2], scope), expr[3], expr[1])
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
        return follow(value, rest, src)

    def _exposed(self, parent: Parent, steps: tuple[Any, ...], src: str) -> tuple[Any, tuple[Any, ...]]:
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
                parent.inputs_memo = self.inputs_of(parent.body, parent.scope, parent.path)
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
            return Unknown(src, f"`{short(src)}` finds no {name} in any parent folder", failed=True)
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
        return pure_function(fname, args, src)

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
            return decode(fname, args[0], src)
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
        if path.endswith(".json"):
            return Unknown(src, JSON_SYNTAX)
        body = self.body(path)
        if body is None:
            return Unknown(src, f"{self.rel(path)} cannot be read", failed=True, cause_reported=True)
        scope = Scope(
            config_path=path, file_path=path, unit_dir=caller.unit_dir, locals_exprs=locals_of(body)
        )
        self.report_locals(scope, path)
        result: dict[str, Any] = {"locals": {n: self.local(n, scope) for n in scope.locals_exprs}}
        for name, (_line, expr) in body.attrs.items():
            result[name] = self.eval(expr, scope)
        return result

    def inputs_of(self, body: Body, scope: Scope, path: str) -> dict[str, Any]:
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


def _as_written(value: Any, expr: Expr) -> Any:
    """A value that is not fully known is reported as the whole expression, as written."""
    unknown = first_unknown(value)
    return Unknown(expr[1], unknown.reason if unknown else "not known statically")


def _config_rel(unit_rel: str) -> str:
    return DEFAULT_CONFIG if unit_rel == "." else f"{unit_rel}/{DEFAULT_CONFIG}"


def _expected(what: str) -> str:
    if what.endswith(("enabled", "skip", " if")):
        return "a bool"
    return "an object" if what == "inputs" else "a list" if what.endswith("paths") else "a string"
