"""Cache, typing-through and speculation over LSP, with the real model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, items, open_doc, start

pytestmark = pytest.mark.model

URI = "file:///tmp/pairline-e2e/cache.py"
TEXT = "import os\n\n\ndef config_path(name):\n    return os.path."
AT = (4, len("    return os.path."))


async def stats(client: LanguageClient) -> dict[str, Any]:
    result = await asyncio.wrap_future(client.protocol.send_request("pairline/debug/stats", {}))
    return {key: getattr(result, key) for key in result._fields}


def _type(client: LanguageClient, line: int, character: int, text: str, version: int) -> None:
    at = types.Position(line=line, character=character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text
                )
            ],
        )
    )


async def test_identical_request_after_reopen_is_served_from_disk_cache(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    await start(
        bare_client,
        {"cacheDir": str(tmp_path), "completion": {"cache": True, "speculative": False}},
    )
    open_doc(bare_client, URI, TEXT)
    first = items(await inline(bare_client, URI, *AT))
    assert first
    # Closing forgets what was shown, so only the cache can answer without the model.
    bare_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    open_doc(bare_client, URI, TEXT)
    second = items(await inline(bare_client, URI, *AT))
    assert [i.insert_text for i in second] == [i.insert_text for i in first]
    counters = await stats(bare_client)
    assert counters["generations"] == 1
    assert counters["cache_hits"] == 1


async def test_typing_through_a_shown_suggestion(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    shown = items(await inline(client, URI, *AT))
    assert shown
    text = str(shown[0].insert_text)
    if len(text) < 2:
        pytest.skip(f"the model suggested a single character ({text!r}): nothing to type through")
    _type(client, AT[0], AT[1], text[0], version=2)
    rest = items(await inline(client, URI, AT[0], AT[1] + 1))
    assert [i.insert_text for i in rest] == [text[1:]]
    counters = await stats(client)
    assert counters["typing_through"] == 1
    assert counters["generations"] == 1


async def test_keystroke_cancels_speculation(bare_client: LanguageClient, tmp_path: Path) -> None:
    await start(bare_client, {"cacheDir": str(tmp_path), "completion": {"cache": True}})
    uri = "file:///tmp/pairline-e2e/speculate.py"
    open_doc(bare_client, uri, "def fibonacci(n):\n")
    assert items(await inline(bare_client, uri, 0, len("def fibonacci(n):")))
    # The suggestion was shown; speculation for "as if accepted" now runs. Type instead.
    at = types.Position(line=1, character=0)
    bare_client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text="#"
                )
            ],
        )
    )
    counters = await stats(bare_client)
    assert counters["speculations"] == 1
    # The next request is answered, and the speculation ended cancelled.
    await inline(bare_client, uri, 1, 1)
    counters = await stats(bare_client)
    assert counters["speculations_cancelled"] == 1
