"""Next edits over LSP: a rename in one line, then `textDocument/copilotInlineEdit` (and its
alias `pairline/nextEdit`) proposes the next occurrence; old versions, bad params and closed
documents; the accept command and the counters. Real server over stdio."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import open_doc, start

URI = "file:///tmp/pairline-e2e/nextedit.py"
TEXT = (
    "def total(items):\n"
    "    count = 0\n"
    "    for item in items:\n"
    "        count += item.price\n"
    "    label = 'count'\n"
    "    counter = 2\n"
    "    return count\n"
)


def as_dict(value: Any) -> Any:
    """The plain JSON of a result pygls hands back as named tuples."""
    if hasattr(value, "_asdict"):
        return {key: as_dict(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [as_dict(item) for item in value]
    return value


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    return as_dict(await asyncio.wrap_future(client.protocol.send_request(method, params)))


def params(uri: str, version: int | None, line: int, character: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri, "version": version},
        "position": {"line": line, "character": character},
    }


def replace(
    client: LanguageClient, version: int, start: tuple[int, int], end: tuple[int, int], text: str
) -> None:
    """Replace `start`..`end` (line, character) by `text`, as an editor's didChange says it."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


def rename_count(client: LanguageClient) -> None:
    """Open the file and rename `count` on line 1, as an editor sends it (version 2)."""
    open_doc(client, URI, TEXT)
    replace(client, 2, (1, 4), (1, 9), "total_count")


def check_first_edit(result: dict[str, Any]) -> dict[str, Any]:
    """The first edit renames `count` on line 3 (not the string, nor `counter`); it is returned."""
    edits = result["edits"]
    assert 1 <= len(edits) <= 3
    first = edits[0]
    assert first["text"] == "total_count"
    assert first["range"] == {
        "start": {"line": 3, "character": 8},
        "end": {"line": 3, "character": 13},
    }
    assert first["textDocument"] == {"uri": URI, "version": 2}
    assert first["command"]["command"] == "pairline.nextEditAccepted"
    for edit in edits:
        assert edit["range"]["start"]["line"] not in (4, 5)
    return dict(first)


async def test_a_rename_proposes_the_next_occurrence(bare_client: LanguageClient) -> None:
    result = await start(bare_client)
    assert result.capabilities.experimental == {"pairline": {"nextEdit": True}}
    provider = result.capabilities.execute_command_provider
    assert provider is not None and "pairline.nextEditAccepted" in provider.commands
    rename_count(bare_client)

    first = check_first_edit(
        await request(bare_client, "textDocument/copilotInlineEdit", params(URI, 2, 1, 15))
    )
    again = check_first_edit(await request(bare_client, "pairline/nextEdit", params(URI, 2, 1, 15)))
    assert again["command"]["arguments"] != first["command"]["arguments"]  # one id per answer

    # An answer for a version the client has moved past: nothing, never a stale edit.
    old = await request(bare_client, "textDocument/copilotInlineEdit", params(URI, 1, 1, 15))
    assert old == {"edits": []}

    # The client shows the edit, applies it, then runs its command.
    bare_client.protocol.notify("textDocument/didShowInlineEdit", {"item": first})
    low, high = first["range"]["start"], first["range"]["end"]
    at = (low["line"], low["character"]), (high["line"], high["character"])
    replace(bare_client, 3, *at, first["text"])
    command = first["command"]
    await bare_client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command["command"], arguments=command["arguments"])
    )
    # The rename goes on past the occurrence just applied.
    after = await request(bare_client, "pairline/nextEdit", params(URI, 3, 3, 8))
    assert after["edits"] and after["edits"][0]["textDocument"]["version"] == 3
    assert all(edit["range"]["start"]["line"] != 3 for edit in after["edits"])

    stats = await request(bare_client, "pairline/debug/stats", {})
    assert stats["nextedit_requests"] == 4
    assert stats["nextedit_stale"] == 1
    assert stats["nextedit_propagation"] == 3
    assert stats["nextedit_shown"] == 1 and stats["nextedit_accepted"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"position": {"line": 0, "character": 0}},
        {"textDocument": {"uri": URI}, "position": {"line": -1, "character": 0}},
        {"textDocument": {"uri": URI, "version": "two"}, "position": {"line": 0, "character": 0}},
        {"textDocument": {"uri": URI}, "position": {"line": 40, "character": 0}},
        params("file:///tmp/pairline-e2e/never-opened.py", 1, 0, 0),
    ],
    ids=["no-document", "negative-line", "string-version", "past-the-end", "not-open"],
)
async def test_bad_params_are_invalid_params(client: LanguageClient, bad: dict[str, Any]) -> None:
    open_doc(client, URI, TEXT)
    with pytest.raises(Exception) as caught:
        await request(client, "textDocument/copilotInlineEdit", bad)
    assert getattr(caught.value, "code", None) == types.ErrorCodes.InvalidParams
    # Still serving.
    assert await request(client, "pairline/nextEdit", params(URI, 1, 0, 0)) == {"edits": []}


async def test_a_closed_document_is_refused(client: LanguageClient) -> None:
    rename_count(client)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    with pytest.raises(Exception) as caught:
        await request(client, "pairline/nextEdit", params(URI, 2, 1, 15))
    assert getattr(caught.value, "code", None) == types.ErrorCodes.InvalidParams
    with pytest.raises(Exception) as caught:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="pairline.nextEditAccepted", arguments=[1, 2])
        )
    assert getattr(caught.value, "code", None) == types.ErrorCodes.InvalidParams


async def test_switched_off_by_settings(bare_client: LanguageClient) -> None:
    await start(bare_client, {"nextEdit": {"enable": False}})
    rename_count(bare_client)
    result = await request(bare_client, "textDocument/copilotInlineEdit", params(URI, 2, 1, 15))
    assert result == {"edits": []}


@pytest.mark.model
async def test_the_local_model_answers_where_propagation_cannot(
    bare_client: LanguageClient,
) -> None:
    await start(bare_client, {"nextEdit": {"model": "local", "minConfidence": 0.0}})
    open_doc(bare_client, URI, TEXT)
    # An inline completion waits for the model: from then on the model path can run.
    await bare_client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=6, character=len("    return count")),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    # `count + 1` has no other occurrence to carry the change to.
    replace(bare_client, 2, (3, 17), (3, 27), "item.price * item.quantity")
    result = await request(bare_client, "pairline/nextEdit", params(URI, 2, 3, 20))
    stats = await request(bare_client, "pairline/debug/stats", {})
    assert stats["nextedit_model_calls"] == 1 and stats.get("nextedit_propagation", 0) == 0
    lines = (await request(bare_client, "pairline/debug/document", {"uri": URI}))["text"]
    last_line = len(lines.splitlines())
    for edit in result["edits"]:  # at most the model's one small change, for this version
        assert edit["textDocument"] == {"uri": URI, "version": 2}
        assert 0 <= edit["range"]["start"]["line"] <= edit["range"]["end"]["line"] <= last_line
    assert len(result["edits"]) <= 1
    assert stats.get("nextedit_model", 0) == len(result["edits"])
