"""The step a loop is missing: small edits that add one statement to its body.

A `while` loop whose condition reads names that its body never writes runs forever (or not at
all): the decrement was forgotten (`while div:` without `div -= 1`), or the step is the wrong
size (`while number >= num[i]` without `number -= num[i]`). Code that hangs is among the bugs
people most often ask to fix, and no one-token edit writes a missing statement. For each
such name the step the condition implies is offered: down towards a lower bound (`v > 0`, a
bare `v`), up towards an upper one (`v < n`), by the bound itself where it is not a constant
(`v >= x` → `v -= x`), and where the body divides the name (`v % 10`, `v // num[i]`) a
remainder or a division by the same (`v //= 10`, `v %= num[i]`), right after that statement
or at the end of the body. A name the body assigns, updates or calls a method on counts as
written: its loop is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

# Loop node types whose condition decides when they end (Go's `for cond {}` included).
_LOOPS = frozenset({"while_statement", "while_expression", "for_statement"})
_BINARY = frozenset({"comparison_operator", "binary_expression", "binary_operator"})
_DIVISIONS = frozenset({"%", "/", "//"})
_NUMBERS = frozenset({"integer", "number", "integer_literal", "int_literal"})
_CALLS = frozenset({"call", "call_expression", "macro_invocation"})
# Node type -> the field naming what it writes; None: the whole node (Go's `i++`).
_WRITES: dict[str, str | None] = {
    "assignment": "left",
    "augmented_assignment": "left",
    "named_expression": "name",
    "for_statement": "left",
    "for_in_statement": "left",
    "assignment_expression": "left",
    "augmented_assignment_expression": "left",
    "update_expression": "argument",
    "variable_declarator": "name",
    "compound_assignment_expr": "left",
    "assignment_statement": "left",
    "short_var_declaration": "left",
    "inc_statement": None,
    "dec_statement": None,
    "let_declaration": "pattern",
}
_DOWN = frozenset({">", ">=", "!="})
_UP = frozenset({"<", "<="})
_MIRROR = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "!=": "!="}
_MOST_PER_LOOP = 6


@dataclass(frozen=True)
class Step:
    """A statement to insert at byte `at`, on 0-based line `line` once inserted."""

    at: int
    text: bytes
    line: int


def step_edits(root: tree_sitter.Node, data: bytes, lo: int, hi: int, language: str) -> list[Step]:
    """The missing steps of the loops inside [lo, hi) of the document `data`."""
    out: list[Step] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= lo or node.start_byte >= hi:
            continue
        stack.extend(reversed(node.children))
        if node.type in _LOOPS and node.start_byte >= lo and node.end_byte <= hi:
            out.extend(_loop_steps(node, data, language))
    return out


def _loop_steps(loop: tree_sitter.Node, data: bytes, language: str) -> Iterator[Step]:
    condition, body = _parts(loop)
    statements = _statements(body) if body is not None else []
    if condition is None or body is None or not statements:
        return
    wanted = list(_wanted(condition, statements, data))
    written = _written(body, data)
    if any(name in written for name, _, _ in wanted):
        return  # the body moves one of the names the condition reads: not this bug
    seen: set[tuple[int, bytes]] = set()
    for name, step, after in wanted:
        line_start = data.rfind(b"\n", 0, after.start_byte) + 1
        indent = data[line_start : after.start_byte]
        statement = _spelled(name, step, language)
        # A statement that shares its line with other code leaves no place for a new line.
        if indent.strip() or (after.end_byte, statement) in seen or len(seen) >= _MOST_PER_LOOP:
            continue
        seen.add((after.end_byte, statement))
        yield Step(after.end_byte, b"\n" + indent + statement, after.end_point[0] + 1)


def _parts(loop: tree_sitter.Node) -> tuple[tree_sitter.Node | None, tree_sitter.Node | None]:
    body = loop.child_by_field_name("body")
    if loop.type != "for_statement":
        return loop.child_by_field_name("condition"), body
    if loop.child_by_field_name("left") is not None:
        return None, None  # Python's `for x in xs`: it ends by itself
    # Go: `for cond {}` has a bare expression where a clause would be.
    bare = [c for c in loop.named_children if c.type not in ("for_clause", "range_clause", "block")]
    return (bare[0] if len(bare) == 1 and loop.named_child_count == 2 else None), body


def _statements(body: tree_sitter.Node) -> list[tree_sitter.Node]:
    statements = [c for c in body.named_children if "comment" not in c.type]
    if len(statements) == 1 and statements[0].type == "statement_list":  # Go
        statements = [c for c in statements[0].named_children if "comment" not in c.type]
    return statements


def _wanted(
    condition: tree_sitter.Node, statements: list[tree_sitter.Node], data: bytes
) -> Iterator[tuple[bytes, bytes, tree_sitter.Node]]:
    """(name, step, the statement it follows) the condition implies; a step is an operator and
    an operand. The plain steps end the body; a division or remainder of the name by `k` in a
    statement (`n % 10`, `number // num[i]`) gives `%= k` and `//= k`, right after that
    statement (the value was used) and at the end."""
    last = statements[-1]
    inner = condition
    while inner.type == "parenthesized_expression" and inner.named_child_count == 1:
        inner = inner.named_children[0]
    names: list[bytes] = []
    if inner.type == "identifier":
        names.append(_text(inner, data))
        yield names[-1], b"-= 1", last
    for _, left, operator, right in _binaries(inner, data):
        for name_node, other, op in ((left, right, operator), (right, left, _flip(operator))):
            if name_node.type != "identifier":
                continue
            names.append(_text(name_node, data))
            if op in _DOWN:
                yield names[-1], b"-= 1", last
                if other.type not in _NUMBERS:
                    yield names[-1], b"-= " + _text(other, data), last
            elif op in _UP:
                yield names[-1], b"+= 1", last
    for statement in statements:
        for _, left, operator, right in _binaries(statement, data):
            if operator in _DIVISIONS and _text(left, data) in names:
                for step in (b"%= ", b"//= "):
                    for after in (statement, last):
                        yield _text(left, data), step + _text(right, data), after


def _binaries(
    node: tree_sitter.Node, data: bytes
) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node, str, tree_sitter.Node]]:
    """Every binary operation under `node`: itself, its two operands and the operator."""
    for current in _nodes(node):
        if current.type in _BINARY and current.named_child_count == 2:
            left, right = current.named_children
            operator = data[left.end_byte : right.start_byte].strip()
            yield current, left, operator.decode("ascii", "replace"), right


def _flip(operator: str) -> str:
    return _MIRROR.get(operator, "")


def _spelled(name: bytes, step: bytes, language: str) -> bytes:
    """`name <step>` as a statement of `language`."""
    if step.startswith(b"//= ") and language != "python":
        divisor = step[4:]
        if language in ("javascript", "typescript", "tsx"):
            return name + b" = Math.floor(" + name + b" / " + divisor + b");"
        step = b"/= " + divisor  # Go and Rust divide integers whole
    statement = name + b" " + step
    return statement if language in ("python", "go") else statement + b";"


def _written(body: tree_sitter.Node, data: bytes) -> set[bytes]:
    """Names the body may change: assigned, updated or called a method on."""
    out: set[bytes] = set()
    for node in _nodes(body):
        targets: list[tree_sitter.Node] = []
        if node.type in _WRITES:
            field = _WRITES[node.type]
            target = node if field is None else node.child_by_field_name(field)
            targets = [target] if target is not None else []
        elif node.type in _CALLS:
            # A method called on a name may change it (`stack.pop()`); a number passed to a
            # function cannot, and a loop whose counter is only printed is still missing a step.
            callee = node.child_by_field_name("function") or node.child_by_field_name("macro")
            targets = [callee] if callee is not None and callee.type != "identifier" else []
        for target in targets:
            out.update(_text(n, data) for n in _nodes(target) if n.type == "identifier")
    return out


def _nodes(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _text(node: tree_sitter.Node, data: bytes) -> bytes:
    return data[node.start_byte : node.end_byte]
