"""End-to-end fixtures: the real `pairline serve` over stdio, driven by pytest-lsp."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "pairline", "serve"]


def capabilities(*, progress: bool = True, inline: bool = True) -> types.ClientCapabilities:
    """What an editor with ghost-text support declares."""
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities() if inline else None,
            code_action=types.CodeActionClientCapabilities(),
            synchronization=types.TextDocumentSyncClientCapabilities(),
        ),
        window=types.WindowClientCapabilities(work_done_progress=progress),
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf16]
        ),
    )


# Tests see the model itself unless they opt in: a completion cache shared across tests
# (and runs) would answer from earlier tests. Nor do they add to the user's own usage stats.
DEFAULT_OPTIONS: dict[str, Any] = {"completion": {"cache": False, "recordStats": False}}


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


async def start(client: LanguageClient, options: Any = None, **caps: Any) -> types.InitializeResult:
    if options is None or isinstance(options, dict):
        options = merged(DEFAULT_OPTIONS, options or {})
    return await client.initialize_session(
        types.InitializeParams(capabilities=capabilities(**caps), initialization_options=options)
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    await start(lsp_client)
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bare_client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    """A client that has not initialized yet (the test chooses how)."""
    yield lsp_client
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


async def inline(
    client: LanguageClient, uri: str, line: int, character: int
) -> types.InlineCompletionList | list[types.InlineCompletionItem] | None:
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )


def items(result: Any) -> list[types.InlineCompletionItem]:
    if result is None:
        return []
    if isinstance(result, types.InlineCompletionList):
        return list(result.items)
    return list(result)
