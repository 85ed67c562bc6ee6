"""Next-edit suggestions over LSP, in the shape of the Copilot language server's NES request.

`textDocument/copilotInlineEdit` (and its alias `pairline/nextEdit`, one handler) takes
`{textDocument: {uri, version}, position}` and answers `{edits: [{text, range, textDocument:
{uri, version}, command}]}`: alternatives, best first, possibly none. `range` is in the
negotiated position encoding of the document `textDocument` names; `text` replaces it. A
request for a version that is no longer current gets no edit, never a stale one.

The client applies an accepted edit itself, then runs its `command`, `pairline.nextEditAccepted
[id]` (usage stats; the history takes the applied edit as the user's own). The notification
`textDocument/didShowInlineEdit {item}` says an edit is on screen (stats only). The server
advertises `experimental: {pairline: {nextEdit: true}}` in its capabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from pairline.engine.core.types import EngineError, Position, Range
from pairline.engine.nextedit.engine import Prediction
from pairline.engine.nextedit.propagate import ProposedEdit
from pairline.lsp.server import Feature, PairlineServer

log = logging.getLogger(__name__)

INLINE_EDIT = "textDocument/copilotInlineEdit"
NEXT_EDIT = "pairline/nextEdit"
DID_SHOW = "textDocument/didShowInlineEdit"
ACCEPTED = "pairline.nextEditAccepted"
CAPABILITY = {"pairline": {"nextEdit": True}}
_MAX_ID = 64


class NextEdits(Feature):
    """Closes the next-edit engine's remote connections and worker when the server stops."""

    def __init__(self, server: PairlineServer) -> None:
        self._server = server

    async def shutdown(self) -> None:
        await self._server.nextedit.aclose()


def _field(value: Any, name: str) -> Any:
    """`value[name]` of a JSON object, as a dict or as the object pygls makes of one."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def _count(value: Any) -> int | None:
    """A JSON integer >= 0 (some clients send 5.0 for 5), else None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_request(params: Any) -> tuple[str, int | None, Position]:
    """(uri, version or None, position) of a request; InvalidParams says what is wrong."""
    document = _field(params, "textDocument")
    uri = _field(document, "uri")
    if not isinstance(uri, str) or not uri:
        raise JsonRpcInvalidParams(
            "expected {textDocument: {uri, version}, position: {line, character}}"
        )
    raw_version = _field(document, "version")
    version = None if raw_version is None else _count(raw_version)
    if raw_version is not None and version is None:
        raise JsonRpcInvalidParams("textDocument.version must be an integer >= 0")
    position = _field(params, "position")
    line, character = _count(_field(position, "line")), _count(_field(position, "character"))
    if line is None or character is None:
        raise JsonRpcInvalidParams("position must be {line, character}, integers >= 0")
    return uri, version, Position(line, character)


def _position(position: Position) -> dict[str, int]:
    return {"line": position.line, "character": position.character}


def _range(span: Range) -> dict[str, dict[str, int]]:
    return {"start": _position(span.start), "end": _position(span.end)}


def _item(edit: ProposedEdit, event_id: str) -> dict[str, Any]:
    return {
        "text": edit.text,
        "range": _range(edit.range),
        "textDocument": {"uri": edit.uri, "version": edit.version},
        "command": {
            "title": "pairline: next edit accepted",
            "command": ACCEPTED,
            "arguments": [event_id],
        },
    }


def _edit_id(arguments: Any) -> str | None:
    """The id in an accept command's `[id]` or a shown item's command arguments."""
    if not isinstance(arguments, list | tuple) or len(arguments) != 1:
        return None
    event_id = arguments[0]
    if not isinstance(event_id, str) or not 0 < len(event_id) <= _MAX_ID:
        return None
    return event_id


def setup(server: PairlineServer) -> NextEdits:
    """Register the request (under both names), the notification and the accept command."""
    feature = server.add_feature(NextEdits(server))
    server.advertise(CAPABILITY)

    async def inline_edit(ls: PairlineServer, params: Any) -> dict[str, Any]:
        uri, version, position = parse_request(params)
        try:
            prediction = await ls.nextedit.predict(uri, position, ls.documents, version=version)
        except EngineError as exc:  # not open, or a position past its end
            raise JsonRpcInvalidParams(str(exc)) from None
        return {"edits": _items(ls, prediction)}

    server.feature(INLINE_EDIT)(inline_edit)
    server.feature(NEXT_EDIT)(inline_edit)

    @server.feature(DID_SHOW)
    def did_show(ls: PairlineServer, params: Any) -> None:
        event_id = _edit_id(_field(_field(_field(params, "item"), "command"), "arguments"))
        if event_id is None or not ls.nextedit.shown(event_id):
            log.debug("didShowInlineEdit for an unknown edit ignored")

    @server.command(ACCEPTED)
    def accepted(ls: PairlineServer, *arguments: object) -> None:
        event_id = _edit_id(list(arguments))
        if event_id is None:
            raise JsonRpcInvalidParams(f"{ACCEPTED} expects [id], the id a short string")
        if not ls.nextedit.accepted(event_id):
            log.debug("accept of unknown next edit %s ignored", event_id)

    return feature


def _items(ls: PairlineServer, prediction: Prediction) -> list[dict[str, Any]]:
    items = []
    for edit in prediction.edits:
        language = ls.documents.get(edit.uri).language  # open: the engine checked its version
        items.append(_item(edit, ls.nextedit.offer(edit, prediction, language)))
    return items
