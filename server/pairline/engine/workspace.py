"""The open buffers, as the editor last sent them, and the history of the user's edits to them.

The history is kept here, beside the buffers it describes, so that both readers reach it without
depending on each other: next-edit suggestions (what follows the last edit) and the completion
context (recent edits elsewhere as snippets). The language server records into it on didChange.
"""

from __future__ import annotations

from collections.abc import Sequence

from pairline.engine.core.document import Document
from pairline.engine.core.languages import language_for_path
from pairline.engine.core.types import (
    CompletionRequest,
    Position,
    PositionEncoding,
    TextChange,
    UnknownDocument,
)
from pairline.engine.nextedit.history import EditHistory

# `language_for_path` is part of this module's interface: whoever opens a file by path needs it.
__all__ = ["Workspace", "language_for_path"]


class Workspace:
    """Open documents keyed by URI, with the user's recent edits."""

    def __init__(self, encoding: PositionEncoding = PositionEncoding.UTF16) -> None:
        self.encoding = encoding
        self._documents: dict[str, Document] = {}
        self.history = EditHistory()

    def open(self, uri: str, text: str, *, language: str = "", version: int = 0) -> Document:
        doc = Document(
            uri,
            text,
            language=language or language_for_path(uri),
            version=version,
            encoding=self.encoding,
        )
        self._documents[uri] = doc
        return doc

    def change(self, uri: str, changes: Sequence[TextChange], version: int) -> Document:
        doc = self.get(uri)
        doc.apply(changes, version)
        return doc

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def get(self, uri: str) -> Document:
        try:
            return self._documents[uri]
        except KeyError:
            raise UnknownDocument(f"document not open: {uri}") from None

    def documents(self) -> list[Document]:
        """Every open buffer."""
        return list(self._documents.values())

    def __contains__(self, uri: str) -> bool:
        return uri in self._documents

    def request_at(self, uri: str, position: Position) -> CompletionRequest:
        """Split the document at `position` (column clamped to the line) into a request."""
        doc = self.get(uri)
        offset = doc.offset_at(position)
        return CompletionRequest(
            uri=uri,
            language=doc.language,
            prefix=doc.text[:offset],
            suffix=doc.text[offset:],
            position=doc.position_at(offset),
            version=doc.version,
        )
