"""Tree-sitter parsing shared by completion (block detection, parse checks), context and fixes.

The one provider of parsers: one per thread and language, grammars from `languages`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from functools import cache

import tree_sitter

from pairline.engine.core import languages
from pairline.engine.core.suggestion_end import indent_of

# Nodes whose "{" does not open code: string-like contexts.
_NOT_CODE = frozenset({"string", "template_string", "string_fragment", "comment", "ERROR"})

_CHUNK = 8192
_local = threading.local()


def parser_for(language: str) -> tree_sitter.Parser | None:
    """This thread's parser for the LSP language id, or None when pairline has no grammar.

    A `tree_sitter.Parser` must not be used by two threads at once (the request thread, the
    context warm-up thread, code-action checks), so each thread gets its own.
    """
    parsers: dict[str, tree_sitter.Parser | None] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    if language not in parsers:
        found = languages.grammar(language)
        parsers[language] = None if found is None else tree_sitter.Parser(found)
    return parsers[language]


def parse(
    language: str,
    data: bytes,
    old_tree: tree_sitter.Tree | None = None,
    *,
    cooperative: bool = False,
) -> tree_sitter.Tree | None:
    """Parse `data` (reusing `old_tree`, already edited); cooperative: yield the GIL per chunk.

    py-tree-sitter holds the GIL for a whole parse (50 ms for a 300 KB file), which would
    stall the event loop while the warm-up thread parses; a cooperative parse feeds the source
    in chunks and lets other threads run between them.
    """
    parser = parser_for(language)
    if parser is None:
        return None
    if not cooperative:
        return parser.parse(data) if old_tree is None else parser.parse(data, old_tree)

    def read(offset: int, _point: tuple[int, int]) -> bytes:
        time.sleep(0)  # let the request thread run between chunks
        return data[offset : offset + _CHUNK]

    return parser.parse(read) if old_tree is None else parser.parse(read, old_tree)


def named_descendants(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """Every named node under `node` (not `node` itself), in source order."""
    stack = list(reversed(node.named_children))
    while stack:
        child = stack.pop()
        yield child
        stack.extend(reversed(child.named_children))


def error_count(language: str, text: str) -> int | None:
    """How many ERROR or MISSING nodes the parse of `text` holds (None: no grammar)."""
    parser = parser_for(language)
    if parser is None:
        return None
    return count_errors(parser.parse(text.encode("utf-8", "surrogatepass")).root_node)


def count_errors(node: tree_sitter.Node) -> int:
    """How many ERROR or MISSING nodes lie under an already parsed `node` (itself included)."""
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


@cache
def _trailing_comment(marker: str) -> re.Pattern[str]:
    return re.compile(r"\s*" + re.escape(marker) + r"[^\n]*$")


def _next_code_line(suffix: str) -> str | None:
    """The first non-blank line after the cursor line, if any."""
    for line in suffix.split("\n")[1:]:
        if line.strip():
            return line
    return None


def opens_block(language: str, prefix: str, suffix: str) -> bool:
    """Whether the cursor sits where an empty block begins, so a multi-line body fits.

    The cursor must be at the end of an opener line (`def f():`, `if x {`) or on a blank line
    right after one, with nothing else on the line and no body below yet. The syntax tree
    decides whether the ":" or "{" really opens a block (not a dict, slice or lambda).
    """
    rest_of_line = suffix.split("\n", 1)[0]
    if rest_of_line.strip() not in ("", "}", ")", "]"):
        return False
    prefix, suffix = _window(language, prefix, suffix)  # the opener and its surroundings suffice
    lines = prefix.split("\n")
    current = lines[-1]
    if current.strip():
        opener_index = len(lines) - 1
    else:
        opener_index = len(lines) - 2
        while opener_index >= 0 and not lines[opener_index].strip():
            opener_index -= 1
        if opener_index < 0:
            return False
    opener = lines[opener_index]
    opener_start = len("\n".join(lines[:opener_index])) + (1 if opener_index else 0)
    parser = parser_for(language)
    entry = languages.find(language)
    if parser is None or entry is None:
        return False
    if entry.blocks is languages.Blocks.INDENT:
        code = _trailing_comment(entry.comment).sub("", opener).rstrip()
        if not code.endswith(":"):
            return False
        below = _next_code_line(suffix)
        if below is not None and indent_of(below) > indent_of(opener):
            return False  # the block already has a body
        colon = opener_start + len(code) - 1
        # Give the parser a body so the opener parses as a statement, not an error.
        probe = prefix[: colon + 1] + "\n" + " " * (indent_of(opener) + 4) + entry.empty_body + "\n"
        node_type, parent_type = _types_at(parser, probe, colon)
        return node_type == ":" and parent_type in entry.block_nodes
    code = opener.rstrip()
    if entry.blocks is not languages.Blocks.BRACES or not code.endswith("{"):
        return False
    below = _next_code_line(suffix)
    if (
        below is not None
        and not below.strip().startswith("}")
        and indent_of(below) > indent_of(opener)
    ):
        return False
    brace = opener_start + len(code) - 1
    probe = prefix[: brace + 1] + "\n}\n"
    node_type, parent_type = _types_at(parser, probe, brace)
    return node_type == "{" and parent_type not in _NOT_CODE


def _types_at(parser: tree_sitter.Parser, text: str, offset: int) -> tuple[str, str]:
    """The type of the smallest node at `offset` and of its parent."""
    data = text.encode("utf-8", "surrogatepass")
    byte = len(text[:offset].encode("utf-8", "surrogatepass"))
    node = parser.parse(data).root_node.descendant_for_byte_range(byte, byte + 1)
    if node is None:
        return "", ""
    return str(node.type), str(node.parent.type) if node.parent is not None else ""


# How much text around the cursor a parse check looks at: enough for the enclosing
# definitions, small enough to stay within a few milliseconds on any file.
_CHECK_LINES_BEFORE = 200
_CHECK_LINES_AFTER = 60
_CHECK_CHARS = 20_000


# How far back a window may reach for a line that starts a definition.
_ALIGN_LINES_BEFORE = 1000


def _window(language: str, prefix: str, suffix: str) -> tuple[str, str]:
    """The text around the cursor that a parse check looks at, starting at a definition.

    The start is a top-level definition: the first within the last `_CHECK_LINES_BEFORE`
    lines, else the nearest further up (within `_ALIGN_LINES_BEFORE`); failing both, an
    indented one (a method deep in a huge class), under a made-up header so that its
    indentation parses.
    """
    # Only the lines that can matter are split off: the prefix may be megabytes.
    reach = _CHECK_LINES_BEFORE + _ALIGN_LINES_BEFORE
    lines = prefix.rsplit("\n", reach)
    if len(lines) > reach:
        lines = lines[1:]  # the rest of the file above, unsplit
    start = max(0, len(lines) - 1 - _CHECK_LINES_BEFORE)
    entry = languages.find(language)
    pattern = entry.definition_start if entry is not None else None
    header = ""
    if start > 0 and entry is not None and pattern is not None:
        order = [*range(start, len(lines) - 1), *range(start - 1, -1, -1)]
        defs = [i for i in order if pattern.match(lines[i])]
        top = [i for i in defs if not lines[i][:1].isspace()]
        if top or defs:
            start = (top or defs)[0]
            if lines[start][:1].isspace():
                header = entry.indented_header
    head = header + "\n".join(lines[start:])
    tail = "\n".join(suffix.split("\n", _CHECK_LINES_AFTER)[:_CHECK_LINES_AFTER])
    # A huge line (minified code, data) must not turn each request into a whole-file parse.
    return head[-_CHECK_CHARS:], tail[:_CHECK_CHARS]


def _cut_points(text: str) -> list[int]:
    """Where a suggestion may be shortened: after each line, then after each word or bracket."""
    points = {len(text)}
    for index, ch in enumerate(text):
        if ch == "\n":
            points.add(index)
        elif ch in " ,;" and index > 0:
            points.add(index + (0 if ch == " " else 1))
        elif ch in ")]}":
            points.update((index, index + 1))  # with or without the closing bracket
    return sorted((p for p in points if text[:p].strip()), reverse=True)


def longest_valid(language: str, prefix: str, text: str, suffix: str, tries: int = 8) -> str | None:
    """`text`, or its longest cut that adds no parse error to the code around the cursor.

    Returns `text` unchanged when pairline has no grammar for the language, and None when every
    cut tried breaks the parse.
    """
    head, tail = _window(language, prefix, suffix)
    base = error_count(language, head + tail)
    if base is None:
        return text
    for point in _cut_points(text)[:tries]:
        candidate = text[:point].rstrip()
        count = error_count(language, head + candidate + tail)
        if count is not None and count <= base:
            return candidate
    return None


_STRING_NODES = frozenset(
    {
        "string",
        "string_content",
        "string_fragment",
        "template_string",
        "string_literal",
        "raw_string_literal",
        "interpreted_string_literal",
        "raw_string_literal_content",
    }
)


_CODE_IN_STRING = frozenset({"template_substitution", "interpolation", "string_interpolation"})


def inside_string(language: str, prefix: str, suffix: str) -> bool:
    """Whether the cursor sits strictly inside a string literal."""
    parser = parser_for(language)
    if parser is None:
        return False
    head, tail = _window(language, prefix, suffix)
    offset = len(head.encode("utf-8", "surrogatepass"))
    tree = parser.parse((head + tail).encode("utf-8", "surrogatepass"))
    node = tree.root_node.descendant_for_byte_range(offset, offset)
    while node is not None:
        if node.type in _CODE_IN_STRING:
            return False  # `${...}` or an f-string `{...}`: code again
        if node.type in _STRING_NODES and node.start_byte < offset < node.end_byte:
            return True
        node = node.parent
    return False
