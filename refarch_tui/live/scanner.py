"""Discover the units of a live repo, parse every HCL file once (in parallel when there are many), resolve.

Two caches in `<cache_dir>/` keyed by the live repo's absolute path:
- `<key>.files.pickle`: per-file parse summaries keyed by path + size + mtime + inode (only changed files
  re-parse);
- `<key>.tree.pickle`: the resolved tree with a fingerprint of every stat it depends on and the answers the
  resolver got from the file system, so re-scanning an unchanged tree costs one directory walk and one stat
  per HCL file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import logging
import os
import pickle
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from refarch_tui import atomic, paths
from refarch_tui.live import files
from refarch_tui.live.files import UNIT_FILE, FileIndex
from refarch_tui.live.hclparse import FileSummary, summarise_file
from refarch_tui.live.model import LiveError, LiveTree, Stack, Unit
from refarch_tui.live.resolve import Resolver

log = logging.getLogger(__name__)

CACHE_VERSION = 5
PARALLEL_THRESHOLD = 150  # below this many files to parse, one process is about as fast as a pool
STACK_NOTE = "`terragrunt stack generate` produces the units of this stack (not in the graph until then)"
LOOP_NOTE = "a symlink back into its own parent folders; not followed"


def _cache_key(root: str) -> str:
    return hashlib.sha256(root.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while building many small objects that all stay alive (unpickling a
    cache, resolving units): each collection would walk every live object again, for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_pickle(path: Path) -> Any:
    try:
        with open(path, "rb") as handle, _gc_paused():
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
    # the engine's own code too: a cached summary or tree from other code is a miss, not a wrong answer
    digest = hashlib.sha256()
    for module in ("hclparse", "values", "evaluate", "resolve", "files", "model", "scanner"):
        with contextlib.suppress(OSError):
            digest.update((Path(__file__).parent / f"{module}.py").read_bytes())
    return f"{CACHE_VERSION}/{__version__}/{hcl2_version}/{digest.hexdigest()[:16]}"


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

    boundary = files.repository_root(root_abs) or root_abs
    walk = files.walk(root_abs, boundary)
    fingerprint = walk.fingerprint()
    cached_tree = _load_pickle(tree_cache)
    if (
        cached_tree is not None
        and cached_tree.get("fingerprint") == fingerprint
        and files.still_valid(
            walk, cached_tree.get("lookups", {}), cached_tree.get("probes", {}), cached_tree.get("reads", {})
        )
    ):
        tree = cached_tree["tree"]
        if isinstance(tree, LiveTree):
            return tree

    cached_files = _load_pickle(files_cache)
    previous: dict[str, tuple[files.Stamp, FileSummary]] = cached_files["files"] if cached_files else {}
    summaries: dict[str, FileSummary] = {}
    to_parse: list[str] = []
    for path, stamp in walk.hcl.items():
        hit = previous.get(path)
        if hit is not None and hit[0] == stamp:
            summaries[path] = hit[1]
        else:
            to_parse.append(path)
    summaries.update(_parse_all(sorted(to_parse), workers))
    for path, reason in walk.refused.items():
        summaries[path] = FileSummary(body=None, error=reason)

    index = FileIndex(walk)
    with _gc_paused():
        tree = _resolve(root_abs, walk, summaries, index)

    if to_parse or cached_files is None:
        stamped = {p: (walk.hcl[p], summaries[p]) for p in walk.hcl}
        _save_pickle(files_cache, {"files": stamped})
    _save_pickle(
        tree_cache,
        {
            "fingerprint": fingerprint,
            "lookups": index.lookups,
            "probes": index.probes,
            "reads": index.reads,
            "tree": tree,
        },
    )
    return tree


def _resolve(
    root_abs: str, walk: files.Walk, summaries: dict[str, FileSummary], index: FileIndex
) -> LiveTree:
    resolver = Resolver(root_abs, summaries, index)
    unit_paths = {resolver.rel(d) for d in walk.unit_dirs}
    units: dict[str, Unit] = {}
    for unit_dir in sorted(walk.unit_dirs):
        rel = resolver.rel(unit_dir)
        resolver.begin_unit(rel)
        try:
            unit = resolver.unit(unit_dir, walk.unit_dirs[unit_dir], unit_paths)
        except Exception as exc:  # a shape the resolver does not expect: report it, keep the rest of the tree
            log.exception("could not resolve %s", unit_dir)
            config = os.path.join(unit_dir, UNIT_FILE)
            resolver.error(config, None, f"could not be read statically ({type(exc).__name__}: {exc})")
            unit = Unit(
                path=rel,
                account=None if rel == "." else rel.split("/", 1)[0],
                dependencies=(),
                runnable=walk.unit_dirs[unit_dir],
            )
        units[unit.path] = unit

    # a root config that units include (and that deploys nothing itself) is evaluated only as their include:
    # terragrunt never evaluates it on its own, so what it cannot resolve there is nobody's problem
    roots: set[str] = set()
    for config, includers in resolver.included.items():
        unit_dir = os.path.dirname(config)
        rel = resolver.rel(unit_dir)
        included_unit = units.get(rel)
        if os.path.basename(config) != UNIT_FILE or included_unit is None:
            continue
        if included_unit.runnable:
            continue
        roots.add(rel)
        count = len(includers - {rel})
        reason = (
            f"root configuration, included by {count} unit{'s' if count != 1 else ''}; not run on its own"
        )
        units[rel] = dataclasses.replace(included_unit, not_run_reason=reason)

    resolver.begin_unit(None)
    for path, reason in walk.refused.items():
        resolver.error(path, None, reason)
    stacks = []
    for stack_file in sorted(walk.stacks):
        body = resolver.body(stack_file)
        names = tuple(labels[0] for labels, _l, _b in body.blocks_of("unit") if labels) if body else ()
        stacks.append(Stack(path=resolver.rel(os.path.dirname(stack_file)), units=names))
    stacks.sort(key=lambda stack: stack.path)
    errors, unresolved = resolver.results(roots)
    notes = [f"{s.path}: {STACK_NOTE}" for s in stacks]
    notes.extend(f"{resolver.rel(loop)}: {LOOP_NOTE}" for loop in sorted(walk.loops))
    return LiveTree(
        root=Path(root_abs),
        units=dict(sorted(units.items())),
        errors=errors,
        stacks=stacks,
        notes=notes,
        unresolved=unresolved,
    )


def clear_cache(root: Path, *, cache_dir: Path | None = None) -> None:
    cache_root = cache_dir if cache_dir is not None else paths.cache_dir() / "parse"
    key = _cache_key(str(Path(root).resolve()))
    for suffix in ("tree", "files"):
        with contextlib.suppress(FileNotFoundError):
            (cache_root / f"{key}.{suffix}.pickle").unlink()
