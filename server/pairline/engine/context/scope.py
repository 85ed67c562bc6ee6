"""What the names at the cursor of a Python buffer are bound to: the enclosing class and function.

The buffer is parsed with the cursor line blanked (it is being typed and rarely parses), so the
enclosing definitions are found by position and indentation: a definition encloses the cursor
when it starts above it, at a smaller indentation, and no code at its own indentation or less
sits between its end and the cursor. Inside a function, its parameters and the names it assigns
are local: with a type as written (an annotation, an obvious constructor call) or None (bound,
type unknown), which hides a module-level name of the same spelling.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import tree_sitter

from pairline.engine.context.members import (
    ClassInfo,
    assigned_type,
    class_info,
    definition,
    targets,
    text,
    type_of,
)

_DEFS = ("function_definition", "class_definition")
_NESTED = ("function_definition", "class_definition", "lambda", "decorated_definition")
_BINDERS = ("for_statement", "for_in_clause", "with_item", "as_pattern", "except_clause")


@dataclass
class Scope:
    """The definitions around the cursor, innermost last."""

    cls: ClassInfo | None = None  # the class whose method the cursor is in
    cls_name: str = ""
    first: str = ""  # the method's first parameter (`self`, or `cls` in a classmethod)
    method: str = ""  # that method's name
    classmethod: bool = False
    locals: dict[str, str | None] = field(default_factory=dict)


def _encloses(node: tree_sitter.Node, lines: list[str], line: int, indent: int) -> bool:
    if node.start_point.row >= line or node.start_point.column >= indent:
        return False
    if node.end_point.row >= line:
        return True
    for row in range(node.end_point.row + 1, line):
        stripped = lines[row].strip() if row < len(lines) else ""
        code = bool(stripped) and not stripped.startswith("#")
        if code and len(lines[row]) - len(lines[row].lstrip()) <= node.start_point.column:
            return False
    return True


def _enclosing(
    root: tree_sitter.Node, lines: list[str], line: int, indent: int
) -> list[tree_sitter.Node]:
    """The definitions (decorated ones unwrapped) that enclose the cursor, outermost first."""
    chain: list[tree_sitter.Node] = []
    children = list(root.children)
    while children:
        found = None
        for child in children:
            inner = definition(child)
            if inner.type in _DEFS and _encloses(child, lines, line, indent):
                found = inner
        if found is None:
            # Definitions under if/try/with blocks still count.
            nested = [c for c in children if c.type not in _DEFS and c.start_point.row < line]
            blocks = [g for c in nested for g in c.children if g.type in ("block", "else_clause")]
            children = [g for b in blocks for g in b.children]
            if not any(definition(c).type in _DEFS for c in children):
                break
            continue
        chain.append(found)
        body = found.child_by_field_name("body")
        children = list(body.children) if body is not None else []
    return chain


def enclosing_at(
    root: tree_sitter.Node, lines: list[str], line: int, kinds: tuple[str, ...]
) -> tuple[int, list[tree_sitter.Node]]:
    """For languages whose blocks have braces: the byte offset of the start of `line` and the
    nodes of `kinds` around it, outermost first."""
    offset = sum(len(item.encode("utf-8", "surrogatepass")) + 1 for item in lines[:line])
    node: tree_sitter.Node | None = root.descendant_for_byte_range(offset, offset)
    chain: list[tree_sitter.Node] = []
    while node is not None:
        if node.type in kinds:
            chain.append(node)
        node = node.parent
    return offset, chain[::-1]


def nodes_before(
    function: tree_sitter.Node, offset: int, skipped: tuple[str, ...]
) -> Iterator[tree_sitter.Node]:
    """The nodes of `function`'s body that start before `offset`, those of `skipped` kinds
    (nested functions: their names are not the cursor's) and all inside them left out."""
    body = function.child_by_field_name("body")
    stack = list(body.named_children) if body is not None else []
    while stack:
        node = stack.pop()
        if node.start_byte >= offset or node.type in skipped:
            continue
        yield node
        stack.extend(node.named_children)


def _parameters(function: tree_sitter.Node, out: dict[str, str | None]) -> list[str]:
    """Bind `function`'s parameters in `out`; returns their names in order."""
    names: list[str] = []
    parameters = function.child_by_field_name("parameters")
    for param in parameters.named_children if parameters is not None else ():
        if param.type == "identifier":
            name, kind = text(param), None
        elif param.type in ("typed_parameter", "typed_default_parameter", "default_parameter"):
            name_node = param.child_by_field_name("name") or param.named_children[0]
            if name_node.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name, kind = text(name_node).lstrip("*"), None
            else:
                name, kind = text(name_node), type_of(param.child_by_field_name("type"))
        elif param.type in ("list_splat_pattern", "dictionary_splat_pattern"):
            name, kind = text(param).lstrip("*"), None
        else:
            continue
        out[name] = kind
        names.append(name)
    return names


def bind(out: dict[str, str | None], name: str, kind: str | None) -> None:
    # A name bound twice with different types has no one type.
    out[name] = kind if name not in out or out[name] == kind else None


def _locals(function: tree_sitter.Node, line: int, out: dict[str, str | None]) -> None:
    """The names the function's body binds above the cursor line."""
    body = function.child_by_field_name("body")
    stack = list(body.named_children) if body is not None else []
    while stack:
        node = stack.pop()
        if node.start_point.row >= line or node.type in _NESTED:
            if node.type in _NESTED[:2] or node.type == "decorated_definition":
                bind(out, text(definition(node).child_by_field_name("name")), None)
            continue
        if node.type == "assignment":
            names = targets(node.child_by_field_name("left"))
            kind = assigned_type(node) if len(names) == 1 else None
            for name in names:
                bind(out, name, kind)
        elif node.type in _BINDERS:
            left = node.child_by_field_name("left") or node.child_by_field_name("alias")
            for name in targets(left) if left is not None else []:
                bind(out, name, None)
            if node.type in ("with_item", "as_pattern", "except_clause"):
                for child in node.named_children:
                    if child.type == "as_pattern_target":
                        for name in targets(
                            child.named_children[0] if child.named_children else child
                        ):
                            bind(out, name, None)
        stack.extend(node.named_children)


def _decorators(node: tree_sitter.Node) -> set[str]:
    parent = node.parent
    if parent is None or parent.type != "decorated_definition":
        return set()
    return {text(d).lstrip("@").strip() for d in parent.children if d.type == "decorator"}


def scope_at(root: tree_sitter.Node, lines: list[str], line: int, indent: int) -> Scope:
    """The scope at the cursor (`line`, the cursor line's indentation `indent`)."""
    scope = Scope()
    chain = _enclosing(root, lines, line, indent)
    for index, node in enumerate(chain):
        if node.type != "function_definition":
            continue
        names = _parameters(node, scope.locals)
        _locals(node, line, scope.locals)
        owner = chain[index - 1] if index else None
        if owner is not None and owner.type == "class_definition" and names:
            decorators = _decorators(node)
            if "staticmethod" in decorators:
                continue
            scope.cls = class_info(owner)
            scope.cls_name = text(owner.child_by_field_name("name"))
            scope.first = names[0]
            scope.method = text(node.child_by_field_name("name"))
            scope.classmethod = "classmethod" in decorators
            scope.locals.pop(names[0], None)
    return scope
