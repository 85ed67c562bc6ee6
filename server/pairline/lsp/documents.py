"""Text synchronisation: open, incremental change, close."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from pairline.engine.types import EngineError
from pairline.lsp.convert import change

if TYPE_CHECKING:
    from pairline.lsp.app import PairlineServer

log = logging.getLogger(__name__)

# Files the context index holds: sources it outlines, configs that steer import resolution,
# and .gitignore files (a change there means a new walk).
WATCHED = (
    "**/{*.py,*.pyi,*.js,*.jsx,*.mjs,*.cjs,*.ts,*.tsx,*.mts,*.cts,*.go,*.rs,"
    "tsconfig.json,jsconfig.json,go.mod,Cargo.toml,.gitignore}"
)


def watch_files(ls: PairlineServer) -> None:
    """Ask the client for file events under the workspace, where it can register them."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace is not None else None
    if watched is None or not watched.dynamic_registration:
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


def register(server: PairlineServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PairlineServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.documents.open(item.uri, item.text, language=item.language_id, version=item.version)
        # Parse it and outline its imports off the request path, before the first completion.
        ls.context.warm_soon(item.uri, ls.settings.context)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PairlineServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        # Typing makes any generation for this buffer stale.
        ls.engine.cancel(uri)
        try:
            ls.documents.change(
                uri, [change(c) for c in params.content_changes], params.text_document.version
            )
        except EngineError as exc:
            # Nothing was applied; the client and server texts may now differ, so say so.
            log.warning("rejected change to %s: %s", uri, exc)
            ls.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Warning,
                    message=f"pairline: rejected an edit to {uri}: {exc}",
                )
            )
        else:
            ls.context.warm_soon(uri, ls.settings.context)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PairlineServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.files_changed([params.text_document.uri])

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: PairlineServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        ls.files_changed([change.uri for change in params.changes])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PairlineServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.engine.forget(params.text_document.uri)
        ls.documents.close(params.text_document.uri)
