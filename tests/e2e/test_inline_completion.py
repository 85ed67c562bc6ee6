"""Inline completions from the real embedded model, over stdio, as an editor asks for them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, items, open_doc, start

pytestmark = pytest.mark.model

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample.py"


async def test_initialize_advertises_features(bare_client: LanguageClient) -> None:
    result = await start(bare_client)
    caps = result.capabilities
    assert caps.inline_completion_provider
    assert caps.code_action_provider
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert result.server_info is not None and result.server_info.name == "pairline"


async def test_completion_from_real_model(client: LanguageClient) -> None:
    uri = SAMPLE.as_uri()
    text = SAMPLE.read_text()
    open_doc(client, uri, text)
    lines = text.split("\n")
    line = next(i for i, line in enumerate(lines) if line == "    return ")
    result = items(await inline(client, uri, line, len(lines[line])))
    assert len(result) == 1
    item = result[0]
    assert isinstance(item.insert_text, str) and item.insert_text.strip()
    here = types.Position(line=line, character=len(lines[line]))
    assert item.range == types.Range(start=here, end=here)


async def test_block_completion_after_def(client: LanguageClient) -> None:
    uri = "file:///tmp/pairline-e2e/fib.py"
    open_doc(client, uri, "def fibonacci(n):\n")
    result = items(await inline(client, uri, 0, len("def fibonacci(n):")))
    assert result, "expected a body for an empty function"
    body = str(result[0].insert_text)
    assert body.startswith("\n"), body
    assert all(line.startswith("    ") for line in body.split("\n")[1:] if line.strip()), body


async def test_range_counts_utf16_units(client: LanguageClient) -> None:
    uri = "file:///tmp/pairline-e2e/emoji.py"
    line = 'faces = ["😀", "😎"]  # two astral characters: 4 UTF-16 units'
    open_doc(client, uri, line + "\nprint(")
    # Past the end of line 0: clamped to its length in UTF-16 units, not code points.
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=500),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    utf16_length = len(line.encode("utf-16-le")) // 2
    assert utf16_length == len(line) + 2
    for item in items(result):
        assert item.range is not None
        assert item.range.start == types.Position(line=0, character=utf16_length)
    # A real completion after an emoji on the cursor line keeps the client's own units.
    open_doc(client, uri, 'label = "😀" + str(')
    result = items(await inline(client, uri, 0, len('label = "😀" + str(') + 1))
    for item in result:
        assert item.range is not None
        assert item.range.start.character == len('label = "😀" + str(') + 1


async def test_incremental_changes_reach_the_prompt(client: LanguageClient) -> None:
    uri = "file:///tmp/pairline-e2e/inc.py"
    open_doc(client, uri, "import os\n\n")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=2, character=0),
                        end=types.Position(line=2, character=0),
                    ),
                    text="def list_dir(path):\n    return os.",
                ),
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=0, character=7),
                        end=types.Position(line=0, character=9),
                    ),
                    text="os, sys",
                ),
            ],
        )
    )
    doc = await client.protocol.send_request_async("pairline/debug/document", {"uri": uri})
    assert doc.text == "import os, sys\n\ndef list_dir(path):\n    return os."
    assert doc.version == 2
    await inline(client, uri, 3, len("    return os."))
    prompt = (await client.protocol.send_request_async("pairline/debug/lastPrompt", {})).prompt
    assert prompt.endswith("import os, sys\n\ndef list_dir(path):\n    return os.")


async def test_progress_reported_while_model_loads(bare_client: LanguageClient) -> None:
    await start(bare_client, progress=True)
    uri = "file:///tmp/pairline-e2e/p.py"
    open_doc(bare_client, uri, "x = 1\ny = ")
    await inline(bare_client, uri, 1, 4)  # answered only once the model is loaded
    kinds = [
        type(value).__name__
        for reports in bare_client.progress_reports.values()
        for value in reports
    ]
    assert kinds[0] == "WorkDoneProgressBegin"
    assert kinds[-1] == "WorkDoneProgressEnd"


async def test_cancel_request_answers_request_cancelled(client: LanguageClient) -> None:
    uri = "file:///tmp/pairline-e2e/cancel.py"
    open_doc(client, uri, "class Matrix:\n")
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=0, character=len("class Matrix:")),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
    )
    # send_request writes at once (the async variant of pytest-lsp defers the write).
    future = asyncio.wrap_future(
        client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me"
        )
    )
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    with pytest.raises(Exception) as caught:
        await future
    assert getattr(caught.value, "code", None) == types.LSPErrorCodes.RequestCancelled


async def test_superseded_request_stops_and_newer_one_answers(client: LanguageClient) -> None:
    uri = "file:///tmp/pairline-e2e/supersede.py"
    open_doc(client, uri, "def parse_arguments(argv):\n\n\nimport sys\nargs = ")
    order: list[str] = []

    async def ask(name: str, line: int, character: int) -> list[types.InlineCompletionItem]:
        try:
            result = items(await inline(client, uri, line, character))
        finally:
            order.append(name)
        return result

    older = asyncio.create_task(ask("older", 0, len("def parse_arguments(argv):")))
    await asyncio.sleep(0)  # the older request is sent first
    newer = asyncio.create_task(ask("newer", 4, len("args = ")))
    old_outcome, new_outcome = await asyncio.gather(older, newer, return_exceptions=True)
    # The older generation was stopped, not finished: it answers first, as cancelled (out
    # of date), not as an empty list (which would mean "nothing to add here").
    assert order == ["older", "newer"]
    assert getattr(old_outcome, "code", None) == types.LSPErrorCodes.RequestCancelled
    assert isinstance(new_outcome, list)
    assert new_outcome and str(new_outcome[0].insert_text).strip()


async def _stats(client: LanguageClient) -> dict[str, float]:
    found = await asyncio.wrap_future(client.protocol.send_request("pairline/debug/stats", {}))
    values = {key: getattr(found, key) for key in found._fields}
    return {key: value for key, value in values.items() if isinstance(value, int | float)}


async def test_a_suggestion_typed_into_is_shown_without_asking_again(
    client: LanguageClient,
) -> None:
    text = "def area(width, height):\n    return "
    column = len("    return ")
    # What the model writes here, learned in a document of its own.
    learned_uri = "file:///tmp/pairline-e2e/learn/area.py"
    open_doc(client, learned_uri, text)
    learned = items(await inline(client, learned_uri, 1, column))
    assert learned and str(learned[0].insert_text).strip()
    suggestion = str(learned[0].insert_text)
    # The same code in another document: its request is cancelled by the editor for a
    # keystroke that types the suggestion's first character.
    uri = "file:///tmp/pairline-e2e/typed/area.py"
    open_doc(client, uri, text)
    before = await _stats(client)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=1, character=column),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
    )
    future = asyncio.wrap_future(
        client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="typed-into"
        )
    )
    while (await _stats(client)).get("generations", 0) == before.get("generations", 0):
        await asyncio.sleep(0.01)  # the model is at work on it
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="typed-into"))
    at = types.Position(line=1, character=column)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=suggestion[0]
                )
            ],
        )
    )
    with pytest.raises(Exception) as caught:
        await future
    assert getattr(caught.value, "code", None) == types.LSPErrorCodes.RequestCancelled
    typed_on = items(await inline(client, uri, 1, column + 1))
    assert typed_on and str(typed_on[0].insert_text) == suggestion[1:]
    after = await _stats(client)
    # The cancelled generation ran on and served the request after the keystroke.
    assert after["generations"] - before.get("generations", 0) == 1
    assert after["typing_through"] - before.get("typing_through", 0) == 1
