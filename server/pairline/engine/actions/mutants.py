"""Small edits of a region, tried as "Fix this" candidates next to the model's.

Most real bugs a test catches are one token off: `<` for `<=`, `+` for `-`, `n` for `n - 1`,
`min` for `max`, one variable for another, one condition or statement too many. A small model
asked to fix such code mostly copies it back unchanged; running the check on every one-token
edit of the region (as program repair and mutation testing do) finds many of these fixes in
seconds, with no model at all. Only a check that fails on the unmodified code can vouch for one,
so the loop uses them only then (`actions.mutants`).

`mutants()` lists them in the order they are worth trying: a loop's missing step first
(`loop_steps`: rare, and nearly always the bug where it applies), operator swaps, off-by-one
constants, boolean flips, the usual function pairs, off-by-one values, swapped
arguments or operands, dropping one operand of an operator, swapping one variable for another,
and last dropping one statement line. Every edit is parse-checked here; tokens inside strings,
comments and parameter lists are left alone. Three families can be left out (`FAMILIES`, one
setting each): off-by-one values (a name or call assigned, returned or passed gets `+ 1` or
`- 1`), swaps (two neighbouring arguments or items, or the operands of an operator whose
order matters) and loop steps.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import tree_sitter

from pairline.engine.actions import loop_steps
from pairline.engine.core import syntax

# Token -> what it is swapped for, most likely first. Shared by the grammars that spell the
# operator alike (Python, JS/TS, Go, Rust, C-like); a token a grammar lacks never matches.
_COMPARISONS = {
    "<": ("<=", ">"),
    "<=": ("<", ">="),
    ">": (">=", "<"),
    ">=": (">", "<="),
    "==": ("!=",),
    "!=": ("==",),
    "===": ("!==",),
    "!==": ("===",),
    "in": ("not in",),
    "is": ("is not",),
}
_ARITHMETIC = {  # the likeliest first, then the rest (mutation testing's full replacement)
    "+": ("-", "*"),
    "-": ("+", "%", "*", "//"),
    "*": ("/", "+", "**", "-"),
    "/": ("//", "*", "%"),
    "//": ("/", "%", "*"),
    "%": ("//", "-", "/"),
    "**": ("*",),
    "+=": ("-=",),
    "-=": ("+=",),
    "*=": ("/=", "+="),
    "/=": ("*=",),
    "//=": ("/=",),
}
_BOOLEAN = {
    "and": ("or",),
    "or": ("and",),
    "&&": ("||",),
    "||": ("&&",),
    "True": ("False",),
    "False": ("True",),
    "true": ("false",),
    "false": ("true",),
}
# Names often written for each other: a "function misuse" bug is one of these pairs.
_PAIRS = (
    ("min", "max"),
    ("any", "all"),
    ("lower", "upper"),
    ("isupper", "islower"),
    ("floor", "ceil"),
    ("startswith", "endswith"),
    ("append", "extend"),
    ("sorted", "reversed"),
    ("push", "unshift"),
    ("pop", "shift"),
)
_PAIRED = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
_IDENTIFIERS = frozenset({"identifier", "property_identifier", "field_identifier"})
_NUMBERS = frozenset({"integer", "number", "integer_literal", "int_literal"})
_BINARY = frozenset({"binary_operator", "binary_expression", "boolean_operator"})
_NEGATIONS = frozenset({"not_operator", "unary_expression", "unary_operator"})
# Where a name is often one off: a call's argument (`range(n)`), an index or a slice bound.
_BOUNDS = frozenset({"argument_list", "arguments", "subscript", "slice", "index_expression"})
# Never edited inside these: text, and a signature's names (renaming a parameter breaks callers).
_SKIPPED = frozenset(
    {"string", "template_string", "string_literal", "raw_string_literal"}
    | {"interpreted_string_literal", "comment", "line_comment", "block_comment"}
    | {"parameters", "formal_parameters", "parameter_list", "type", "type_annotation"}
    | {"import_statement", "import_from_statement", "decorator"}
)
_DEFINITIONS = frozenset(
    {"function_definition", "function_declaration", "method_definition", "function_item"}
)
# Where a value is one off as a whole (`lo = mid`, `return count`): the node's field in it.
_VALUE_FIELDS = {
    "assignment": "right",
    "augmented_assignment": "right",
    "assignment_expression": "right",
    "augmented_assignment_expression": "right",
    "variable_declarator": "value",
    "let_declaration": "value",
}
_RETURNS = frozenset({"return_statement", "return_expression"})
_CALLS = frozenset({"call", "call_expression"})
# Items whose order matters and is easy to get wrong: arguments, tuples, lists, unpacking.
_SEQUENCES = frozenset(
    {"argument_list", "arguments", "list", "array", "tuple", "expression_list", "pattern_list"}
    | {"tuple_pattern", "list_pattern"}
)
_UNSWAPPABLE = frozenset(
    {"keyword_argument", "list_splat", "dictionary_splat", "spread_element", "comment"}
)
# Operators whose operands cannot trade places unnoticed (`+` joins strings and lists).
_ORDERED = frozenset({"+", "-", "/", "//", "%", "**", "<<", ">>"})
_DECIMAL = re.compile(r"\d{1,6}")
_ORDER = (
    "step",
    "compare",
    "arith",
    "number",
    "boolean",
    "pair",
    "offset",
    "swap",
    "operand",
    "variable",
    "line",
)
# The families a setting can leave out; the others are always tried.
FAMILIES = frozenset({"offset", "swap", "step"})


@dataclass(frozen=True)
class Mutant:
    """The whole document with one small edit, and the edit in words."""

    text: str
    what: str
    line: int = 0  # 0-based line of the edit


@dataclass(frozen=True)
class _Edit:
    kind: str
    start: int  # byte offsets in the document
    end: int
    new: bytes
    line: int  # 0-based, for the description

    def describe(self, old: bytes) -> str:
        was = old.decode("utf-8", "replace").strip() or "(nothing)"
        now = self.new.decode("utf-8", "replace").strip() or "(nothing)"
        if self.kind == "line":
            return f"line {self.line + 1}: dropped `{was}`"
        if self.start == self.end:
            return f"line {self.line + 1}: added `{now}`"
        return f"line {self.line + 1}: `{was}` → `{now}`"


def mutants(
    language: str,
    text: str,
    start_line: int,
    end_line: int,
    limit: int = 300,
    tier: Callable[[int], int] | None = None,
    families: Collection[str] = FAMILIES,
) -> list[Mutant]:
    """Up to `limit` one-edit variants of lines [start_line, end_line) of `text`, that parse
    no worse than `text`, most promising first (none without a grammar for the language);
    of the optional `FAMILIES`, only those in `families`."""
    data = text.encode("utf-8", "surrogatepass")
    tree = syntax.parse(language, data)
    if tree is None:
        return []
    lines = data.split(b"\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    lo = offsets[min(start_line, len(lines))]
    hi = offsets[min(end_line, len(lines))]
    edits = list(_edits(tree.root_node, data, lo, hi))
    edits += _line_edits(tree.root_node, lines, offsets, start_line, min(end_line, len(lines)))
    steps = loop_steps.step_edits(tree.root_node, data, lo, hi, language)
    edits += [_Edit("step", step.at, step.at, step.text, step.line) for step in steps]
    edits = [e for e in edits if e.kind not in FAMILIES or e.kind in families]
    # Stable: position order within a kind; with `tier` (a line's suspicion, 0 most suspect,
    # from fault localisation) the edits of the likelier lines come first, kind by kind.
    edits.sort(key=lambda e: (tier(e.line) if tier else 0, _ORDER.index(e.kind)))
    parser = syntax.parser_for(language)
    assert parser is not None  # the parse above had one
    base_errors = syntax.count_errors(tree.root_node)
    out: list[Mutant] = []
    seen = {data}
    for edit in edits:
        new = data[: edit.start] + edit.new + data[edit.end :]
        if new in seen:
            continue
        seen.add(new)
        # Re-parse only what the edit touched: a long file is parsed once, not once per edit.
        edited = tree.copy()
        end = edit.start + len(edit.new)
        edited.edit(
            edit.start,
            edit.end,
            end,
            _point(offsets, edit.start),
            _point(offsets, edit.end),
            _after(_point(offsets, edit.start), edit.new),
        )
        root = parser.parse(new, edited).root_node
        if root.has_error and syntax.count_errors(root) > base_errors:
            continue
        candidate = new.decode("utf-8", "surrogatepass")
        out.append(Mutant(candidate, edit.describe(data[edit.start : edit.end]), edit.line))
        if len(out) >= limit:
            break
    return out


def _point(line_starts: list[int], offset: int) -> tuple[int, int]:
    row = bisect.bisect_right(line_starts, offset) - 1
    return row, offset - line_starts[row]


def _after(start: tuple[int, int], text: bytes) -> tuple[int, int]:
    """Where `text` ends when written at `start` (row, byte column)."""
    rows = text.count(b"\n")
    if not rows:
        return start[0], start[1] + len(text)
    return start[0] + rows, len(text) - text.rfind(b"\n") - 1


def _edits(root: tree_sitter.Node, data: bytes, lo: int, hi: int) -> Iterator[_Edit]:
    """Token-level edits of the nodes inside [lo, hi)."""
    names = _local_names(root, data, lo, hi)
    for node in _walk(root, lo, hi):
        kind, start, end = node.type, node.start_byte, node.end_byte
        row = node.start_point[0]
        token = data[start:end]
        if kind in _BINARY:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None:
                yield _Edit("operand", start, end, data[left.start_byte : left.end_byte], row)
                yield _Edit("operand", start, end, data[right.start_byte : right.end_byte], row)
        if kind in _NEGATIONS and node.child_count == 2 and node.children[0].type in ("not", "!"):
            operand = node.children[1]
            yield _Edit("boolean", start, end, data[operand.start_byte : operand.end_byte], row)
        yield from _offsets(node, data, names)
        yield from _swaps(node, data)
        if node.child_count:
            continue
        word = token.decode("utf-8", "replace")
        for table, edit_kind in ((_COMPARISONS, "compare"), (_ARITHMETIC, "arith")):
            for new in table.get(word, ()):
                yield _Edit(edit_kind, start, end, new.encode(), row)
        for new in _BOOLEAN.get(word, ()):
            yield _Edit("boolean", start, end, new.encode(), row)
        if kind in _NUMBERS and _DECIMAL.fullmatch(word):
            value = int(word)
            for new_value in (value + 1, value - 1):
                if new_value >= 0:
                    yield _Edit("number", start, end, str(new_value).encode(), row)
        if kind in _IDENTIFIERS:
            if word in _PAIRED:
                yield _Edit("pair", start, end, _PAIRED[word].encode(), row)
            if kind == "identifier" and word in names and not _is_called(node):
                if node.parent is not None and node.parent.type in _BOUNDS:
                    for off_by_one in (" + 1", " - 1"):
                        yield _Edit("number", start, end, (word + off_by_one).encode(), row)
                for other in names:
                    if other != word:
                        yield _Edit("variable", start, end, other.encode(), row)


def _offsets(node: tree_sitter.Node, data: bytes, names: list[str]) -> Iterator[_Edit]:
    """`+ 1` and `- 1` after a value taken whole: a local name or a call assigned or returned
    (`lo = mid`), or a call passed or used as an index (`range(len(xs))`). A name passed or
    used as an index is the older "number" edit's."""
    parent = node.parent
    if parent is None:
        return
    word = data[node.start_byte : node.end_byte]
    if node.type == "identifier":
        if word.decode("utf-8", "replace") not in names or _is_called(node):
            return
    elif node.type not in _CALLS:
        return
    field = _VALUE_FIELDS.get(parent.type)
    valued = field is not None and parent.child_by_field_name(field) == node
    if not (valued or parent.type in _RETURNS or (node.type in _CALLS and parent.type in _BOUNDS)):
        return
    for off_by_one in (b" + 1", b" - 1"):
        yield _Edit(
            "offset", node.start_byte, node.end_byte, word + off_by_one, node.start_point[0]
        )


def _swaps(node: tree_sitter.Node, data: bytes) -> Iterator[_Edit]:
    """Two neighbouring arguments or items traded (`replace(",", " ")`, `day, month = …`), and
    the operands of an operator whose order matters (`b - a`, `tail + head`)."""
    row = node.start_point[0]
    if node.type in _SEQUENCES:
        items = [c for c in node.named_children if c.type not in ("comment", "line_comment")]
        for first, second in itertools.pairwise(items):
            if first.type in _UNSWAPPABLE or second.type in _UNSWAPPABLE:
                continue
            between = data[first.end_byte : second.start_byte]
            new = data[second.start_byte : second.end_byte] + between
            new += data[first.start_byte : first.end_byte]
            yield _Edit("swap", first.start_byte, second.end_byte, new, first.start_point[0])
    if node.type in _BINARY:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left is None or right is None or operator is None or operator.type not in _ORDERED:
            return
        between = data[left.end_byte : right.start_byte]
        new = (
            data[right.start_byte : right.end_byte]
            + between
            + data[left.start_byte : left.end_byte]
        )
        yield _Edit("swap", node.start_byte, node.end_byte, new, row)


def _line_edits(
    root: tree_sitter.Node, lines: list[bytes], offsets: list[int], first: int, last: int
) -> Iterator[_Edit]:
    """Drop one simple statement line (an extra condition or update): never the header, a
    block opener or closer, or a `return`."""
    for row in range(first + 1, last):
        stripped = lines[row].strip()
        if not stripped or stripped.startswith((b"#", b"//", b"return", b"}", b"else", b"elif")):
            continue
        if stripped.endswith((b":", b"{", b"(", b"[", b",", b"\\")):
            continue
        yield _Edit("line", offsets[row], offsets[row + 1], b"", row)


def _walk(root: tree_sitter.Node, lo: int, hi: int) -> Iterator[tree_sitter.Node]:
    """The nodes overlapping [lo, hi), skipping text, comments and signatures."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= lo or node.start_byte >= hi or node.type in _SKIPPED:
            continue
        if node.start_byte >= lo and node.end_byte <= hi:
            yield node
        stack.extend(reversed(node.children))


def _local_names(root: tree_sitter.Node, data: bytes, lo: int, hi: int) -> list[str]:
    """Plain names used in the region that are not functions it calls nor definitions' names:
    the variables one may have been written for another."""
    names: dict[str, None] = {}
    for node in _walk(root, lo, hi):
        if node.type != "identifier" or _is_called(node) or _is_definition_name(node):
            continue
        if node.parent is not None and node.parent.child_by_field_name("attribute") == node:
            continue
        names.setdefault(data[node.start_byte : node.end_byte].decode("utf-8", "replace"))
    for kept in ("self", "this", "None", "print", "len", "range"):
        names.pop(kept, None)
    return list(names)[:12]


def _is_called(node: tree_sitter.Node) -> bool:
    parent = node.parent
    return (
        parent is not None
        and parent.type in ("call", "call_expression")
        and (parent.child_by_field_name("function") == node)
    )


def _is_definition_name(node: tree_sitter.Node) -> bool:
    parent = node.parent
    return (
        parent is not None
        and parent.type in _DEFINITIONS
        and (parent.child_by_field_name("name") == node)
    )
