"""Tree-sitter parsing for context work, safe on the request thread and the warm-up thread.

A `tree_sitter.Parser` must not be used by two threads at once, so each thread gets its own.
py-tree-sitter holds the GIL for a whole parse (50 ms for a 300 KB file), which would stall the
event loop while the warm-up thread parses; a cooperative parse feeds the source in chunks
and lets other threads run between them.
"""

from __future__ import annotations

import threading
import time

import tree_sitter

from pairline.engine.syntax import parser_for

_CHUNK = 8192
_local = threading.local()


def parser(language: str) -> tree_sitter.Parser | None:
    """This thread's parser for `language` (None where pairline has no grammar)."""
    parsers: dict[str, tree_sitter.Parser | None] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    if language not in parsers:
        shared = parser_for(language)
        parsers[language] = None if shared is None else tree_sitter.Parser(shared.language)
    return parsers[language]


def parse(
    language: str,
    data: bytes,
    old_tree: tree_sitter.Tree | None = None,
    *,
    cooperative: bool = False,
) -> tree_sitter.Tree | None:
    """Parse `data` (reusing `old_tree`, already edited); cooperative: yield the GIL per chunk."""
    found = parser(language)
    if found is None:
        return None
    if not cooperative:
        return found.parse(data) if old_tree is None else found.parse(data, old_tree)

    def read(offset: int, _point: tuple[int, int]) -> bytes:
        time.sleep(0)  # let the request thread run between chunks
        return data[offset : offset + _CHUNK]

    return found.parse(read) if old_tree is None else found.parse(read, old_tree)
