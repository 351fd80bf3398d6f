"""What is in a live repo on disk, and the only way the engine reads a file.

`walk` lists the tree the way terragrunt discovers it: every directory, hidden ones included, except `.git`,
`.terraform`, `.terragrunt-cache` and `.terragrunt-stack`; symlinked directories are followed when they
resolve inside the repository (paths stay as seen through the link, as terragrunt reports them), and
anything resolving outside it is refused, never read. A FIFO, socket or device named like a config file is
refused too (opening a FIFO blocks until someone writes to it).

`FileIndex` answers the resolver's questions (does this path exist, what does this file say) from the walk
where it can, and records every answer it had to get from the disk, so a cached tree can be checked later.
The repository is the nearest folder at or above the live dir that holds `.git`, else the live dir itself.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field

from refarch_tui.live.hclparse import Refused, read_text

SKIP_DIRS = frozenset({".git", ".terraform", ".terragrunt-cache", ".terragrunt-stack"})
SKIP_FILES = frozenset({".terraform.lock.hcl"})
UNIT_FILE = "terragrunt.hcl"
STACK_FILE = "terragrunt.stack.hcl"
TF_SUFFIXES = (".tf", ".tofu", ".tf.json", ".tofu.json")

Stamp = tuple[int, int, int]  # size, mtime_ns, inode (atomic replaces change the inode)


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def stamp_of(path: str) -> Stamp | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ino)


def repository_root(start: str) -> str | None:
    """The nearest folder at or above `start` holding `.git` (a directory, or a file for worktrees)."""
    current = start
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


@dataclass
class Walk:
    root: str
    boundary: str  # the repository: nothing outside it is read
    hcl: dict[str, Stamp] = field(default_factory=dict)  # *.hcl regular files (logical abs path)
    refused: dict[str, str] = field(default_factory=dict)  # path -> why it is not read
    unit_dirs: dict[str, bool] = field(default_factory=dict)  # dir holding terragrunt.hcl -> has *.tf/*.tofu
    stacks: list[str] = field(default_factory=list)  # terragrunt.stack.hcl files
    dirs: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)  # every other entry (not followed into)
    loops: list[str] = field(default_factory=list)  # symlinks back into their own ancestors, not followed

    def fingerprint(self) -> str:
        digest = hashlib.sha256(f"{self.root}\0{self.boundary}\n".encode())
        for path in sorted(self.hcl):
            size, mtime, inode = self.hcl[path]
            digest.update(f"{path}\0{size}\0{mtime}\0{inode}\n".encode())
        for path in sorted(self.refused):
            digest.update(f"R{path}\0{self.refused[path]}\n".encode())
        for unit_dir in sorted(self.unit_dirs):
            digest.update(f"U{unit_dir}\0{int(self.unit_dirs[unit_dir])}\n".encode())
        for stack in sorted(self.stacks):
            digest.update(f"S{stack}\n".encode())
        return digest.hexdigest()


def walk(root: str, boundary: str) -> Walk:
    result = Walk(root=root, boundary=boundary)
    result.dirs.add(root)
    real_root = os.path.realpath(root)
    # (logical dir, its real path, the real paths of it and its ancestors: a link back into them is a loop)
    pending: list[tuple[str, str, frozenset[str]]] = [(root, real_root, frozenset({real_root}))]
    while pending:
        directory, real_dir, ancestors = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            # a folder that cannot be listed hides its units: say so instead of showing a smaller repo
            reason = exc.strerror or str(exc)
            result.refused[directory] = f"cannot read this folder ({reason}); any units in it are left out"
            continue
        has_config = has_tf = False
        for entry in entries:
            name, path = entry.name, entry.path
            if name in SKIP_DIRS:
                result.files.add(path)  # `.git` is looked up (the repository root), never entered
                continue
            is_hcl = name.endswith(".hcl")
            found: os.stat_result | None = None
            try:
                link = entry.is_symlink()
                if link:
                    found = os.stat(path)
                elif entry.is_dir(follow_symlinks=False):
                    child = os.path.join(real_dir, name)
                    result.dirs.add(path)
                    pending.append((path, child, ancestors | {child}))
                    continue
                elif is_hcl:
                    found = entry.stat(follow_symlinks=False)
            except OSError:
                result.files.add(path)
                if is_hcl:
                    result.refused[path] = "is a broken symlink; not read" if link else "cannot be read"
                    has_config = has_config or name == UNIT_FILE
                continue
            if link:
                assert found is not None
                target = os.path.realpath(path)
                is_dir = stat.S_ISDIR(found.st_mode)
                (result.dirs if is_dir else result.files).add(path)
                if not inside(target, boundary):
                    if is_dir or is_hcl:
                        result.refused[path] = f"is a symlink to {target}, outside the repository; not read"
                        has_config = has_config or name == UNIT_FILE
                    continue
                if is_dir:
                    if target in ancestors:
                        result.loops.append(path)
                    else:
                        pending.append((path, target, ancestors | {target}))
                    continue
            else:
                result.files.add(path)
            if is_hcl:
                assert found is not None
                if name in SKIP_FILES:
                    continue
                if name == UNIT_FILE:
                    has_config = True
                if not stat.S_ISREG(found.st_mode):
                    result.refused[path] = f"is {_kind(found.st_mode)}, not a regular file; not read"
                    continue
                result.hcl[path] = (found.st_size, found.st_mtime_ns, found.st_ino)
                if name == STACK_FILE:
                    result.stacks.append(path)
            elif name.endswith(TF_SUFFIXES):
                has_tf = True
        if has_config:
            result.unit_dirs[directory] = has_tf
    return result


class FileIndex:
    """Existence and content of files for the resolver, answered from the walk inside the live dir."""

    def __init__(self, tree: Walk) -> None:
        self.tree = tree
        self.root = tree.root
        self.lookups: dict[str, str | None] = {}  # path -> "dir" | "file" | None, answered from the walk
        self.probes: dict[str, bool] = {}  # answered from the disk, outside the live dir
        self.reads: dict[str, Stamp | None] = {}  # files read that are not in the walk's HCL set

    def in_walk(self, path: str) -> bool:
        return inside(path, self.root)

    def _kind_in_walk(self, path: str) -> str | None:
        kind = _kind_in(self.tree, path)
        self.lookups[path] = kind
        return kind

    def exists(self, path: str) -> bool:
        """A file or directory at `path` (what find_in_parent_folders matches)."""
        if self.in_walk(path):
            return self._kind_in_walk(path) is not None
        if path not in self.probes:
            self.probes[path] = os.path.exists(path)
        return self.probes[path]

    def is_file(self, path: str) -> bool:
        if self.in_walk(path):
            return self._kind_in_walk(path) == "file"
        return self.exists(path) and not os.path.isdir(path)

    def refusal(self, path: str) -> str | None:
        """Why `path` must not be read, or None: refused by the walk, reached through a refused symlink,
        or (outside the live dir) resolving outside the repository."""
        if self.in_walk(path):
            current = path
            while inside(current, self.root):
                reason = self.tree.refused.get(current)
                if reason is not None:
                    return reason if current == path else f"is reached through {current}, which {reason}"
                if current == self.root:
                    break
                current = os.path.dirname(current)
            if path in self.tree.hcl:
                return None
        target = os.path.realpath(path)
        if not inside(target, self.tree.boundary):
            return f"resolves to {target}, outside the repository; not read"
        return None

    def read(self, path: str) -> str:
        """The text of a file that is not one of the walk's HCL files (data files, files above the live
        dir). Raises Refused with the reason."""
        reason = self.refusal(path)
        if reason is not None:
            raise Refused(reason)
        self.reads[path] = stamp_of(path)
        return read_text(path)


def _kind_in(tree: Walk, path: str) -> str | None:
    if path in tree.dirs:
        return "dir"
    return "file" if path in tree.files else None


def still_valid(
    tree: Walk, lookups: dict[str, str | None], probes: dict[str, bool], reads: dict[str, Stamp | None]
) -> bool:
    """Whether the answers an earlier scan recorded (FileIndex.lookups, probes, reads) hold for this walk."""
    if any(_kind_in(tree, path) != kind for path, kind in lookups.items()):
        return False
    if any(os.path.exists(path) != found for path, found in probes.items()):
        return False
    return all(stamp_of(path) == recorded for path, recorded in reads.items())
