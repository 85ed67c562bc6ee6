"""What the user's last edit changed, as a pattern that other places in the code can repeat.

The edit's span is widened to the smallest syntax node around it whose counterpart in the text
before the edit is a node of the same type over the same surroundings: an identifier (a
rename), an attribute or field name, a literal, or a call's argument list that gained or lost
one argument. A few enclosing nodes are tried too, smallest first, up to the statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from pairline.engine.nextedit.kinds import KEYWORD, Kinds, is_member, role

# How far up the tree a change is looked for, and the biggest node it may be.
_LEVELS = 3
_MAX_NODE_BYTES = 300
# Nodes that hold statements: a change above an expression is no longer a pattern.
_STOPS = (
    "statement",
    "declaration",
    "definition",
    "item",
    "block",
    "module",
    "program",
    "source_file",
    "clause",
    "body",
    "_list",
)
# `value.name` in each grammar.
_MEMBER_ACCESS = frozenset(
    {"attribute", "member_expression", "selector_expression", "field_expression"}
)
# A string at least this long is distinctive: its other occurrences change wherever they are.
_DISTINCT_STRING = 8


@dataclass(frozen=True)
class NodeChange:
    """Nodes of `role` whose text is `old` become `new` (`kind` says what they are)."""

    kind: str  # "rename", "attribute", "literal" or "expression"
    role: str  # see `kinds.role`
    old: bytes
    new: bytes
    site: tuple[int, int]  # the edited node, in bytes of the text after the edit
    slot: bytes = b""  # a literal's surroundings that other occurrences must share


@dataclass(frozen=True)
class ArgumentChange:
    """Calls of `callee` with `count` arguments gain (or lose) `argument` at `index`."""

    callee: bytes
    count: int
    index: int
    argument: bytes
    keyword: bytes  # the argument's keyword (`name=` in Python), b"" when positional
    added: bool
    site: tuple[int, int]

    @property
    def kind(self) -> str:
        return "argument"


Change = NodeChange | ArgumentChange


def _text(node: tree_sitter.Node | None) -> bytes:
    return b"" if node is None or node.text is None else node.text


def arguments(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [child for child in node.named_children if child.type != "comment"]


def keyword(node: tree_sitter.Node, kinds: Kinds) -> bytes:
    if node.type not in kinds.keyword_arguments:
        return b""
    return _text(node.child_by_field_name("name"))


def callee(call: tree_sitter.Node) -> tree_sitter.Node | None:
    return call.child_by_field_name("function") or call.child_by_field_name("constructor")


def call_of(node: tree_sitter.Node, kinds: Kinds) -> tree_sitter.Node | None:
    """The call whose argument list `node` is, if it is one."""
    parent = node.parent
    if node.type in kinds.arguments and parent is not None and parent.type in kinds.calls:
        return parent
    return None


def slot(node: tree_sitter.Node, kinds: Kinds) -> bytes:
    """Where a literal or keyword stands: the call it is an argument of, else its parent's text.

    A keyword argument's name is renamed in calls of the same function only; a literal changes
    where it is the same argument of the same function, or has the same surroundings.
    """
    parent = node.parent
    if parent is None:
        return b""
    if role(node, kinds).endswith(KEYWORD):
        call = None if parent.parent is None else call_of(parent.parent, kinds)
        return b"" if call is None else _text(callee(call)) + b"(=)"
    if "string" in node.type and node.end_byte - node.start_byte >= _DISTINCT_STRING:
        return b""
    call = call_of(parent, kinds)
    if call is not None:
        index = [child.id for child in arguments(parent)].index(node.id)
        return _text(callee(call)) + b"(#%d)" % index
    text = _text(parent)
    offset = node.start_byte - parent.start_byte
    return text[:offset] + b"\0" + text[offset + node.end_byte - node.start_byte :]


def exact(root: tree_sitter.Node, start: int, end: int, type_: str) -> tree_sitter.Node | None:
    """The node of `type_` that spans exactly `start`..`end`, if any."""
    node = root.named_descendant_for_byte_range(start, end)
    while node is not None and node.start_byte == start and node.end_byte == end:
        if node.type == type_:
            return node
        node = node.parent
    return None


def _stops(node: tree_sitter.Node, kinds: Kinds) -> bool:
    return (
        node.parent is None
        or node.type in kinds.scopes
        or (node.type.endswith(_STOPS) and node.type not in kinds.arguments)
        or node.end_byte - node.start_byte > _MAX_NODE_BYTES
    )


def derive(
    kinds: Kinds,
    after: tree_sitter.Node,
    before: tree_sitter.Node,
    start: int,
    end_after: int,
    end_before: int,
) -> list[Change]:
    """The changes the edit of bytes `start`..`end_before` into `start`..`end_after` made.

    `after` and `before` are the roots of the trees after and before the edit (`before` may
    cover only the part around the edit). Smallest first: a rename before the change of the
    call around it.
    """
    changes: list[Change] = []
    node: tree_sitter.Node | None = after.named_descendant_for_byte_range(start, end_after)
    while node is not None and len(changes) < _LEVELS and not _stops(node, kinds):
        if node.type not in kinds.parts:
            old_end = node.end_byte - end_after + end_before
            twin = exact(before, node.start_byte, old_end, node.type)
            change = None if twin is None else _change(kinds, node, twin)
            if change is not None:
                changes.append(change)
        node = node.parent
    return changes


def _change(kinds: Kinds, node: tree_sitter.Node, twin: tree_sitter.Node) -> Change | None:
    call = call_of(node, kinds)
    if call is not None:
        change = _argument_change(kinds, call, node, twin)
        if change is not None:
            return change
    kind = role(node, kinds)
    old, new = _text(twin), _text(node)
    if role(twin, kinds) != kind or old == new or not old or not new:
        return None  # not the same kind of node, or an empty one (a MISSING token)
    site = (node.start_byte, node.end_byte)
    if is_member(kind) or kind in _MEMBER_ACCESS:
        return NodeChange("attribute", kind, old, new, site)
    if node.type in kinds.names:
        where = slot(twin, kinds) if kind.endswith(KEYWORD) else b""
        return NodeChange("rename", kind, old, new, site, where)
    if node.type in kinds.literals:
        return NodeChange("literal", kind, old, new, site, slot(twin, kinds))
    return NodeChange("expression", kind, old, new, site)


def _argument_change(
    kinds: Kinds, call: tree_sitter.Node, node: tree_sitter.Node, twin: tree_sitter.Node
) -> ArgumentChange | None:
    new, old = arguments(node), arguments(twin)
    longer, shorter = (new, old) if len(new) > len(old) else (old, new)
    function = callee(call)
    if len(longer) != len(shorter) + 1 or function is None:
        return None
    long_texts, short_texts = [_text(a) for a in longer], [_text(a) for a in shorter]
    index = next(
        (i for i, (a, b) in enumerate(zip(long_texts, short_texts, strict=False)) if a != b),
        len(shorter),
    )
    if long_texts[:index] + long_texts[index + 1 :] != short_texts:
        return None
    return ArgumentChange(
        callee=_text(function),
        count=len(old),
        index=index,
        argument=long_texts[index],
        keyword=keyword(longer[index], kinds),
        added=longer is new,
        site=(call.start_byte, call.end_byte),
    )
