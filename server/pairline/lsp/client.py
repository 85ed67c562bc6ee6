"""What the editor can do, read once from its `initialize` capabilities.

Every feature asks this one frozen value instead of walking `ClientCapabilities`, whose
optional fields nest four deep: one place decides what "supports resolve" or "can show
progress" means.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types


@dataclass(frozen=True, kw_only=True)
class ClientFeatures:
    """The client capabilities pairline acts on."""

    inline_completion: bool = False
    completion_items: bool = False
    # Formats the client renders in a completion item's documentation, best first.
    documentation_formats: tuple[types.MarkupKind, ...] = ()
    snippets: bool = False
    work_done_progress: bool = False
    # The client asks `codeAction/resolve` for a listed action's edit; else it needs a command.
    code_action_resolve: bool = False
    position_encodings: tuple[str, ...] = ()
    # Versioned `documentChanges` in a WorkspaceEdit (else the plain `changes` map).
    document_changes: bool = False
    apply_edit: bool = False
    configuration_pull: bool = False
    watched_files_registration: bool = False

    @classmethod
    def from_capabilities(cls, capabilities: types.ClientCapabilities) -> ClientFeatures:
        text = capabilities.text_document
        completion = text.completion if text is not None else None
        item = completion.completion_item if completion is not None else None
        code_action = text.code_action if text is not None else None
        resolve = code_action.resolve_support if code_action is not None else None
        workspace = capabilities.workspace
        edit = workspace.workspace_edit if workspace is not None else None
        watched = workspace.did_change_watched_files if workspace is not None else None
        window = capabilities.window
        general = capabilities.general
        return cls(
            inline_completion=text is not None and text.inline_completion is not None,
            completion_items=completion is not None,
            documentation_formats=tuple(item.documentation_format or ()) if item else (),
            snippets=bool(item and item.snippet_support),
            work_done_progress=bool(window and window.work_done_progress),
            code_action_resolve=resolve is not None and "edit" in resolve.properties,
            position_encodings=tuple(
                str(getattr(kind, "value", kind))
                for kind in (general and general.position_encodings) or ()
            ),
            document_changes=bool(edit and edit.document_changes),
            apply_edit=bool(workspace and workspace.apply_edit),
            configuration_pull=bool(workspace and workspace.configuration),
            watched_files_registration=bool(watched and watched.dynamic_registration),
        )
