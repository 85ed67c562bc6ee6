"""Where buffers live on disk: document URIs as real paths, looked up once each."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru
from pairline.engine.workspace import Workspace

MAX_PATHS = 4096


def uri_to_path(uri: str) -> str | None:
    """The real path of a `file:` URI (symlinks resolved); None for other schemes."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.realpath(unquote(parsed.path))


def uri_name(uri: str) -> str:
    """The last part of a URI's path: how a prompt names a buffer that is not a file."""
    return unquote(urlparse(uri).path).rsplit("/", 1)[-1] or uri


class BufferPaths:
    """uri → real path, remembered: realpath costs a syscall per part of the path."""

    def __init__(self, size: int = MAX_PATHS) -> None:
        self._real: Lru[str, str] = Lru(size)

    def of(self, uri: str) -> str | None:
        path = self._real.get(uri)
        if path is None:
            path = uri_to_path(uri)
            if path is not None:
                self._real.put(uri, path)
        return path

    def open_documents(self, workspace: Workspace) -> dict[str, Document]:
        """The open buffers of `workspace` that are files, by real path."""
        out: dict[str, Document] = {}
        for doc in workspace.documents():
            path = self.of(doc.uri)
            if path is not None:
                out[path] = doc
        return out

    def forget(self, uri: str) -> None:
        self._real.pop(uri)

    def clear(self) -> None:
        """Forget every path (a link may point elsewhere now)."""
        self._real.clear()
