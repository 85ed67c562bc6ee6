"""Bad input gets an answer (a result or an LSP error) and the server keeps serving."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, items, open_doc, start

pytestmark = pytest.mark.model

URI = "file:///tmp/pairline-e2e/bad.py"
TEXT = "import math\n\ndef area(r):\n    return math."


async def _raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send params exactly as given, bypassing the client's typed serialisation."""
    if method.startswith("pairline/"):
        return await asyncio.wrap_future(client.protocol.send_request(method, params))
    msg_id = f"raw-{uuid.uuid4()}"
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wrap_future(future)


async def _still_serving(client: LanguageClient) -> None:
    result = items(await inline(client, URI, 3, len("    return math.")))
    assert result and str(result[0].insert_text).strip()


async def test_position_past_end_of_document_is_refused(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    with pytest.raises(Exception) as caught:
        await inline(client, URI, 40, 0)
    assert getattr(caught.value, "code", None) == types.ErrorCodes.InvalidParams
    assert "past the end" in str(caught.value)
    await _still_serving(client)


async def test_unopened_document_is_refused(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    with pytest.raises(Exception) as caught:
        await inline(client, "file:///tmp/pairline-e2e/never-opened.py", 0, 0)
    assert getattr(caught.value, "code", None) == types.ErrorCodes.InvalidParams
    await _still_serving(client)


@pytest.mark.parametrize(
    "position",
    [{"line": -1, "character": 0}, {"line": "three", "character": 0}, {"character": 2}],
    ids=["negative-line", "string-line", "missing-line"],
)
async def test_malformed_params_are_answered(client: LanguageClient, position: Any) -> None:
    open_doc(client, URI, TEXT)
    params = {"textDocument": {"uri": URI}, "position": position, "context": {"triggerKind": 1}}
    with pytest.raises(Exception) as caught:
        await _raw_request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
    assert getattr(caught.value, "code", None) == types.ErrorCodes.InvalidParams
    await _still_serving(client)


async def test_out_of_range_change_is_rejected_whole(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                # A valid edit followed by an impossible one: neither may be applied.
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=0, character=0),
                        end=types.Position(line=0, character=0),
                    ),
                    text="# header\n",
                ),
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=99, character=0),
                        end=types.Position(line=99, character=3),
                    ),
                    text="x",
                ),
            ],
        )
    )
    doc = await _raw_request(client, "pairline/debug/document", {"uri": URI})
    assert doc.text == TEXT
    assert doc.version == 1
    assert any("rejected an edit" in m.message for m in client.log_messages)
    await _still_serving(client)


async def test_invalid_settings_warn_and_fall_back(bare_client: LanguageClient) -> None:
    await start(bare_client, {"model": {"nCtx": -5}, "completion": {"maxTokens": "many"}})
    await _still_serving_after_open(bare_client)
    warnings = [m.message for m in bare_client.messages if m.type == types.MessageType.Warning]
    assert any("model.n_ctx" in w for w in warnings), warnings
    assert any("completion" in w for w in warnings), warnings


async def test_missing_model_file_is_reported(bare_client: LanguageClient, tmp_path: Any) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model at all")
    await start(bare_client, {"model": {"name": str(broken)}})
    open_doc(bare_client, URI, TEXT)
    result = items(await inline(bare_client, URI, 3, len("    return math.")))
    assert result == []
    errors = [m.message for m in bare_client.messages if m.type == types.MessageType.Error]
    assert any("not a GGUF model file" in e for e in errors), errors


async def _still_serving_after_open(client: LanguageClient) -> None:
    open_doc(client, URI, TEXT)
    await _still_serving(client)
