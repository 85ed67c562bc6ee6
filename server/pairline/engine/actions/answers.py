"""Putting a model's answer into the document, and the edit that makes the change.

`apply_answer()` reads the code out of an answer and puts it in place of the action's region,
reindented, with what the user did not ask to change kept as it was (a docstring the model
dropped, code rewritten when only a docstring was asked for). `line_edits()` turns the accepted
document into minimal whole-line replacements.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import tree_sitter

from pairline.engine.actions.offers import (
    DOCSTRING,
    FixRequest,
    body_statements,
    function_name,
    function_nodes,
    is_docstring,
    parse,
)
from pairline.engine.core.suggestion_end import indent_of
from pairline.engine.prompt.edit import extract_code, reindent

_SPACE = re.compile(r"(?<=\S)[ \t]+")


def normalised(text: str) -> str:
    """The text with whitespace that changes nothing dropped: the key for duplicates, and for
    an answer that only copies the code back."""
    return "\n".join(_SPACE.sub(" ", ln.rstrip()) for ln in text.splitlines() if ln.strip())


@dataclass(frozen=True)
class LineEdit:
    """Replace lines [start, end) with `text` (whole lines, line breaks included)."""

    start: int
    end: int
    text: str


# Only the line breaks LSP knows (str.splitlines also splits at form feeds and U+2028).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as LSP counts them, each with its line break."""
    return _LINE.findall(text)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _pick_function(code: str, language: str, name: str) -> str:
    """When the answer holds more than the function asked for, keep only that function."""
    if not name:
        return code
    tree = parse(language, code)
    if tree is None:
        return code
    kinds = function_nodes(language)
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in kinds and function_name(node) == name:
            lines = code.split("\n")
            start = node.start_point[0]
            # Keep decorators written right above the function.
            while start > 0 and lines[start - 1].lstrip().startswith("@"):
                start -= 1
            return "\n".join(lines[start : node.end_point[0] + 1])
        stack.extend(reversed(node.named_children))
    return code


def _python_function(code: str) -> tree_sitter.Node | None:
    tree = parse("python", code)
    if tree is None:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            return node
        stack.extend(reversed(node.named_children))
    return None


def _docstring_of(code: str) -> str | None:
    """The docstring statement's text in the first Python function of `code`, if any."""
    function = _python_function(code)
    if function is None:
        stripped = code.strip()
        return stripped if stripped.startswith(('"""', "'''")) else None
    statements = body_statements(function)
    if statements and is_docstring(statements[0]):
        return (statements[0].text or b"").decode("utf-8", "replace")
    return None


def _with_docstring(old: str, answer_code: str) -> str | None:
    """`old` (a function) with the docstring from the answer put in; its code stays as it was."""
    docstring = _docstring_of(answer_code)
    function = _python_function(old)
    if docstring is None or function is None:
        return None
    body = function.child_by_field_name("body")
    if body is None:
        return None
    lines = old.split("\n")
    first = body.start_point[0]
    pad = lines[first][: indent_of(lines[first])]
    doc_lines = reindent(docstring.strip("\n"), pad + "x").split("\n")
    return "\n".join(lines[:first] + doc_lines + lines[first:])


def _keep_docstring(old: str, new: str) -> str:
    """Put back a docstring the model dropped while rewriting a function's code."""
    kept = _docstring_of(old)
    if kept is None or _docstring_of(new) is not None or _python_function(new) is None:
        return new
    return _with_docstring(new, kept) or new


def apply_answer(request: FixRequest, answer: str) -> str | None:
    """The whole new document with the answer's code in place of the region (None: no code)."""
    code = extract_code(answer)
    if code is None:
        return None
    lines = split_lines(request.text)
    region = request.region
    old = "".join(lines[region.start : region.end])
    code = _pick_function(code, request.language, region.function)
    if request.language == "python" and request.kind == DOCSTRING:
        # Only the docstring is taken from the answer: a small model asked for a docstring
        # often rewrites the code too, and that is not what the user asked for.
        with_doc = _with_docstring(old.rstrip("\r\n"), code)
        if with_doc is None:
            return None
        code = with_doc
    elif request.language == "python" and region.function:
        code = _keep_docstring(old.rstrip("\r\n"), reindent(code.strip("\n"), old))
    code = reindent(code.strip("\n"), old)
    newline = _newline(request.text)
    new = newline.join(code.split("\n"))
    if old.endswith(("\n", "\r")) or region.end < len(lines):
        new += newline
    return "".join(lines[: region.start]) + new + "".join(lines[region.end :])


def line_edits(old: str, new: str) -> list[LineEdit]:
    """Minimal whole-line replacements that turn `old` into `new`."""
    a, b = split_lines(old), split_lines(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        LineEdit(i1, i2, "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
