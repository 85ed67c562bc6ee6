"""The workspace's file index and retrieval index: built when needed, kept current as files change.

`WorkspaceIndexes` says when the file index is stale (other roots, another size limit, a
`.gitignore` changed), builds both indexes (`ensure`, blocking: servers call it from a worker
thread), updates them as files are saved, created or deleted, and finds retrieval's similar
windows for a request, cached by the identifiers above the cursor. A new index makes the
gatherer's resolved paths and finished contexts stale, so it clears them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from pairline.engine.context.buffers import cursor_identifiers
from pairline.engine.context.index import FileIndex
from pairline.engine.context.neighbours import ImportNeighbours
from pairline.engine.context.paths import BufferPaths, uri_name
from pairline.engine.context.rank import Snippet
from pairline.engine.context.retrieval import RetrievalIndex, suffix_snippets
from pairline.engine.core import languages
from pairline.engine.core.config import ContextConfig
from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru
from pairline.engine.core.redact import is_secret_file
from pairline.engine.core.types import CompletionRequest

MAX_RETRIEVALS = 64  # retrieval results kept, by the identifiers above the cursor
MANY_CHANGES = 64  # file events in one batch past which retrieval is rebuilt in a thread


class WorkspaceIndexes:
    """The file index (held by the import neighbours, which resolve against it) and the
    retrieval index, for the workspace roots the editor gave."""

    def __init__(
        self,
        imports: ImportNeighbours,
        paths: BufferPaths,
        drop_contexts: Callable[[], None],
        roots: Iterable[str | Path] = (),
    ) -> None:
        """`paths` and `drop_contexts` (which empties the finished contexts): the gatherer's
        caches a new index makes stale."""
        self.imports = imports
        self.roots: tuple[str, ...] = tuple(os.fspath(r) for r in roots)
        self.retrieval: RetrievalIndex | None = None  # built with the index when enabled
        self._paths = paths
        self._drop_contexts = drop_contexts
        self._lock = threading.Lock()
        self._stale = False  # a .gitignore changed: only a new walk knows what it hides now
        self._retrieved: Lru[tuple[object, ...], tuple[Snippet, ...]] = Lru(MAX_RETRIEVALS)

    @property
    def index(self) -> FileIndex:
        return self.imports.index

    def wanted_roots(self, config: ContextConfig) -> tuple[str, ...]:
        return self.roots + tuple(os.path.expanduser(r) for r in config.extra_roots)

    def needs_index(self, config: ContextConfig) -> bool:
        """Whether the index is missing or was built for other roots or limits."""
        return self._index_stale(config) or (
            config.retrieval and (self.retrieval is None or self.retrieval.index is not self.index)
        )

    def _index_stale(self, config: ContextConfig) -> bool:
        fresh = FileIndex(self.wanted_roots(config)).roots
        return (
            self._stale
            or not self.index.built
            or fresh != self.index.roots
            or config.max_file_bytes != self.index.max_file_bytes
        )

    def ensure(self, config: ContextConfig) -> None:
        """Build the index if needed (blocking: servers call it from a worker thread)."""
        if self._index_stale(config):
            index = FileIndex(self.wanted_roots(config), max_file_bytes=config.max_file_bytes)
            index.build()
            with self._lock:
                self._stale = False
                self._use(index)
        retrieval = self.retrieval
        if config.retrieval and (retrieval is None or retrieval.index is not self.index):
            retrieval = RetrievalIndex(self.index)
            retrieval.build()
            with self._lock:
                if retrieval.index is self.index:  # not replaced by another walk meanwhile
                    self.retrieval = retrieval
                    self._drop_contexts()

    def files_changed(self, paths: Iterable[str]) -> None:
        """Saved, created, changed or deleted files (absolute paths)."""
        paths = list(paths)
        retrieval = self.retrieval
        if retrieval is not None and len(paths) > MANY_CHANGES:
            # A checkout or a generator: reading them all here would stall requests, so the
            # retrieval index is rebuilt off the event loop (`needs_index` says so now).
            self.retrieval = retrieval = None
        changed = False
        for path in paths:
            real = os.path.realpath(path)
            if os.path.basename(real) == ".gitignore":
                self._stale = True
                continue
            changed |= self.index.update(real)
            if retrieval is not None:
                changed |= retrieval.update(real)
            self.imports.file_changed(real)
            self._paths.clear()  # a link may point elsewhere now
        if changed:
            with self._lock:
                self._use(self.index)

    def _use(self, index: FileIndex) -> None:
        self.imports.use(index)
        if self.retrieval is not None and self.retrieval.index is not index:
            self.retrieval = None  # rebuilt for the new index by `ensure`
        self._paths.clear()
        self._drop_contexts()

    def shown_path(self, uri: str) -> str | None:
        """The path a prompt shows for buffer `uri`; None for a secret file (never shown)."""
        path = self._paths.of(uri)
        if path is None:
            return uri_name(uri)
        return None if is_secret_file(path) else self.index.display_path(path)

    def retrieved(
        self, request: CompletionRequest, others: list[Document], suffix_windows: bool
    ) -> list[Snippet]:
        """Similar windows of workspace files (and of this buffer's code after the cursor);
        `others`: the open buffers whose windows the prompt gets from the editor's text."""
        cursor_ids = cursor_identifiers(request.prefix)
        if not cursor_ids:
            return []
        found: list[Snippet] = []
        if suffix_windows:
            shown = self.shown_path(request.uri)
            if shown is not None:
                found += suffix_snippets(request.suffix, request.position.line, shown, cursor_ids)
        # The cursor's own file and the open buffers are read as the editor has them, never
        # from disk: the disk copy of this file holds the very code being written.
        exclude = frozenset(
            path for path in map(self._paths.of, [request.uri, *(d.uri for d in others)]) if path
        )
        return found + self._similar(cursor_ids, languages.family(request.language), exclude)

    def _similar(
        self, cursor_ids: frozenset[str], family: str, exclude: frozenset[str]
    ) -> list[Snippet]:
        """Windows of indexed files like the code above the cursor (none without retrieval)."""
        retrieval = self.retrieval
        if retrieval is None:
            return []
        key = (cursor_ids, family, exclude, retrieval.generation)
        cached = self._retrieved.get(key)
        if cached is None:
            cached = tuple(retrieval.snippets(cursor_ids, family, exclude))
            self._retrieved.put(key, cached)
        return list(cached)
