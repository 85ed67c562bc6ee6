"""Conversions between lsprotocol types and engine types."""

from __future__ import annotations

from lsprotocol import types

from pairline.engine.core import types as engine


def position(pos: types.Position) -> engine.Position:
    return engine.Position(pos.line, pos.character)


def lsp_position(pos: engine.Position) -> types.Position:
    return types.Position(line=pos.line, character=pos.character)


def change(event: types.TextDocumentContentChangeEvent) -> engine.TextChange:
    if isinstance(event, types.TextDocumentContentChangePartial):
        return engine.TextChange(
            text=event.text,
            range=engine.Range(position(event.range.start), position(event.range.end)),
        )
    return engine.TextChange(text=event.text)


def encoding(kind: str | types.PositionEncodingKind | None) -> engine.PositionEncoding:
    value = kind.value if isinstance(kind, types.PositionEncodingKind) else kind
    try:
        return engine.PositionEncoding(value or "utf-16")
    except ValueError:
        return engine.PositionEncoding.UTF16
