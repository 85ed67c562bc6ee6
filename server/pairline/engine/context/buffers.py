"""Windows of other open buffers that look like the code around the cursor.

As with Copilot's neighbouring tabs: each buffer is cut into overlapping windows of lines, a
window's score is the Jaccard similarity of its identifier set to the identifiers around the
cursor, and the best window of each buffer competes with the others. A window that is nearly
the cursor's own text (a duplicated file, a split view of the same code) teaches the model
nothing and is dropped. `BufferWindows` cuts each buffer version once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pairline.engine.context.rank import BUFFER, Snippet
from pairline.engine.core.document import Document
from pairline.engine.core.lru import Lru

WINDOW_LINES = 20  # two blocks of WINDOW_STEP lines: `windows` relies on it
WINDOW_STEP = 10
CURSOR_LINES = 20  # lines above the cursor that describe "what is being written"
MIN_SCORE = 0.1
NEAR_COPY = 0.8  # at or above this similarity a window is the cursor's own text again
MAX_SNIPPETS = 4  # windows in one context, from as many buffers
MAX_BUFFERS = 256  # buffers whose windows are kept

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Keywords carry no signal about what the code is about.
_KEYWORDS = """
    and as assert async await break case catch class const continue def default defer del do
    elif else enum except export extends false finally fn for from func function go if impl
    import in interface is let lambda loop match mod mut new nil none not null of or package
    pass pub raise return select self static struct super switch this throw true try type
    typeof use var void where while with yield
"""
STOP_WORDS = frozenset(_KEYWORDS.split())


def identifiers(text: str) -> frozenset[str]:
    # Each distinct word filtered once: a file repeats most of its words many times.
    return frozenset(
        w for w in set(_IDENT.findall(text)) if len(w) > 1 and w.lower() not in STOP_WORDS
    )


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@dataclass(frozen=True)
class Window:
    """Lines [start, end) of a buffer."""

    start: int
    end: int
    text: str
    ids: frozenset[str]


def windows(text: str) -> list[Window]:
    """Overlapping windows of a buffer (computed once per buffer version by the caller).

    A window is two consecutive blocks of `WINDOW_STEP` lines, so each block is scanned once
    and the words of the whole text are filtered once (files of thousands of lines are cut on
    the request path when retrieval picks them).
    """
    lines = text.split("\n")
    kept = identifiers(text)
    blocks = [
        kept.intersection(_IDENT.findall("\n".join(lines[at : at + WINDOW_STEP])))
        for at in range(0, len(lines), WINDOW_STEP)
    ]
    out: list[Window] = []
    start = 0
    while True:
        end = min(len(lines), start + WINDOW_LINES)
        chunk = "\n".join(lines[start:end]).rstrip()
        if chunk.strip():
            first = start // WINDOW_STEP
            ids = frozenset(blocks[first].union(*blocks[first + 1 : first + 2]))
            out.append(Window(start, end, chunk, ids))
        if end >= len(lines):
            break
        start += WINDOW_STEP
    return out


def cursor_identifiers(prefix: str) -> frozenset[str]:
    """Identifiers of the lines above the cursor line.

    The line being typed is left out on purpose: it changes with every keystroke, and the
    ranking (hence the prompt's leading context) should not.
    """
    lines = prefix.split("\n")[:-1]
    return identifiers("\n".join(lines[-CURSOR_LINES:]))


@dataclass(frozen=True)
class Match:
    window: Window
    score: float


def best_window(candidates: list[Window], cursor_ids: frozenset[str]) -> Match | None:
    """The most similar window of one buffer that is not a near-copy of the cursor's text."""
    best: Match | None = None
    for window in candidates:
        score = jaccard(window.ids, cursor_ids)
        if score >= NEAR_COPY or score < MIN_SCORE:
            continue
        if best is None or score > best.score:
            best = Match(window, score)
    return best


class BufferWindows:
    """The windows of open buffers, cut once per buffer version; thread-safe."""

    def __init__(self, size: int = MAX_BUFFERS) -> None:
        self._held: Lru[str, tuple[int, list[Window]]] = Lru(size)

    def of(self, doc: Document) -> list[Window]:
        version, text = doc.version, doc.text
        cached = self._held.get(doc.uri)
        if cached is not None and cached[0] == version:
            return cached[1]
        found = windows(text)
        if doc.version == version and doc.text is text:  # not changed meanwhile (warm-up)
            self._held.put(doc.uri, (version, found))
        return found

    def forget(self, uri: str) -> None:
        self._held.pop(uri)

    def snippets(self, prefix: str, others: list[tuple[Document, str]]) -> list[Snippet]:
        """The best windows for a cursor after `prefix`, one per buffer, best first.

        `others` pairs each candidate buffer with the path a prompt shows for it.
        """
        cursor_ids = cursor_identifiers(prefix)
        if not cursor_ids:
            return []
        matches: list[Snippet] = []
        for doc, path in others:
            match = best_window(self.of(doc), cursor_ids)
            if match is not None:
                matches.append(
                    Snippet(
                        path=path,
                        line=match.window.start,
                        text=match.window.text,
                        tier=BUFFER,
                        score=round(match.score, 6),
                    )
                )
        matches.sort(key=lambda s: (-s.score, s.path))
        return matches[:MAX_SNIPPETS]
