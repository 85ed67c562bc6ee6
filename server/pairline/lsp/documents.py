"""Text synchronisation (open, incremental change, save, close) and the workspace file index.

Saves and watched-file events keep the context index current; the index is (re)built in a
background thread once the client is initialized, and again when roots, limits or ignores
change.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from pairline.engine.context.paths import uri_to_path
from pairline.engine.core import languages
from pairline.engine.core.config import Settings
from pairline.engine.core.types import EngineError
from pairline.lsp.convert import change
from pairline.lsp.server import Feature, PairlineServer

log = logging.getLogger(__name__)

# Files the context index holds: sources it outlines, configs that steer import resolution,
# and .gitignore files (a change there means a new walk).
WATCHED = "**/{" + ",".join([*languages.watch_patterns(), ".gitignore"]) + "}"


class DocumentSync(Feature):
    """The open buffers and the file index the context is drawn from."""

    def __init__(self, server: PairlineServer) -> None:
        self._server = server
        self._index_task: asyncio.Task[None] | None = None
        self._indexing = False  # set once initialized: roots are known from then on

    def initialized(self) -> None:
        self.refresh_index()
        self._watch_files()

    def settings_changed(self, old: Settings) -> None:
        if self._indexing:
            self.refresh_index()

    def refresh_index(self) -> None:
        """(Re)build the workspace file index in a thread when roots, limits or ignores changed."""
        self._indexing = True
        ls = self._server
        config = ls.settings.context
        names = ls.settings.completion.guide_names or ls.settings.completion.check_names
        # The name monitor resolves imports through the index, with or without a context block.
        wanted = (config.enable and (config.imports or config.retrieval)) or names
        if not wanted or not ls.context.needs_index(config):
            return
        if self._index_task is not None and not self._index_task.done():
            return  # one walk at a time; the next event or settings change checks again
        self._index_task = ls.run_task(
            asyncio.to_thread(ls.context.ensure_index, config), "index workspace"
        )

    def files_changed(self, uris: list[str]) -> None:
        """Keep the index current after saves and watched-file events."""
        paths = [path for path in map(uri_to_path, uris) if path is not None]
        self._server.context.files_changed(paths)
        self._server.checks.clear()
        if self._indexing:
            self.refresh_index()

    def _watch_files(self) -> None:
        """Ask the client for file events under the workspace, where it can register them."""
        ls = self._server
        if not ls.client.watched_files_registration:
            return
        ls.client_register_capability(
            types.RegistrationParams(
                registrations=[
                    types.Registration(
                        id="pairline-context-files",
                        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=types.DidChangeWatchedFilesRegistrationOptions(
                            watchers=[types.FileSystemWatcher(glob_pattern=WATCHED)]
                        ),
                    )
                ]
            )
        )


def setup(server: PairlineServer) -> DocumentSync:
    sync = server.add_feature(DocumentSync(server))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PairlineServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.documents.open(item.uri, item.text, language=item.language_id, version=item.version)
        # Parse it and outline its imports off the request path, before the first completion.
        ls.context.warm_soon(item.uri, ls.settings.context)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PairlineServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        try:
            before = ls.documents.get(uri).text
            doc = ls.documents.change(
                uri, [change(c) for c in params.content_changes], params.text_document.version
            )
        except EngineError as exc:
            ls.engine.cancel(uri)
            # Nothing was applied; the client and server texts may now differ, so say so.
            log.warning("rejected change to %s: %s", uri, exc)
            ls.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Warning,
                    message=f"pairline: rejected an edit to {uri}: {exc}",
                )
            )
        else:
            # Typing makes what runs for this buffer stale, unless it typed into a suggestion.
            ls.engine.edited(uri, doc.text)
            # The texts before and after the batch: the history diffs them, no line offsets.
            ls.nextedit.record(uri, before, doc.text, doc.version)
            ls.context.warm_soon(uri, ls.settings.context)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PairlineServer, params: types.DidSaveTextDocumentParams) -> None:
        sync.files_changed([params.text_document.uri])
        for feature in ls.features:
            feature.document_saved(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: PairlineServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        sync.files_changed([change.uri for change in params.changes])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PairlineServer, params: types.DidCloseTextDocumentParams) -> None:
        for feature in ls.features:
            feature.document_closed(params.text_document.uri)
        ls.engine.forget(params.text_document.uri)
        ls.nextedit.forget(params.text_document.uri)
        ls.context.forget(params.text_document.uri)
        ls.documents.close(params.text_document.uri)

    return sync
