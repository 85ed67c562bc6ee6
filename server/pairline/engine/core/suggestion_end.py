"""Where a suggestion ends: the rule that stops generation, as plain data.

The completion engine asks it after every generated token (to stop as soon as the suggestion is
complete) and once on the final text. Being data, not a closure over the engine's state, it
travels to the model host with the request, which then runs it itself instead of asking the
language server after every token: a round trip per token that made answers slower there, and
more of them late for the keystroke they were meant for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

OPEN = "([{"
CLOSE = ")]}"


@dataclass(frozen=True)
class SuggestionEnd:
    """A line suggestion ends at its first newline; a block one at its dedent, the brace that
    closes the cursor's block, or `max_lines` non-blank lines."""

    line: bool  # a line suggestion (`Mode.LINE`)
    line_before: str  # the cursor line up to the cursor
    block_indent: int  # a block: indentation of the opener line
    max_lines: int
    braces: bool  # the language's blocks are braces, not indentation

    def __call__(self, text: str) -> bool:
        """Whether `text` (the suggestion so far) is complete."""
        return self.cut(text)[1]

    def cut(self, text: str) -> tuple[str, bool]:
        """`text` cut where the suggestion ends, and whether it is complete."""
        if self.line:
            head, newline, _ = text.partition("\n")
            return head, bool(newline)
        return self._cut_block(text)

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_record(record: dict[str, Any]) -> SuggestionEnd:
        return SuggestionEnd(
            line=bool(record["line"]),
            line_before=str(record["line_before"]),
            block_indent=int(record["block_indent"]),
            max_lines=int(record["max_lines"]),
            braces=bool(record["braces"]),
        )

    def _cut_block(self, text: str) -> tuple[str, bool]:
        lines = text.split("\n")
        # The last line may still be growing; judge only finished lines unless the text is final.
        finished = lines[:-1]
        kept: list[str] = []
        depth = 0
        body_indent: int | None = None
        cursor_on_blank_line = not self.line_before.strip()
        for index, line in enumerate(finished):
            # Line 0 continues the cursor line: its indentation is what precedes the cursor
            # plus whatever indentation the model itself writes (the cursor may sit at column 0).
            indent = len(self.line_before) + indent_of(line) if index == 0 else indent_of(line)
            if line.strip():
                if index > 0 or cursor_on_blank_line:
                    if body_indent is None:
                        body_indent = indent
                        if indent <= self.block_indent:
                            return "\n".join(kept), True  # no body at all: nothing to offer
                    elif indent < body_indent and not self.braces:
                        return "\n".join(kept), True  # dedent: the block is over
                if self.braces:
                    depth += bracket_delta(line)
                    if depth < 0:
                        return "\n".join(kept), True  # closes the block the cursor is in
            kept.append(line)
            if sum(1 for k in kept if k.strip()) >= self.max_lines:
                return "\n".join(kept), True
        return "\n".join([*kept, lines[-1]]), False


def indent_of(line: str) -> int:
    """Columns of leading spaces and tabs (the engine's one measure of a line's indentation)."""
    return len(line) - len(line.lstrip(" \t"))


def bracket_delta(line: str) -> int:
    """Brackets opened minus brackets closed in `line`."""
    delta = 0
    for ch in line:
        if ch in OPEN:
            delta += 1
        elif ch in CLOSE:
            delta -= 1
    return delta
