"""Parsed texts for next-edit prediction: trees that follow each edit, and parses of one window.

The buffer after the edit is parsed in full (incrementally from the previous request's tree:
its occurrences may be anywhere). The text before the edit, and each proposal's parse check,
only need the top-level definition around the change: tree-sitter parses just that range of
the text (offsets stay those of the whole text) in tens of microseconds, where a reparse of a
file of thousands of lines takes milliseconds.

Whole texts are parsed by the syntax module's parser of the calling thread. Windows are parsed
by a parser each `TreeCache` keeps for itself: a parser keeps the included ranges it was given,
which would limit the next parse of anyone sharing it. A cache (and the `Propagator` holding
it) serves one thread.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import tree_sitter

from pairline.engine.core import languages, syntax
from pairline.engine.nextedit.hunks import changed_span

# A top-level node this big is not worth a window: the whole text is parsed instead.
_MAX_WINDOW = 64_000


def window_parser(language: str) -> tree_sitter.Parser | None:
    """A parser for windows of texts in `language` (None: pairline has no grammar for it)."""
    grammar = languages.grammar(language)
    return None if grammar is None else tree_sitter.Parser(grammar)


def _parse_whole(
    language: str, data: bytes, old_tree: tree_sitter.Tree | None = None
) -> tree_sitter.Tree:
    tree = syntax.parse(language, data, old_tree)
    if tree is None:  # a window parser exists, so does a grammar
        raise LookupError(f"no grammar for {language}")
    return tree


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _point(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


@dataclass(frozen=True)
class Parsed:
    """A text, its UTF-8 bytes (tree-sitter's offsets) and its syntax tree."""

    language: str
    window_parser: tree_sitter.Parser  # see `window_parser`
    text: str
    data: bytes
    tree: tree_sitter.Tree

    @property
    def root(self) -> tree_sitter.Node:
        return self.tree.root_node

    def byte_offset(self, index: int) -> int:
        """The byte offset of code-point offset `index`."""
        if len(self.data) == len(self.text):  # ASCII: the same offsets
            return index
        return len(encode(self.text[:index]))

    def char_offset(self, offset: int) -> int:
        """The code-point offset of byte offset `offset` (a character boundary)."""
        if len(self.data) == len(self.text):
            return offset
        return len(self.data[:offset].decode("utf-8", "surrogatepass"))

    def updated(self, text: str) -> Parsed:
        """The parse of `text`, reusing this tree for the part that did not change."""
        if text is self.text or text == self.text:
            return self
        data = encode(text)
        start, end, new_end = changed_span(self.data, data)
        tree = self.tree.copy()
        tree.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=new_end,
            start_point=_point(self.data, start),
            old_end_point=_point(self.data, end),
            new_end_point=_point(data, new_end),
        )
        tree = _parse_whole(self.language, data, tree)
        return Parsed(self.language, self.window_parser, text, data, tree)

    def window(self, start: int, end: int) -> tuple[int, int]:
        """The span of the top-level node (a definition, a statement) around `start`..`end`."""
        node: tree_sitter.Node | None = self.root.named_descendant_for_byte_range(start, end)
        while node is not None and node.parent is not None and node.parent.parent is not None:
            node = node.parent
        if node is None or node.parent is None or node.end_byte - node.start_byte > _MAX_WINDOW:
            return 0, len(self.data)
        return node.start_byte, node.end_byte

    def replaced_window(self, start: int, end: int, new: bytes) -> tuple[tree_sitter.Node, int]:
        """The tree of the window around `start`..`end` once replaced by `new`, and its errors."""
        low, high = self.window(start, end)
        data = self.data[:start] + new + self.data[end:]
        root = self._parse_range(data, low, high + len(new) - (end - start))
        return root, syntax.count_errors(root)

    def window_errors(self, low: int, high: int) -> int:
        """The errors in a parse of bytes `low`..`high` alone (a span from `window`)."""
        return syntax.count_errors(self._parse_range(self.data, low, high))

    def _parse_range(self, data: bytes, low: int, high: int) -> tree_sitter.Node:
        """The root of a parse of bytes `low`..`high` of `data`, with offsets in all of `data`."""
        window = self.window_parser
        span = tree_sitter.Range(_point(data, low), _point(data, high), low, high)
        window.included_ranges = [span]
        return window.parse(data).root_node


def parse(language: str, text: str, window: tree_sitter.Parser | None = None) -> Parsed | None:
    """A fresh parse of `text`, or None when pairline has no grammar for `language`.

    `window` is the parser for its windows, from `window_parser` (a new one if not given).
    """
    window = window if window is not None else window_parser(language)
    if window is None:
        return None
    data = encode(text)
    return Parsed(language, window, text, data, _parse_whole(language, data))


class TreeCache:
    """The last parse of each recently seen document, updated incrementally on each request."""

    def __init__(self, documents: int = 16) -> None:
        self._documents = documents
        self._parsed: OrderedDict[str, Parsed] = OrderedDict()
        self._windows: dict[str, tree_sitter.Parser | None] = {}

    def parse(self, uri: str, language: str, text: str) -> Parsed | None:
        """The parse of `text`, the current text of `uri` in `language`."""
        cached = self._parsed.get(uri)
        if cached is not None and cached.language == language:
            parsed: Parsed | None = cached.updated(text)
        else:
            if language not in self._windows:
                self._windows[language] = window_parser(language)
            window = self._windows[language]
            parsed = None if window is None else parse(language, text, window)
        if parsed is None:
            self._parsed.pop(uri, None)
            return None
        self._parsed[uri] = parsed
        self._parsed.move_to_end(uri)
        while len(self._parsed) > self._documents:
            self._parsed.popitem(last=False)
        return parsed

    def forget(self, uri: str) -> None:
        self._parsed.pop(uri, None)
