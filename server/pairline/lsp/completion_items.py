"""`textDocument/completion`: the model's suggestion as a completion-menu item.

For editors and setups that show LSP suggestions only in a menu (Helix, Emacs, Sublime,
nvim-cmp / blink.cmp). Served from the same engine as inline completion. The item replaces the
word being typed with that word plus the suggestion, so the editor's fuzzy filter keeps it,
and the list is incomplete so every keystroke asks again.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from pairline.engine.core.types import EngineError, Position
from pairline.lsp.client import ClientFeatures
from pairline.lsp.convert import lsp_position, position
from pairline.lsp.server import PairlineServer
from pairline.lsp.usage import accept_command

TRIGGER_CHARACTERS = [".", "(", " "]
_LABEL_CHARS = 60
_WORD_TAIL = re.compile(r"[A-Za-z0-9_$]*$")
# A space is worth a request only after these (a keyword that expects an expression, or an
# operator); otherwise every space between words would start a generation.
_SPACE_AFTER = re.compile(
    r"(?:\b(?:return|yield|await|import|from|in|is|not|and|or|if|elif|while|for|with|as|"
    r"raise|assert|lambda|def|class|new|const|let|var|typeof|case|go|defer|fn|let|impl|use|"
    r"mut|match|throw|export|extends|implements)|[=+\-*/%<>!&|,:?])\s$"
)


def wants_items(client: ClientFeatures, mode: str) -> bool:
    """Serve completion items? "auto": only to clients that cannot show inline completions."""
    if mode in ("on", "off"):
        return mode == "on"
    return not client.inline_completion


def _documentation(client: ClientFeatures, language: str, text: str) -> types.MarkupContent | str:
    """The full suggestion in the richest format the client declares (a plain string if none)."""
    formats = client.documentation_formats
    if types.MarkupKind.Markdown in formats:
        return types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```{language}\n{text}\n```"
        )
    if types.MarkupKind.PlainText in formats:
        return types.MarkupContent(kind=types.MarkupKind.PlainText, value=text)
    return text


def label_for(text: str) -> str:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return first if len(first) <= _LABEL_CHARS else first[: _LABEL_CHARS - 1] + "…"


def setup(server: PairlineServer) -> None:
    """Register the handler (done during `initialize`, for the clients that want items)."""

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=False),
    )
    async def completion(
        ls: PairlineServer, params: types.CompletionParams
    ) -> types.CompletionList:
        empty = types.CompletionList(is_incomplete=True, items=[])
        try:
            request = ls.documents.request_at(params.text_document.uri, position(params.position))
        except EngineError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        context = params.context
        line_before = request.prefix.rsplit("\n", 1)[-1]
        if (
            context is not None
            and context.trigger_character == " "
            and not _SPACE_AFTER.search(line_before)
        ):
            return empty
        automatic = (
            context is not None and context.trigger_kind != types.CompletionTriggerKind.Invoked
        )
        request = replace(request, automatic=automatic)
        suggestion = await ls.engine.complete(request)
        if suggestion is None:
            return empty
        word = _WORD_TAIL.search(line_before)
        typed = word.group(0) if word else ""
        doc = ls.documents.get(request.uri)
        cursor = doc.offset_at(request.position)
        start = lsp_position(doc.position_at(cursor - len(typed)))
        end = lsp_position(Position(request.position.line, request.position.character))
        full = typed + suggestion.text
        language = request.language
        # Clients run a completion item's command after inserting it: that records the accept.
        command = accept_command(ls, request, suggestion, "menu")
        return types.CompletionList(
            is_incomplete=True,
            items=[
                types.CompletionItem(
                    label=label_for(full) or full.strip(),
                    kind=types.CompletionItemKind.Text,
                    detail=f"pairline · {suggestion.model}",
                    documentation=_documentation(ls.client, language, full),
                    sort_text="0",
                    filter_text=full,
                    insert_text_format=types.InsertTextFormat.PlainText,
                    text_edit=types.TextEdit(
                        range=types.Range(start=start, end=end), new_text=full
                    ),
                    command=command,
                )
            ],
        )
