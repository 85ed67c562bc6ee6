"""The workspace file index: which source files under the roots pairline may read.

Reading is confined here. A file is read only if the index holds it, it still lies inside a
root once symlinks are resolved, it is not a secret (`redact.is_secret_file`), not larger
than the limit and not binary. Directories reached through symlinks are never entered, so a
link cannot lead the walk out of the roots (or round in a cycle). `.gitignore` files are
honoured at every level, as git does.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from pairline.engine.core import languages
from pairline.engine.core.languages import SKIP_DIRS
from pairline.engine.core.redact import is_secret_file

log = logging.getLogger(__name__)

# Only files the import resolvers and outlines can use are indexed: the index stays small and
# nothing else is ever opened.
SOURCE_SUFFIXES = languages.source_suffixes()
CONFIG_NAMES = languages.config_files()

_BINARY_PROBE = 8192


def _wanted(name: str) -> bool:
    if name in CONFIG_NAMES:
        return True
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in SOURCE_SUFFIXES and not is_secret_file(name)


@dataclass(frozen=True)
class FileStat:
    """What identifies one version of a file on disk (cache keys use it)."""

    size: int
    mtime_ns: int


class _Ignore:
    """The .gitignore rules in force in one directory, each spec with the directory it sits in."""

    def __init__(self, specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...] = ()) -> None:
        self.specs = specs

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec in self.specs:
            sub = rel[len(base) + 1 :] if base else rel
            if spec.match_file(sub + "/" if is_dir else sub):
                return True
        return False

    def extended(self, directory: Path, rel: str) -> _Ignore:
        path = directory / ".gitignore"
        try:
            if path.is_symlink() or not path.is_file():
                return self
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return self
        return _Ignore((*self.specs, (rel, pathspec.GitIgnoreSpec.from_lines(lines))))


class FileIndex:
    """Source files under the workspace roots, keyed by absolute path.

    Built by one walk (`build`) and kept current with `update` (save, create, change, delete
    notifications). Safe to read from the event loop while a rebuild runs in a thread: the
    file set is replaced whole.
    """

    def __init__(self, roots: Iterable[str | Path] = (), *, max_file_bytes: int = 1_000_000):
        self.roots: tuple[Path, ...] = tuple(_real_roots(roots))
        self.max_file_bytes = max_file_bytes
        self._files: dict[str, FileStat] = {}
        self._dirs: dict[str, set[str]] = {}  # directory → names of indexed files in it
        self._lock = threading.Lock()
        self.built = False

    # -- building --------------------------------------------------------------------------

    def build(self) -> None:
        """Walk every root (replacing what was indexed before)."""
        files: dict[str, FileStat] = {}
        for root in self.roots:
            for path, stat in self._walk(root):
                files.setdefault(path, stat)
        dirs: dict[str, set[str]] = {}
        for path in files:
            head, _, name = path.rpartition(os.sep)
            dirs.setdefault(head, set()).add(name)
        with self._lock:
            self._files = files
            self._dirs = dirs
            self.built = True
        log.info("indexed %d files under %d roots", len(files), len(self.roots))

    def _walk(self, root: Path) -> Iterator[tuple[str, FileStat]]:
        stack: list[tuple[Path, str, _Ignore]] = [(root, "", _Ignore().extended(root, ""))]
        while stack:
            directory, rel, ignore = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                child_rel = f"{rel}/{name}" if rel else name
                try:
                    if entry.is_symlink():
                        # A linked file counts only when its target lies inside a root;
                        # linked directories are never entered.
                        if entry.is_dir() or not _wanted(name):
                            continue
                        target = Path(os.path.realpath(entry.path))
                        if not self.contains(target) or ignore.ignored(child_rel, False):
                            continue
                        stat = target.stat()
                    elif entry.is_dir(follow_symlinks=False):
                        if name in SKIP_DIRS or ignore.ignored(child_rel, True):
                            continue
                        child = Path(entry.path)
                        stack.append((child, child_rel, ignore.extended(child, child_rel)))
                        continue
                    elif entry.is_file(follow_symlinks=False) and _wanted(name):
                        if ignore.ignored(child_rel, False):
                            continue
                        stat = entry.stat(follow_symlinks=False)
                    else:
                        continue
                except OSError:
                    continue
                if stat.st_size <= self.max_file_bytes:
                    yield entry.path, FileStat(stat.st_size, stat.st_mtime_ns)

    # -- queries ---------------------------------------------------------------------------

    def contains(self, path: str | Path) -> bool:
        """Whether `path` (already resolved) lies inside one of the roots."""
        p = Path(path)
        return any(p == root or p.is_relative_to(root) for root in self.roots)

    def root_of(self, path: str | Path) -> Path | None:
        p = Path(path)
        for root in self.roots:
            if p == root or p.is_relative_to(root):
                return root
        return None

    def display_path(self, path: str | Path) -> str:
        """`path` as a prompt shows it: relative to its root, or its name outside the roots."""
        root = self.root_of(path)
        if root is None:
            return os.path.basename(path)
        return Path(path).relative_to(root).as_posix()

    def has(self, path: str | Path) -> bool:
        return os.fspath(path) in self._files

    def stat(self, path: str | Path) -> FileStat | None:
        return self._files.get(os.fspath(path))

    def names_in(self, directory: str | Path) -> set[str]:
        """Names of the indexed files directly inside `directory`."""
        return self._dirs.get(os.fspath(directory), set())

    def is_dir(self, directory: str | Path) -> bool:
        """Whether any indexed file lies directly inside `directory`."""
        return os.fspath(directory) in self._dirs

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> list[str]:
        return list(self._files)

    # -- reading ---------------------------------------------------------------------------

    def read_text(self, path: str | Path) -> str | None:
        """The file's text, or None when it is not indexed, not safe or not text."""
        key = os.fspath(path)
        if key not in self._files or is_secret_file(key):
            return None
        real = os.path.realpath(key)
        if not self.contains(real):
            return None
        try:
            with open(real, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > self.max_file_bytes:
                    return None
                data = handle.read(self.max_file_bytes + 1)
        except OSError:
            return None
        if b"\0" in data[:_BINARY_PROBE]:
            return None
        return data.decode("utf-8", errors="replace")

    # -- keeping current -------------------------------------------------------------------

    def update(self, path: str | Path) -> bool:
        """Re-check one path after a save or a watched-file event; True if the index changed."""
        key = os.fspath(Path(path).absolute())
        head, _, name = key.rpartition(os.sep)
        before = self._files.get(key)
        after: FileStat | None = None
        if _wanted(name) and self.contains(os.path.realpath(head)) and not self._ignored(key):
            try:
                real = os.path.realpath(key)
                if self.contains(real) and os.path.isfile(real):
                    stat = os.stat(real)
                    if stat.st_size <= self.max_file_bytes:
                        after = FileStat(stat.st_size, stat.st_mtime_ns)
            except OSError:
                after = None
        if before == after:
            return False
        with self._lock:
            if after is None:
                self._files.pop(key, None)
                names = self._dirs.get(head)
                if names is not None:
                    names.discard(name)
                    if not names:
                        del self._dirs[head]
            else:
                self._files[key] = after
                self._dirs.setdefault(head, set()).add(name)
        return True

    def _ignored(self, path: str) -> bool:
        """Whether the directory walk would have skipped `path` (skip dirs, .gitignore)."""
        root = self.root_of(path)
        if root is None:
            return True
        parts = Path(path).relative_to(root).parts
        ignore = _Ignore().extended(root, "")
        directory = root
        for depth, part in enumerate(parts):
            rel = "/".join(parts[: depth + 1])
            is_dir = depth < len(parts) - 1
            if is_dir and part in SKIP_DIRS:
                return True
            if ignore.ignored(rel, is_dir):
                return True
            if is_dir:
                directory = directory / part
                if directory.is_symlink():
                    return True
                ignore = ignore.extended(directory, rel)
        return False


def _real_roots(roots: Iterable[str | Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for root in roots:
        real = Path(os.path.realpath(os.path.expanduser(os.fspath(root))))
        if real.is_dir() and real not in seen:
            seen.add(real)
            yield real
