"""Careful edits of terragrunt files: a minimal text splice at the parser's position of the value.

Every edit is planned first (`PlannedEdit`: the splices, the whole new text, a unified diff and a reason),
shown to the operator, then applied with `apply_edit`: backup, atomic write, re-parse, read-back check,
and the backup restored when anything does not hold. Comments, ordering, spacing and every byte outside
the changed value stay as they were.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import itertools
import math
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refarch_tui import atomic, secrets
from refarch_tui.live.hclparse import Expr, _Converter, _is_tree, _significant, error_summary, parse_tree
from refarch_tui.live.model import LiveTree, Unit

CONFIG = "terragrunt.hcl"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# control characters other than \n \r \t (escaped by name): C0, DEL and C1, written as HCL \uNNNN escapes
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class EditRefused(Exception):
    """The tool will not make this edit; `reason` says why and what to do instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EditFailed(Exception):
    """The edit was written but did not hold (or could not be written); the original file is back."""

    def __init__(self, reason: str, *, backup: Path | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.backup = backup


@dataclass(frozen=True)
class Splice:
    start: int  # offsets into the old text
    end: int
    text: str


@dataclass(frozen=True)
class Check:
    """After applying, `path` (e.g. ("inputs", "ami_id")) must read back as `value`."""

    path: tuple[str, ...]
    value: Any


@dataclass(frozen=True)
class PlannedEdit:
    file: Path
    old_text: str
    new_text: str
    diff: str
    reason: str
    span: tuple[int, int]  # [start, end) of old_text that changes; outside it old and new are identical
    splices: tuple[Splice, ...] = ()
    checks: tuple[Check, ...] = ()
    old_sha256: str = ""
    unit: str | None = None
    label: str = ""  # the file relative to the live repo (POSIX) when known, else its full path
    root: Path | None = None  # the live repo (real path) the file must stay inside when applied
    linked_from: str | None = None  # the symlink named in the repo when `file` is its target

    @property
    def new_span(self) -> tuple[int, int]:
        """The span of new_text that replaced `span` of old_text."""
        return (self.span[0], self.span[1] + len(self.new_text) - len(self.old_text))


@dataclass(frozen=True)
class AppliedEdit:
    edit: PlannedEdit
    backup: Path


# -- rendering values as HCL literals ----------------------------------------------------------------


def _render_string(value: str) -> str:
    """A quoted HCL string. A lone surrogate (no UTF-8 form) is refused; other control characters are
    escaped, never written raw (a raw NUL or ESC in a .hcl file breaks editors, diffs and terminals)."""
    lone = _SURROGATE.search(value)
    if lone is not None:
        raise EditRefused(
            f"the value {_short(ascii(value))} holds a lone surrogate (U+{ord(lone.group()):04X} at "
            f"character {lone.start()}), which has no UTF-8 form; nothing was written — give a valid text"
        )
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    out = out.replace("\t", "\\t").replace("${", "$${").replace("%{", "%%{")
    out = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return f'"{out}"'


def _render_key(key: str) -> str:
    return key if _IDENT.match(key) else _render_string(key)


def render_value(value: object, *, _depth: int = 0) -> str:
    """An HCL literal for str, int, float, bool, None, lists of those and dicts of simple values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise EditRefused(f"{value!r} cannot be written as an HCL number")
        return repr(value)
    if isinstance(value, str):
        return _render_string(value)
    if _depth >= 1:
        raise EditRefused("only lists of simple values and maps of simple values can be written")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(v, _depth=_depth + 1) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = ", ".join(
            f"{_render_key(str(k))} = {render_value(v, _depth=_depth + 1)}" for k, v in value.items()
        )
        return "{ " + items + " }"
    raise EditRefused(f"a {type(value).__name__} cannot be written as an HCL literal")


def _literal(expr: Expr) -> tuple[bool, Any]:
    """(is a literal the tool owns, its Python value)."""
    kind = expr[0]
    if kind == "lit":
        if str(expr[1]).lstrip().startswith("<<"):
            return False, None  # heredocs: edit by hand
        return True, expr[2]
    if kind == "tuple":
        values = []
        for item in expr[2]:
            ok, value = _literal(item)
            if not ok:
                return False, None
            values.append(value)
        return True, values
    if kind == "obj":
        result = {}
        for key, item, _line in expr[2]:
            ok, value = _literal(item)
            if not ok or key is None:
                return False, None
            result[key] = value
        return True, result
    return False, None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        a = list(a)
    if isinstance(b, tuple):
        b = list(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


# -- the parsed document with positions ----------------------------------------------------------------


@dataclass
class _Elem:
    key: str | None
    node: Any  # object_elem
    value: Any  # the value expression node
    eq: Any  # the EQ / COLON token


class _Doc:
    def __init__(self, path: Path, raw: bytes, label: str | None = None) -> None:
        self.path = path
        self.label = label or str(path)
        self.linked_from: str | None = None  # the symlink the operator named, when `path` is its target
        self.root: Path | None = None  # the live repo's real path, when the file was read inside one
        self.raw = raw
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EditRefused(f"{path} is not UTF-8 text (byte {exc.start}); edit it by hand") from None
        self.bom = 1 if self.text.startswith("\ufeff") else 0
        body_text = self.text[self.bom :]
        try:
            self.tree = parse_tree(body_text)
        except Exception as exc:
            line, message = error_summary(exc)
            where = f" line {line}" if line else ""
            raise EditRefused(f"{path}{where} does not parse ({message}); fix it first") from None
        self.conv = _Converter(body_text + "\n")
        self.nl = "\r\n" if "\r\n" in self.text else "\n"
        self.tab = "\t" in "".join(re.findall(r"(?m)^[ \t]+", self.text)[:50]).replace(" ", "")

    @classmethod
    def read(cls, path: Path, root: Path | None = None) -> _Doc:
        """The file to edit. With `root` (the live repo), the file's real path must lie inside it: a path
        with `..`, an absolute path, a symlinked folder or file leading out of the repo is refused. A symlink
        whose target is inside the repo is followed: the target is the file edited (and named)."""
        label = None
        linked_from: str | None = None
        if root is not None:
            real_root = Path(os.path.realpath(root))
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(real_root):
                raise EditRefused(
                    f"{path} resolves to {real}, outside the live repo {real_root}; "
                    "the tool only edits files inside the live repo — nothing was changed"
                )
            label = real.relative_to(real_root).as_posix()
            named = Path(os.path.abspath(path))
            try:
                named_rel: str | None = named.relative_to(os.path.abspath(root)).as_posix()
            except ValueError:
                named_rel = None
            if named_rel is None or named_rel != label:
                # a symlink inside the repo: the target (inside too) is the file edited and named
                linked_from = named_rel if named_rel is not None else str(path)
                path = real
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise EditRefused(f"{path} does not exist") from None
        except OSError as exc:
            raise EditRefused(f"cannot read {path}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(mode):
            raise EditRefused(f"{path} is not a regular file; the tool only edits regular files")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise EditRefused(f"cannot read {path}: {exc.strerror or exc}") from None
        doc = cls(path, raw, label)
        doc.linked_from = linked_from
        doc.root = Path(os.path.realpath(root)) if root is not None else None
        return doc

    def span(self, node: Any) -> tuple[int, int]:
        if _is_tree(node):
            return node.meta.start_pos + self.bom, node.meta.end_pos + self.bom
        return node.start_pos + self.bom, node.end_pos + self.bom

    def expr(self, node: Any) -> Expr:
        return self.conv.expr(node)

    @property
    def body(self) -> Any:
        return self.tree.children[0]

    def attr(self, body: Any, name: str) -> Any | None:
        found = None
        for child in _significant(body.children):
            if child.data == "attribute" and self.conv.name_of(_significant(child.children)[0]) == name:
                found = _significant(child.children)[-1]
        return found

    def blocks(self, body: Any, kind: str) -> list[Any]:
        result = []
        for child in _significant(body.children):
            if child.data == "block" and self.conv.name_of(_significant(child.children)[0]) == kind:
                result.append(_significant(child.children)[-1])  # the block's body
        return result

    @staticmethod
    def object_of(value: Any) -> Any | None:
        node = value
        while _is_tree(node) and node.data == "expr_term":
            inner = _significant(node.children)
            if len(inner) != 1 or (node.children and not _is_tree(node.children[0])):
                return None
            node = inner[0]
        return node if _is_tree(node) and node.data == "object" else None

    def elems(self, obj: Any) -> list[_Elem]:
        result = []
        for elem in _significant(obj.children):
            key_node, value_node = _significant(elem.children)
            eq = next(c for c in elem.children if not _is_tree(c))
            result.append(_Elem(self.conv.key_of(key_node), elem, value_node, eq))
        return result

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def indent_at(self, pos: int) -> str:
        start = self.line_start(pos)
        line = self.text[start:pos]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def unit_indent(self) -> str:
        return "\t" if self.tab else "  "


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _insert_into_object(doc: _Doc, obj: Any, key: str, rendered: str) -> Splice:
    """A new `key = value` line in an object, indented (and `=`-aligned) like its neighbours."""
    lbrace = doc.span(obj.children[0])
    rbrace = doc.span(obj.children[-1])
    elems = doc.elems(obj)
    brace_line = doc.line_start(rbrace[0])
    own_line = doc.text[brace_line : rbrace[0]].strip() == ""
    if elems:
        last = elems[-1]
        elem_start = doc.span(last.node)[0]
        indent = doc.indent_at(elem_start)
        _eq_start, eq_end = doc.span(last.eq)
        key_end = doc.span(_significant(last.node.children)[0])[1]
        eq_col = eq_end - 1 - doc.line_start(eq_end - 1)
        name = _render_key(key)
        aligned = eq_end - 1 - key_end > 1 and doc.line_start(elem_start) == doc.line_start(eq_end)
        pad = eq_col - len(indent) - len(name)
        lhs = name + (" " * pad if aligned and pad >= 1 else " ")
    else:
        indent = doc.indent_at(lbrace[0]) + doc.unit_indent()
        lhs = _render_key(key) + " "
    line = f"{indent}{lhs}= {rendered}"
    if own_line:
        return Splice(brace_line, brace_line, line + doc.nl)
    if not elems:
        closing_indent = doc.indent_at(lbrace[0])
        return Splice(lbrace[1], rbrace[0], f"{doc.nl}{line}{doc.nl}{closing_indent}")
    before = doc.text[: rbrace[0]].rstrip(" \t")
    sep = " " if before.endswith(",") else ", "
    return Splice(len(before), len(before), f"{sep}{_render_key(key)} = {rendered}")


def _check_secret(name: str, rendered: str) -> None:
    if secrets.contains_secret(rendered) or secrets.contains_secret(f"TF_VAR_{name}={rendered}"):
        raise EditRefused(
            f"the value for {name} looks like a secret; secrets never go into HCL files — pass it to "
            "terragrunt through the environment (TF_VAR_...) from the keyring instead"
        )


def _value_splice(doc: _Doc, value_node: Any, rendered: str, what: str) -> Splice | None:
    """Replace an owned literal; None when it already has this text; EditRefused otherwise."""
    expr = doc.expr(value_node)
    owned, _current = _literal(expr)
    if not owned:
        raise EditRefused(
            f"{what} in {doc.path} is `{_short(expr[1])}`, an expression this tool does not own; "
            "change it by hand if it should be a fixed value"
        )
    start, end = doc.span(value_node)
    if doc.text[start:end] == rendered:
        return None
    return Splice(start, end, rendered)


def _finish(
    doc: _Doc, splices: list[Splice], checks: list[Check], reason: str, unit: str | None
) -> PlannedEdit:
    ordered = sorted(splices, key=lambda s: (s.start, s.end))
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise EditRefused(f"two changes to {doc.path} overlap; plan them one at a time")
    new_text = doc.text
    for splice in reversed(ordered):
        new_text = new_text[: splice.start] + splice.text + new_text[splice.end :]
    span = (ordered[0].start, ordered[-1].end) if ordered else (0, 0)
    name = doc.label
    if doc.linked_from is not None:
        reason = f"{reason} ({doc.linked_from} is a symlink to {name}: the target file is edited)"
    diff = "".join(
        difflib.unified_diff(
            doc.text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
    return PlannedEdit(
        file=doc.path,
        old_text=doc.text,
        new_text=new_text,
        diff=diff,
        reason=reason,
        span=span,
        splices=tuple(ordered),
        checks=tuple(checks),
        old_sha256=_sha(doc.raw),
        unit=unit,
        label=doc.label,
        root=doc.root,
        linked_from=doc.linked_from,
    )


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- set inputs ----------------------------------------------------------------------------------------


def _root_of(tree_or_root: LiveTree | Path | str) -> Path:
    return tree_or_root.root if isinstance(tree_or_root, LiveTree) else Path(tree_or_root)


def _unit_file(root: Path, unit_path: str) -> Path:
    if unit_path in (".", ""):
        return root / CONFIG
    parts = Path(unit_path).parts
    if Path(unit_path).is_absolute() or ".." in parts:
        raise EditRefused(
            f"unit path {unit_path!r} must be relative to the live repo {root}, without '..'; "
            "nothing was changed"
        )
    return root / unit_path / CONFIG


def plan_set_inputs(
    tree_or_root: LiveTree | Path | str, unit_path: str, values: Mapping[str, object], *, reason: str
) -> PlannedEdit:
    """Set several inputs of one unit in one edit (one diff for the file)."""
    root = _root_of(tree_or_root)
    doc = _Doc.read(_unit_file(root, unit_path), root)
    rendered = {name: render_value(value) for name, value in values.items()}
    for name, text in rendered.items():
        _check_secret(name, text)
    splices: list[Splice] = []
    checks = [Check(("inputs", name), value) for name, value in values.items()]
    inputs_value = doc.attr(doc.body, "inputs")
    locals_to_edit: dict[str, tuple[Any, str, str]] = {}
    if inputs_value is None:
        indent = doc.unit_indent()
        lines = "".join(f"{indent}{_render_key(n)} = {t}{doc.nl}" for n, t in rendered.items())
        prefix = "" if not doc.text or doc.text.endswith("\n") else doc.nl
        block = f"{prefix}{doc.nl if doc.text.strip() else ''}inputs = {{{doc.nl}{lines}}}{doc.nl}"
        splices.append(Splice(len(doc.text), len(doc.text), block))
        return _finish(doc, splices, checks, reason, unit_path)
    obj = doc.object_of(inputs_value)
    if obj is None:
        expr = doc.expr(inputs_value)
        raise EditRefused(
            f"inputs in {doc.path} is `{_short(expr[1])}`, not a plain {{ ... }} object; "
            "the tool only edits plain inputs — change it by hand"
        )
    elems = {e.key: e for e in doc.elems(obj) if e.key is not None}
    inserts: list[tuple[str, str]] = []
    for name, text in rendered.items():
        elem = elems.get(name)
        if elem is None:
            inserts.append((name, text))
            continue
        expr = doc.expr(elem.value)
        local_name = _local_ref(expr)
        if local_name is not None and not _literal(expr)[0]:
            locals_to_edit[local_name] = (elem, name, text)
            continue
        splice = _value_splice(doc, elem.value, text, f"input {name}")
        if splice is not None:
            splices.append(splice)
    for local_name, (_elem, input_name, text) in locals_to_edit.items():
        splice = _local_splice(doc, local_name, text, f"input {input_name} (via local.{local_name})")
        if splice is not None:
            splices.append(splice)
    if inserts:
        merged_text = ""
        anchor: Splice | None = None
        for name, text in inserts:
            anchor = _insert_into_object(doc, obj, name, text)
            merged_text += anchor.text
        assert anchor is not None
        if anchor.start == anchor.end:
            splices.append(Splice(anchor.start, anchor.end, merged_text))
        else:  # an empty one-line object: rebuild its inside with every new line
            indent = doc.indent_at(doc.span(obj.children[0])[0])
            lines = "".join(f"{indent}{doc.unit_indent()}{_render_key(n)} = {t}{doc.nl}" for n, t in inserts)
            splices.append(Splice(anchor.start, anchor.end, f"{doc.nl}{lines}{indent}"))
    return _finish(doc, splices, checks, reason, unit_path)


def plan_set_input(
    tree_or_root: LiveTree | Path | str, unit_path: str, name: str, value: object, *, reason: str
) -> PlannedEdit:
    """Set one input of one unit: splice the literal in place, or add a line to its `inputs` object."""
    return plan_set_inputs(tree_or_root, unit_path, {name: value}, reason=reason)


def _local_ref(expr: Expr) -> str | None:
    if expr[0] == "trav" and expr[2] == "local" and len(expr[3]) == 1 and isinstance(expr[3][0], str):
        return str(expr[3][0])
    return None


def _local_splice(doc: _Doc, name: str, rendered: str, what: str) -> Splice | None:
    for body in doc.blocks(doc.body, "locals"):
        node = doc.attr(body, name)
        if node is not None:
            return _value_splice(doc, node, rendered, what)
    raise EditRefused(f"{what} refers to local.{name}, which {doc.path} does not define; change it by hand")


def find_units_with_input(tree: LiveTree, *names: str) -> list[Unit]:
    """Units whose inputs (their own or included) contain any of `names`, by path."""
    wanted = set(names)
    return [u for _p, u in sorted(tree.units.items()) if wanted & set(u.inputs)]


_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")


def unit_region(unit: Unit) -> str | None:
    """The AWS region a unit deploys to: its resolved `aws_region` input, else a region-named folder."""
    value = unit.inputs.get("aws_region")
    if isinstance(value, str) and "aws_region" not in unit.unresolved and _REGION.match(value):
        return value
    for part in unit.path.split("/"):
        if _REGION.match(part):
            return part
    return None


@dataclass(frozen=True)
class EditPlan:
    edits: list[PlannedEdit]  # one per file, only files that change
    refused: list[tuple[str, str]]  # (unit path, reason) for units the tool will not edit
    unchanged: list[str]  # units that already have the value


def plan_input_everywhere(
    tree: LiveTree,
    names: Sequence[str],
    value: object,
    *,
    reason: str,
    accounts: Sequence[str] | None = None,
    region: str | None = None,
    units: Sequence[str] | None = None,
) -> EditPlan:
    """Set `value` for whichever of `names` each runnable unit has (optionally some accounts/region/units).

    For steps: "the AMI goes into every ami_id in dev, us-east-1". Refusals are collected, not raised.
    """
    planned: list[PlannedEdit] = []
    refused: list[tuple[str, str]] = []
    unchanged: list[str] = []
    for unit in find_units_with_input(tree, *names):
        if not unit.runnable or (accounts is not None and unit.account not in accounts):
            continue
        if units is not None and unit.path not in units:
            continue
        if region is not None and unit_region(unit) != region:
            continue
        wanted = {name: value for name in names if name in unit.inputs}
        try:
            edit = plan_set_inputs(tree, unit.path, wanted, reason=reason)
        except EditRefused as exc:
            refused.append((unit.path, exc.reason))
            continue
        if edit.new_text == edit.old_text:
            unchanged.append(unit.path)
        else:
            planned.append(edit)
    return EditPlan(edits=planned, refused=refused, unchanged=unchanged)


# -- remote state ----------------------------------------------------------------------------------------


_STATE_KEYS = (("bucket", "bucket"), ("table", "dynamodb_table"), ("region", "region"))


def plan_set_remote_state(
    root: LiveTree | Path | str, account: str, *, bucket: str, table: str, region: str, reason: str
) -> list[PlannedEdit]:
    """Point an account's S3 backend at `bucket` / `table` in `region`.

    Edits `<account>/terragrunt.hcl`'s `remote_state { config = { ... } }` (the seed's layout). For a shared
    `root.hcl` (or root `terragrunt.hcl`), values read from a per-account file such as
    `local.account_vars.locals.state_bucket` are edited in that account's file; literals there are shared by
    every account, so they are refused.
    """
    live = _root_of(root)
    wanted = {"bucket": bucket, "table": table, "region": region}
    for key, text in wanted.items():
        _check_secret(key, _render_string(text))
    account_file = live / account / CONFIG
    if account_file.is_file():
        doc = _Doc.read(account_file, live)
        if doc.blocks(doc.body, "remote_state"):
            return [_plan_state_in(doc, wanted, reason, per_account=True, live=live, account=account)]
    for shared in (live / "root.hcl", live / CONFIG):
        if shared.is_file():
            doc = _Doc.read(shared, live)
            if doc.blocks(doc.body, "remote_state"):
                return _plan_state_shared(doc, wanted, reason, live=live, account=account)
    raise EditRefused(
        f"no remote_state block in {account_file}, {live / 'root.hcl'} or {live / CONFIG}; "
        "add the backend configuration by hand first"
    )


def _state_config(doc: _Doc) -> Any:
    block = doc.blocks(doc.body, "remote_state")[0]
    config = doc.attr(block, "config")
    obj = doc.object_of(config) if config is not None else None
    if obj is None:
        raise EditRefused(f"remote_state in {doc.path} has no plain `config = {{ ... }}`; change it by hand")
    return obj


def _plan_state_in(
    doc: _Doc, wanted: dict[str, str], reason: str, *, per_account: bool, live: Path, account: str
) -> PlannedEdit:
    obj = _state_config(doc)
    elems = {e.key: e for e in doc.elems(obj) if e.key is not None}
    splices: list[Splice] = []
    checks: list[Check] = []
    pending_inserts = ""
    insert_at: Splice | None = None
    for param, key in _STATE_KEYS:
        rendered = _render_string(wanted[param])
        elem = elems.get(key)
        checks.append(Check(("remote_state", "config", key), wanted[param]))
        if elem is None:
            insert_at = _insert_into_object(doc, obj, key, rendered)
            pending_inserts += insert_at.text
            continue
        expr = doc.expr(elem.value)
        local_name = _local_ref(expr)
        if local_name is not None:
            splice = _local_splice(doc, local_name, rendered, f"remote_state {key} (via local.{local_name})")
        else:
            splice = _value_splice(doc, elem.value, rendered, f"remote_state {key}")
        if splice is not None:
            splices.append(splice)
    if insert_at is not None:
        splices.append(Splice(insert_at.start, insert_at.end, pending_inserts))
    _ = (per_account, live, account)
    return _finish(doc, splices, checks, reason, account)


def _plan_state_shared(
    doc: _Doc, wanted: dict[str, str], reason: str, *, live: Path, account: str
) -> list[PlannedEdit]:
    obj = _state_config(doc)
    elems = {e.key: e for e in doc.elems(obj) if e.key is not None}
    readers = _read_config_locals(doc)
    per_file: dict[Path, dict[str, str]] = {}
    for param, key in _STATE_KEYS:
        elem = elems.get(key)
        if elem is None:
            raise EditRefused(f"remote_state config in {doc.path} has no {key}; add it by hand")
        expr = doc.expr(elem.value)
        if expr[0] == "trav" and expr[2] == "local" and len(expr[3]) == 3 and expr[3][1] == "locals":
            file_name = readers.get(str(expr[3][0]))
            if file_name is not None:
                per_file.setdefault(live / account / file_name, {})[str(expr[3][2])] = wanted[param]
                continue
        raise EditRefused(
            f"remote_state {key} in {doc.path} is `{_short(expr[1])}`, shared by every account; make it read "
            f"a per-account value (e.g. local.account_vars.locals.state_{key}) or change it by hand"
        )
    edits = []
    for path, local_values in per_file.items():
        target = _Doc.read(path, live)
        splices = []
        for name, value in local_values.items():
            splice = _local_splice(target, name, _render_string(value), f"{name} in {path.name}")
            if splice is not None:
                splices.append(splice)
        checks = [Check(("locals", n), v) for n, v in local_values.items()]
        edits.append(_finish(target, splices, checks, reason, account))
    return edits


def _read_config_locals(doc: _Doc) -> dict[str, str]:
    """local name -> file name for `x = read_terragrunt_config(find_in_parent_folders("file.hcl"))`."""
    found: dict[str, str] = {}
    for body in doc.blocks(doc.body, "locals"):
        for child in _significant(body.children):
            if child.data != "attribute":
                continue
            parts = _significant(child.children)
            expr = doc.expr(parts[-1])
            if expr[0] == "call" and expr[2] == "read_terragrunt_config" and expr[3]:
                inner = expr[3][0]
                if inner[0] == "call" and inner[2] == "find_in_parent_folders" and inner[3]:
                    arg = inner[3][0]
                    if arg[0] == "lit" and isinstance(arg[2], str):
                        found[doc.conv.name_of(parts[0])] = arg[2]
    return found


# -- applying --------------------------------------------------------------------------------------------


def _read_back(text: str, path: tuple[str, ...]) -> tuple[bool, Any]:
    from refarch_tui.live.hclparse import summarise

    summary = summarise(text)
    if summary.body is None:
        return False, summary.error
    body = summary.body
    expr: Expr | None = None
    if path[0] == "inputs":
        attr = body.attrs.get("inputs")
        if attr is not None and attr[1][0] == "obj":
            matches = [e for k, e, _l in attr[1][2] if k == path[1]]
            expr = matches[-1] if matches else None
    elif path[0] == "locals":
        for _labels, _line, block in body.blocks_of("locals"):
            if path[1] in block.attrs:
                expr = block.attrs[path[1]][1]
    elif path[0] == "remote_state":
        blocks = body.blocks_of("remote_state")
        config = blocks[0][2].attrs.get("config") if blocks else None
        if config is not None and config[1][0] == "obj":
            matches = [e for k, e, _l in config[1][2] if k == path[2]]
            expr = matches[-1] if matches else None
            if expr is not None and _local_ref(expr) is not None:
                name = _local_ref(expr)
                for _labels, _line, block in body.blocks_of("locals"):
                    if name in block.attrs:
                        expr = block.attrs[name][1]
    if expr is None:
        return False, None
    if path[0] == "inputs" and _local_ref(expr) is not None:
        name = _local_ref(expr)
        for _labels, _line, block in body.blocks_of("locals"):
            if name in block.attrs:
                expr = block.attrs[name][1]
    return _literal(expr)


def read_value(text: str, path: tuple[str, ...]) -> tuple[bool, Any]:
    """(is a literal the tool owns, its value) at `path` of a file's text, as `Check` paths name it —
    e.g. ("inputs", "ami_id"); (False, None) when it is absent or an expression."""
    body_text = text[1:] if text.startswith("\ufeff") else text
    try:
        return _read_back(body_text, path)
    except Exception:  # a file that does not parse has no owned literal anywhere
        return False, None


def _backup_path(file: Path, backup_dir: Path | None) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    if backup_dir is None:
        return file.with_name(f"{file.name}.{stamp}.bak")
    flat = "__".join(file.resolve().parts[-5:])
    return backup_dir / f"{flat}.{stamp}.bak"


def _check_still_confined(edit: PlannedEdit) -> None:
    """The file planned is the file written: still a regular file (not swapped for a symlink since the plan),
    still inside the live repo."""
    if edit.root is None:
        return
    real = Path(os.path.realpath(edit.file))
    if real != edit.root / edit.label:
        raise EditRefused(
            f"{edit.file} now resolves to {real}, not {edit.root / edit.label} as when the edit was planned "
            "(a symlink made or moved since); nothing changed — review the edit again"
        )
    try:
        mode = os.lstat(edit.file).st_mode
    except OSError as exc:
        raise EditRefused(f"cannot read {edit.file}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise EditRefused(f"{edit.file} is no longer a regular file; nothing changed")


def apply_edit(edit: PlannedEdit, *, backup_dir: Path | None = None) -> AppliedEdit:
    """Back up, write atomically, re-parse and read back; restore the backup if anything does not hold."""
    _check_still_confined(edit)
    try:
        encoded = edit.new_text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EditRefused(
            f"the new text of {edit.file} cannot be written as UTF-8 ({exc.reason}); nothing changed"
        ) from None
    try:
        raw = edit.file.read_bytes()
    except OSError as exc:
        raise EditRefused(f"cannot read {edit.file}: {exc.strerror or exc}") from None
    if edit.old_sha256 and _sha(raw) != edit.old_sha256:
        raise EditRefused(f"{edit.file} changed on disk since it was read; review the edit again")
    if raw.decode("utf-8", errors="replace") != edit.old_text:
        raise EditRefused(f"{edit.file} changed on disk since it was read; review the edit again")
    backup = _backup_path(edit.file, backup_dir)
    try:
        backup.parent.mkdir(parents=True, exist_ok=True)
        atomic.atomic_write_bytes(backup, raw)
    except OSError as exc:
        raise EditFailed(
            f"could not write the backup {backup}: {exc.strerror or exc}; nothing changed"
        ) from None
    try:
        atomic.atomic_write_bytes(edit.file, encoded)
    except OSError as exc:
        raise EditFailed(f"could not write {edit.file}: {exc.strerror or exc}", backup=backup) from None

    problem: str | None = None
    written = edit.file.read_bytes().decode("utf-8", errors="replace")
    if written != edit.new_text:
        problem = "the file does not read back as written"
    else:
        body_text = written[1:] if written.startswith("\ufeff") else written
        for check in edit.checks:
            ok, value = _read_back(body_text, check.path)
            if not ok or not _same(value, check.value):
                shown = ".".join(check.path)
                problem = f"{shown} reads back as {value!r}, not {check.value!r}"
                break
    if problem is not None:
        atomic.atomic_write_bytes(edit.file, raw)
        raise EditFailed(
            f"{edit.file}: {problem}; the original is restored (backup: {backup})", backup=backup
        )
    return AppliedEdit(edit=edit, backup=backup)


def apply_edits(edits: Sequence[PlannedEdit], *, backup_dir: Path | None = None) -> list[AppliedEdit]:
    """Apply edits in order; stops at the first refusal/failure (earlier ones stay applied)."""
    return [apply_edit(edit, backup_dir=backup_dir) for edit in edits]
