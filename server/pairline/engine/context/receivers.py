"""The name monitor: for the cursor of a buffer (Python, JavaScript/TypeScript, Go, Rust), the
receivers in scope whose members are known, and those members (monitor-guided decoding and the
post-check of member names).

A receiver is a name as written before a `.` (or Rust's `::`): an imported module of the
workspace, a class (the buffer's or an imported one, re-exports followed), an instance of one
(`self` in a method, a parameter or local with an annotation, an obvious constructor call or a
call of a function whose return annotation names a class, a module-level object), or
`self.attr` where the class or one of its bases gives the attribute such a type. A class's
members include its bases' (followed through the workspace; a few builtin bases are known by
name). Where anything along the way does not resolve, the receiver is left out: nothing is
constrained there. What each language contributes is in monitor_rules.py.

Files are read through member_files.py, once per version; the map for the module level of a
buffer is kept per text (the cursor line left out), so typing on a line only redoes the scope
around the cursor.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import tree_sitter

from pairline.engine.context.analysis import reparse, without_cursor_line
from pairline.engine.context.imports import WILDCARD, ImportRef
from pairline.engine.context.member_files import MemberFiles
from pairline.engine.context.members import ClassInfo, FileMembers
from pairline.engine.context.members_rust import EVERY_TYPE
from pairline.engine.context.monitor_rules import RULES, family
from pairline.engine.context.neighbours import ImportNeighbours
from pairline.engine.context.scope import Scope
from pairline.engine.core import syntax
from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru
from pairline.engine.core.types import CompletionRequest

Members = dict[str, frozenset[str]]
MAX_BUFFERS = 32
MAX_DEPTH = 6  # hops through imports, re-exports and bases


@dataclass(frozen=True)
class _Buffer:
    """One text of a buffer: parsed, its definitions, and its module-level receivers."""

    tree: tree_sitter.Tree
    members: FileMembers


def _definitions(members: FileMembers) -> tuple[object, ...]:
    """What a buffer's module-level receivers depend on, as a key: its imports, classes,
    objects, functions' return types and (Rust) `impl` blocks."""

    def shapes(infos: dict[str, ClassInfo]) -> tuple[object, ...]:
        return tuple(
            (name, frozenset(info.names), tuple(info.bases), info.open)
            for name, info in sorted(infos.items())
        )

    objects = tuple(sorted(members.objects.items()))
    returns = tuple(sorted(members.returns.items()))
    return (
        tuple(members.imports),
        shapes(members.classes),
        objects,
        returns,
        shapes(members.impls),
    )


@dataclass(frozen=True)
class Target:
    """What a name resolves to: a module, a class, or an instance of a class."""

    kind: str  # "module" | "class" | "instance" | "made" (a function returning a class)
    path: str
    name: str = ""


# What a name must be for a call of it to give an instance of a class.
_MAKERS = ("class", "made")


class NameMonitor:
    """Receivers and their members for the buffers of one workspace."""

    def __init__(self, neighbours: ImportNeighbours) -> None:
        self.neighbours = neighbours
        self.files = MemberFiles(neighbours)
        self._buffers: Lru[tuple[str, str], _Buffer] = Lru(MAX_BUFFERS)
        self._trees: Lru[str, tuple[str, bytes, tree_sitter.Tree]] = Lru(MAX_BUFFERS)
        self._levels: Lru[tuple[object, ...], tuple[Members, dict[str, object]]] = Lru(MAX_BUFFERS)
        self._rules = RULES["python"]
        self._language = "python"

    def at(
        self, request: CompletionRequest, path: str | None, open_docs: Mapping[str, Document]
    ) -> Members:
        """Receiver → members at the request's cursor; `path`: the buffer's indexed file."""
        text, line = without_cursor_line(request)
        before = request.prefix.rsplit("\n", 1)[-1]
        indent = len(before) - len(before.lstrip(" \t"))
        self.files.docs = open_docs
        return self._members_at(request.uri, path, request.language, text, line, indent)

    def _members_at(
        self, uri: str, path: str | None, language: str, text: str, line: int, indent: int
    ) -> Members:
        """Receiver → members at the cursor (`line`, the indentation `indent`) of the buffer
        `uri` whose text, the cursor line left out, is `text`; `path`: the buffer's file."""
        rules = RULES.get(family(language))
        if rules is None:
            return {}
        self._rules, self._language = rules, language
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        key = (path or "", digest.hex())
        cached = self._buffers.get(key)
        if cached is None:
            tree = self._parse(uri, language, text.encode("utf-8", "surrogatepass"))
            if tree is None:
                return {}
            cached = _Buffer(tree, rules.members(tree.root_node, language))
            self._buffers.put(key, cached)
        self.files.focus(rules, language, path or "", cached.members)
        # Go: the buffer's package is all the files of its folder.
        members = self.files.file(path or "") if rules.packages else cached.members
        if members is None:
            return {}
        level = self._module_level(path or "", members)
        scope = rules.scope(cached.tree.root_node, text.split("\n"), line, indent)
        return self._in_scope(path or "", members, level, scope)

    def _parse(self, uri: str, language: str, data: bytes) -> tree_sitter.Tree | None:
        """The parse of `data`, advanced from the buffer's last one (a keystroke on another
        line changes two lines: an incremental reparse costs a fraction of a whole one)."""
        last = self._trees.get(uri)
        if last is not None and last[0] == language:
            tree = reparse(language, last[1], last[2], data, cooperative=False)
        else:
            tree = syntax.parse(language, data)
        if tree is not None:
            self._trees.put(uri, (language, data, tree))
        return tree

    def forget(self, uri: str) -> None:
        """Drop the parse held for the buffer `uri` (closed)."""
        self._trees.pop(uri)

    # -- the buffer ------------------------------------------------------------------------

    def _module_level(self, path: str, members: FileMembers) -> Members:
        """The module-level receivers; kept per set of definitions while no file read for them
        changed, so an edit inside a function body reuses them."""
        key = (path, self.neighbours.generation, _definitions(members))
        found = self._levels.get(key)
        if found is not None and self.files.still_current(found[1]):
            return found[0]
        self.files.read = {}
        level = self._resolve_module_level(path, members)
        self._levels.put(key, (level, self.files.read))
        return level

    def _resolve_module_level(self, path: str, members: FileMembers) -> Members:
        out: Members = {}
        names = {ref.namespace for ref in members.imports if ref.namespace}
        names.update(local for ref in members.imports for _, local in ref.names)
        names.update(members.classes)
        names.update(members.objects)
        names.discard(WILDCARD)
        for name in sorted(names):
            found = self._members(self._lookup(path, members, name, 0), 0)
            if found is not None:
                out[name] = found
        return out

    def _in_scope(
        self, path: str, members: FileMembers, module_level: Members, scope: Scope
    ) -> Members:
        out = {name: names for name, names in module_level.items()
               if name.split(".")[0] not in scope.locals}  # fmt: skip
        for name, kind in scope.locals.items():
            if kind is None:
                continue
            target = self._lookup(path, members, kind, 0)
            if target is not None and target.kind in _MAKERS:
                found = self._members(Target("instance", target.path, target.name), 0)
                if found is not None:
                    out[name] = found
        if scope.cls is not None and scope.first and scope.method not in self._rules.creators:
            found = self._class_members(path, members, scope.cls, 0, scope.cls_name)
            if found is not None:
                out[scope.first] = found
            if found is not None and not scope.classmethod:
                typed = self._typed_attributes(path, members, scope.cls, 0)
                for attr, (where, defined, kind) in typed.items():
                    target = self._lookup(where, defined, kind, 0)
                    if target is not None and target.kind in _MAKERS:
                        inner = self._members(Target("instance", target.path, target.name), 0)
                        if inner is not None:
                            out[f"{scope.first}.{attr}"] = inner
        return out

    # -- other files -----------------------------------------------------------------------

    def _resolve(
        self, path: str, ref: ImportRef
    ) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
        if not path:
            return []  # a buffer outside the workspace: its imports resolve nowhere
        return [
            (r.path, r.names, r.namespace)
            for r in self.neighbours.resolve(self._language, path, ref)
        ]

    def _lookup(self, path: str, members: FileMembers, dotted: str, depth: int) -> Target | None:
        """What `dotted` (as written in the file `path`) names."""
        head, *rest = dotted.split(".")
        target = self._name(path, members, head, depth)
        for part in rest:
            if target is None or target.kind != "module":
                return None
            inner = self.files.file(target.path)
            target = None if inner is None else self._name(target.path, inner, part, depth + 1)
        return target

    def _name(self, path: str, members: FileMembers, name: str, depth: int) -> Target | None:
        if depth > MAX_DEPTH:
            return None
        if name in members.classes:
            return Target("class", path, name)
        if name in members.objects:
            kind = self._lookup(path, members, members.objects[name], depth + 1)
            return (
                Target("instance", kind.path, kind.name) if kind and kind.kind in _MAKERS else None
            )
        if members.returns.get(name):
            kind = self._lookup(path, members, members.returns[name], depth + 1)
            return Target("made", kind.path, kind.name) if kind and kind.kind == "class" else None
        for ref in reversed(members.imports):
            found = self._imported(path, ref, name, depth)
            if found is not None:
                return found
        return None

    def _imported(self, path: str, ref: ImportRef, name: str, depth: int) -> Target | None:
        """What `name` is, if the import `ref` binds it."""
        if ref.namespace:
            if ref.namespace == name:
                hits = self._resolve(path, ref)
            elif ref.namespace.split(".")[0] == name:  # `import a.b` binds `a`
                hits = self._resolve(path, ImportRef(name, namespace=name))
            else:
                return None
            return next((Target("module", p) for p, _, ns in hits if ns), None)
        for original, local in ref.names:
            if local != name:
                continue
            for found, names, namespace in self._resolve(path, ref):
                if namespace == local:
                    return Target("module", found)
                if (original, local) in names:
                    inner = self.files.file(found)
                    if inner is not None and found != path:
                        return self._name(found, inner, original, depth + 1)
        return None

    def _members(self, target: Target | None, depth: int) -> frozenset[str] | None:
        if target is None or target.kind == "made":
            return None  # a function: its members are not its class's
        members = self.files.file(target.path)
        if members is None:
            return None
        if target.kind == "module":
            return self._module_names(target.path, members, depth)
        info = members.classes.get(target.name)
        if info is None:
            return None
        return self._class_members(target.path, members, info, depth, target.name)

    def _module_names(self, path: str, members: FileMembers, depth: int) -> frozenset[str] | None:
        if members.open:
            return None
        names = set(members.names) | self._rules.module_names
        if os.path.basename(path).startswith("__init__."):
            # Submodules are attributes of their package once imported anywhere.
            for entry in self.neighbours.index.names_in(os.path.dirname(path)):
                names.add(entry.removesuffix(".py").removesuffix(".pyi"))
        for ref in members.imports:
            if (WILDCARD, WILDCARD) not in ref.names:
                continue
            hits = self._resolve(path, ref)
            inner = [self.files.file(p) for p, _, _ in hits]
            if not hits or depth >= MAX_DEPTH or any(i is None for i in inner):
                return None
            for hit, found in zip(hits, inner, strict=True):
                more = self._module_names(hit[0], found, depth + 1) if found else None
                if more is None:
                    return None
                names |= more
        return frozenset(names)

    def _class_members(
        self, path: str, members: FileMembers, info: ClassInfo, depth: int, name: str
    ) -> frozenset[str] | None:
        if info.open or depth > MAX_DEPTH:
            return None
        names = set(info.names) | self._rules.object_names
        # Each base with the file it is written in (Rust: an `impl` in another file).
        bases = [(path, members, base) for base in info.bases]
        if self._rules.crate_impls and not info.trait:
            impls = self.files.crate_impls(path)
            found = [impls.get(name), impls.get(EVERY_TYPE)] if impls is not None else []
            extras = [extra for extra in found if extra is not None]
            if impls is None or any(extra.open for extra in extras):
                return None
            for extra in extras:
                names |= extra.names
                for where, base in extra.bases:
                    written = self.files.file(where)
                    if written is None:
                        return None
                    bases.append((where, written, base))
        for where, defined, base in bases:
            target = self._lookup(where, defined, base, depth + 1)
            if target is None or target.kind != "class":
                builtin = self._rules.bases.get(base.rsplit(".", 1)[-1])
                if builtin is None:
                    return None
                names |= builtin
                continue
            inherited = self._members(target, depth + 1)
            if inherited is None:
                return None
            names |= inherited
        return frozenset(names)

    def _typed_attributes(
        self, path: str, members: FileMembers, info: ClassInfo, depth: int
    ) -> dict[str, tuple[str, FileMembers, str]]:
        """Attribute → (the file that types it, its definitions, the type as written there):
        the class's own, then its bases' (an attribute set in a base's `__init__`)."""
        out = {attr: (path, members, kind) for attr, kind in info.types.items()}
        for base in info.bases if depth < MAX_DEPTH else ():
            target = self._lookup(path, members, base, depth + 1)
            if target is None or target.kind != "class":
                continue
            inner = self.files.file(target.path)
            found = inner.classes.get(target.name) if inner is not None else None
            if inner is None or found is None:
                continue
            for attr, typed in self._typed_attributes(target.path, inner, found, depth + 1).items():
                out.setdefault(attr, typed)
        return out
