"""Which model gives suggestions: the local one, or the model server `completion_remote` names.

With `completion.backend = "remote"` the engine asks a `ServerCompletionBackend`, made when it
is first needed and made anew when `completion_remote` changes (settings apply to the next
request); the local model is not asked for suggestions then. The language server sets
`on_status` to tell the user when the model server stops answering, and when it is back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pairline.engine.core.config import Settings

if TYPE_CHECKING:
    # Imported when first needed: the HTTP client weighs several MB in a server that most
    # users run with the local model only.
    from pairline.engine.backends.completion_server import (
        ServerCompletionBackend,
        StatusCallback,
    )


class ServerChoice:
    """The model server in use for suggestions, while the settings name one."""

    def __init__(self) -> None:
        self.backend: ServerCompletionBackend | None = None
        self.on_status: StatusCallback | None = None

    def current(self, settings: Settings) -> ServerCompletionBackend | None:
        """The model server to ask, or None when suggestions come from the local model."""
        if settings.completion.backend != "remote":
            self.close()
            return None
        config = settings.completion_remote
        if self.backend is None or self.backend.config != config:
            from pairline.engine.backends.completion_server import ServerCompletionBackend

            self.close()
            self.backend = ServerCompletionBackend(config, self._status)
        return self.backend

    def _status(self, state: str, message: str) -> None:
        if self.on_status is not None:
            self.on_status(state, message)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None
