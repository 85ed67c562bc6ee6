"""Tree-sitter parsing shared by completion (block detection, parse checks) and fixes."""

from __future__ import annotations

import re
from functools import cache

import tree_sitter

# LSP language id → grammar loader. The grammar wheels expose a `language()` capsule.
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "javascriptreact": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
}

# Nodes whose ":" opens an indented block in Python.
_PY_COMPOUND = frozenset(
    {
        "function_definition",
        "class_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "match_statement",
        "case_clause",
    }
)
# Nodes whose "{" does not open code: string-like contexts.
_NOT_CODE = frozenset({"string", "template_string", "string_fragment", "comment", "ERROR"})

_TRAILING_COMMENT = re.compile(r"\s*#[^\n]*$")


def supported_languages() -> list[str]:
    return sorted(_GRAMMARS)


@cache
def parser_for(language: str) -> tree_sitter.Parser | None:
    """A parser for the LSP language id, or None when pairline has no grammar for it."""
    spec = _GRAMMARS.get(language)
    if spec is None:
        return None
    module = __import__(spec[0])
    return tree_sitter.Parser(tree_sitter.Language(getattr(module, spec[1])()))


def error_count(language: str, text: str) -> int | None:
    """How many ERROR or MISSING nodes the parse of `text` holds (None: no grammar)."""
    parser = parser_for(language)
    if parser is None:
        return None
    tree = parser.parse(text.encode("utf-8", "surrogatepass"))
    count = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.is_error or node.is_missing:
            count += 1
        stack.extend(node.children)
    return count


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


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
    if parser is None:
        return False
    if language == "python":
        code = _TRAILING_COMMENT.sub("", opener).rstrip()
        if not code.endswith(":"):
            return False
        below = _next_code_line(suffix)
        if below is not None and _indent(below) > _indent(opener):
            return False  # the block already has a body
        colon = opener_start + len(code) - 1
        # Give the parser a body so the opener parses as a statement, not an error.
        probe = prefix[: colon + 1] + "\n" + " " * (_indent(opener) + 4) + "pass\n"
        node_type, parent_type = _types_at(parser, probe, colon)
        return node_type == ":" and parent_type in _PY_COMPOUND
    code = opener.rstrip()
    if not code.endswith("{"):
        return False
    below = _next_code_line(suffix)
    if below is not None and not below.strip().startswith("}") and _indent(below) > _indent(opener):
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
