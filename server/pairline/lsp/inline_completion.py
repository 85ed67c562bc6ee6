"""`textDocument/inlineCompletion`: ghost text from the local model or a model server.

When suggestions come from a model server that stops answering, the user is told once (a
warning and the status), and the status says when it answers again.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from pairline.engine.core.types import EngineError, Superseded
from pairline.lsp.convert import lsp_position, position
from pairline.lsp.progress import notify_status
from pairline.lsp.server import PairlineServer
from pairline.lsp.usage import accept_command


def setup(server: PairlineServer) -> None:
    """Register the handler; it holds nothing of its own (the engine owns model and cache)."""
    server.engine.server.on_status = lambda state, message: _server_status(server, state, message)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: PairlineServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        try:
            request = ls.documents.request_at(params.text_document.uri, position(params.position))
        except EngineError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
        request = replace(request, automatic=automatic)
        try:
            suggestion = await ls.engine.complete(request, report_superseded=True)
        except Superseded:
            # Out of date, not empty: answered RequestCancelled, as for $/cancelRequest (a
            # cancelled task is answered so, without an error in the log).
            raise asyncio.CancelledError from None
        if suggestion is None:
            return types.InlineCompletionList(items=[])
        at = lsp_position(suggestion.position)
        # Editors run an inline item's command when the user accepts it: that records the accept.
        command = accept_command(ls, request, suggestion, "inline")
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=suggestion.text,
                    range=types.Range(start=at, end=at),
                    command=command,
                )
            ]
        )


def _server_status(ls: PairlineServer, state: str, message: str) -> None:
    """The model server giving suggestions failed ("down", once per outage) or is back ("up")."""
    if ls.stopping:
        return
    model = ls.settings.completion_remote.model
    if state == "up":
        notify_status(ls, "ready", f"suggestions from {message}", model)
        return
    notify_status(ls, "error", f"no suggestions: {message}", model)
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"pairline: no suggestions from the model server: {message}",
        )
    )
