"""The LSP layer's lifecycle: client features, background tasks, and a model load that fails."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from lsprotocol import types

from pairline.engine.core.config import load_settings
from pairline.engine.models import loading as model_loading
from pairline.lsp import loading
from pairline.lsp.app import create_server
from pairline.lsp.client import ClientFeatures
from pairline.lsp.code_actions import APPLY_ACTION, CodeActions
from pairline.lsp.server import PairlineServer


def test_client_features_from_nothing_declared() -> None:
    features = ClientFeatures.from_capabilities(types.ClientCapabilities())
    assert features == ClientFeatures()
    assert not features.code_action_resolve and not features.work_done_progress


def test_client_features_read_once_from_capabilities() -> None:
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities(),
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(
                    snippet_support=True, documentation_format=[types.MarkupKind.Markdown]
                )
            ),
            code_action=types.CodeActionClientCapabilities(
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"])
            ),
        ),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            configuration=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            ),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
        ),
    )
    assert ClientFeatures.from_capabilities(capabilities) == ClientFeatures(
        inline_completion=True,
        completion_items=True,
        documentation_formats=(types.MarkupKind.Markdown,),
        snippets=True,
        work_done_progress=True,
        code_action_resolve=True,
        position_encodings=("utf-8", "utf-16"),
        document_changes=True,
        apply_edit=True,
        configuration_pull=True,
        watched_files_registration=True,
    )


def test_resolve_without_the_edit_property_is_no_resolve() -> None:
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                resolve_support=types.ClientCodeActionResolveOptions(properties=["title"])
            )
        )
    )
    assert not ClientFeatures.from_capabilities(capabilities).code_action_resolve


async def test_run_task_logs_a_failure_and_lets_go(caplog: pytest.LogCaptureFixture) -> None:
    server = PairlineServer()

    async def broken() -> None:
        raise ValueError("index walk failed")

    async def waits() -> None:
        await asyncio.Event().wait()

    failing = server.run_task(broken(), "walk")
    cancelled = server.run_task(waits(), "wait")
    await asyncio.sleep(0)
    cancelled.cancel()
    with caplog.at_level(logging.ERROR, logger="pairline.lsp.server"):
        await asyncio.gather(failing, cancelled, return_exceptions=True)
        await asyncio.sleep(0)
    assert [r.getMessage() for r in caplog.records] == [
        "background task walk failed: index walk failed"
    ]
    assert not server._tasks


class Recorder:
    def __init__(self, server: PairlineServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.notifications: list[tuple[str, Any]] = []
        self.messages: list[types.ShowMessageParams] = []
        monkeypatch.setattr(
            server.protocol,
            "notify",
            lambda method, params=None: self.notifications.append((method, params)),
        )
        monkeypatch.setattr(server, "window_show_message", self.messages.append)


async def test_any_load_failure_fails_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    server = create_server()
    seen = Recorder(server, monkeypatch)

    async def crash(settings: Any, on_stage: Any = None, log_level: Any = None) -> Any:
        raise RuntimeError("loader bug")  # not an EngineError: the loader's wrapping was bypassed

    monkeypatch.setattr(model_loading, "load_served", crash)
    (loader,) = [f for f in server.features if isinstance(f, loading.ModelLoading)]
    loader.start()
    assert await asyncio.wait_for(server.engine.wait_ready(), 60) is False
    assert server.engine.error == "RuntimeError: loader bug"
    assert (
        "pairline/status",
        {
            "state": "error",
            "message": "RuntimeError: loader bug",
            "model": server.settings.model.name,
        },
    ) in seen.notifications
    (shown,) = seen.messages
    assert shown.type == types.MessageType.Error and "loader bug" in shown.message


async def test_shutdown_closes_every_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    server = create_server()
    stopped: list[str] = []
    for feature in server.features:

        async def shutdown(name: str = type(feature).__name__) -> None:
            stopped.append(name)

        monkeypatch.setattr(feature, "shutdown", shutdown)
    await server.stop_features()
    assert server.stopping
    assert sorted(stopped) == sorted(type(f).__name__ for f in server.features)
    assert "CodeActions" in stopped


async def test_code_actions_close_the_remote_on_shutdown() -> None:
    server = create_server()
    server.apply_settings(load_settings({"remote": {"baseUrl": "http://127.0.0.1:9/v1"}})[0])
    (actions,) = [f for f in server.features if isinstance(f, CodeActions)]
    remote = actions.router.backend("fix")
    closed: list[bool] = []
    original = remote.aclose

    async def aclose() -> None:
        closed.append(True)
        await original()

    remote.aclose = aclose  # type: ignore[method-assign]
    await server.stop_features()
    assert closed == [True]


@pytest.mark.parametrize("resolve", [True, False])
def test_actions_carry_a_command_only_for_clients_without_resolve(resolve: bool) -> None:
    server = create_server()
    server.client = ClientFeatures(code_action_resolve=resolve)
    uri = "file:///tmp/calc.py"
    server.documents.open(uri, "def area(r):\n    pass\n", language="python", version=3)
    (actions,) = [f for f in server.features if isinstance(f, CodeActions)]
    at = types.Position(line=0, character=5)
    listed = actions.offered(
        server,
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        ),
    )
    assert listed and all(a.edit is None for a in listed)
    for action in listed:
        if resolve:
            assert action.command is None
        else:
            assert action.command is not None and action.command.command == APPLY_ACTION
            assert action.command.arguments == [action.data]
