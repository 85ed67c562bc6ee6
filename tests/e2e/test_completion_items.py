"""Completion-menu items for clients without inline completion."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import open_doc, start

pytestmark = pytest.mark.model


def _apply(text: str, edit: types.TextEdit) -> str:
    lines = text.split("\n")
    start, end = edit.range.start, edit.range.end
    assert start.line == end.line
    line = lines[start.line]
    lines[start.line] = line[: start.character] + edit.new_text + line[end.character :]
    return "\n".join(lines)


async def _complete(
    client: LanguageClient, uri: str, line: int, character: int, trigger: str | None = None
) -> types.CompletionList:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.CompletionContext(
                trigger_kind=types.CompletionTriggerKind.TriggerCharacter
                if trigger
                else types.CompletionTriggerKind.Invoked,
                trigger_character=trigger,
            ),
        )
    )
    assert isinstance(result, types.CompletionList)
    return result


async def test_items_replace_the_word_and_apply_cleanly(bare_client: LanguageClient) -> None:
    result = await start(bare_client, inline=False)
    provider = result.capabilities.completion_provider
    assert provider is not None and "." in (provider.trigger_characters or [])
    uri = "file:///tmp/pairline-e2e/items.py"
    text = "import os\n\n\ndef home_dir():\n    return os.path.expandu"
    open_doc(bare_client, uri, text)
    line, character = 4, len("    return os.path.expandu")
    completions = await _complete(bare_client, uri, line, character)
    assert completions.is_incomplete
    assert len(completions.items) == 1
    item = completions.items[0]
    assert item.label.strip() and "\n" not in item.label
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.detail is not None and item.detail.startswith("pairline")
    edit = item.text_edit
    assert isinstance(edit, types.TextEdit)
    # The edit sits on the cursor line and ends at the cursor, starting at the typed word.
    assert edit.range.end == types.Position(line=line, character=character)
    assert edit.range.start == types.Position(line=line, character=character - len("expandu"))
    assert edit.new_text.startswith("expandu") and len(edit.new_text) > len("expandu")
    assert item.filter_text == edit.new_text
    # This client declares no documentation format: a plain string, never MarkupContent.
    assert item.documentation == edit.new_text
    applied = _apply(text, edit)
    suggestion = edit.new_text[len("expandu") :]
    assert applied == text + suggestion


async def test_space_triggers_only_after_a_keyword(bare_client: LanguageClient) -> None:
    await start(bare_client, inline=False)
    uri = "file:///tmp/pairline-e2e/space.py"
    open_doc(bare_client, uri, "def f(x):\n    y = x * 2\n    hello world ")
    plain = await _complete(bare_client, uri, 2, len("    hello world "), trigger=" ")
    assert list(plain.items) == []


async def test_not_advertised_to_inline_clients(client: LanguageClient) -> None:
    assert client.capabilities is not None
    # The fixture's client declares inline completion: the menu provider stays off.
    uri = "file:///tmp/pairline-e2e/none.py"
    open_doc(client, uri, "x = ")
    with pytest.raises(Exception) as caught:
        await _complete(client, uri, 0, 4)
    assert getattr(caught.value, "code", None) == types.ErrorCodes.MethodNotFound


async def test_forced_on_for_inline_clients(bare_client: LanguageClient) -> None:
    result = await start(bare_client, {"completion": {"items": "on"}})
    assert result.capabilities.completion_provider is not None
    assert result.capabilities.inline_completion_provider
