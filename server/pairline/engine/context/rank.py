"""Context candidates and the order in which they claim the token budget.

Priority tiers, as the budget should be spent: symbols imported by the current file and used
near the cursor, then windows retrieved from the workspace (behind the other imports they
would almost never fit), then the file's other imported symbols, then the user's recent edits
elsewhere, then windows of other open buffers. Within a tier a higher score goes first; ties
fall back to path and line so the order never depends on dict or set iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

NEAR_USE = 0  # an imported symbol used within a few lines of the cursor
IMPORTED = 1  # any other imported symbol the file refers to
EDIT = 2  # a recent edit elsewhere, as before/after lines
BUFFER = 3  # a window of another open buffer
RETRIEVED = 4  # a window of a workspace file (or of this buffer after the cursor)

# The order in which tiers claim the budget (the tier numbers are only names).
_PRIORITY = {NEAR_USE: 0, RETRIEVED: 1, IMPORTED: 2, EDIT: 3, BUFFER: 4}

# What each tier is, for the layout's groups and for debugging output.
_SOURCES = {NEAR_USE: "import", IMPORTED: "import", EDIT: "edit", BUFFER: "buffer"}


@dataclass(frozen=True)
class Snippet:
    """One piece of context: a symbol outline or a buffer window, not yet commented out."""

    path: str  # as shown in the prompt: relative to its workspace root
    line: int  # zero-based line where it starts in its file (orders snippets of one file)
    text: str
    tier: int
    score: float = 0.0
    name: str = ""  # the symbol, for outlines

    @property
    def source(self) -> str:
        return _SOURCES.get(self.tier, "retrieved")


def rank(snippets: list[Snippet]) -> list[Snippet]:
    """Candidates in the order they claim the budget."""
    return sorted(snippets, key=lambda s: (_PRIORITY[s.tier], -s.score, s.path, s.line, s.name))
