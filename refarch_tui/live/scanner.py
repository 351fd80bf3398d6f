"""Discover the units of a live repo, parse every HCL file once (in parallel when there are many), resolve.

Two caches in `<cache_dir>/` keyed by the live repo's absolute path:
- `<key>.files.pickle`: per-file parse summaries keyed by path + size + mtime (only changed files re-parse);
- `<key>.tree.pickle`: the resolved tree with a fingerprint of every stat it depends on, so re-scanning an
  unchanged tree costs one directory walk and one stat per HCL file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch_tui import atomic, paths
from refarch_tui.live.hclparse import FileSummary, summarise_file
from refarch_tui.live.model import LiveError, LiveTree, Unit
from refarch_tui.live.resolve import Resolver

log = logging.getLogger(__name__)

CACHE_VERSION = 4
PARALLEL_THRESHOLD = 150  # below this many files to parse, one process is about as fast as a pool
SKIP_FILES = frozenset({".terraform.lock.hcl", "terragrunt.stack.hcl"})
STACK_FILE = "terragrunt.stack.hcl"
STACK_NOTE = "`terragrunt stack generate` produces the units of this stack (not in the graph until then)"
TF_SUFFIXES = (".tf", ".tofu", ".tf.json", ".tofu.json")


Stamp = tuple[int, int, int]  # size, mtime_ns, inode (atomic replaces change the inode)


@dataclass
class _Walk:
    hcl: dict[str, Stamp] = field(default_factory=dict)  # abs path -> (size, mtime_ns, inode)
    unit_dirs: dict[str, bool] = field(default_factory=dict)  # abs dir -> has *.tf/*.tofu
    stacks: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # abs dir -> why it could not be listed

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.hcl):
            size, mtime, inode = self.hcl[path]
            digest.update(f"{path}\0{size}\0{mtime}\0{inode}\n".encode())
        for unit_dir in sorted(self.unit_dirs):
            digest.update(f"U{unit_dir}\0{int(self.unit_dirs[unit_dir])}\n".encode())
        for stack in sorted(self.stacks):
            digest.update(f"S{stack}\n".encode())
        for directory in sorted(self.unreadable):
            digest.update(f"X{directory}\n".encode())
        return digest.hexdigest()


def _walk(root: str) -> _Walk:
    result = _Walk()
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            log.warning("cannot list %s: %s", directory, exc)
            result.unreadable[directory] = exc.strerror or str(exc)
            continue
        has_config = has_tf = False
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # .git, .terragrunt-cache, .terraform and other hidden entries
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                    continue
            except OSError:
                continue
            if name.endswith(".hcl"):
                if name == STACK_FILE:
                    result.stacks.append(directory)
                    continue
                if name in SKIP_FILES:
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                result.hcl[entry.path] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
                if name == "terragrunt.hcl":
                    has_config = True
            elif name.endswith(TF_SUFFIXES):
                has_tf = True
        if has_config:
            result.unit_dirs[directory] = has_tf
    return result


def _cache_key(root: str) -> str:
    return hashlib.sha256(root.encode()).hexdigest()[:24]


def _load_pickle(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a corrupt or old cache is just a miss
        log.info("ignoring unreadable cache %s: %s", path, exc)
        return None
    if not isinstance(data, dict) or data.get("version") != _cache_version():
        return None
    return data


@functools.cache
def _cache_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from refarch_tui import __version__

    try:
        hcl2_version = version("python-hcl2")
    except PackageNotFoundError:
        hcl2_version = "?"
    return f"{CACHE_VERSION}/{__version__}/{hcl2_version}"


def _save_pickle(path: Path, data: dict[str, Any]) -> None:
    data = {**data, "version": _cache_version()}
    try:
        atomic.atomic_write_bytes(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), mode=0o600)
    except OSError as exc:
        log.info("could not write the parse cache %s: %s", path, exc)


def _pool_context() -> Any:
    import multiprocessing

    # fork is cheapest (the parser is already loaded), but forking a process that runs other threads can
    # deadlock; the app scans from a thread worker, so it gets forkserver (started once, then cheap).
    if os.name == "posix" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if os.name == "posix":
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["refarch_tui.live.hclparse", "hcl2", "lark"])
        return ctx
    return multiprocessing.get_context("spawn")


def _parse_all(files: list[str], workers: int | None) -> dict[str, FileSummary]:
    if not files:
        return {}
    count = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if count <= 1 or len(files) < PARALLEL_THRESHOLD:
        return {path: summarise_file(path) for path in files}
    from refarch_tui.live.hclparse import _fast_parser

    _fast_parser()  # load the grammar once, before forking
    chunk = max(1, min(64, len(files) // (count * 4)))
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=_pool_context()) as pool:
            return dict(zip(files, pool.map(summarise_file, files, chunksize=chunk), strict=True))
    except Exception as exc:  # no /dev/shm, sandboxed, …: fall back to one process
        log.warning("parallel parsing unavailable (%s); parsing sequentially", exc)
        return {path: summarise_file(path) for path in files}


def scan(root: Path, *, cache_dir: Path | None = None, workers: int | None = None) -> LiveTree:
    """Read a live repo. Never raises for bad files: they become entries in `tree.errors`."""
    root_path = Path(root).expanduser()
    try:
        root_abs = str(root_path.resolve())
    except OSError:
        root_abs = os.path.abspath(root_path)
    if not os.path.isdir(root_abs):
        what = "does not exist" if not os.path.exists(root_abs) else "is not a directory"
        return LiveTree(root=Path(root_abs), units={}, errors=[LiveError(".", None, f"{root_abs} {what}")])

    cache_root = cache_dir if cache_dir is not None else paths.cache_dir() / "parse"
    key = _cache_key(root_abs)
    tree_cache = cache_root / f"{key}.tree.pickle"
    files_cache = cache_root / f"{key}.files.pickle"

    walk = _walk(root_abs)
    fingerprint = walk.fingerprint()
    cached_tree = _load_pickle(tree_cache)
    if (
        cached_tree is not None
        and cached_tree.get("fingerprint") == fingerprint
        and _external_unchanged(cached_tree.get("external", {}))
    ):
        tree = cached_tree["tree"]
        if isinstance(tree, LiveTree):
            return tree

    cached_files = _load_pickle(files_cache)
    previous: dict[str, tuple[tuple[int, int, int], FileSummary]] = (
        cached_files["files"] if cached_files else {}
    )
    summaries: dict[str, FileSummary] = {}
    to_parse: list[str] = []
    for path, stamp in walk.hcl.items():
        hit = previous.get(path)
        if hit is not None and hit[0] == stamp:
            summaries[path] = hit[1]
        else:
            to_parse.append(path)
    summaries.update(_parse_all(sorted(to_parse), workers))

    externals: dict[str, FileSummary] = {}

    def parse_external(path: str) -> FileSummary:
        summary = summarise_file(path)
        externals[path] = summary
        return summary

    resolver = Resolver(root_abs, summaries, set(walk.hcl), parse_external)
    for directory, reason in walk.unreadable.items():
        # a folder that cannot be listed hides its units: say so instead of showing a smaller repo
        resolver.error(directory, None, f"cannot read this folder ({reason}); any units in it are left out")
    unit_paths = {resolver.rel(d) for d in walk.unit_dirs}
    units = {}
    for unit_dir in sorted(walk.unit_dirs):
        try:
            unit = resolver.unit(unit_dir, walk.unit_dirs[unit_dir], unit_paths)
        except Exception as exc:  # a shape the resolver does not expect: report it, keep the rest of the tree
            log.exception("could not resolve %s", unit_dir)
            rel = resolver.rel(unit_dir)
            config = os.path.join(unit_dir, "terragrunt.hcl")
            resolver.error(config, None, f"could not be read statically ({type(exc).__name__}: {exc})")
            unit = Unit(
                path=rel,
                account=None if rel == "." else rel.split("/", 1)[0],
                dependencies=(),
                runnable=walk.unit_dirs[unit_dir],
            )
        units[unit.path] = unit
    stacks = sorted(resolver.rel(s) for s in walk.stacks)
    errors = sorted(resolver.errors.values(), key=lambda e: (e.path, e.line or 0, e.message))
    tree = LiveTree(
        root=Path(root_abs),
        units=dict(sorted(units.items())),
        errors=errors,
        stacks=stacks,
        notes=[f"{s}: {STACK_NOTE}" for s in stacks],
    )

    if to_parse or cached_files is None:
        stamped = {p: (walk.hcl[p], summaries[p]) for p in walk.hcl}
        _save_pickle(files_cache, {"files": stamped})
    external_stamps = {p: _stamp(p) for p in resolver.external_files}
    _save_pickle(
        tree_cache,
        {"fingerprint": fingerprint, "external": external_stamps, "tree": tree},
    )
    return tree


def _stamp(path: str) -> Stamp | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _external_unchanged(stamps: dict[str, Stamp | None]) -> bool:
    return all(_stamp(p) == s for p, s in stamps.items())


def clear_cache(root: Path, *, cache_dir: Path | None = None) -> None:
    cache_root = cache_dir if cache_dir is not None else paths.cache_dir() / "parse"
    key = _cache_key(str(Path(root).resolve()))
    for suffix in ("tree", "files"):
        with contextlib.suppress(FileNotFoundError):
            (cache_root / f"{key}.{suffix}.pickle").unlink()
