"""What the files of a workspace define, for the name monitor (receivers.py): each file read
once per version (an open buffer's version, or size and mtime on disk), the buffer being asked
about as the request has it; in Go a package merged from the files of its folder; in Rust the
`impl` blocks of a whole crate merged by type name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pairline.engine.context.members import FileMembers
from pairline.engine.context.monitor_rules import RULES, Rules, family
from pairline.engine.context.neighbours import ImportNeighbours
from pairline.engine.core import syntax
from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru
from pairline.engine.workspace import language_for_path

MAX_FILES = 2048
MAX_SETS = 32  # merged packages, crate listings and crate `impl` sets kept
# Rust: a crate's `impl` blocks are read from all its files up to this many; in a larger crate
# a type's methods are left unknown (reading them all would stall the first suggestion).
MAX_CRATE_FILES = 256


@dataclass
class CrateImpls:
    """What the `impl` blocks of a crate give one type: names, and traits with the file each
    `impl` is written in (a trait is looked up where its `impl` names it)."""

    names: set[str] = field(default_factory=set)
    bases: list[tuple[str, str]] = field(default_factory=list)  # (file, trait as written)
    open: bool = False


class MemberFiles:
    """Files' definitions for one language family at a time, with the versions read."""

    def __init__(self, neighbours: ImportNeighbours) -> None:
        self.neighbours = neighbours
        self._files: Lru[str, tuple[object, FileMembers]] = Lru(MAX_FILES)
        self._packages: Lru[tuple[tuple[str, int], ...], FileMembers] = Lru(MAX_SETS)
        self._crates: Lru[tuple[object, ...], list[str]] = Lru(MAX_SETS)
        self._impls: Lru[tuple[tuple[str, int], ...], dict[str, CrateImpls]] = Lru(MAX_SETS)
        self.docs: Mapping[str, Document] = {}
        self.rules: Rules = RULES["python"]
        self.family = "python"
        self._current: tuple[str, FileMembers] = ("", FileMembers())
        self.read: dict[str, object] = {}  # files read since `read` was last reset

    def focus(self, rules: Rules, language: str, path: str, members: FileMembers) -> None:
        """Answer for `language`'s family, with the buffer `path` defining `members`."""
        self.rules, self.family = rules, family(language)
        self._current = (path, members)

    def version(self, path: str) -> object:
        doc = self.docs.get(path)
        return (
            ("buffer", doc.uri, doc.version)
            if doc is not None
            else self.neighbours.index.stat(path)
        )

    def still_current(self, read: dict[str, object]) -> bool:
        return all(self.version(path) == version for path, version in read.items())

    def file(self, path: str) -> FileMembers | None:
        """What the indexed file `path` defines (an open buffer's unsaved text wins); in Go,
        what its package defines."""
        if not self.rules.packages:
            return self.one(path)
        directory = os.path.dirname(path)
        paths = [
            os.path.join(directory, name)
            for name in sorted(self.neighbours.index.names_in(directory))
            if name.endswith(".go") and not name.endswith("_test.go")
        ]
        if self._current[0] == path and path not in paths:
            paths.append(path)  # the buffer, not (yet) in the index
        files = [(p, found) for p in paths if (found := self.one(p)) is not None]
        key = tuple((p, id(found)) for p, found in files)
        package = self._packages.get(key)
        if package is None:
            package = self.rules.merge([found for _, found in files])
            self._packages.put(key, package)
        return package

    def one(self, path: str) -> FileMembers | None:
        """What the one file `path` defines."""
        if path == self._current[0]:
            return self._current[1]  # the buffer asked about, as the request has it
        index = self.neighbours.index
        language = language_for_path(path)
        if not index.has(path) or family(language) != self.family:
            return None
        doc = self.docs.get(path)
        key = self.read[path] = self.version(path)
        found = self._files.get(path)
        if found is not None and found[0] == key:
            return found[1]
        source = doc.text if doc is not None else index.read_text(path)
        if source is None:
            return None
        tree = syntax.parse(language, source.encode("utf-8", "surrogatepass"))
        if tree is None:
            return None
        members = self.rules.members(tree.root_node, language)
        self._files.put(path, (key, members))
        return members

    def crate_impls(self, path: str) -> dict[str, CrateImpls] | None:
        """Rust: the `impl` blocks of the crate of `path`, merged by type name; None when the
        crate has too many files to read them all."""
        root = self.neighbours.resolver.rust_crate_root(path)
        if root is None:
            return self._merged([(path, found)] if (found := self.file(path)) else [])
        src = os.path.dirname(root)
        index = self.neighbours.index
        key = (src, self.neighbours.generation, len(index))
        paths = self._crates.get(key)
        if paths is None:
            inside = src + os.sep
            paths = sorted(p for p in index.paths() if p.startswith(inside) and p.endswith(".rs"))
            if self._current[0].startswith(inside) and self._current[0] not in paths:
                paths.append(self._current[0])  # the buffer, not (yet) in the index
            self._crates.put(key, paths)
        if len(paths) > MAX_CRATE_FILES:
            return None
        return self._merged([(p, found) for p in paths if (found := self.one(p)) is not None])

    def _merged(self, files: list[tuple[str, FileMembers]]) -> dict[str, CrateImpls]:
        key = tuple((p, id(found)) for p, found in files)
        merged = self._impls.get(key)
        if merged is None:
            merged = {}
            for where, found in files:
                for name, info in found.impls.items():
                    into = merged.setdefault(name, CrateImpls())
                    into.names |= info.names
                    into.bases += [(where, base) for base in info.bases]
                    into.open = into.open or info.open
            self._impls.put(key, merged)
        return merged
