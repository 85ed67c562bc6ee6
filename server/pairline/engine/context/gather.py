"""Gather cross-file context for one completion request.

Work is cached at every level so a keystroke costs little: the current buffer's imports are
parsed once per text (with the cursor line left out, so typing on one line reuses them),
neighbour outlines once per file version (open buffer version or size+mtime on disk), import
resolutions once per index generation, buffer windows once per buffer version, token counts
once per text, and the final context once per input set.

A new text of a buffer is analysed from the previous one: tree-sitter reparses only the edit,
and identifier counts are updated from the changed lines alone (the patterns never cross a
newline, so the counts of the other lines cannot change). What no request should wait for (the
first parse of a buffer, its neighbours' outlines, its windows) runs on a warm-up thread when
the buffer opens or changes (`warm_soon`); a request that comes first does the same work
itself, with the same results.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import unquote, urlparse

import tree_sitter

from pairline.engine import languages, syntax
from pairline.engine.config import ContextConfig
from pairline.engine.context import budget, buffers
from pairline.engine.context.imports import WILDCARD, ImportRef, extract_imports
from pairline.engine.context.index import FileIndex
from pairline.engine.context.outline import Outline, outline
from pairline.engine.context.rank import BUFFER, IMPORTED, NEAR_USE, Snippet, rank
from pairline.engine.context.resolve import Resolved, Resolver
from pairline.engine.document import Document
from pairline.engine.types import CompletionRequest, UnknownDocument
from pairline.engine.workspace import Workspace, language_for_path

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

NEAR_ABOVE = 30  # lines above the cursor whose uses count as "near"
NEAR_BELOW = 10
MAX_BUFFER_SNIPPETS = 4
MAX_REEXPORT_DEPTH = 2
WARM_IDLE_S = 30.0  # the warm-up thread ends after this long without work
_ATTRIBUTE = re.compile(r"\b([A-Za-z_]\w*)(?:\.|::)([A-Za-z_]\w*)")
_IDENT = re.compile(r"[A-Za-z_]\w*")


class _Lru(Generic[K, V]):
    """A bounded cache; locked, as the request and warm-up threads share it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass(frozen=True)
class Context:
    """What goes before the code in a completion prompt."""

    text: str = ""
    fingerprint: str = ""
    snippets: tuple[Snippet, ...] = ()
    tokens: int = 0


EMPTY = Context(fingerprint=budget.fingerprint(""))


@dataclass
class _Analysis:
    """The current buffer, read once per text (cursor line excluded); never changed after."""

    text: str
    lines: list[str]
    imports: list[ImportRef]
    counts: Counter[str]
    attributes: Counter[tuple[str, str]]
    # `ns.attr` uses per dotted namespace (`import a.b` → uses of `a.b.x`), filled on demand;
    # the one exception to "never changed": entries are only added, each final when added.
    dotted: dict[str, Counter[str]] = field(default_factory=dict)
    # Where `dotted` entries may be derived from: an analysis of another text, and the lines
    # that differ (its, ours).
    parent: _Analysis | None = None
    delta: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class _Parsed:
    """The last analysed text of a buffer with its tree: the base for the next edit."""

    language: str
    data: bytes
    tree: tree_sitter.Tree
    analysis: _Analysis


@dataclass
class _Neighbour:
    key: tuple[object, ...]
    language: str
    outline: Outline
    root_rel: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def uri_to_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.realpath(unquote(parsed.path))


def _without_cursor_line(request: CompletionRequest) -> tuple[str, int]:
    """The buffer text minus the line being typed, and that line's number."""
    head = request.prefix[: request.prefix.rfind("\n") + 1]
    newline = request.suffix.find("\n")
    tail = request.suffix[newline + 1 :] if newline >= 0 else ""
    return head + tail, head.count("\n")


S = TypeVar("S", str, bytes)


def _common_prefix(a: S, b: S) -> int:
    """Length of the common prefix, by bisection on slice equality (memcmp speed)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(data: bytes, offset: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def _reparse(
    language: str, old: bytes, previous: tree_sitter.Tree, new: bytes, *, cooperative: bool
) -> tree_sitter.Tree | None:
    """Parse `new` reusing `previous` (the parse of `old`) through one tree-sitter edit.

    The edit goes to a copy: the previous tree may be in use on the other thread.
    """
    if old == new:
        return previous
    start = _common_prefix(old, new)
    tail = _common_prefix(old[start:][::-1], new[start:][::-1])
    old_end, new_end = len(old) - tail, len(new) - tail
    tree = previous.copy()
    tree.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old, start),
        old_end_point=_point(old, old_end),
        new_end_point=_point(new, new_end),
    )
    return syntax.parse(language, new, tree, cooperative=cooperative)


def _changed_lines(old: str, new: str) -> tuple[str, str]:
    """The whole lines that differ between `old` and `new`: (old lines, new lines).

    Both texts are equal before the first of these lines and after the last.
    """
    start = _common_prefix(old, new)
    tail = _common_prefix(old[start:][::-1], new[start:][::-1])
    line_start = old.rfind("\n", 0, start) + 1
    old_end = old.find("\n", len(old) - tail)
    new_end = new.find("\n", len(new) - tail)
    return (
        old[line_start : old_end if old_end >= 0 else len(old)],
        new[line_start : new_end if new_end >= 0 else len(new)],
    )


def _recount(counts: Counter[K], removed: Iterable[K], added: Iterable[K]) -> Counter[K]:
    """`counts` less `removed` plus `added`, without entries that fell to zero."""
    out = counts.copy()
    for item in removed:
        out[item] -= 1
    for item in added:
        out[item] += 1
    for item in [k for k, v in out.items() if v <= 0]:
        del out[item]
    return out


def _dotted_pattern(namespace: str) -> re.Pattern[str]:
    return re.compile(re.escape(namespace) + r"\.([A-Za-z_]\w*)")


def _analysis(text: str, imports: list[ImportRef]) -> _Analysis:
    return _Analysis(
        text=text,
        lines=text.split("\n"),
        imports=imports,
        counts=Counter(_IDENT.findall(text)),
        attributes=Counter(_ATTRIBUTE.findall(text)),
    )


def _dotted(analysis: _Analysis, namespace: str) -> Counter[str]:
    """Uses of `namespace.attr` in the analysed text, by attr (memoised on the analysis)."""
    found = analysis.dotted.get(namespace)
    if found is None:
        pattern = _dotted_pattern(namespace)
        if analysis.parent is not None:
            removed, added = analysis.delta
            found = _recount(
                _dotted(analysis.parent, namespace),
                pattern.findall(removed),
                pattern.findall(added),
            )
        else:
            found = Counter(pattern.findall(analysis.text))
        analysis.dotted[namespace] = found
    return found


def _advance(
    old: _Analysis, text: str, imports: list[ImportRef], *, lazy: bool = False
) -> _Analysis:
    """The analysis of `text` from that of a previous text, reading only the changed lines.

    Every pattern counted here matches within one line, so the counts of a text are the sum
    of its lines' counts, and only the changed lines need reading again. `lazy`: derive dotted
    namespace uses from `old` when asked (for a text with the cursor line left out, whose
    `old` is the whole buffer: this keeps chains one link long).
    """
    removed, added = _changed_lines(old.text, text)
    if lazy:
        return _Analysis(
            text=text,
            lines=text.split("\n"),
            imports=imports,
            counts=_recount(old.counts, _IDENT.findall(removed), _IDENT.findall(added)),
            attributes=_recount(
                old.attributes, _ATTRIBUTE.findall(removed), _ATTRIBUTE.findall(added)
            ),
            parent=old,
            delta=(removed, added),
        )
    return _Analysis(
        text=text,
        lines=text.split("\n"),
        imports=imports,
        counts=_recount(old.counts, _IDENT.findall(removed), _IDENT.findall(added)),
        attributes=_recount(old.attributes, _ATTRIBUTE.findall(removed), _ATTRIBUTE.findall(added)),
        dotted={
            namespace: _recount(
                counts,
                _dotted_pattern(namespace).findall(removed),
                _dotted_pattern(namespace).findall(added),
            )
            for namespace, counts in dict(old.dotted).items()
        },
    )


class ContextGatherer:
    """Context for completions in one workspace: the file index plus every cache."""

    def __init__(
        self,
        workspace: Workspace,
        roots: Iterable[str | Path] = (),
        *,
        max_file_bytes: int = 1_000_000,
    ) -> None:
        self.workspace = workspace
        self._roots: tuple[str, ...] = tuple(os.fspath(r) for r in roots)
        self._extra: tuple[str, ...] = ()
        self._max_file_bytes = max_file_bytes
        self.index = FileIndex(self._roots, max_file_bytes=max_file_bytes)
        self.resolver = Resolver(self.index)
        self._lock = threading.Lock()
        self._stale = False  # a .gitignore changed: only a new walk knows what it hides now
        self._generation = 0
        self._analysis: _Lru[tuple[str, str], _Analysis] = _Lru(32)
        self._neighbours: dict[str, _Neighbour] = {}
        self._resolved: dict[tuple[str, str, ImportRef], list[Resolved]] = {}
        self._windows: dict[str, tuple[int, list[buffers.Window]]] = {}
        # The last analysed text per buffer with its tree: moving the cursor changes the
        # analysed text by two lines, and an incremental reparse and recount of that edit are
        # far cheaper than reading the whole buffer anew.
        self._parsed: dict[str, _Parsed] = {}
        # uri → real path: realpath costs a syscall per part of the path.
        self._paths: dict[str, str | None] = {}
        self._tokens: _Lru[str, int] = _Lru(16384)
        self._last: _Lru[tuple[object, ...], Context] = _Lru(64)
        # Warm-up: uris waiting for `warm` on the warm-up thread (latest config each).
        self._pending: OrderedDict[str, ContextConfig] = OrderedDict()
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._busy = False

    # -- the index -------------------------------------------------------------------------

    def set_roots(self, roots: Iterable[str | Path]) -> None:
        """The workspace roots from the editor (the index is rebuilt by `ensure_index`)."""
        self._roots = tuple(os.fspath(r) for r in roots)

    def wanted_roots(self, config: ContextConfig) -> tuple[str, ...]:
        return self._roots + tuple(os.path.expanduser(r) for r in config.extra_roots)

    def needs_index(self, config: ContextConfig) -> bool:
        """Whether the index is missing or was built for other roots or limits."""
        fresh = FileIndex(self.wanted_roots(config)).roots
        return (
            self._stale
            or not self.index.built
            or fresh != self.index.roots
            or config.max_file_bytes != self.index.max_file_bytes
        )

    def ensure_index(self, config: ContextConfig) -> None:
        """Build the index if needed (blocking: servers call it from a worker thread)."""
        if not self.needs_index(config):
            return
        index = FileIndex(self.wanted_roots(config), max_file_bytes=config.max_file_bytes)
        index.build()
        with self._lock:
            self.index = index
            self.resolver = Resolver(index)
            self._stale = False
            self._invalidate()

    def files_changed(self, paths: Iterable[str]) -> None:
        """Saved, created, changed or deleted files (absolute paths)."""
        changed = False
        for path in paths:
            real = os.path.realpath(path)
            if os.path.basename(real) == ".gitignore":
                self._stale = True
                continue
            changed |= self.index.update(real)
            self._neighbours.pop(real, None)
            self._paths.clear()  # a link may point elsewhere now
        if changed:
            with self._lock:
                self.resolver = Resolver(self.index)
                self._invalidate()

    def _invalidate(self) -> None:
        self._generation += 1
        self._resolved.clear()
        self._neighbours.clear()
        self._paths.clear()
        self._last.clear()

    # -- gathering -------------------------------------------------------------------------

    def gather(
        self,
        request: CompletionRequest,
        config: ContextConfig,
        count: budget.TokenCounter | None = None,
    ) -> Context:
        """The context for `request`, counted with `count` (default: an estimate)."""
        if not config.enable or config.budget_tokens <= 0:
            return EMPTY
        counter = count or budget.estimate_tokens
        key, candidates = self._candidates(request, config)
        cached = self._last.get(key)
        if cached is not None:
            return cached
        return self._finish(key, request, config, candidates, self._cached_counter(counter))

    async def gather_async(
        self,
        request: CompletionRequest,
        config: ContextConfig,
        count: Callable[[str], Awaitable[int]] | None = None,
    ) -> Context:
        """As `gather`, with an async token counter (the model's tokenizer on its thread).

        Counts are cached by text, and candidates are stable, so after the first request in a
        file almost nothing is sent to the counter.
        """
        if count is None:
            return self.gather(request, config)
        if not config.enable or config.budget_tokens <= 0:
            return EMPTY
        key, candidates = self._candidates(request, config)
        cached = self._last.get(key)
        if cached is not None:
            return cached
        for text in budget.pieces(request.language, candidates):
            if self._tokens.get(text) is None:
                self._tokens.put(text, await count(text))
        return self._finish(
            key, request, config, candidates, self._cached_counter(budget.estimate_tokens)
        )

    def _cached_counter(self, count: budget.TokenCounter) -> budget.TokenCounter:
        def counted(text: str) -> int:
            value = self._tokens.get(text)
            if value is None:
                value = count(text)
                self._tokens.put(text, value)
            return value

        return counted

    def _finish(
        self,
        key: tuple[object, ...],
        request: CompletionRequest,
        config: ContextConfig,
        candidates: list[Snippet],
        count: budget.TokenCounter,
    ) -> Context:
        chosen, used = budget.select(candidates, request.language, config.budget_tokens, count)
        text = budget.layout(request.language, chosen)
        context = Context(text, budget.fingerprint(text), tuple(chosen), used)
        self._last.put(key, context)
        return context

    def _candidates(
        self, request: CompletionRequest, config: ContextConfig
    ) -> tuple[tuple[object, ...], list[Snippet]]:
        """Ranked candidates and the key that identifies everything they depend on."""
        text, line = _without_cursor_line(request)
        others = self._other_buffers(request) if config.buffers else []
        key: tuple[object, ...] = (
            request.uri,
            request.language,
            text,
            line,
            tuple((doc.uri, doc.version) for doc in others),
            config.imports,
            config.budget_tokens,
            self._generation,
        )
        cached = self._last.get(key)
        if cached is not None:
            return key, list(cached.snippets)
        snippets: list[Snippet] = []
        if config.imports:
            snippets.extend(
                self._import_snippets(
                    request.uri,
                    request.language,
                    request.prefix + request.suffix,
                    text,
                    line,
                    open_docs=None,
                )
            )
        if config.buffers:
            snippets.extend(self._buffer_snippets(request, others))
        return key, rank(snippets)

    # -- open buffers ----------------------------------------------------------------------

    def _other_buffers(self, request: CompletionRequest) -> list[Document]:
        family = languages.family(request.language)
        return sorted(
            (
                doc
                for doc in self.workspace.documents()
                if doc.uri != request.uri and languages.family(doc.language) == family
            ),
            key=lambda doc: doc.uri,
        )

    def _windows_of(self, doc: Document) -> list[buffers.Window]:
        version, text = doc.version, doc.text
        cached = self._windows.get(doc.uri)
        if cached is not None and cached[0] == version:
            return cached[1]
        found = buffers.windows(text)
        if doc.version == version and doc.text is text:  # not changed meanwhile (warm-up)
            self._windows[doc.uri] = (version, found)
        return found

    def _path(self, uri: str) -> str | None:
        if uri in self._paths:
            return self._paths[uri]
        path = uri_to_path(uri)
        if len(self._paths) > 4096:
            self._paths.clear()
        self._paths[uri] = path
        return path

    def _display_path(self, uri: str, path: str | None) -> str:
        if path is not None:
            root = self.index.root_of(path)
            if root is not None:
                return Path(path).relative_to(root).as_posix()
            return os.path.basename(path)
        return unquote(urlparse(uri).path).rsplit("/", 1)[-1] or uri

    def _buffer_snippets(self, request: CompletionRequest, others: list[Document]) -> list[Snippet]:
        cursor_ids = buffers.cursor_identifiers(request.prefix)
        if not cursor_ids:
            return []
        matches: list[Snippet] = []
        for doc in others:
            path = self._path(doc.uri)
            if path is not None and os.path.basename(path).startswith(".env"):
                continue
            match = buffers.best_window(self._windows_of(doc), cursor_ids)
            if match is None:
                continue
            matches.append(
                Snippet(
                    path=self._display_path(doc.uri, path),
                    line=match.window.start,
                    text=match.window.text,
                    tier=BUFFER,
                    score=round(match.score, 6),
                )
            )
        matches.sort(key=lambda s: (-s.score, s.path))
        return matches[:MAX_BUFFER_SNIPPETS]

    # -- imports ---------------------------------------------------------------------------

    def _anchor(self, uri: str, language: str, full: str, cooperative: bool) -> _Parsed | None:
        """The parse of the whole buffer text `full`, advanced from the last one of the buffer.

        Requests analyse the text without the cursor line, which differs from one request to
        the next by two lines that may lie far apart; from the whole text it differs by one.
        """
        base = self._parsed.get(uri)
        if base is not None and base.language == language and base.analysis.text == full:
            return base
        data = full.encode("utf-8", "surrogatepass")
        if base is not None and base.language == language:
            tree = _reparse(language, base.data, base.tree, data, cooperative=cooperative)
        else:
            tree = syntax.parse(language, data, cooperative=cooperative)
        if tree is None:
            return None
        imports = extract_imports(language, tree.root_node)
        if base is not None and base.language == language:
            analysis = _advance(base.analysis, full, imports)
        else:
            analysis = _analysis(full, imports)
        parsed = _Parsed(language, data, tree, analysis)
        self._parsed[uri] = parsed
        if len(self._parsed) > 16:  # forget closed buffers
            open_uris = {doc.uri for doc in self.workspace.documents()}
            for gone in [u for u in list(self._parsed) if u not in open_uris]:
                self._parsed.pop(gone, None)
        return parsed

    def _analyse(
        self, uri: str, language: str, full: str, text: str, *, cooperative: bool = False
    ) -> _Analysis | None:
        """The analysis of `text`: the buffer text `full` less the cursor line."""
        key = (uri, text)
        found = self._analysis.get(key)
        if found is not None:
            return found
        anchor = self._anchor(uri, language, full, cooperative)
        if anchor is None:
            return None
        if text == full:
            analysis = anchor.analysis
        else:
            data = text.encode("utf-8", "surrogatepass")
            tree = _reparse(language, anchor.data, anchor.tree, data, cooperative=cooperative)
            if tree is None:
                return None
            analysis = _advance(
                anchor.analysis, text, extract_imports(language, tree.root_node), lazy=True
            )
        self._analysis.put(key, analysis)
        return analysis

    def _resolve(self, language: str, path: str, ref: ImportRef) -> list[Resolved]:
        key = (language, path, ref)
        found = self._resolved.get(key)
        if found is None:
            generation, resolver = self._generation, self.resolver
            found = resolver.resolve(language, path, ref)
            if len(self._resolved) > 20000:
                self._resolved.clear()
            if generation == self._generation:  # not resolved against a replaced index
                self._resolved[key] = found
        return found

    def _neighbour(
        self, path: str, open_docs: dict[str, Document], *, cooperative: bool = False
    ) -> _Neighbour | None:
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
        found = self._neighbours.get(path)
        if found is not None and found.key == key:
            return found
        language = doc.language if doc is not None else language_for_path(path)
        generation = self._generation
        if doc is None:
            read = self.index.read_text(path)
            if read is None:
                return None
            text = read
        found = _Neighbour(
            key,
            language,
            outline(language, text, cooperative=cooperative),
            self._display_path("", path),
        )
        if generation == self._generation:
            self._neighbours[path] = found
        return found

    def _open_documents(self) -> dict[str, Document]:
        out: dict[str, Document] = {}
        for doc in self.workspace.documents():
            path = self._path(doc.uri)
            if path is not None:
                out[path] = doc
        return out

    def _wanted(
        self, resolved: Resolved, analysis: _Analysis, neighbour: _Neighbour
    ) -> list[tuple[str, str]]:
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
                attrs = sorted(_dotted(analysis, resolved.namespace))
            else:
                attrs = sorted({b for (a, b) in analysis.attributes if a == head})
            out.extend((attr, f"{resolved.namespace}.{attr}") for attr in attrs)
        return out

    def _find_symbol(
        self,
        path: str,
        neighbour: _Neighbour,
        name: str,
        depth: int,
        open_docs: dict[str, Document],
        cooperative: bool,
    ) -> tuple[_Neighbour, str] | None:
        """The neighbour that defines `name`, following re-exports (`from .x import name`)."""
        if name in neighbour.outline.symbols:
            return neighbour, name
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        for ref in neighbour.outline.imports:
            for original, local in ref.names:
                if local != name and original != WILDCARD:
                    continue
                for target in self._resolve(neighbour.language, path, ref):
                    if target.path == path:
                        continue
                    other = self._neighbour(target.path, open_docs, cooperative=cooperative)
                    if other is None:
                        continue
                    wanted = name if original == WILDCARD else original
                    found = self._find_symbol(
                        target.path, other, wanted, depth + 1, open_docs, cooperative
                    )
                    if found is not None:
                        return found
        return None

    def _import_snippets(
        self,
        uri: str,
        language: str,
        full: str,
        text: str,
        line: int,
        *,
        open_docs: dict[str, Document] | None,
        cooperative: bool = False,
    ) -> list[Snippet]:
        path = self._path(uri)
        if path is None or not self.index.roots or not self.index.contains(path):
            return []
        analysis = self._analyse(uri, language, full, text, cooperative=cooperative)
        if analysis is None:
            return []
        if open_docs is None:
            open_docs = self._open_documents()
        near_text = "\n".join(analysis.lines[max(0, line - NEAR_ABOVE) : line + NEAR_BELOW])
        near = Counter(_IDENT.findall(near_text))
        near_attrs = Counter(_ATTRIBUTE.findall(near_text))
        seen: set[tuple[str, str]] = set()
        out: list[Snippet] = []
        for ref in analysis.imports:
            for resolved in self._resolve(language, path, ref):
                if resolved.path == path:
                    continue
                neighbour = self._neighbour(resolved.path, open_docs, cooperative=cooperative)
                if neighbour is None:
                    continue
                for name, local in self._wanted(resolved, analysis, neighbour):
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

    # -- warm-up ---------------------------------------------------------------------------

    def warm(self, uri: str, config: ContextConfig) -> None:
        """Do now what a request in `uri` would otherwise do first (blocking; thread-safe).

        Parses the buffer, resolves its imports, outlines their files (following re-exports)
        and cuts the buffer into windows for requests in other buffers. A request then only
        reads the cursor line's edit on top of it.
        """
        if not config.enable or config.budget_tokens <= 0:
            return
        try:
            doc = self.workspace.get(uri)
        except UnknownDocument:
            return
        text = doc.text
        if len(text) > config.max_file_bytes:
            return  # as the index skips huge files: no whole-file passes over them
        if config.buffers:
            self._windows_of(doc)
        if config.imports and syntax.parser_for(doc.language) is not None:
            self._import_snippets(
                uri,
                doc.language,
                text,
                text,
                0,
                open_docs=self._open_documents(),
                cooperative=True,
            )

    def warm_soon(self, uri: str, config: ContextConfig) -> None:
        """Queue `warm` for `uri` on the warm-up thread (after didOpen / didChange)."""
        with self._wake:
            self._pending[uri] = config
            self._pending.move_to_end(uri)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._warm_loop, name="pairline-context-warm", daemon=True
                )
                self._worker.start()
            self._wake.notify()

    def wait_warm(self, timeout: float = 10.0) -> bool:
        """Wait until queued warm-ups are done (tests, scripts); False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _warm_loop(self) -> None:
        while True:
            with self._wake:
                if not self._wake.wait_for(lambda: bool(self._pending), WARM_IDLE_S):
                    self._worker = None
                    return
                uri, config = self._pending.popitem(last=False)
                self._busy = True
            try:
                self.warm(uri, config)
            except Exception:  # warm-up is an optimisation: a bug there must cost nothing else
                log.exception("context warm-up failed for %s", uri)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()


# -- a one-call API for benches and scripts -----------------------------------------------

_GATHERERS: dict[tuple[int, tuple[str, ...]], ContextGatherer] = {}


def gather_context(
    workspace: Workspace,
    request: CompletionRequest,
    config: ContextConfig,
    *,
    roots: Iterable[str | Path] = (),
    count_tokens: budget.TokenCounter | None = None,
) -> Context:
    """Context for `request` in `workspace` with the given roots (index built on first use).

    The gatherer, its index and caches are kept per (workspace, roots), so repeated calls
    cost what a keystroke costs in the server.
    """
    root_key = tuple(os.fspath(r) for r in roots)
    key = (id(workspace), root_key)
    gatherer = _GATHERERS.get(key)
    if gatherer is None or gatherer.workspace is not workspace:
        gatherer = ContextGatherer(workspace, root_key)
        _GATHERERS[key] = gatherer
    gatherer.ensure_index(config)
    return gatherer.gather(request, config, count_tokens)
