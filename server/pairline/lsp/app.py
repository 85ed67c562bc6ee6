"""The language server: lifecycle, settings and model loading; features live in sibling modules."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from pairline import __version__
from pairline.engine import models
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.completion import CompletionEngine
from pairline.engine.config import Settings
from pairline.engine.context import ContextGatherer
from pairline.engine.context.gather import uri_to_path
from pairline.engine.types import EngineError
from pairline.engine.usage import UsageRecorder
from pairline.engine.workspace import Workspace
from pairline.lsp import (
    code_actions,
    completion_items,
    debug,
    documents,
    inline_completion,
    usage,
)
from pairline.lsp.convert import encoding
from pairline.lsp.progress import Progress, notify_status
from pairline.lsp.protocol import PairlineProtocol
from pairline.lsp.settings import read_settings

log = logging.getLogger(__name__)


class PairlineServer(LanguageServer):
    """pygls server holding the engine, the open buffers and the settings."""

    def __init__(self) -> None:
        super().__init__(
            "pairline",
            __version__,
            protocol_cls=PairlineProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self.documents = Workspace()
        self.engine = CompletionEngine(self.settings)
        self.context = ContextGatherer(self.documents)
        self.engine.context = self.context
        self.usage = UsageRecorder(lambda: self.settings)
        self._index_task: asyncio.Task[None] | None = None
        self._indexing = False  # set once initialized: roots are known from then on
        self._load_task: asyncio.Task[None] | None = None
        self.stopping = False

    def stop_work(self) -> None:
        """Stop loading and generating: the client asked to shut down or went away."""
        self.stopping = True
        if self._load_task is not None:
            self._load_task.cancel()
        self.engine.close()
        self.usage.close()

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings; reload the model only when its own settings changed."""
        reload = (
            settings.model != self.settings.model or settings.cache_dir != self.settings.cache_dir
        )
        self.settings = settings
        self.engine.settings = settings
        if reload and self._load_task is not None:
            self.start_loading()
        if self._indexing:
            self.refresh_index()

    def refresh_index(self) -> None:
        """(Re)build the workspace file index in a thread when roots, limits or ignores changed."""
        self._indexing = True
        config = self.settings.context
        if not (config.enable and config.imports) or not self.context.needs_index(config):
            return
        if self._index_task is not None and not self._index_task.done():
            return  # one walk at a time; the next event or settings change checks again
        self._index_task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self.context.ensure_index, config)
        )

    def files_changed(self, uris: list[str]) -> None:
        """Keep the index current after saves and watched-file events."""
        paths = [path for path in map(uri_to_path, uris) if path is not None]
        self.context.files_changed(paths)
        if self._indexing:
            self.refresh_index()

    def start_loading(self) -> None:
        """Load the configured model in the background (replacing a load in progress)."""
        if self._load_task is not None and not self._load_task.done():
            self._load_task.cancel()
        self.engine.reset()
        self._load_task = asyncio.get_running_loop().create_task(self._load_model())

    async def _load_model(self) -> None:
        name = self.settings.model.name
        progress = Progress(self, "pairline")
        await progress.begin(f"preparing model {name}")
        notify_status(self, "loading", f"loading {name}", name)
        loop = asyncio.get_running_loop()

        def on_stage(message: str) -> None:
            loop.call_soon_threadsafe(progress.report, message, 10)

        try:
            resolved = await asyncio.to_thread(
                models.resolve, name, self.settings.cache_path, on_stage
            )
            progress.report(f"loading {resolved.path.name}", 50)
            backend = LocalLlamaBackend(resolved, self.settings.model)
            await backend.load()
        except asyncio.CancelledError:
            if not self.stopping:
                progress.end("cancelled")
            raise
        except EngineError as exc:
            self.engine.fail(str(exc))
            progress.end(f"failed: {exc}")
            notify_status(self, "error", str(exc), name)
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"pairline: completions are off: {exc}",
                )
            )
            return
        self.engine.attach(backend)
        progress.end(f"{backend.name} ready")
        notify_status(self, "ready", f"{backend.name} ready", backend.name)

    def shutdown(self) -> None:
        self.stop_work()
        super().shutdown()  # type: ignore[no-untyped-call]


def workspace_roots(params: types.InitializeParams) -> list[str]:
    """The folders the editor opened: workspace folders, else rootUri, else rootPath."""
    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    roots = [path for path in map(uri_to_path, uris) if path is not None]
    if not roots and params.root_path:
        roots = [params.root_path]
    return roots


def create_server() -> PairlineServer:
    """A server with every feature registered."""
    server = PairlineServer()

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: PairlineServer, params: types.InitializeParams) -> None:
        ls.documents.encoding = encoding(ls.workspace.position_encoding)
        ls.context.set_roots(workspace_roots(params))
        ls.apply_settings(read_settings(ls, params.initialization_options))
        if not completion_items.wants_items(params.capabilities, ls.settings.completion.items):
            # Capabilities are built from the registered features right after this handler.
            ls.protocol.fm.features.pop(types.TEXT_DOCUMENT_COMPLETION, None)
            ls.protocol.fm.feature_options.pop(types.TEXT_DOCUMENT_COMPLETION, None)

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: PairlineServer, _params: types.InitializedParams) -> None:
        ls.start_loading()
        ls.refresh_index()
        documents.watch_files(ls)

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: PairlineServer, _params: None) -> None:
        ls.stop_work()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(
        ls: PairlineServer, params: types.DidChangeConfigurationParams
    ) -> None:
        data: Any = params.settings
        if data is None or data == {}:
            # Clients that use the pull model send an empty notification: ask for the section.
            workspace = ls.client_capabilities.workspace
            if workspace is None or not workspace.configuration:
                return
            result = await ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="pairline")])
            )
            data = result[0] if result else None
        ls.apply_settings(read_settings(ls, data))

    documents.register(server)
    inline_completion.register(server)
    completion_items.register(server)
    code_actions.register(server)
    usage.register(server)
    debug.register(server)
    return server
