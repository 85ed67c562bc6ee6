"""Builds the language server: creates `PairlineServer` and sets up every feature on it.

The lifecycle lives here: `initialize` reads what the client can do and the settings, and
registers the features that depend on them; `initialized` starts loading the model and
indexing the workspace; `shutdown` stops work and shuts every feature down.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from pairline.engine.context.paths import uri_to_path
from pairline.lsp import (
    check_diagnostics,
    code_actions,
    completion_items,
    debug,
    documents,
    inline_completion,
    nextedit,
    usage,
)
from pairline.lsp.client import ClientFeatures
from pairline.lsp.convert import encoding
from pairline.lsp.loading import ModelLoading
from pairline.lsp.server import PairlineServer
from pairline.lsp.settings import read_settings


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
    """A server with every feature set up."""
    server = PairlineServer()
    loading = server.add_feature(ModelLoading(server))
    sync = documents.setup(server)
    inline_completion.setup(server)
    code_actions.setup(server)
    check_diagnostics.setup(server)
    nextedit.setup(server)
    usage.setup(server)
    debug.setup(server)

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: PairlineServer, params: types.InitializeParams) -> None:
        ls.client = ClientFeatures.from_capabilities(params.capabilities)
        ls.documents.encoding = encoding(ls.workspace.position_encoding)
        ls.context.set_roots(workspace_roots(params))
        ls.apply_settings(read_settings(ls, params.initialization_options))
        # Capabilities are built from the features registered when this handler returns.
        if completion_items.wants_items(ls.client, ls.settings.completion.items):
            completion_items.setup(ls)

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: PairlineServer, _params: types.InitializedParams) -> None:
        loading.start()
        sync.initialized()

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: PairlineServer, _params: None) -> None:
        await ls.stop_features()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(
        ls: PairlineServer, params: types.DidChangeConfigurationParams
    ) -> None:
        data: Any = params.settings
        if data is None or data == {}:
            # Clients that use the pull model send an empty notification: ask for the section.
            if not ls.client.configuration_pull:
                return
            result = await ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="pairline")])
            )
            data = result[0] if result else None
        ls.apply_settings(read_settings(ls, data))

    return server
