"""Completion prompts: fill-in-the-middle where the model has FIM tokens, plain prefix otherwise.

The prompt starts at a line chosen in steps of `_LINE_STEP`, so while the user types on the
same few lines the prompt's beginning stays byte-identical and llama.cpp reuses its KV cache;
the text right before the cursor comes last.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from pairline.engine.core.languages import comment_marker
from pairline.engine.core.types import CompletionRequest
from pairline.engine.models.manifest import FimTemplate

_LINE_STEP = 16
_STEPS = (_LINE_STEP, 4, 1)  # coarse first; finer only when the coarse window is under half
_CHARS_PER_TOKEN = 3  # a cautious estimate for code; the backend enforces the real limit
# How much of the code after the cursor candidates are ranked against: a few lines that say
# something (blank ones do not count), within a character cap that keeps scoring cheap.
_RERANK_SUFFIX_LINES = 3
_RERANK_SUFFIX_CHARS = 320


def file_name(uri: str) -> str:
    return PurePosixPath(unquote(urlparse(uri).path)).name or uri


def prefix_window(prefix: str, budget_tokens: int) -> str:
    """The tail of `prefix` that fits the budget, starting on a stable line boundary.

    The start moves in steps of `_LINE_STEP` lines, so typing does not move it; where a step
    is too coarse for the budget (a small budget, with a context block before the code, can
    be less than the step's lines) it moves in finer steps, so the window never shrinks to
    the cursor line while the budget has room for more.
    """
    budget_chars = budget_tokens * _CHARS_PER_TOKEN
    if len(prefix) <= budget_chars:
        return prefix
    lines = prefix.split("\n")
    cursor_line = len(lines) - 1
    # after[i]: the characters of lines[i:] joined (each line with its newline, less one).
    after = [0] * (len(lines) + 1)
    for i in range(cursor_line, -1, -1):
        after[i] = after[i + 1] + len(lines[i]) + 1
    start = cursor_line
    for step in _STEPS:
        start = 0
        while start < cursor_line and after[start] - 1 > budget_chars:
            start += step
        start = min(start, cursor_line)
        if after[start] - 1 >= budget_chars // 2:
            break
    window = "\n".join(lines[start:])
    return window[-budget_chars:] if len(window) > budget_chars else window


def suffix_window(suffix: str, lines: int) -> str:
    return "\n".join(suffix.split("\n")[: lines + 1])


def rerank_suffix(suffix: str) -> str:
    """The code after the cursor that candidates are ranked against ("" when there is none)."""
    head: list[str] = []
    telling = 0
    for line in suffix.split("\n"):
        head.append(line)
        telling += bool(line.strip())
        if telling >= _RERANK_SUFFIX_LINES:
            break
    return "\n".join(head)[:_RERANK_SUFFIX_CHARS] if telling else ""


def build_prompt(
    request: CompletionRequest,
    *,
    budget_tokens: int,
    suffix_lines: int,
    fim: FimTemplate | None,
    context_on_top: bool = False,
) -> str:
    """The model prompt for a completion at the request's cursor; `context_on_top`: the
    request's context block does not count against `budget_tokens`."""
    header = _file_header(request)
    if request.context:
        # Context first: it changes least, so the KV cache keeps it across keystrokes.
        header = request.context.rstrip("\n") + "\n" + header
    budget_tokens = _prefix_budget(request, budget_tokens, context_on_top)
    if fim is None:
        return header + prefix_window(request.prefix, budget_tokens)
    suffix = suffix_window(request.suffix, suffix_lines)
    prefix = header + prefix_window(request.prefix, budget_tokens - len(suffix) // 3)
    if fim.order == "spm":
        return f"{fim.suffix}{suffix}{fim.prefix}{prefix}{fim.middle}"
    return f"{fim.prefix}{prefix}{fim.suffix}{suffix}{fim.middle}"


def fim_parts(
    request: CompletionRequest,
    *,
    budget_tokens: int,
    suffix_lines: int,
    context_on_top: bool = False,
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The FIM prompt's pieces for a server that lays them out itself: the prefix (the file's
    header and the code before the cursor), the suffix, and the context as (path, text) chunks,
    each chunk's text as the prompt would have it."""
    suffix = suffix_window(request.suffix, suffix_lines)
    budget = _prefix_budget(request, budget_tokens, context_on_top) - len(suffix) // 3
    prefix = _file_header(request) + prefix_window(request.prefix, budget)
    return prefix, suffix, context_chunks(request.language, request.context)


def context_chunks(language: str, context: str) -> tuple[tuple[str, str], ...]:
    """The context block cut before each of its `Path:` headers, as (path, text) chunks."""
    marker = f"{comment_marker(language)} Path: "
    chunks: list[tuple[str, list[str]]] = []
    for line in context.splitlines(keepends=True):
        if line.startswith(marker) or not chunks:
            path = line[len(marker) :].strip() if line.startswith(marker) else ""
            chunks.append((path.removesuffix(" (recent edit)"), []))
        chunks[-1][1].append(line)
    return tuple((path, "".join(lines)) for path, lines in chunks)


def _file_header(request: CompletionRequest) -> str:
    return f"{comment_marker(request.language)} {file_name(request.uri)}\n"


def _prefix_budget(request: CompletionRequest, budget_tokens: int, context_on_top: bool) -> int:
    """Tokens left for the code before the cursor once the context has its share."""
    if not request.context or context_on_top:
        return budget_tokens
    return max(budget_tokens // 4, budget_tokens - len(request.context) // 3)
