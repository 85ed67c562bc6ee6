"""What the user's last edit changed, as a pattern that other places in the code can repeat.

The edit's span is widened to the smallest syntax node around it whose counterpart in the text
before the edit is a node of the same type over the same surroundings: an identifier (a
rename), an attribute or field name, a literal, or a call's argument list that gained or lost
one argument. A few enclosing nodes are tried too, smallest first, up to the statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from pairline.engine.core.languages import Language

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
# The suffixes `role` adds to an identifier's type (see there).
ATTRIBUTE = "@attribute"
KEYWORD = "@keyword"
# A string at least this long is distinctive: its other occurrences change wherever they are.
_DISTINCT_STRING = 8


@dataclass(frozen=True)
class NodeChange:
    """Nodes of `role` whose text is `old` become `new` (`kind` says what they are)."""

    kind: str  # "rename", "attribute", "literal" or "expression"
    role: str  # see `role`
    old: bytes
    new: bytes
    site: tuple[int, int]  # the edited node, in bytes of the text after the edit
    slot: bytes = b""  # a literal's surroundings that other occurrences must share
    binding: bool = False  # a rename where the name is bound (see `is_binding`)


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


def _is_field(node: tree_sitter.Node, parent: tree_sitter.Node, field: str) -> bool:
    child = parent.child_by_field_name(field)
    return (
        child is not None
        and child.start_byte == node.start_byte
        and child.end_byte == node.end_byte
    )


def role(node: tree_sitter.Node, entry: Language) -> str:
    """The node's type, told apart by what it names where its type alone does not say.

    In Python an identifier also names an attribute (`obj.name`: "identifier@attribute") or a
    keyword argument (`f(name=1)`: "identifier@keyword"): renaming a variable does not rename
    those.
    """
    parent = node.parent
    if node.type in entry.identifier_nodes and parent is not None:
        if parent.type in entry.member_access_nodes and _is_field(node, parent, "attribute"):
            return node.type + ATTRIBUTE
        if parent.type in entry.keyword_argument_nodes and _is_field(node, parent, "name"):
            return node.type + KEYWORD
    return node.type


def node_type(role: str) -> str:
    return role.partition("@")[0]


def is_member(role: str, entry: Language) -> bool:
    """Whether nodes of `role` name a member (attribute, property, field) of a value."""
    return role.endswith(ATTRIBUTE) or role in entry.member_name_nodes


def is_scope(node: tree_sitter.Node, entry: Language) -> bool:
    """Whether `node` is a function: a change inside one likely repeats inside it."""
    return node.type in entry.function_nodes or node.type in entry.closure_nodes


def _text(node: tree_sitter.Node | None) -> bytes:
    return b"" if node is None or node.text is None else node.text


def arguments(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [child for child in node.named_children if child.type != "comment"]


def keyword(node: tree_sitter.Node, entry: Language) -> bytes:
    if node.type not in entry.keyword_argument_nodes:
        return b""
    return _text(node.child_by_field_name("name"))


def callee(call: tree_sitter.Node) -> tree_sitter.Node | None:
    return call.child_by_field_name("function") or call.child_by_field_name("constructor")


def call_of(node: tree_sitter.Node, entry: Language) -> tree_sitter.Node | None:
    """The call whose argument list `node` is, if it is one."""
    parent = node.parent
    if (
        node.type in entry.argument_list_nodes
        and parent is not None
        and parent.type in entry.call_nodes
    ):
        return parent
    return None


def slot(node: tree_sitter.Node, entry: Language) -> bytes:
    """Where a literal or keyword stands: the call it is an argument of, else its parent's text.

    A keyword argument's name is renamed in calls of the same function only; a literal changes
    where it is the same argument of the same function, or has the same surroundings.
    """
    parent = node.parent
    if parent is None:
        return b""
    if role(node, entry).endswith(KEYWORD):
        call = None if parent.parent is None else call_of(parent.parent, entry)
        return b"" if call is None else _text(callee(call)) + b"(=)"
    if "string" in node.type and node.end_byte - node.start_byte >= _DISTINCT_STRING:
        return b""
    call = call_of(parent, entry)
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


def _stops(node: tree_sitter.Node, entry: Language) -> bool:
    return (
        node.parent is None
        or is_scope(node, entry)
        or (node.type.endswith(_STOPS) and node.type not in entry.argument_list_nodes)
        or node.end_byte - node.start_byte > _MAX_NODE_BYTES
    )


def derive(
    entry: Language,
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
    while node is not None and len(changes) < _LEVELS and not _stops(node, entry):
        if node.type not in entry.string_part_nodes:
            old_end = node.end_byte - end_after + end_before
            twin = exact(before, node.start_byte, old_end, node.type)
            change = None if twin is None else _change(entry, node, twin)
            if change is not None:
                changes.append(change)
        node = node.parent
    return changes


# Fields through which grammars name what a node binds: `def f`, `x = …`, `let x`, `for x in`.
_BINDING_FIELDS = ("name", "left", "pattern")


def is_binding(node: tree_sitter.Node) -> bool:
    """Whether the identifier `node` binds its name (a definition, a parameter, an assignment's
    target) rather than using a name bound elsewhere.

    Renaming where a name is bound renames the thing, so its uses must follow; renaming one use
    (a type in an annotation, a function called) is as often a change of that one place.
    """
    child, parent = node, node.parent
    # Targets of a tuple assignment sit in a list or pattern: climb to the statement.
    while parent is not None and parent.type.endswith(("_list", "_pattern")):
        if "parameter" in parent.type:
            return True
        child, parent = parent, parent.parent
    if parent is None:
        return False
    if "parameter" in parent.type:
        return True
    return any(parent.child_by_field_name(field) == child for field in _BINDING_FIELDS)


def _change(entry: Language, node: tree_sitter.Node, twin: tree_sitter.Node) -> Change | None:
    call = call_of(node, entry)
    if call is not None:
        change = _argument_change(entry, call, node, twin)
        if change is not None:
            return change
    kind = role(node, entry)
    old, new = _text(twin), _text(node)
    if role(twin, entry) != kind or old == new or not old or not new:
        return None  # not the same kind of node, or an empty one (a MISSING token)
    site = (node.start_byte, node.end_byte)
    if is_member(kind, entry) or kind in entry.member_access_nodes:
        return NodeChange("attribute", kind, old, new, site)
    if node.type in entry.identifier_nodes:
        where = slot(twin, entry) if kind.endswith(KEYWORD) else b""
        return NodeChange("rename", kind, old, new, site, where, binding=is_binding(node))
    if node.type in entry.literal_nodes:
        return NodeChange("literal", kind, old, new, site, slot(twin, entry))
    return NodeChange("expression", kind, old, new, site)


def _argument_change(
    entry: Language, call: tree_sitter.Node, node: tree_sitter.Node, twin: tree_sitter.Node
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
        keyword=keyword(longer[index], entry),
        added=longer is new,
        site=(call.start_byte, call.end_byte),
    )
