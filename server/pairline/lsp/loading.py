"""Loading the local model in the background, reported with `$/progress` and `pairline/status`.

Requests for the model wait until the load ends either way: `model.attach` on success, and
`model.fail` on any failure at all, so no request is ever left waiting for a model that will
not come.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from pairline.engine.backends.host_backend import HostBackend, HostEvent
from pairline.engine.core.config import Settings
from pairline.engine.core.types import EngineError
from pairline.engine.models import loading
from pairline.lsp.progress import Progress, notify_status
from pairline.lsp.server import Feature, PairlineServer

log = logging.getLogger(__name__)


class ModelLoading(Feature):
    """Loads the configured model once the client is initialized, and again when it changes."""

    def __init__(self, server: PairlineServer) -> None:
        self._server = server
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Load the configured model in the background (replacing a load in progress)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._server.model.reset()
        self._task = self._server.run_task(self._load(), "load model")

    def settings_changed(self, old: Settings) -> None:
        new = self._server.settings
        if self._task is not None and (new.model != old.model or new.cache_dir != old.cache_dir):
            self.start()

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _load(self) -> None:
        ls = self._server
        settings = ls.settings
        name = settings.model.name
        progress = Progress(ls, "pairline", supported=ls.client.work_done_progress)
        loop = asyncio.get_running_loop()

        def on_stage(message: str, percent: int) -> None:
            # Stages are reported from the thread that finds the file, too.
            loop.call_soon_threadsafe(progress.report, message, percent)

        try:
            await progress.begin(f"preparing model {name}")
            notify_status(ls, "loading", f"loading {name}", name)
            level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
            backend = await loading.load_served(settings, on_stage, str(level))
        except asyncio.CancelledError:
            if not ls.stopping:
                progress.end("cancelled")
            raise
        except Exception as exc:
            # load_local turns every failure into EngineError; anything else is a bug here,
            # and still must not leave completion requests waiting.
            message = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
            self._failed(progress, name, message)
            return
        if isinstance(backend, HostBackend):
            backend.subscribe(lambda event: self._host_event(backend.name, event))
        ls.model.attach(backend)
        progress.end(f"{backend.name} ready")
        notify_status(ls, "ready", f"{backend.name} ready", backend.name)

    def _host_event(self, name: str, event: HostEvent) -> None:
        """The model's process crashed, came back, or will not: the status bar says which,
        and the user is told once per crash (a restart needs no message)."""
        ls = self._server
        if ls.stopping:
            return
        state = {"crashed": "loading", "ready": "ready", "off": "error"}[event.state]
        notify_status(ls, state, event.message, name)
        if event.state == "ready":
            return
        severity = types.MessageType.Error if event.state == "off" else types.MessageType.Warning
        ls.window_show_message(
            types.ShowMessageParams(type=severity, message=f"pairline: {event.message}")
        )

    def _failed(self, progress: Progress, name: str, message: str) -> None:
        ls = self._server
        log.error("cannot serve completions: %s", message)
        ls.model.fail(message)
        progress.end(f"failed: {message}")
        notify_status(ls, "error", message, name)
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"pairline: completions are off: {message}",
            )
        )
