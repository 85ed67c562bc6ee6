"""The user's recent edits elsewhere, as small before/after snippets for the context block.

What was just changed in another file or further away in this one often says what comes next
(a renamed parameter, a new field to fill in). The edits come from the one edit history the
workspace keeps (`Workspace.history`, also read by next-edit suggestions). An edit near the
cursor is left out: the prompt shows that code already, and it is the edit being typed, which
would change the context on every keystroke. So are lines merely added to this buffer (code
typed further up): the buffer itself shows them, and there is no "before" to learn from.
"""

from __future__ import annotations

from collections.abc import Callable

from pairline.engine.context.rank import EDIT, Snippet
from pairline.engine.nextedit.history import Edit, EditHistory

MAX_EDITS = 3  # edits shown
LOOKED_AT = 12  # latest edits considered (some are near the cursor)
NEAR_LINES = 20  # an edit of this buffer within this many lines of the cursor is left out
MAX_LINES = 6  # touched lines shown per side of an edit
MAX_CHARS = 600  # an edit larger than this (both sides) is left out: a paste, a reformat


def _lines(lines: tuple[str, ...]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return list(lines)
    return [*lines[:MAX_LINES], "..."]


def _changed(lines: tuple[str, ...]) -> bool:
    """Whether the edit replaced or deleted something (not only added lines)."""
    return bool("".join(lines).strip())


def snippet_text(edit: Edit) -> str:
    """`before:` then `after:` with the touched lines (either side may be empty)."""
    hunk = edit.hunk
    before = _lines(hunk.removed) or ["(nothing)"]
    after = _lines(hunk.added) or ["(nothing)"]
    return "\n".join(["before:", *before, "after:", *after])


def recent_snippets(
    history: EditHistory, uri: str, line: int, display: Callable[[str], str | None]
) -> list[Snippet]:
    """Snippets of the latest edits away from line `line` of `uri`, newest first.

    `display` gives the path a prompt shows for an edited document's uri, or None when the
    document must not appear (a secret, outside the roots).
    """
    found: list[Snippet] = []
    for edit in history.recent(LOOKED_AT):
        hunk = edit.hunk
        if edit.clipped or len(edit.removed) + len(edit.inserted) > MAX_CHARS:
            continue
        if not "".join(hunk.removed + hunk.added).strip():
            continue  # blank lines added or removed teach nothing
        touched = hunk.line + len(hunk.above)
        if edit.uri == uri and (abs(touched - line) <= NEAR_LINES or not _changed(hunk.removed)):
            continue  # near the cursor, or new lines of this buffer: the prompt shows them
        path = display(edit.uri)
        if path is None:
            continue
        # Newer edits claim the budget first; the layout orders by path and line.
        found.append(Snippet(path=path, line=touched, text=snippet_text(edit), tier=EDIT))
        if len(found) == MAX_EDITS:
            break
    return [
        Snippet(s.path, s.line, s.text, s.tier, score=float(MAX_EDITS - i))
        for i, s in enumerate(found)
    ]
