"""Code actions over LSP, with a real `python -m llama_cpp.server` on loopback as the remote.

The remote serves SmolLM2-135M-Instruct (it has a chat template) through
`/v1/chat/completions`. The server process is started once per session on a free port and
killed at the end, whatever happens.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, open_doc

pytestmark = pytest.mark.model

BUGGY = '''def add_numbers(a, b):
    """Return the sum of a and b."""
    return a - b


def area(r):
    pass
'''
URI = "file:///tmp/pairline-e2e-actions/calc.py"


@pytest.fixture(scope="session")
def llama_server(chat_server: str) -> str:
    return chat_server


def capabilities(*, resolve: bool = True) -> types.ClientCapabilities:
    """An editor that resolves code actions lazily (or runs their command) and applies
    versioned edits."""
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor]
                    )
                ),
                resolve_support=(
                    types.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None
                ),
                data_support=True,
            ),
            synchronization=types.TextDocumentSyncClientCapabilities(),
        ),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
    )


def remote_options(llama_server: str) -> dict[str, Any]:
    return {"remote": {"baseUrl": llama_server, "maxTokens": 256}, "actions": {"rounds": 2}}


async def initialize(
    client: LanguageClient, options: dict[str, Any], *, resolve: bool = True
) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(resolve=resolve), initialization_options=options
        )
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, llama_server: str) -> AsyncIterator[LanguageClient]:
    await initialize(lsp_client, remote_options(llama_server))
    yield lsp_client
    await lsp_client.shutdown_session()


def read_code_actions_as_editors_do(client: LanguageClient) -> None:
    """Tell a code action from a bare Command by the type of its `command` field.

    lsprotocol reads every entry with a `command` key as a Command, which turns a CodeAction
    carrying a command into a Command whose name is the text of a dict; editors check whether
    `command` is a string.
    """
    converter = client.protocol._converter

    def hook(data: Any, _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(data.get("command"), str) else types.CodeAction
        return converter.structure(data, kind)

    converter.register_structure_hook(types.Command | types.CodeAction, hook)


@pytest.fixture
def applied_edits() -> list[types.WorkspaceEdit]:
    """The edits the server asked `command_client` to apply, in order."""
    return []


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def command_client(
    lsp_client: LanguageClient, llama_server: str, applied_edits: list[types.WorkspaceEdit]
) -> AsyncIterator[LanguageClient]:
    """A client without `codeAction/resolve`: it runs an action's command and applies the
    edits the server sends with `workspace/applyEdit`."""
    read_code_actions_as_editors_do(lsp_client)

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied_edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    await initialize(lsp_client, remote_options(llama_server), resolve=False)
    yield lsp_client
    await lsp_client.shutdown_session()


def diagnostic(line: int, message: str) -> types.Diagnostic:
    end = len(BUGGY.split("\n")[line])
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=line, character=4),
            end=types.Position(line=line, character=end),
        ),
        message=message,
        source="tests",
    )


async def actions_at(
    client: LanguageClient, line: int, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(
                start=types.Position(line=line, character=6),
                end=types.Position(line=line, character=6),
            ),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert result is not None
    return [a for a in result if isinstance(a, types.CodeAction)]


def offset(text: str, pos: types.Position) -> int:
    lines = text.split("\n")
    return sum(len(ln) + 1 for ln in lines[: pos.line]) + pos.character


def apply(text: str, edit: types.WorkspaceEdit, version: int) -> str:
    """Apply a WorkspaceEdit as an editor does, refusing one for another version."""
    assert edit.document_changes, "expected versioned documentChanges"
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == URI
    assert change.text_document.version == version
    spans = sorted(
        (
            (offset(text, e.range.start), offset(text, e.range.end), e.new_text)
            for e in change.edits
        ),
        reverse=True,
    )
    for i in range(1, len(spans)):
        assert spans[i][1] <= spans[i - 1][0], "edits overlap"
    for start, end, new in spans:
        assert 0 <= start <= end <= len(text)
        text = text[:start] + new + text[end:]
    return text


async def test_fix_this_from_remote_model(client: LanguageClient) -> None:
    open_doc(client, URI, BUGGY)
    diag = diagnostic(2, "add_numbers(2, 3) returns -1, expected 5")
    actions = await actions_at(client, 2, [diag])
    (fix,) = [a for a in actions if "Fix this" in a.title]
    assert fix.kind == types.CodeActionKind.QuickFix
    assert "(remote: http://127.0.0.1:" in fix.title  # where the code goes is visible
    assert fix.edit is None and fix.data  # the list is computed without the model
    assert fix.command is None  # this client resolves the edit
    assert list(fix.diagnostics or []) == [diag]

    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None, resolved.title
    new_text = apply(BUGGY, resolved.edit, version=1)
    assert new_text != BUGGY
    ast.parse(new_text)  # verified: it parses
    # Minimal: the unrelated function is untouched.
    assert new_text.endswith("def area(r):\n    pass\n")


async def test_fix_this_without_resolve_support_runs_a_command(
    command_client: LanguageClient, applied_edits: list[types.WorkspaceEdit]
) -> None:
    client = command_client
    open_doc(client, URI, BUGGY)
    diag = diagnostic(2, "add_numbers(2, 3) returns -1, expected 5")
    actions = await actions_at(client, 2, [diag])
    (fix,) = [a for a in actions if "Fix this" in a.title]
    assert fix.edit is None  # the list is computed without the model
    assert fix.command is not None and fix.command.command == "pairline.applyAction"

    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=fix.command.command, arguments=fix.command.arguments)
    )
    (edit,) = applied_edits
    new_text = apply(BUGGY, edit, version=1)
    assert new_text != BUGGY
    ast.parse(new_text)  # verified: it parses
    assert new_text.endswith("def area(r):\n    pass\n")


async def test_implement_this_function(client: LanguageClient) -> None:
    open_doc(client, URI, BUGGY)
    actions = await actions_at(client, 6, [])
    titles = [a.title for a in actions]
    assert any("Implement this function" in t for t in titles), titles
    assert any("Add docstring" in t for t in titles), titles
    implement = next(a for a in actions if "Implement" in a.title)
    assert implement.kind == types.CodeActionKind.RefactorRewrite
    resolved = await client.code_action_resolve_async(implement)
    assert resolved.edit is not None, resolved.title
    new_text = apply(BUGGY, resolved.edit, version=1)
    ast.parse(new_text)
    assert new_text.startswith(BUGGY.split("def area")[0])
    assert "    pass\n" not in new_text.split("def area")[1]


async def test_stale_document_is_refused(client: LanguageClient) -> None:
    open_doc(client, URI, BUGGY)
    actions = await actions_at(client, 2, [diagnostic(2, "wrong result")])
    fix = next(a for a in actions if "Fix this" in a.title)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY + "\n# x\n")],
        )
    )
    with pytest.raises(JsonRpcException) as err:
        await client.code_action_resolve_async(fix)
    assert err.value.code == -32801  # ContentModified
    # Still serving.
    assert await actions_at(client, 2, [diagnostic(2, "wrong result")])


async def test_no_actions_without_reason(client: LanguageClient) -> None:
    open_doc(client, URI, BUGGY)
    assert await actions_at(client, 2, []) == []
    only = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(
                start=types.Position(line=6, character=0), end=types.Position(line=6, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]),
        )
    )
    assert not only  # Implement/Add docstring are refactorings, filtered out by `only`


async def test_only_keeps_the_kinds_asked_for(client: LanguageClient) -> None:
    open_doc(client, URI, BUGGY)

    async def titles(line: int, only: list[str], diagnostics: list[types.Diagnostic]) -> list[str]:
        at = types.Position(line=line, character=6)
        found = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                range=types.Range(start=at, end=at),
                context=types.CodeActionContext(diagnostics=diagnostics, only=only),
            )
        )
        return [a.title for a in found or [] if isinstance(a, types.CodeAction)]

    fixes = await titles(2, ["quickfix"], [diagnostic(2, "wrong result")])
    assert fixes and all("Fix this" in t for t in fixes)
    # "refactor" is the parent of the refactor.rewrite kind of "Implement this function".
    assert any("Implement" in t for t in await titles(6, ["refactor"], []))
