"""What the code-action list may offer at a place, found with one tree-sitter parse.

The three actions ("Fix this", "Implement this function", "Add docstring"), the region of whole
lines each would rewrite, and the function-node queries the rest of the action code shares.
Listing actions never calls a model: that happens only once the user picks one (`fix.fix`).
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from pairline.engine.core import languages, syntax
from pairline.engine.core.config import ACTION_KINDS

FIX, IMPLEMENT, DOCSTRING = ACTION_KINDS
TITLES = {FIX: "Fix this", IMPLEMENT: "Implement this function", DOCSTRING: "Add docstring"}
MAX_REGION_LINES = 150  # a larger enclosing function is too much to rewrite: use the lines
UNTRUSTED = "not run: the workspace is not trusted (actions.trusted)"

_STUB_STATEMENTS = frozenset({"pass_statement", "ellipsis"})
_STUB_WORDS = ("TODO", "NotImplemented", "not implemented", "unimplemented!", "todo!")


@dataclass(frozen=True)
class Region:
    """Whole lines [start, end) of a document, with the function they belong to, if any."""

    start: int
    end: int
    function: str = ""  # name of the enclosing function ("" for plain lines)


@dataclass(frozen=True)
class Offer:
    """An action the editor may list; computing it costs a parse, never a model call."""

    kind: str
    title: str
    region: Region


@dataclass(frozen=True)
class FixRequest:
    """One action to carry out on one document."""

    kind: str  # FIX, IMPLEMENT or DOCSTRING
    language: str
    text: str  # the whole document
    region: Region
    diagnostics: tuple[str, ...] = ()
    file_name: str = "untitled"
    rel_path: str | None = None  # the file relative to the workspace root, when on disk
    context_lines: int = 120


def title(kind: str, check: str | None = None, *, trusted: bool = True) -> str:
    """An action's title, saying which check verifies its edit, or why that check cannot run."""
    if check is None:
        return TITLES[kind]
    if not trusted:
        return f"{TITLES[kind]} — {check} {UNTRUSTED}"
    return f"{TITLES[kind]} — checked by {check}"


# --- Function nodes ------------------------------------------------------------------------


def parse(language: str, text: str) -> tree_sitter.Tree | None:
    parser = syntax.parser_for(language)
    if parser is None:
        return None
    return parser.parse(text.encode("utf-8", "surrogatepass"))


def function_nodes(language: str) -> frozenset[str]:
    """The node types of `language` that are functions or methods (none without an entry)."""
    entry = languages.find(language)
    return entry.function_nodes if entry is not None else frozenset()


def _function_at(
    root: tree_sitter.Node, kinds: frozenset[str], start: int, end: int
) -> tree_sitter.Node | None:
    """The innermost function (a node of one of `kinds`) whose lines contain lines [start, end]."""
    best: tree_sitter.Node | None = None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.start_point[0] > start or node.end_point[0] < end:
            continue
        if node.type in kinds:
            best = node  # children come later, so the innermost wins
        stack.extend(node.named_children)
    return best


def function_name(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    return name.text.decode("utf-8", "replace") if name is not None and name.text else ""


def body_statements(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    body = node.child_by_field_name("body")
    if body is None:
        return []
    return [c for c in body.named_children if c.type != "comment"]


def is_docstring(node: tree_sitter.Node) -> bool:
    return node.type == "expression_statement" and any(
        c.type in ("string", "concatenated_string") for c in node.named_children
    )


def is_stub(node: tree_sitter.Node) -> bool:
    """An empty body, `pass`, `...`, a TODO, or `raise NotImplementedError`-like placeholder."""
    body = node.child_by_field_name("body")
    if body is None or body.type not in ("block", "statement_block"):
        return False
    statements = body_statements(node)
    if statements and is_docstring(statements[0]):
        statements = statements[1:]
    text = (body.text or b"").decode("utf-8", "replace")
    if not statements:
        return True
    if len(statements) != 1:
        return False
    only = statements[0]
    if only.type in _STUB_STATEMENTS or (
        only.type == "expression_statement"
        and [c.type for c in only.named_children] == ["ellipsis"]
    ):
        return True
    return any(word in text for word in _STUB_WORDS)


def _has_docstring(node: tree_sitter.Node) -> bool:
    statements = body_statements(node)
    return bool(statements) and is_docstring(statements[0])


# --- What can be offered -------------------------------------------------------------------


def _block_region(lines: int, start: int, end: int) -> Region:
    return Region(max(0, start), min(lines, max(end, start + 1)))


def offers(
    language: str,
    text: str,
    start: int,
    end: int,
    *,
    selection: bool,
    diagnostics: bool,
) -> list[Offer]:
    """The actions worth listing for lines [start, end] (a cursor has start == end)."""
    line_count = text.count("\n") + 1
    tree = parse(language, text)
    function = (
        _function_at(tree.root_node, function_nodes(language), start, end)
        if tree is not None
        else None
    )
    result: list[Offer] = []
    if selection or diagnostics:
        if function is not None and (
            function.end_point[0] - function.start_point[0] < MAX_REGION_LINES
        ):
            region = Region(
                function.start_point[0], function.end_point[0] + 1, function_name(function)
            )
        else:
            region = _block_region(line_count, start, end + 1)
        result.append(Offer(FIX, TITLES[FIX], region))
    if function is not None:
        region = Region(function.start_point[0], function.end_point[0] + 1, function_name(function))
        if is_stub(function):
            result.append(Offer(IMPLEMENT, TITLES[IMPLEMENT], region))
        if language == "python" and function.type == "function_definition":
            body = function.child_by_field_name("body")
            on_own_lines = body is not None and body.start_point[0] > function.start_point[0]
            if on_own_lines and not _has_docstring(function):
                result.append(Offer(DOCSTRING, TITLES[DOCSTRING], region))
    return result
