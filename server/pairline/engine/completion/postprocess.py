"""Turn raw model output into a suggestion worth showing.

The same `cut` runs on every streamed token (to stop generation as soon as the suggestion is
complete) and once on the final text, so what is shown never depends on where decoding stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from pairline.engine.core import languages
from pairline.engine.core.types import Mode

_OPEN = "([{"
_CLOSE = ")]}"


@dataclass(frozen=True)
class CursorContext:
    """What post-processing needs to know about the cursor."""

    mode: Mode
    language: str
    line_before: str  # the cursor line up to the cursor
    line_after: str  # the cursor line after the cursor
    block_indent: int  # BLOCK: indentation of the opener line
    max_lines: int = 8
    polish: bool = True  # False (`completion.postprocess` off): the line cut and nothing else

    @staticmethod
    def at(
        prefix: str,
        suffix: str,
        mode: Mode,
        language: str,
        max_lines: int = 8,
        polish: bool = True,
    ) -> CursorContext:
        line_before = prefix.rsplit("\n", 1)[-1]
        line_after = suffix.split("\n", 1)[0].rstrip("\r")
        opener = line_before
        if not line_before.strip():
            # Cursor on a blank line below the opener: measure the opener's indentation.
            for line in reversed(prefix.split("\n")[:-1]):
                if line.strip():
                    opener = line
                    break
        return CursorContext(
            mode=mode,
            language=language,
            line_before=line_before,
            line_after=line_after,
            block_indent=_indent(opener),
            max_lines=max_lines,
            polish=polish,
        )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def cut(text: str, ctx: CursorContext) -> tuple[str, bool]:
    """Cut `text` where the suggestion ends. Returns (kept text, whether it is complete)."""
    if ctx.mode is Mode.LINE:
        head, newline, _ = text.partition("\n")
        return head, bool(newline)
    return _cut_block(text, ctx)


def _cut_block(text: str, ctx: CursorContext) -> tuple[str, bool]:
    lines = text.split("\n")
    # The last line may still be growing; judge only finished lines unless the text is final.
    finished = lines[:-1]
    kept: list[str] = []
    depth = 0
    body_indent: int | None = None
    cursor_on_blank_line = not ctx.line_before.strip()
    entry = languages.find(ctx.language)
    braces = entry is not None and entry.blocks is languages.Blocks.BRACES
    for index, line in enumerate(finished):
        # Line 0 continues the cursor line: its indentation is what precedes the cursor plus
        # whatever indentation the model itself writes (the cursor may sit at column 0).
        indent = len(ctx.line_before) + _indent(line) if index == 0 else _indent(line)
        if line.strip():
            if index > 0 or cursor_on_blank_line:
                if body_indent is None:
                    body_indent = indent
                    if indent <= ctx.block_indent:
                        return "\n".join(kept), True  # no body at all: nothing to offer
                elif indent < body_indent and not braces:
                    return "\n".join(kept), True  # dedent: the block is over
            if braces:
                depth += _bracket_delta(line)
                if depth < 0:
                    return "\n".join(kept), True  # closes the block the cursor is in
        kept.append(line)
        if sum(1 for k in kept if k.strip()) >= ctx.max_lines:
            return "\n".join(kept), True
    return "\n".join([*kept, lines[-1]]), False


def _bracket_delta(line: str) -> int:
    delta = 0
    for ch in line:
        if ch in _OPEN:
            delta += 1
        elif ch in _CLOSE:
            delta -= 1
    return delta


def _trim_suffix_overlap(text: str, line_after: str) -> str:
    """Drop the end of `text` that the rest of the line already holds (e.g. closing brackets)."""
    after = line_after.strip()
    if not after:
        return text
    if after in text and text.endswith(after):
        return text[: len(text) - len(after)].rstrip() if text.rstrip() != after else ""
    for size in range(min(len(after), len(text)), 0, -1):
        if text.endswith(after[:size]):
            return text[: len(text) - size]
    return text


def _drop_unmatched_closers(text: str, line_before: str, line_after: str) -> str:
    """Drop closing brackets at the end of `text` that the line cannot match.

    The rest of the line usually closes what the cursor's line opened; a suggestion that closes
    it too would leave one bracket too many.
    """
    excess = -_bracket_delta(line_before + text + line_after)
    while excess > 0 and text and text[-1] in _CLOSE:
        text = text[:-1].rstrip()
        excess -= 1
    return text


def finish(text: str, ctx: CursorContext) -> str | None:
    """The suggestion to show for the raw model output `text`, or None when nothing helps."""
    text = text.replace("\r\n", "\n")
    if not ctx.polish:
        text = text.split("\n", 1)[0].rstrip()
        return text if text.strip() else None
    # The output is final: in a block every line counts as finished, the last one too.
    text, _ = cut(text + "\n" if ctx.mode is Mode.BLOCK else text, ctx)
    if ctx.line_before and ctx.line_before[-1] in " \t" and text[:1] in (" ", "\t"):
        # The model re-typed whitespace the user already typed (a token boundary effect).
        text = text.lstrip(" \t")
    if ctx.mode is Mode.LINE:
        text = _trim_suffix_overlap(text.rstrip(), ctx.line_after)
        text = _drop_unmatched_closers(text, ctx.line_before, ctx.line_after)
    else:
        lines = [line.rstrip() for line in text.split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        text = "\n".join(lines)
    if not text.strip():
        return None
    return text
