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


def register(server: PairlineServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PairlineServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.documents.open(item.uri, item.text, language=item.language_id, version=item.version)

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

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PairlineServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.engine.forget(params.text_document.uri)
        ls.documents.close(params.text_document.uri)
