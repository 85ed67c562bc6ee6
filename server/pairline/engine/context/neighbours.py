"""Import neighbours: the symbols a buffer imports, outlined from the files that define them.

Each import of the buffer is resolved to files of the index (once per index generation), each
file is outlined once per version (open buffer version, or size+mtime on disk), and a name a
file only re-exports (`from .x import name`) is followed to its definition, a few hops deep.
A symbol used near the cursor ranks above the other imported ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pairline.engine.context.analysis import ATTRIBUTE, IDENT, Analysis, dotted
from pairline.engine.context.imports import WILDCARD, ImportRef
from pairline.engine.context.index import FileIndex
from pairline.engine.context.outline import Outline, outline
from pairline.engine.context.rank import IMPORTED, NEAR_USE, Snippet
from pairline.engine.context.resolve import Resolved, Resolver
from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru
from pairline.engine.workspace import language_for_path

NEAR_ABOVE = 30  # lines above the cursor whose uses count as "near"
NEAR_BELOW = 10
MAX_REEXPORT_DEPTH = 2
MAX_RESOLVED = 20_000  # resolved imports, keyed by (language, importing file, import)
MAX_OUTLINES = 4096  # outlined files


@dataclass
class Neighbour:
    """The outline of one version of a file the buffer imports from."""

    key: tuple[object, ...]
    language: str
    outline: Outline
    root_rel: str = ""


class ImportNeighbours:
    """Imported symbols for a buffer, resolved against one file index."""

    def __init__(self, index: FileIndex) -> None:
        self.index = index
        self.resolver = Resolver(index)
        # Bumped with every new index or resolver: work that started against the old one is
        # not stored.
        self.generation = 0
        self._resolved: Lru[tuple[str, str, ImportRef], list[Resolved]] = Lru(MAX_RESOLVED)
        self._outlines: Lru[str, Neighbour] = Lru(MAX_OUTLINES)

    def use(self, index: FileIndex) -> None:
        """Resolve against `index` from now on (a new or changed one): drop what was found."""
        self.index = index
        self.resolver = Resolver(index)
        self.generation += 1
        self._resolved.clear()
        self._outlines.clear()

    def file_changed(self, path: str) -> None:
        self._outlines.pop(path)

    def forget(self, path: str, uri: str) -> None:
        """Drop the outline taken from the buffer `uri` (closed) of the file `path`."""
        found = self._outlines.get(path)
        if found is not None and found.key[:2] == ("buffer", uri):
            self._outlines.pop(path)

    def snippets(
        self,
        path: str,
        language: str,
        analysis: Analysis,
        line: int,
        open_docs: dict[str, Document],
        *,
        cooperative: bool = False,
    ) -> list[Snippet]:
        """The symbols the file `path`, analysed as `analysis`, imports (cursor on `line`)."""
        near_text = "\n".join(analysis.lines[max(0, line - NEAR_ABOVE) : line + NEAR_BELOW])
        near = Counter(IDENT.findall(near_text))
        near_attrs = Counter(ATTRIBUTE.findall(near_text))
        seen: set[tuple[str, str]] = set()
        out: list[Snippet] = []
        for ref in analysis.imports:
            for resolved in self.resolve(language, path, ref):
                if resolved.path == path:
                    continue
                neighbour = self.neighbour(resolved.path, open_docs, cooperative=cooperative)
                if neighbour is None:
                    continue
                for name, local in _wanted(resolved, analysis, neighbour):
                    found = self._find_symbol(
                        resolved.path, neighbour, name, 0, open_docs, cooperative
                    )
                    if found is None:
                        continue
                    owner, symbol_name = found
                    if (owner.root_rel, symbol_name) in seen:
                        continue
                    seen.add((owner.root_rel, symbol_name))
                    symbol = owner.outline.symbols[symbol_name]
                    if "." in local:
                        ns, _, attr = local.rpartition(".")
                        ns_head = ns.split(".")[-1]
                        uses_near = near_attrs[(ns_head, attr)]
                        uses = analysis.attributes[(ns_head, attr)]
                    else:
                        uses_near = near[local]
                        # The import statement itself names the symbol once.
                        uses = max(0, analysis.counts[local] - 1)
                    out.append(
                        Snippet(
                            path=owner.root_rel,
                            line=symbol.line,
                            text=symbol.text,
                            tier=NEAR_USE if uses_near else IMPORTED,
                            score=float(uses_near or uses),
                            name=symbol_name,
                        )
                    )
        return out

    def resolve(self, language: str, path: str, ref: ImportRef) -> list[Resolved]:
        key = (language, path, ref)
        found = self._resolved.get(key)
        if found is None:
            generation, resolver = self.generation, self.resolver
            found = resolver.resolve(language, path, ref)
            if generation == self.generation:  # not resolved against a replaced index
                self._resolved.put(key, found)
        return found

    def neighbour(
        self, path: str, open_docs: dict[str, Document], *, cooperative: bool = False
    ) -> Neighbour | None:
        """The outline of an indexed file; an open buffer's unsaved text wins over disk."""
        if not self.index.has(path):
            return None
        doc = open_docs.get(path)
        key: tuple[object, ...]
        if doc is not None:
            version, text = doc.version, doc.text
            key = ("buffer", doc.uri, version)
        else:
            key = ("disk", self.index.stat(path))
        found = self._outlines.get(path)
        if found is not None and found.key == key:
            return found
        language = doc.language if doc is not None else language_for_path(path)
        generation = self.generation
        if doc is None:
            read = self.index.read_text(path)
            if read is None:
                return None
            text = read
        found = Neighbour(
            key,
            language,
            outline(language, text, cooperative=cooperative),
            self.index.display_path(path),
        )
        if generation == self.generation:
            self._outlines.put(path, found)
        return found

    def _find_symbol(
        self,
        path: str,
        neighbour: Neighbour,
        name: str,
        depth: int,
        open_docs: dict[str, Document],
        cooperative: bool,
    ) -> tuple[Neighbour, str] | None:
        """The neighbour that defines `name`, following re-exports (`from .x import name`)."""
        if name in neighbour.outline.symbols:
            return neighbour, name
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        for ref in neighbour.outline.imports:
            for original, local in ref.names:
                if local != name and original != WILDCARD:
                    continue
                for target in self.resolve(neighbour.language, path, ref):
                    if target.path == path:
                        continue
                    other = self.neighbour(target.path, open_docs, cooperative=cooperative)
                    if other is None:
                        continue
                    wanted = name if original == WILDCARD else original
                    found = self._find_symbol(
                        target.path, other, wanted, depth + 1, open_docs, cooperative
                    )
                    if found is not None:
                        return found
        return None


def _wanted(resolved: Resolved, analysis: Analysis, neighbour: Neighbour) -> list[tuple[str, str]]:
    """(symbol in the neighbour, how the current file refers to it)."""
    out: list[tuple[str, str]] = []
    for name, local in resolved.names:
        if name == WILDCARD:
            out.extend(
                (symbol, symbol)
                for symbol in neighbour.outline.symbols
                if symbol in analysis.counts
            )
        else:
            out.append((name, local))
    if resolved.namespace:
        head, _, rest = resolved.namespace.partition(".")
        if rest:
            attrs = sorted(dotted(analysis, resolved.namespace))
        else:
            attrs = sorted({b for (a, b) in analysis.attributes if a == head})
        out.extend((attr, f"{resolved.namespace}.{attr}") for attr in attrs)
    return out
