"""One HCL file → a small, picklable summary: its attributes and blocks as expression trees with source text.

python-hcl2's lark parser gives a tree with character positions; we walk it once and keep only what the
resolver needs. Expressions become tuples (cheap to pickle for the parse cache and the process pool):

    ("lit", src, value)            number, bool, null, plain string, heredoc without interpolation
    ("tpl", src, parts)            string with interpolations: parts is a tuple of str | Expr
    ("trav", src, name, steps)     name.attr[0]["k"]...: steps is a tuple of str | int
    ("get", src, base, steps)      (any expression).attr[0]...: e.g. read_terragrunt_config(...).locals.x
    ("call", src, fname, args)     function call
    ("tuple", src, items)
    ("obj", src, items)            items: tuple of (key: str | None, Expr, line)
    ("cond", src, test, yes, no)   test ? yes : no
    ("bin", src, operator, left, right)
    ("unary", src, operator, operand)
    ("op", src)                    anything we do not evaluate (for expressions, splats, template directives)

Files are read only when they are regular files under a size limit, and a file nested deeper than the parser
and the evaluator can take is refused before parsing: bad input becomes an error, never a hang.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

Expr = tuple[Any, ...]

PARSER_NAME = "python-hcl2"
MAX_FILE_BYTES = 1 << 20  # a terragrunt file is a few KiB; parsing 1 MiB takes seconds, 50 MiB minutes
MAX_NESTING = 100  # brackets, braces and parentheses inside each other; real configs stay under 20


class Refused(Exception):
    """A file that is not read or not parsed: the message says why (never quoting its content)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_limited(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises Refused (or OSError) otherwise.

    A FIFO would block `open` until a writer comes, so the type is checked before opening and again on the
    open descriptor (opened non-blocking: the path may have been swapped in between)."""
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise Refused(f"is {_kind(before.st_mode)}, not a regular file; not read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise Refused(f"is {_kind(mode)}, not a regular file; not read")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"is larger than the {_size(limit)} limit for one file; not read")
    return data


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 and count % (1 << 20) == 0 else f"{count} bytes"


_BRACKET = re.compile(r"[][{}()]")
_OPENERS = frozenset("[{(")


def too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The line where brackets nest deeper than `limit`, or None. Counts brackets in strings and comments
    too: a cheap over-estimate that only matters for files no one writes by hand."""
    depth = 0
    for match in _BRACKET.finditer(text):
        if match.group() in _OPENERS:
            depth += 1
            if depth > limit:
                return text.count("\n", 0, match.start()) + 1
        elif depth:
            depth -= 1
    return None


@dataclass
class Body:
    attrs: dict[str, tuple[int, Expr]] = field(default_factory=dict)  # name -> (line, expr)
    blocks: list[tuple[str, tuple[str, ...], int, Body]] = field(default_factory=list)  # type, labels, line

    def blocks_of(self, kind: str) -> list[tuple[tuple[str, ...], int, Body]]:
        return [(labels, line, body) for btype, labels, line, body in self.blocks if btype == kind]


@dataclass
class FileSummary:
    body: Body | None  # None when the file failed to parse
    error_line: int | None = None
    error: str | None = None
    looks_runnable: bool = False  # for a file that failed to parse: a textual guess (terraform/include block)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_UNICODE_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)


def unescape(chars: str) -> str:
    def sub(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _UNICODE_ESCAPE.sub(sub, chars)


def heredoc_body(token_text: str) -> tuple[str, bool]:
    """The text of a heredoc token (`<<EOF\\n...\\nEOF\\n` or `<<-EOF`) and whether it interpolates."""
    trim = token_text.startswith("<<-")
    first_nl = token_text.index("\n")
    marker = token_text[3 if trim else 2 : first_nl].strip()
    rest = token_text[first_nl + 1 :]
    lines = rest.split("\n")
    # last element is "" (after final newline), the one before ends with the marker
    body_lines = lines[:-2]
    body_lines = [ln[:-1] if ln.endswith("\r") else ln for ln in body_lines]
    if trim:
        indents = [len(ln) - len(ln.lstrip(" \t")) for ln in body_lines if ln.strip()]
        cut = min(indents) if indents else 0
        body_lines = [ln[cut:] for ln in body_lines]
    body = "\n".join(body_lines) + ("\n" if body_lines else "")
    _ = marker
    return body, ("${" in body.replace("$${", "")) or ("%{" in body.replace("%%{", ""))


def _is_tree(node: Any) -> bool:
    return hasattr(node, "data")


def _edge_token(node: Any, end: int) -> Any:
    """The first (end=0) or last (end=-1) token under a node: spans without lark's (costly) position meta."""
    if not _is_tree(node):
        return node
    children = node.children if end == 0 else reversed(node.children)
    for child in children:
        token = _edge_token(child, end)
        if token is not None:
            return token
    return None


def _line(node: Any) -> int:
    token = _edge_token(node, 0)
    return int(token.line) if token is not None and token.line is not None else 0


def _significant(children: list[Any]) -> list[Any]:
    return [c for c in children if _is_tree(c) and c.data != "new_line_or_comment"]


class _Converter:
    def __init__(self, text: str) -> None:
        self.text = text

    def src(self, node: Any) -> str:
        first, last = _edge_token(node, 0), _edge_token(node, -1)
        if first is None or last is None:
            return ""
        return self.text[first.start_pos : last.end_pos]

    def body(self, node: Any) -> Body:
        result = Body()
        for child in _significant(node.children):
            if child.data == "attribute":
                parts = _significant(child.children)
                name = self.name_of(parts[0])
                result.attrs[name] = (_line(child), self.expr(parts[-1]))
            elif child.data == "block":
                parts = _significant(child.children)
                inner = parts[-1]
                kind = self.name_of(parts[0])
                labels = tuple(self.label_of(p) for p in parts[1:-1])
                result.blocks.append((kind, labels, _line(child), self.body(inner)))
        return result

    def name_of(self, node: Any) -> str:
        return str(node.children[0]) if node.children else self.src(node)

    def label_of(self, node: Any) -> str:
        if node.data == "string":
            converted = self.expr(node)
            return str(converted[2]) if converted[0] == "lit" else converted[1]
        return self.name_of(node)

    def expr(self, node: Any) -> Expr:
        if not _is_tree(node):
            return ("op", self.src(node))
        data = node.data
        src = self.src(node)
        if data == "expr_term":
            inner = _significant(node.children)
            if len(inner) == 1:
                converted = self.expr(inner[0])
                if node.children and not _is_tree(node.children[0]) and node.children[0].type == "LPAR":
                    return (*converted[:1], src, *converted[2:])
                return converted
            return ("op", src)
        if data == "int_lit":
            return ("lit", src, int(str(node.children[0])))
        if data == "float_lit":
            return ("lit", src, float(str(node.children[0])))
        if data == "literal_value":
            word = str(node.children[0])
            return ("lit", src, {"true": True, "false": False}.get(word))
        if data == "string":
            parts: list[Any] = []
            dynamic = False
            for part in node.children:
                if not _is_tree(part):
                    continue  # the quotes
                piece = part.children[0]
                if _is_tree(piece):
                    if piece.data == "interpolation":
                        parts.append(self.expr(_significant(piece.children)[0]))
                        dynamic = True
                    else:  # template directives
                        return ("op", src)
                elif piece.type == "STRING_CHARS":
                    parts.append(unescape(str(piece)))
                else:  # escaped $${ / %%{
                    parts.append(str(piece)[1:])
            if not dynamic:
                return ("lit", src, "".join(p for p in parts if isinstance(p, str)))
            return ("tpl", src, tuple(parts))
        if data in ("heredoc_template", "heredoc_template_trim"):
            body, dynamic = heredoc_body(str(node.children[0]))
            return ("op", src) if dynamic else ("lit", src, body)
        if data == "identifier":
            return ("trav", src, str(node.children[0]), ())
        if data in ("get_attr_expr_term", "index_expr_term"):
            base_node, step_node = _significant(node.children)
            base = self.expr(base_node)
            step = self.step(step_node)
            if step is None or base[0] == "op":
                return ("op", src)
            if base[0] == "trav":
                return ("trav", src, base[2], (*base[3], step))
            if base[0] == "get":
                return ("get", src, base[2], (*base[3], step))
            return ("get", src, base, (step,))
        if data == "function_call":
            kids = node.children
            if any(not _is_tree(k) and k.type == "COLONS" for k in kids):
                return ("op", src)
            name = self.name_of(kids[0])
            args: list[Expr] = []
            for kid in _significant(kids[1:]):
                if kid.data == "arguments":
                    if any(not _is_tree(k) and k.type == "ELLIPSIS" for k in kid.children):
                        return ("op", src)
                    args.extend(self.expr(a) for a in _significant(kid.children))
            return ("call", src, name, tuple(args))
        if data == "tuple":
            return ("tuple", src, tuple(self.expr(c) for c in _significant(node.children)))
        if data == "object":
            items: list[tuple[str | None, Expr, int]] = []
            for elem in _significant(node.children):
                key_node, value_node = _significant(elem.children)
                items.append((self.key_of(key_node), self.expr(value_node), _line(elem)))
            return ("obj", src, tuple(items))
        if data == "conditional":
            test, yes, no = _significant(node.children)
            return ("cond", src, self.expr(test), self.expr(yes), self.expr(no))
        if data == "binary_op":
            left, term = _significant(node.children)[:2]
            operator_node, right = _significant(term.children)
            return ("bin", src, str(operator_node.children[0]), self.expr(left), self.expr(right))
        if data == "unary_op":
            operator, operand = node.children[0], _significant(node.children)[0]
            return ("unary", src, str(operator), self.expr(operand))
        return ("op", src)

    def step(self, node: Any) -> str | int | None:
        if node.data == "get_attr":
            return self.name_of(_significant(node.children)[0])
        if node.data == "short_index":
            return int(str(node.children[-1]))
        if node.data == "braces_index":
            inner = self.expr(_significant(node.children)[0])
            if inner[0] == "lit" and isinstance(inner[2], int | str) and not isinstance(inner[2], bool):
                return inner[2]
        return None

    def key_of(self, node: Any) -> str | None:
        inner = _significant(node.children)
        if not inner:
            return None
        child = inner[0]
        if child.data == "keyword":
            return str(child.children[0])
        converted = self.expr(child)
        if converted[0] == "trav" and not converted[3]:
            return str(converted[2])
        if converted[0] == "lit" and isinstance(converted[2], str):
            return converted[2]
        return None


@functools.cache
def _parser(positions: bool) -> Any:
    """python-hcl2's own grammar and post-lexer; without positions for scanning (twice as fast), with them for
    edits. The tables come prebuilt with the wheel (see parser_tables)."""
    from refarch_tui import paths
    from refarch_tui.live.parser_tables import open_parser

    try:
        cache_dir = paths.cache_dir()
    except OSError:
        cache_dir = None
    return open_parser(cache_dir, positions=positions)


def _fast_parser() -> Any:
    return _parser(False)


def _checked(text: str) -> str:
    line = too_deep(text)
    if line is not None:
        raise Refused(f"nests brackets deeper than {MAX_NESTING} levels (line {line}); not parsed")
    return text + "\n"  # the same trailing-newline workaround as hcl2.parses_to_tree


def parse_tree(text: str) -> Any:
    """The raw lark tree with position meta (for edits; offsets into `text`). Raises lark errors, Refused."""
    return _parser(True).parse(_checked(text))


def parse_tree_fast(text: str) -> Any:
    """The raw lark tree without position meta (tokens still carry positions). Raises lark errors, Refused."""
    return _parser(False).parse(_checked(text))


def error_summary(exc: Exception) -> tuple[int | None, str]:
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    token = getattr(exc, "token", None)
    if token is not None and token.type == "$END":
        first = "unexpected end of file (an unclosed block, string or bracket?)"
    elif token is not None:
        first = f"unexpected {token.type} {str(token)[:30]!r}"
    elif type(exc).__name__ == "UnexpectedCharacters":
        char = getattr(exc, "char", "")
        first = f"unexpected character {char!r}"
    where = f" at column {column}" if isinstance(column, int) and column > 0 else ""
    return (line if isinstance(line, int) and line > 0 else None), f"{PARSER_NAME}: {first}{where}"


_RUNNABLE_HINT = re.compile(r"(?m)^[ \t]*(?:terraform[ \t]*\{|include\b)")


def strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def summarise(text: str) -> FileSummary:
    text = strip_bom(text)
    try:
        tree = parse_tree_fast(text)
    except Refused as exc:
        return FileSummary(body=None, error=str(exc))
    except Exception as exc:
        line, message = error_summary(exc)
        return FileSummary(
            body=None, error_line=line, error=message, looks_runnable=bool(_RUNNABLE_HINT.search(text))
        )
    try:
        body = _Converter(text + "\n").body(tree.children[0])
    except RecursionError:
        return FileSummary(body=None, error=f"nests too deeply to be read (limit {MAX_NESTING} levels)")
    except Exception as exc:  # a shape the converter does not know: report, never crash
        return FileSummary(body=None, error_line=None, error=f"could not read the parsed file: {exc}")
    return FileSummary(body=body)


def read_text(path: str) -> str:
    """A regular file's text (UTF-8, at most MAX_FILE_BYTES); raises Refused with the reason, not OSError."""
    try:
        raw = read_limited(path)
    except OSError as exc:
        raise Refused(f"cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"not UTF-8 text (byte {exc.start})") from None


def summarise_file(path: str) -> FileSummary:
    try:
        text = read_text(path)
    except Refused as exc:
        return FileSummary(body=None, error=str(exc))
    return summarise(text)
