"""The incremental analysis of a buffer: its imports and identifier counts, edit by edit.

A request reads the buffer without the cursor line (so typing on one line reuses the result).
A new text is analysed from the previous one: tree-sitter reparses only the edit, and
identifier counts are updated from the changed lines alone (the patterns never cross a newline,
so the counts of the other lines cannot change).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import tree_sitter

from pairline.engine.context.imports import ImportRef, extract_imports
from pairline.engine.core import syntax
from pairline.engine.core.lru import Lru
from pairline.engine.core.types import CompletionRequest

K = TypeVar("K")
S = TypeVar("S", str, bytes)

ATTRIBUTE = re.compile(r"\b([A-Za-z_]\w*)(?:\.|::)([A-Za-z_]\w*)")
IDENT = re.compile(r"[A-Za-z_]\w*")

MAX_TEXTS = 32  # analysed request texts (the cursor line left out), over all buffers
MAX_BUFFERS = 32  # buffers whose last parse is kept as the base for their next edit


@dataclass
class Analysis:
    """The current buffer, read once per text (cursor line excluded); never changed after."""

    text: str
    lines: list[str]
    imports: list[ImportRef]
    counts: Counter[str]
    attributes: Counter[tuple[str, str]]
    # `ns.attr` uses per dotted namespace (`import a.b` → uses of `a.b.x`), filled on demand;
    # the one exception to "never changed": entries are only added, each final when added.
    dotted: dict[str, Counter[str]] = field(default_factory=dict)
    # Where `dotted` entries may be derived from: an analysis of another text, and the lines
    # that differ (its, ours).
    parent: Analysis | None = None
    delta: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Parsed:
    """The last analysed text of a buffer with its tree: the base for the next edit."""

    language: str
    data: bytes
    tree: tree_sitter.Tree
    analysis: Analysis


def without_cursor_line(request: CompletionRequest) -> tuple[str, int]:
    """The buffer text minus the line being typed, and that line's number."""
    head = request.prefix[: request.prefix.rfind("\n") + 1]
    newline = request.suffix.find("\n")
    tail = request.suffix[newline + 1 :] if newline >= 0 else ""
    return head + tail, head.count("\n")


def common_prefix(a: S, b: S) -> int:
    """Length of the common prefix, by bisection on slice equality (memcmp speed)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(data: bytes, offset: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def reparse(
    language: str, old: bytes, previous: tree_sitter.Tree, new: bytes, *, cooperative: bool
) -> tree_sitter.Tree | None:
    """Parse `new` reusing `previous` (the parse of `old`) through one tree-sitter edit.

    The edit goes to a copy: the previous tree may be in use on the other thread.
    """
    if old == new:
        return previous
    start = common_prefix(old, new)
    tail = common_prefix(old[start:][::-1], new[start:][::-1])
    old_end, new_end = len(old) - tail, len(new) - tail
    tree = previous.copy()
    tree.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old, start),
        old_end_point=_point(old, old_end),
        new_end_point=_point(new, new_end),
    )
    return syntax.parse(language, new, tree, cooperative=cooperative)


def changed_lines(old: str, new: str) -> tuple[str, str]:
    """The whole lines that differ between `old` and `new`: (old lines, new lines).

    Both texts are equal before the first of these lines and after the last.
    """
    start = common_prefix(old, new)
    tail = common_prefix(old[start:][::-1], new[start:][::-1])
    line_start = old.rfind("\n", 0, start) + 1
    old_end = old.find("\n", len(old) - tail)
    new_end = new.find("\n", len(new) - tail)
    return (
        old[line_start : old_end if old_end >= 0 else len(old)],
        new[line_start : new_end if new_end >= 0 else len(new)],
    )


def recount(counts: Counter[K], removed: Iterable[K], added: Iterable[K]) -> Counter[K]:
    """`counts` less `removed` plus `added`, without entries that fell to zero."""
    out = counts.copy()
    for item in removed:
        out[item] -= 1
    for item in added:
        out[item] += 1
    for item in [k for k, v in out.items() if v <= 0]:
        del out[item]
    return out


def dotted_pattern(namespace: str) -> re.Pattern[str]:
    return re.compile(re.escape(namespace) + r"\.([A-Za-z_]\w*)")


def analyse(text: str, imports: list[ImportRef]) -> Analysis:
    """The analysis of `text` read whole."""
    return Analysis(
        text=text,
        lines=text.split("\n"),
        imports=imports,
        counts=Counter(IDENT.findall(text)),
        attributes=Counter(ATTRIBUTE.findall(text)),
    )


def dotted(analysis: Analysis, namespace: str) -> Counter[str]:
    """Uses of `namespace.attr` in the analysed text, by attr (memoised on the analysis)."""
    found = analysis.dotted.get(namespace)
    if found is None:
        pattern = dotted_pattern(namespace)
        if analysis.parent is not None:
            removed, added = analysis.delta
            found = recount(
                dotted(analysis.parent, namespace),
                pattern.findall(removed),
                pattern.findall(added),
            )
        else:
            found = Counter(pattern.findall(analysis.text))
        analysis.dotted[namespace] = found
    return found


def advance(old: Analysis, text: str, imports: list[ImportRef], *, lazy: bool = False) -> Analysis:
    """The analysis of `text` from that of a previous text, reading only the changed lines.

    Every pattern counted here matches within one line, so the counts of a text are the sum
    of its lines' counts, and only the changed lines need reading again. `lazy`: derive dotted
    namespace uses from `old` when asked (for a text with the cursor line left out, whose
    `old` is the whole buffer: this keeps chains one link long).
    """
    removed, added = changed_lines(old.text, text)
    if lazy:
        return Analysis(
            text=text,
            lines=text.split("\n"),
            imports=imports,
            counts=recount(old.counts, IDENT.findall(removed), IDENT.findall(added)),
            attributes=recount(
                old.attributes, ATTRIBUTE.findall(removed), ATTRIBUTE.findall(added)
            ),
            parent=old,
            delta=(removed, added),
        )
    return Analysis(
        text=text,
        lines=text.split("\n"),
        imports=imports,
        counts=recount(old.counts, IDENT.findall(removed), IDENT.findall(added)),
        attributes=recount(old.attributes, ATTRIBUTE.findall(removed), ATTRIBUTE.findall(added)),
        dotted={
            namespace: recount(
                counts,
                dotted_pattern(namespace).findall(removed),
                dotted_pattern(namespace).findall(added),
            )
            for namespace, counts in dict(old.dotted).items()
        },
    )


class BufferAnalyses:
    """The analyses of open buffers, each derived from the buffer's previous one."""

    def __init__(self) -> None:
        self._texts: Lru[tuple[str, str], Analysis] = Lru(MAX_TEXTS)
        # The last analysed text per buffer with its tree: moving the cursor changes the
        # analysed text by two lines, and an incremental reparse and recount of that edit are
        # far cheaper than reading the whole buffer anew.
        self._parsed: Lru[str, Parsed] = Lru(MAX_BUFFERS)

    def parsed(self, uri: str) -> Parsed | None:
        """The last whole-buffer parse of `uri`, if one is held."""
        return self._parsed.get(uri)

    def forget(self, uri: str) -> None:
        """Drop everything held for `uri` (a closed buffer)."""
        self._parsed.pop(uri)
        self._texts.discard_if(lambda key: key[0] == uri)

    def analyse(
        self, uri: str, language: str, full: str, text: str, *, cooperative: bool = False
    ) -> Analysis | None:
        """The analysis of `text`: the buffer text `full` less the cursor line."""
        key = (uri, text)
        found = self._texts.get(key)
        if found is not None:
            return found
        anchor = self._anchor(uri, language, full, cooperative)
        if anchor is None:
            return None
        if text == full:
            analysis = anchor.analysis
        else:
            data = text.encode("utf-8", "surrogatepass")
            tree = reparse(language, anchor.data, anchor.tree, data, cooperative=cooperative)
            if tree is None:
                return None
            analysis = advance(
                anchor.analysis, text, extract_imports(language, tree.root_node), lazy=True
            )
        self._texts.put(key, analysis)
        return analysis

    def _anchor(self, uri: str, language: str, full: str, cooperative: bool) -> Parsed | None:
        """The parse of the whole buffer text `full`, advanced from the last one of the buffer.

        Requests analyse the text without the cursor line, which differs from one request to
        the next by two lines that may lie far apart; from the whole text it differs by one.
        """
        base = self._parsed.get(uri)
        if base is not None and base.language == language and base.analysis.text == full:
            return base
        data = full.encode("utf-8", "surrogatepass")
        if base is not None and base.language == language:
            tree = reparse(language, base.data, base.tree, data, cooperative=cooperative)
        else:
            tree = syntax.parse(language, data, cooperative=cooperative)
        if tree is None:
            return None
        imports = extract_imports(language, tree.root_node)
        if base is not None and base.language == language:
            analysis = advance(base.analysis, full, imports)
        else:
            analysis = analyse(full, imports)
        parsed = Parsed(language, data, tree, analysis)
        self._parsed.put(uri, parsed)
        return parsed
