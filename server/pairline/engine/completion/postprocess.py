"""Turn raw model output into a suggestion worth showing.

The same `cut` runs on every streamed token (to stop generation as soon as the suggestion is
complete) and once on the final text, so what is shown never depends on where decoding stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from pairline.engine.core import languages
from pairline.engine.core.suggestion_end import CLOSE, SuggestionEnd, bracket_delta, indent_of
from pairline.engine.core.types import Mode


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
            block_indent=indent_of(opener),
            max_lines=max_lines,
            polish=polish,
        )

    def end(self) -> SuggestionEnd:
        """The rule that ends a suggestion at this cursor."""
        entry = languages.find(self.language)
        return SuggestionEnd(
            line=self.mode is Mode.LINE,
            line_before=self.line_before,
            block_indent=self.block_indent,
            max_lines=self.max_lines,
            braces=entry is not None and entry.blocks is languages.Blocks.BRACES,
        )


def cut(text: str, ctx: CursorContext) -> tuple[str, bool]:
    """Cut `text` where the suggestion ends. Returns (kept text, whether it is complete)."""
    return ctx.end().cut(text)


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
    excess = -bracket_delta(line_before + text + line_after)
    while excess > 0 and text and text[-1] in CLOSE:
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
