"""pygls protocol tweaks: every request gets an answer, and documents live in the engine.

pygls drops a request whose params fail to deserialize (a position of the wrong type, a
negative line) without replying, which leaves the editor waiting forever; here it is answered
with InvalidParams. Document sync goes straight to our handlers: the engine keeps the only copy
of each buffer, applies edits all-or-nothing and refuses out-of-range ones. Features may add
`experimental` server capabilities, which pygls has no place for.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)


class _Dropped:
    """Stands in for a message that could not be read; it is answered and then ignored."""

    jsonrpc = "dropped"


class PairlineProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers unreadable requests and leaves buffers to us."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Features set up the `experimental` part of the capabilities here (pygls builds the
        # rest from the registered handlers).
        self.experimental_capabilities: dict[str, Any] = {}

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        if self.experimental_capabilities:
            result.capabilities.experimental = dict(self.experimental_capabilities)
        return result

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            method = data.get("method", "")
            if "id" in data and method:
                error = JsonRpcInvalidParams(f"invalid params for {method}: {exc.__cause__}")
                self._send_response(data["id"], error=error.to_response_error())
            else:
                log.warning("ignored unreadable notification %r", method or data)
            return _Dropped()

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Dropped):
            return
        super().handle_message(message)

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)
