"""Which model answers a code action: the remote one when configured, else the local one.

The router keeps the remote backend while its settings stay the same, so its HTTP connections
are reused, and closes it when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pairline.engine.backends.base import Backend
from pairline.engine.backends.edit import EditBackend, LocalEditBackend
from pairline.engine.core.config import RemoteConfig, Settings
from pairline.engine.core.types import EngineError


@dataclass
class EditRouter:
    """Chooses the model for each action: remote when configured, else the local one.

    `actions.backend` can force "remote" or "local" per action.
    """

    settings: Callable[[], Settings]
    # The local backend when loaded: the server's `LocalModel`, or any stand-in for it.
    local: Callable[[], Backend | None]
    _remote: EditBackend | None = field(default=None, init=False)
    _remote_config: RemoteConfig | None = field(default=None, init=False)

    def choice(self, kind: str) -> str:
        """ "remote" or "local": where `kind` would run now."""
        settings = self.settings()
        wanted = settings.actions.backend_for(kind)
        if wanted == "local":
            return "local"
        if wanted == "remote" or settings.remote.base_url:
            return "remote"
        return "local"

    def describe(self, kind: str) -> str:
        """Shown in the action title, so the user sees what leaves the machine."""
        settings = self.settings()
        if self.choice(kind) == "remote":
            remote = settings.remote
            if not remote.base_url:
                return "remote: not configured"
            from pairline.engine.backends.http import host_of

            return f"remote: {remote.model or host_of(remote.base_url)}"
        backend = self.local()
        return f"local: {backend.name if backend is not None else settings.model.name}"

    def backend(self, kind: str) -> EditBackend:
        settings = self.settings()
        if self.choice(kind) == "local":
            local = self.local()
            if local is None:
                raise EngineError("the local model is not loaded")
            return LocalEditBackend(local, settings.actions.local_max_tokens)
        if not settings.remote.base_url:
            raise EngineError(
                f'actions.backend asks for a remote model for "{kind}" but remote.base_url is empty'
            )
        if self._remote is None or self._remote_config != settings.remote:
            self._remote = make_remote(settings.remote)
            self._remote_config = settings.remote
        return self._remote

    async def aclose(self) -> None:
        if self._remote is not None:
            await self._remote.aclose()
        self._remote = None
        self._remote_config = None


def make_remote(config: RemoteConfig) -> EditBackend:
    """The backend for `remote.api`."""
    if config.api == "anthropic":
        from pairline.engine.backends.anthropic import AnthropicBackend

        return AnthropicBackend(config)
    from pairline.engine.backends.openai_compat import OpenAICompatBackend

    return OpenAICompatBackend(config)
