"""Gather cross-file context for one completion request.

The gatherer orchestrates: it asks the import neighbours, the open buffers' windows, the recent
edits and the workspace retrieval (indexes.py, which also keeps the indexes current) for
candidate snippets, ranks them and fits the best into the token budget (budget.py).

Work is cached at every level so a keystroke costs little: the current buffer's imports are
parsed once per text (with the cursor line left out, so typing on one line reuses them, see
analysis.py), neighbour outlines once per file version and import resolutions once per index
generation (neighbours.py), buffer windows once per buffer version, token counts once per text,
retrieved workspace windows once per set of identifiers above the cursor (so typing on a line
keeps them, and the prompt's head, as they are), and the final context once per input set.
Every cache is a bounded LRU. What no request should wait for runs on the warm-up thread when
a buffer opens or changes (warm.py); `forget` drops what is held for a buffer that closed.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pairline.engine.context import budget, buffers, edits
from pairline.engine.context.analysis import BufferAnalyses, without_cursor_line
from pairline.engine.context.index import FileIndex
from pairline.engine.context.indexes import WorkspaceIndexes
from pairline.engine.context.neighbours import ImportNeighbours
from pairline.engine.context.paths import BufferPaths
from pairline.engine.context.rank import Snippet, rank
from pairline.engine.context.receivers import Members, NameMonitor
from pairline.engine.context.tokens import TokenCounts
from pairline.engine.context.warm import WarmUp
from pairline.engine.core import languages, syntax
from pairline.engine.core.config import ContextConfig
from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru
from pairline.engine.core.types import CompletionRequest, UnknownDocument
from pairline.engine.workspace import Workspace

MAX_CONTEXTS = 64


@dataclass(frozen=True)
class Context:
    """What goes before the code in a completion prompt."""

    text: str = ""
    fingerprint: str = ""
    snippets: tuple[Snippet, ...] = ()
    tokens: int = 0


EMPTY = Context(fingerprint=budget.fingerprint(""))


class ContextGatherer:
    """Context for completions in one workspace: the file index plus every cache."""

    def __init__(
        self,
        workspace: Workspace,
        roots: Iterable[str | Path] = (),
        *,
        max_file_bytes: int = 1_000_000,
        index: FileIndex | None = None,
    ) -> None:
        """`index`: one already built to start from (benches comparing two gatherers)."""
        self.workspace = workspace
        roots = tuple(os.fspath(r) for r in roots)
        self._imports = ImportNeighbours(index or FileIndex(roots, max_file_bytes=max_file_bytes))
        self._analyses = BufferAnalyses()
        self._windows = buffers.BufferWindows()
        self._paths = BufferPaths()
        self._tokens = TokenCounts()
        self._last: Lru[tuple[object, ...], Context] = Lru(MAX_CONTEXTS)
        self._indexes = WorkspaceIndexes(self._imports, self._paths, self._last.clear, roots)
        self._warm_up = WarmUp(self.warm)
        self._monitor = NameMonitor(self._imports)

    @property
    def index(self) -> FileIndex:
        return self._imports.index

    # -- the index -------------------------------------------------------------------------

    def set_roots(self, roots: Iterable[str | Path]) -> None:
        """The workspace roots from the editor (the index is rebuilt by `ensure_index`)."""
        self._indexes.roots = tuple(os.fspath(r) for r in roots)

    def wanted_roots(self, config: ContextConfig) -> tuple[str, ...]:
        return self._indexes.wanted_roots(config)

    def needs_index(self, config: ContextConfig) -> bool:
        """Whether the index is missing or was built for other roots or limits."""
        return self._indexes.needs_index(config)

    def ensure_index(self, config: ContextConfig) -> None:
        """Build the index if needed (blocking: servers call it from a worker thread)."""
        self._indexes.ensure(config)

    def files_changed(self, paths: Iterable[str]) -> None:
        """Saved, created, changed or deleted files (absolute paths)."""
        self._indexes.files_changed(paths)

    def forget(self, uri: str) -> None:
        """Drop everything held for the buffer `uri` (after didClose)."""
        self._warm_up.drop(uri)
        path = self._paths.of(uri)
        if path is not None:
            self._imports.forget(path, uri)
        self._analyses.forget(uri)
        self._monitor.forget(uri)
        self._windows.forget(uri)
        self._paths.forget(uri)
        self._last.discard_if(lambda key: key[0] == uri)

    # -- gathering -------------------------------------------------------------------------

    def gather(
        self,
        request: CompletionRequest,
        config: ContextConfig,
        count: budget.TokenCounter | None = None,
        *,
        suffix_windows: bool = False,
    ) -> Context:
        """The context for `request`, counted with `count` (default: an estimate).

        `suffix_windows`: the model cannot see the code after the cursor (no FIM tokens), so
        windows of it are retrieval candidates too.
        """
        if not config.enable or config.budget_tokens <= 0:
            return EMPTY
        key, candidates = self._candidates(request, config, suffix_windows)
        cached = self._last.get(key)
        if cached is not None:
            return cached
        counter = self._tokens.counter(count or budget.estimate_tokens)
        return self._finish(key, request, config, candidates, counter)

    async def gather_async(
        self,
        request: CompletionRequest,
        config: ContextConfig,
        count: Callable[[str], Awaitable[int]] | None = None,
        *,
        suffix_windows: bool = False,
    ) -> Context:
        """As `gather`, with an async token counter (the model's tokenizer on its thread)."""
        if count is None:
            return self.gather(request, config, suffix_windows=suffix_windows)
        if not config.enable or config.budget_tokens <= 0:
            return EMPTY
        key, candidates = self._candidates(request, config, suffix_windows)
        cached = self._last.get(key)
        if cached is not None:
            return cached
        await self._tokens.fill(budget.pieces(request.language, candidates), count)
        counter = self._tokens.counter(budget.estimate_tokens)
        return self._finish(key, request, config, candidates, counter)

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
        self, request: CompletionRequest, config: ContextConfig, suffix_windows: bool
    ) -> tuple[tuple[object, ...], list[Snippet]]:
        """Ranked candidates and the key that identifies everything they depend on."""
        text, line = without_cursor_line(request)
        others = self._other_buffers(request) if config.buffers or config.retrieval else []
        recent = (
            edits.recent_snippets(
                self.workspace.history, request.uri, line, self._indexes.shown_path
            )
            if config.recent_edits
            else []
        )
        retrieval = self._indexes.retrieval
        key: tuple[object, ...] = (
            request.uri,
            request.language,
            text,
            line,
            tuple((doc.uri, doc.version) for doc in others),
            config.imports,
            config.budget_tokens,
            self._imports.generation,
            config.buffers,
            config.retrieval and (suffix_windows, retrieval and retrieval.generation),
            tuple(recent),
        )
        cached = self._last.get(key)
        if cached is not None:
            return key, list(cached.snippets)
        snippets: list[Snippet] = []
        if config.imports:
            snippets.extend(
                self._import_snippets(
                    request.uri, request.language, request.prefix + request.suffix, text, line
                )
            )
        if config.buffers:
            snippets.extend(self._buffer_snippets(request, others))
        snippets.extend(recent)
        if config.retrieval:
            # Open buffers are left to their own windows (when those are on).
            shown = others if config.buffers else []
            snippets.extend(self._indexes.retrieved(request, shown, suffix_windows))
        return key, rank(snippets)

    def _import_snippets(
        self, uri: str, language: str, full: str, text: str, line: int, *, cooperative: bool = False
    ) -> list[Snippet]:
        path = self._paths.of(uri)
        if path is None or not self.index.roots or not self.index.contains(path):
            return []
        analysis = self._analyses.analyse(uri, language, full, text, cooperative=cooperative)
        if analysis is None:
            return []
        docs = self._paths.open_documents(self.workspace)
        return self._imports.snippets(path, language, analysis, line, docs, cooperative=cooperative)

    def members_at(self, request: CompletionRequest) -> Members:
        """Receivers at the cursor whose member names are known (receivers.py)."""
        path = self._paths.of(request.uri)
        inside = path is not None and bool(self.index.roots) and self.index.contains(path)
        docs = self._paths.open_documents(self.workspace) if inside else {}
        return self._monitor.at(request, path if inside else None, docs)

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

    def _buffer_snippets(self, request: CompletionRequest, others: list[Document]) -> list[Snippet]:
        shown: list[tuple[Document, str]] = []
        for doc in others:
            path = self._indexes.shown_path(doc.uri)
            if path is not None:
                shown.append((doc, path))
        return self._windows.snippets(request.prefix, shown)

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
            self._windows.of(doc)
        if config.imports and syntax.parser_for(doc.language) is not None:
            self._import_snippets(uri, doc.language, text, text, 0, cooperative=True)

    def warm_soon(self, uri: str, config: ContextConfig) -> None:
        """Queue `warm` for `uri` on the warm-up thread (after didOpen / didChange)."""
        self._warm_up.soon(uri, config)

    def wait_warm(self, timeout: float = 10.0) -> bool:
        """Wait until queued warm-ups are done (tests, scripts); False on timeout."""
        return self._warm_up.wait(timeout)
