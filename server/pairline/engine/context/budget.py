"""Fill a token budget with ranked snippets and lay them out as comments.

Token costs come from the caller's counter (the model's own tokenizer in the server), counted
per piece: a file's header once, then each snippet. The layout is independent of the ranking:
buffer windows first, then import outlines, then retrieved windows, then recent edits, each
group by path and line. So the context text changes only when the set of chosen snippets
changes, not when scores shift a little, and the model's KV cache keeps the whole block across
keystrokes; what changes most often (retrieval follows the lines above the cursor, edits follow
the user) sits last, so a change there keeps the head of the prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from pairline.engine.context.rank import Snippet
from pairline.engine.core.languages import comment_marker

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """A cautious stand-in for a tokenizer (code runs about 3 characters a token)."""
    return (len(text) + 2) // 3


# Layout order of the snippet kinds (`Snippet.source`).
_GROUPS = {"buffer": 0, "import": 1, "retrieved": 2, "edit": 3}


def header(language: str, path: str, source: str = "") -> str:
    note = " (recent edit)" if source == "edit" else ""
    return f"{comment_marker(language)} Path: {path}{note}\n"


def _group(snippet: Snippet) -> tuple[int, str]:
    return _GROUPS[snippet.source], snippet.path


def commented(language: str, text: str) -> str:
    """`text` as line comments of `language`, one comment per line."""
    mark = comment_marker(language)
    return "".join(f"{mark} {line}".rstrip() + "\n" for line in text.rstrip("\n").split("\n"))


def pieces(language: str, snippets: Iterable[Snippet]) -> list[str]:
    """Every text the budget needs counted for these snippets."""
    out: list[str] = []
    for snippet in snippets:
        out.append(header(language, snippet.path, snippet.source))
        out.append(commented(language, snippet.text))
    return out


def select(
    ranked: list[Snippet], language: str, budget: int, count: TokenCounter
) -> tuple[list[Snippet], int]:
    """The snippets that fit `budget` tokens, taken in rank order; also the tokens used.

    A snippet too big for what is left is skipped, not truncated: a smaller one further down
    may still fit, and half a signature misleads more than it helps.
    """
    chosen: list[Snippet] = []
    paths: set[tuple[int, str]] = set()
    used = 0
    for snippet in ranked:
        group = _group(snippet)
        cost = count(commented(language, snippet.text))
        if group not in paths:
            cost += count(header(language, snippet.path, snippet.source))
        if used + cost > budget:
            continue
        chosen.append(snippet)
        paths.add(group)
        used += cost
    return chosen, used


def layout(language: str, chosen: list[Snippet]) -> str:
    """The context block: one header per file, snippets under it in file order."""
    ordered = sorted(chosen, key=lambda s: (_group(s), s.line, s.name))
    parts: list[str] = []
    current: tuple[int, str] | None = None
    for snippet in ordered:
        group = _group(snippet)
        if group != current:
            parts.append(header(language, snippet.path, snippet.source))
            current = group
        parts.append(commented(language, snippet.text))
    return "".join(parts)


def fingerprint(text: str) -> str:
    """A short stable digest of the context text, for cache keys."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
