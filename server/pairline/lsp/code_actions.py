"""`textDocument/codeAction`: the provider is advertised; actions arrive with the fix loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from pairline.lsp.app import PairlineServer


def register(server: PairlineServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
            resolve_provider=True,
        ),
    )
    def code_actions(ls: PairlineServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        # No model-backed edit is offered yet: an empty list, never a placeholder action.
        return []
