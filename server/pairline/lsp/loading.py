"""Loading the local model in the background, reported with `$/progress` and `pairline/status`.

Requests for the model wait until the load ends either way: `model.attach` on success, and
`model.fail` on any failure at all, so no request is ever left waiting for a model that will
not come. When no feature would run it (suggestions from a model server, code actions from a
remote, next edits without a model or from the remote) it is not loaded at all: the editor's
machine then needs neither the memory nor the start-up time of a model.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from pairline.engine.actions.router import EditRouter
from pairline.engine.backends.host_backend import HostBackend, HostEvent
from pairline.engine.core.config import ACTION_KINDS, Settings
from pairline.engine.core.types import EngineError
from pairline.engine.models import loading
from pairline.lsp.model_pull import load_or_offer
from pairline.lsp.progress import Progress, notify_status
from pairline.lsp.server import Feature, PairlineServer

log = logging.getLogger(__name__)


def local_model_wanted(settings: Settings) -> bool:
    """Whether any feature would run the local model with these settings."""
    if settings.completion.backend == "local":
        return True
    if settings.next_edit.enable and settings.next_edit.model == "local":
        return True
    router = EditRouter(lambda: settings, lambda: None)
    return any(router.choice(kind) == "local" for kind in ACTION_KINDS)


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
        changed = new.model != old.model or new.cache_dir != old.cache_dir
        changed = changed or local_model_wanted(new) != local_model_wanted(old)
        if self._task is not None and changed:
            self.start()

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _load(self) -> None:
        ls = self._server
        settings = ls.settings
        name = settings.model.name
        if not local_model_wanted(settings):
            from pairline.engine.backends.http import host_of  # the HTTP client only when used

            remote = settings.completion_remote
            ls.model.fail("not loaded: every feature is set to use a model server")
            notify_status(ls, "ready", f"suggestions from {host_of(remote.base_url)}", remote.model)
            return
        progress = Progress(ls, "pairline", supported=ls.client.work_done_progress)
        loop = asyncio.get_running_loop()

        def on_stage(message: str, percent: int) -> None:
            # Stages are reported from the thread that finds the file, too.
            loop.call_soon_threadsafe(progress.report, message, percent)

        try:
            await progress.begin(f"preparing model {name}")
            notify_status(ls, "loading", f"loading {name}", name)
            level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
            backend = await load_or_offer(
                ls, lambda: loading.load_served(settings, on_stage, str(level))
            )
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
