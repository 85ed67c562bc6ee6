"""Code actions: "Fix this", "Implement this function", "Add docstring".

`textDocument/codeAction` only parses the buffer and lists unresolved actions, so the menu
appears at once; the model work (generate → verify → revise, in `engine.actions.fix`) runs in
`codeAction/resolve`, reported with `$/progress` and stopped by `$/cancelRequest`. Clients that
cannot resolve an action's edit get the action with the command `pairline.applyAction`
instead: running it computes the same edit and sends it with `workspace/applyEdit`. The edit is
a minimal whole-line `WorkspaceEdit` tied to the document version the action was computed for:
a buffer that changed meanwhile gets ContentModified, never a stale edit.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.exceptions import JsonRpcContentModified, JsonRpcException, JsonRpcInvalidParams

from pairline.engine.actions import fix, session
from pairline.engine.actions import offers as action_offers
from pairline.engine.core.document import Document
from pairline.engine.core.types import EngineError
from pairline.lsp.client import ClientFeatures
from pairline.lsp.progress import Progress
from pairline.lsp.server import Feature, PairlineServer

log = logging.getLogger(__name__)

APPLY_ACTION = "pairline.applyAction"

_KINDS = {
    fix.FIX: types.CodeActionKind.QuickFix,
    fix.IMPLEMENT: types.CodeActionKind.RefactorRewrite,
    fix.DOCSTRING: types.CodeActionKind.RefactorRewrite,
}


class JsonRpcRequestFailed(JsonRpcException):
    """LSP RequestFailed: the request was valid but could not be carried out."""

    CODE = -32803
    MESSAGE = "Request failed"


def _before(a: types.Position, b: types.Position) -> bool:
    return (a.line, a.character) <= (b.line, b.character)


def intersects(a: types.Range, b: types.Range) -> bool:
    """Whether two ranges touch (a cursor on a diagnostic's edge counts)."""
    return _before(a.start, b.end) and _before(b.start, a.end)


def _describe(diagnostic: types.Diagnostic) -> str:
    source = f"{diagnostic.source}: " if diagnostic.source else ""
    code = f" [{diagnostic.code}]" if diagnostic.code is not None else ""
    text = f"line {diagnostic.range.start.line + 1}: {source}{diagnostic.message}{code}"
    # A failing test marked by pairline carries the failure's own text: the model needs it.
    data = diagnostic.data
    failure = data.get("failure") if isinstance(data, dict) else None
    if isinstance(failure, str) and failure.strip():
        text += " — " + " | ".join(ln.strip() for ln in failure.splitlines() if ln.strip())
    return text


def _kind_value(kind: str) -> str:
    # str() of an lsprotocol enum member is "CodeActionKind.QuickFix", not "quickfix".
    return str(kind.value) if isinstance(kind, enum.Enum) else str(kind)


def _wanted(only: list[str] | None, kind: str) -> bool:
    # `only` lists kinds or their parents ("refactor" covers "refactor.rewrite").
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _lines_of(doc: Document, selection: types.Range) -> tuple[int, int]:
    last = doc.line_count - 1
    start = min(max(selection.start.line, 0), last)
    end = min(max(selection.end.line, start), last)
    # A selection of whole lines ends at column 0 of the next line, which it does not touch.
    if end > start and selection.end.character == 0:
        end -= 1
    return start, end


def relative(uri: str, root: str | None) -> tuple[str, str | None]:
    """The file's name, and its path relative to the workspace root when it lies inside it."""
    path = uris.to_fs_path(uri)
    name = PurePath(path).name if path else uri.rsplit("/", 1)[-1]
    if not path or not root:
        return name, None
    try:
        return name, str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return name, None


def _position(doc: Document, line: int) -> types.Position:
    # Lines past the last line break mean the end of the text (a file without a final newline).
    if line < doc.line_count:
        return types.Position(line=line, character=0)
    end = doc.position_at(len(doc.text))
    return types.Position(line=end.line, character=end.character)


def workspace_edit(
    client: ClientFeatures, doc: Document, new_text: str, version: int
) -> types.WorkspaceEdit:
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        types.TextEdit(
            range=types.Range(start=_position(doc, e.start), end=_position(doc, e.end)),
            new_text=e.text,
        )
        for e in fix.line_edits(doc.text, new_text)
    ]
    if client.document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=doc.uri, version=version
                    ),
                    edits=edits,
                )
            ]
        )
    return types.WorkspaceEdit(
        changes={doc.uri: [e for e in edits if isinstance(e, types.TextEdit)]}
    )


def _data(data: object) -> dict[str, Any]:
    needed = {"uri": str, "version": int, "kind": str, "start": int, "end": int}
    if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in needed.items()):
        raise JsonRpcInvalidParams("this code action did not come from pairline")
    if data["kind"] not in fix.TITLES:
        raise JsonRpcInvalidParams(f"unknown pairline action {data['kind']!r}")
    return data


@dataclass(frozen=True)
class _Outcome:
    """What an action produced: an edit (None when no edit could be verified) and its label."""

    edit: types.WorkspaceEdit | None
    verified: bool
    rounds: int


class CodeActions(Feature):
    """Lists actions and makes their edits; owns the router and so the remote connections."""

    def __init__(self, server: PairlineServer) -> None:
        self._server = server
        self.router = fix.EditRouter(settings=lambda: server.settings, local=server.model)

    async def shutdown(self) -> None:
        await self.router.aclose()

    def offered(self, ls: PairlineServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        """The actions at a range: one parse, no model call."""
        try:
            doc = ls.documents.get(params.text_document.uri)
        except EngineError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        start, end = _lines_of(doc, params.range)
        diagnostics = [d for d in params.context.diagnostics if intersects(d.range, params.range)]
        selection = params.range.start != params.range.end
        offers = fix.offers(
            doc.language, doc.text, start, end, selection=selection, diagnostics=bool(diagnostics)
        )
        only = [_kind_value(k) for k in params.context.only] if params.context.only else None
        check = self._check(ls, doc) if offers else None
        trusted = ls.settings.actions.trusted
        actions = []
        for offer in offers:
            kind = _KINDS[offer.kind]
            if not _wanted(only, _kind_value(kind)):
                continue
            named = action_offers.title(offer.kind, check, trusted=trusted)
            title = f"pairline: {named} ({self.router.describe(offer.kind)})"
            data = {
                "uri": doc.uri,
                "version": doc.version,
                "kind": offer.kind,
                "start": offer.region.start,
                "end": offer.region.end,
                "function": offer.region.function,
                "diagnostics": [_describe(d) for d in diagnostics],
            }
            # A client that cannot resolve the edit runs this command instead.
            command = (
                None
                if ls.client.code_action_resolve
                else types.Command(title=title, command=APPLY_ACTION, arguments=[data])
            )
            actions.append(
                types.CodeAction(
                    title=title,
                    kind=kind,
                    diagnostics=diagnostics if offer.kind == fix.FIX and diagnostics else None,
                    data=data,
                    command=command,
                )
            )
        return actions

    @staticmethod
    def _check(ls: PairlineServer, doc: Document) -> str | None:
        """What would check an edit of `doc`: the configured or the project's test command."""
        try:
            root = ls.workspace.root_path
        except RuntimeError:  # not initialized yet: no workspace, so no project to ask
            return None
        _name, rel_path = relative(doc.uri, root)
        found = ls.checks.get(
            ls.settings.actions, Path(root) if root else None, rel_path, doc.language
        )
        return found.label if found is not None else None

    async def make_edit(self, ls: PairlineServer, data: dict[str, Any]) -> _Outcome:
        """Run the action described by `data` (from `offered`); LSP errors for every failure."""
        try:
            doc = ls.documents.get(data["uri"])
        except EngineError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        version = data["version"]
        if doc.version != version:
            raise JsonRpcContentModified(
                f"the document changed (version {doc.version}, the action was for {version})"
            )
        settings = ls.settings
        kind = data["kind"]
        name, rel_path = relative(doc.uri, ls.workspace.root_path)
        request = session.action_request(
            kind,
            language=doc.language,
            text=doc.text,
            region=fix.Region(data["start"], data["end"], str(data.get("function") or "")),
            settings=settings,
            diagnostics=tuple(str(d) for d in data.get("diagnostics") or ()),
            file_name=name,
            rel_path=rel_path,
        )
        title = fix.TITLES[kind]
        progress = Progress(ls, f"pairline: {title}", supported=ls.client.work_done_progress)
        cancel = threading.Event()
        root = Path(ls.workspace.root_path) if ls.workspace.root_path else None

        async def ready_local() -> None:
            if not await ls.model.wait_ready():
                raise EngineError(f"the local model is not available: {ls.model.error}")

        await progress.begin(self.router.describe(kind))
        try:
            result = await session.run_action(
                request,
                self.router,
                settings,
                root,
                ready_local=ready_local,
                cancel=cancel,
                progress=progress.report,
            )
        except asyncio.CancelledError:
            cancel.set()
            progress.end("cancelled")
            raise
        except EngineError as exc:
            progress.end(f"failed: {exc}")
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"pairline: {title} failed: {exc}"
                )
            )
            raise JsonRpcRequestFailed(f"{title} failed: {exc}") from None
        if doc.version != version or ls.documents.get(doc.uri) is not doc:
            progress.end("the document changed; edit dropped")
            raise JsonRpcContentModified("the document changed while the edit was being made")
        new_text, message = result.offered(settings.actions.offer_unverified)
        if new_text is None or not result.verified:
            # Nothing applied, or an unverified edit: the user is told why either way.
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"pairline: {title}: {message}"
                )
            )
        if new_text is None:
            progress.end(message.splitlines()[0])
            return _Outcome(None, False, result.rounds)
        label = "verified" if result.verified else "unverified"
        edits = f" and {result.edits_checked} small edit(s)" if result.edits_checked else ""
        progress.end(
            f"{label} after {result.generated} candidate(s){edits} in {result.rounds} round(s): "
            f"{result.message.splitlines()[0]}"
        )
        edit = workspace_edit(ls.client, doc, new_text, version)
        return _Outcome(edit, result.verified, result.rounds)


def setup(server: PairlineServer) -> CodeActions:
    actions = server.add_feature(CodeActions(server))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
            resolve_provider=True,
        ),
    )
    def code_actions(ls: PairlineServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return actions.offered(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: PairlineServer, action: types.CodeAction) -> types.CodeAction:
        data = _data(action.data)
        outcome = await actions.make_edit(ls, data)
        action.command = None  # resolved: the edit is the whole action, nothing to run after it
        if outcome.edit is None:
            title = fix.TITLES[data["kind"]]
            action.title = f"pairline: {title}: no verified edit ({outcome.rounds} rounds)"
            action.edit = None
            return action
        action.edit = outcome.edit
        if not outcome.verified:
            action.title = f"{action.title} [unverified]"
        return action

    @server.command(APPLY_ACTION)
    async def apply_action(ls: PairlineServer, *arguments: object) -> None:
        if len(arguments) != 1:
            raise JsonRpcInvalidParams(f"{APPLY_ACTION} expects [action data]")
        data = _data(arguments[0])
        outcome = await actions.make_edit(ls, data)
        if outcome.edit is None:
            return  # the user was told why
        label = fix.TITLES[data["kind"]] + ("" if outcome.verified else " [unverified]")
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=outcome.edit, label=f"pairline: {label}")
        )
        if not answer.applied:
            log.warning("the client did not apply %s: %s", label, answer.failure_reason)

    return actions
