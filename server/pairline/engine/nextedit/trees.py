"""Parsed texts for next-edit prediction: tree-sitter trees that follow each edit incrementally.

A propagation parses the buffer after the edit, the buffer before it, and the buffer with each
proposal applied; reparsing from the previous tree keeps each of those under a millisecond on
files of thousands of lines, where a fresh parse takes several.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import tree_sitter

from pairline.engine.nextedit.hunks import changed_span
from pairline.engine.syntax import parser_for


def parser(language: str) -> tree_sitter.Parser | None:
    """The parser for an LSP language id (the one place that asks the syntax module)."""
    return parser_for(language)


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _point(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


@dataclass(frozen=True)
class Parsed:
    """A text, its UTF-8 bytes (tree-sitter's offsets) and its syntax tree."""

    text: str
    data: bytes
    tree: tree_sitter.Tree
    parser: tree_sitter.Parser

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

    def replaced(self, start: int, end: int, new: bytes) -> Parsed:
        """This text with bytes `start`..`end` replaced by `new`, reparsed from this tree."""
        data = self.data[:start] + new + self.data[end:]
        tree = self.tree.copy()
        tree.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=start + len(new),
            start_point=_point(self.data, start),
            old_end_point=_point(self.data, end),
            new_end_point=_point(data, start + len(new)),
        )
        text = data.decode("utf-8", "surrogatepass")
        return Parsed(text, data, self.parser.parse(data, tree), self.parser)

    def updated(self, text: str) -> Parsed:
        """The parse of `text`, reusing this tree for the part that did not change."""
        if text is self.text or text == self.text:
            return self
        data = encode(text)
        start, end, new_end = changed_span(self.data, data)
        return self.replaced(start, end, data[start:new_end])


def parse(language: str, text: str) -> Parsed | None:
    """A fresh parse of `text`, or None when pairline has no grammar for `language`."""
    found = parser(language)
    if found is None:
        return None
    data = encode(text)
    return Parsed(text, data, found.parse(data), found)


def error_count(node: tree_sitter.Node) -> int:
    """How many ERROR or MISSING nodes lie under `node`."""
    count = 0
    stack = [node]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.is_error or node.is_missing:
            count += 1
        stack.extend(node.children)
    return count


class TreeCache:
    """The last parse of each recently seen document, updated incrementally on each request."""

    def __init__(self, documents: int = 16) -> None:
        self._documents = documents
        self._parsed: OrderedDict[str, tuple[str, Parsed]] = OrderedDict()

    def parse(self, uri: str, language: str, text: str) -> Parsed | None:
        """The parse of `text`, the current text of `uri` in `language`."""
        cached = self._parsed.get(uri)
        if cached is not None and cached[0] == language:
            parsed: Parsed | None = cached[1].updated(text)
        else:
            parsed = parse(language, text)
        if parsed is None:
            self._parsed.pop(uri, None)
            return None
        self._parsed[uri] = (language, parsed)
        self._parsed.move_to_end(uri)
        while len(self._parsed) > self._documents:
            self._parsed.popitem(last=False)
        return parsed

    def forget(self, uri: str) -> None:
        self._parsed.pop(uri, None)
