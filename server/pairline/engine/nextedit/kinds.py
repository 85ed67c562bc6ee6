"""Which tree-sitter node types play which part, per grammar, for edit propagation.

Node types come from the grammars pairline ships (tree-sitter-python, -javascript,
-typescript, -go, -rust); a type missing from a table only makes propagation skip that
construct.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter


@dataclass(frozen=True)
class Kinds:
    """The node types of one grammar that propagation tells apart."""

    names: frozenset[str]  # identifiers: a rename changes these
    literals: frozenset[str]
    calls: frozenset[str]  # with an `arguments` field, and `function` or `constructor`
    arguments: frozenset[str]  # argument lists of those calls
    keyword_arguments: frozenset[str]  # `name=value` arguments (field `name`)
    scopes: frozenset[str]  # functions: a change inside one likely repeats inside it
    parts: frozenset[str]  # pieces of a literal, never a unit of change on their own


_STRING_PARTS = frozenset(
    {
        "string_start",
        "string_end",
        "string_content",
        "string_fragment",
        "escape_sequence",
        "interpreted_string_literal_content",
        "raw_string_literal_content",
    }
)

_PYTHON = Kinds(
    names=frozenset({"identifier", "keyword_identifier"}),
    literals=frozenset({"string", "concatenated_string", "integer", "float", "true", "false"}),
    calls=frozenset({"call"}),
    arguments=frozenset({"argument_list"}),
    keyword_arguments=frozenset({"keyword_argument"}),
    scopes=frozenset({"function_definition", "lambda"}),
    parts=_STRING_PARTS,
)

_JAVASCRIPT = Kinds(
    names=frozenset(
        {
            "identifier",
            "property_identifier",
            "private_property_identifier",
            "shorthand_property_identifier",
            "shorthand_property_identifier_pattern",
            "type_identifier",
        }
    ),
    literals=frozenset({"string", "template_string", "number", "true", "false", "regex"}),
    calls=frozenset({"call_expression", "new_expression"}),
    arguments=frozenset({"arguments"}),
    keyword_arguments=frozenset(),
    scopes=frozenset(
        {
            "function_declaration",
            "function_expression",
            "generator_function_declaration",
            "generator_function",
            "arrow_function",
            "method_definition",
        }
    ),
    parts=_STRING_PARTS,
)

_GO = Kinds(
    names=frozenset(
        {"identifier", "field_identifier", "type_identifier", "package_identifier", "label_name"}
    ),
    literals=frozenset(
        {
            "interpreted_string_literal",
            "raw_string_literal",
            "int_literal",
            "float_literal",
            "imaginary_literal",
            "rune_literal",
            "true",
            "false",
        }
    ),
    calls=frozenset({"call_expression"}),
    arguments=frozenset({"argument_list"}),
    keyword_arguments=frozenset(),
    scopes=frozenset({"function_declaration", "method_declaration", "func_literal"}),
    parts=_STRING_PARTS,
)

_RUST = Kinds(
    names=frozenset(
        {"identifier", "field_identifier", "type_identifier", "shorthand_field_identifier"}
    ),
    literals=frozenset(
        {
            "string_literal",
            "raw_string_literal",
            "char_literal",
            "integer_literal",
            "float_literal",
            "boolean_literal",
        }
    ),
    calls=frozenset({"call_expression"}),
    arguments=frozenset({"arguments"}),
    keyword_arguments=frozenset(),
    scopes=frozenset({"function_item", "closure_expression"}),
    parts=_STRING_PARTS,
)

_BY_LANGUAGE = {
    "python": _PYTHON,
    "javascript": _JAVASCRIPT,
    "javascriptreact": _JAVASCRIPT,
    "typescript": _JAVASCRIPT,
    "typescriptreact": _JAVASCRIPT,
    "go": _GO,
    "rust": _RUST,
}

# Languages whose buffers can share a change (a rename in a .ts file applies to a .tsx one).
_FAMILY = {
    "javascriptreact": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
}


def kinds_for(language: str) -> Kinds | None:
    return _BY_LANGUAGE.get(language)


def same_family(a: str, b: str) -> bool:
    return _FAMILY.get(a, a) == _FAMILY.get(b, b)


def _is_field(node: tree_sitter.Node, parent: tree_sitter.Node, field: str) -> bool:
    child = parent.child_by_field_name(field)
    return (
        child is not None
        and child.start_byte == node.start_byte
        and child.end_byte == node.end_byte
    )


def role(node: tree_sitter.Node, kinds: Kinds) -> str:
    """The node's type, told apart by what it names where its type alone does not say.

    In Python an identifier also names an attribute (`obj.name`: "identifier@attribute") or a
    keyword argument (`f(name=1)`: "identifier@keyword"): renaming a variable does not rename
    those.
    """
    parent = node.parent
    if node.type in kinds.names and parent is not None:
        if parent.type == "attribute" and _is_field(node, parent, "attribute"):
            return node.type + ATTRIBUTE
        if parent.type in kinds.keyword_arguments and _is_field(node, parent, "name"):
            return node.type + KEYWORD
    return node.type


def node_type(role: str) -> str:
    return role.partition("@")[0]


def is_member(role: str) -> bool:
    """Whether nodes of `role` name a member (attribute, property, field) of a value."""
    return role.endswith(ATTRIBUTE) or role in _MEMBERS


ATTRIBUTE = "@attribute"
KEYWORD = "@keyword"
_MEMBERS = frozenset({"property_identifier", "private_property_identifier", "field_identifier"})
