"""The member names a Rust file defines, and the scope at a cursor in one.

A module's members are its items (functions, types, traits, constants, macros, `mod`s) and the
names its `use` declarations bind (re-exports). A struct's are its fields, an enum's its
variants, a trait's its items. Methods live in `impl` blocks, which may sit in any file of the
crate: they are kept apart (`FileMembers.impls`, by the type's last path segment; a blanket
`impl<T> Trait for T` under `EVERY_TYPE`) and the name monitor (receivers.py) merges those of
the whole crate, the blanket ones into every type. A trait an `impl` is for, and each
`#[derive]`, is a base: followed through the workspace, or known by name for the standard ones;
any other (a `Deref`, a derive macro from a crate) leaves the type's members unknown. Types as
written come from annotations (`x: &Foo`), `Foo { .. }` literals and `Foo::new(..)` /
`Foo::default()` calls; `self` and `Self` are the `impl` block's type. Paths are kept with
`.` between segments, as the monitor looks them up (`fmt::Display` is "fmt.Display").
"""

from __future__ import annotations

import tree_sitter

from pairline.engine.context.imports import ImportRef, extract_imports
from pairline.engine.context.members import ClassInfo, FileMembers, text
from pairline.engine.context.scope import Scope, bind, enclosing_at, nodes_before
from pairline.engine.core import syntax

_CLONE = frozenset(["clone", "clone_from", "to_owned", "clone_into"])
_ORD = frozenset(["cmp", "max", "min", "clamp"])
# Operator traits: `Add` has `add`, `AddAssign` has `add_assign`, and so on.
_OPERATORS = ["Add", "Sub", "Mul", "Div", "Rem", "BitAnd", "BitOr", "BitXor", "Shl", "Shr"]
# Traits from outside the workspace (derived or implemented) whose methods are known by name.
BUILTIN_BASES: dict[str, frozenset[str]] = {
    "Debug": frozenset(["fmt"]),
    "Display": frozenset(["fmt", "to_string"]),
    "Clone": _CLONE,
    "Copy": frozenset(),
    "PartialEq": frozenset(["eq", "ne"]),
    "Eq": frozenset(),
    "PartialOrd": frozenset(["partial_cmp", "lt", "le", "gt", "ge"]),
    "Ord": _ORD,
    "Hash": frozenset(["hash"]),
    "Default": frozenset(["default"]),
    "FromStr": frozenset(["from_str"]),
    "From": frozenset(["from"]),
    "TryFrom": frozenset(["try_from"]),
    "AsRef": frozenset(["as_ref"]),
    "AsMut": frozenset(["as_mut"]),
    "Error": frozenset(["source", "description", "cause"]),
    "Send": frozenset(),
    "Sync": frozenset(),
    "Drop": frozenset(),
    "Serialize": frozenset(["serialize"]),
    "Deserialize": frozenset(["deserialize"]),
    "Index": frozenset(["index"]),
    "IndexMut": frozenset(["index_mut"]),
    "IntoIterator": frozenset(["into_iter"]),
    "FromIterator": frozenset(["from_iter"]),
    "Extend": frozenset(["extend"]),
    "Borrow": frozenset(["borrow"]),
    "BorrowMut": frozenset(["borrow_mut"]),
    "ToString": frozenset(["to_string"]),
    "TryInto": frozenset(["try_into"]),
    "Into": frozenset(["into"]),
    "Unpin": frozenset(),
    "Neg": frozenset(["neg"]),
    "Not": frozenset(["not"]),
    **{name: frozenset([name.lower()]) for name in _OPERATORS},
    **{f"{name}Assign": frozenset([f"{name.lower()}_assign"]) for name in _OPERATORS},
}
# What every type has through the standard library's blanket implementations.
TYPE_MEMBERS = frozenset(["into", "try_into", "from", "try_from", "borrow", "borrow_mut"]) | {
    "type_id"
}
_FUNCTIONS = ("function_item", "closure_expression")
_ITEMS = {
    "function_item",
    "function_signature_item",
    "struct_item",
    "enum_item",
    "union_item",
    "trait_item",
    "type_item",
    "const_item",
    "static_item",
    "mod_item",
    "macro_definition",
}
# Calls that obviously give a value of the type they are called on.
_CONSTRUCTORS = frozenset(["new", "default"])


def _path(node: tree_sitter.Node) -> str:
    return text(node).replace("::", ".").replace(" ", "")


def type_of(node: tree_sitter.Node | None) -> str | None:
    """The named type a type, a struct literal or a constructor call names, as written."""
    if node is None:
        return None
    if node.type in ("type_identifier", "scoped_type_identifier", "identifier"):
        return _path(node)
    if node.type == "reference_type":
        return type_of(node.child_by_field_name("type"))
    if node.type == "generic_type":
        return type_of(node.child_by_field_name("type"))
    if node.type == "struct_expression":
        return type_of(node.child_by_field_name("name"))
    if node.type == "reference_expression":
        return type_of(node.child_by_field_name("value"))
    if node.type == "call_expression":
        callee = node.child_by_field_name("function")
        named = callee.child_by_field_name("name") if callee is not None else None
        if callee is not None and callee.type == "scoped_identifier" and named is not None:
            return (
                type_of(callee.child_by_field_name("path"))
                if text(named) in _CONSTRUCTORS
                else None
            )
    return None


def _derives(item: tree_sitter.Node) -> list[str]:
    """The traits the `#[derive(...)]` attributes right above `item` name."""
    names: list[str] = []
    node = item.prev_named_sibling
    while node is not None and node.type in ("attribute_item", "line_comment", "block_comment"):
        attribute = node.named_children[0] if node.named_children else None
        head = attribute.named_children[0] if attribute and attribute.named_children else None
        arguments = attribute.child_by_field_name("arguments") if attribute else None
        if head is not None and text(head) == "derive" and arguments is not None:
            names += [
                _path(c) for c in arguments.named_children
                if c.type in ("identifier", "scoped_identifier")
            ]  # fmt: skip
        node = node.prev_named_sibling
    return names


def _body_names(body: tree_sitter.Node | None, info: ClassInfo) -> None:
    """The items of a trait's or an `impl`'s body."""
    for item in body.named_children if body is not None else ():
        name = item.child_by_field_name("name")
        if item.type in _ITEMS or item.type == "associated_type":
            if name is not None:
                info.names.add(text(name))
        elif item.type == "macro_invocation":
            info.open = True  # a macro may write methods a reader cannot see


def _definition(item: tree_sitter.Node, found: FileMembers) -> None:
    """A struct, enum, union or trait: a class with its fields, variants or items."""
    info = found.classes.setdefault(text(item.child_by_field_name("name")), ClassInfo())
    info.bases += _derives(item)
    body = item.child_by_field_name("body")
    if item.type == "trait_item":
        info.trait = True
        _body_names(body, info)
        return
    for index, member in enumerate(body.named_children if body is not None else ()):
        if member.type in ("field_declaration", "enum_variant"):
            name = text(member.child_by_field_name("name"))
            info.names.add(name)
            kind = type_of(member.child_by_field_name("type"))
            if kind and member.type == "field_declaration":
                info.types.setdefault(name, kind)
        elif body is not None and body.type == "ordered_field_declaration_list":
            info.names.add(str(index))  # tuple struct fields: .0, .1


# The key of the `impl` blocks for every type (`impl<T: Show> Describe for T`).
EVERY_TYPE = "*"


def _impl(item: tree_sitter.Node, found: FileMembers) -> None:
    kind = type_of(item.child_by_field_name("type"))
    if kind is None:
        return
    generic = item.child_by_field_name("type_parameters")
    parameters = {
        text(p.child_by_field_name("name") or p)
        for p in (generic.named_children if generic is not None else ())
    }
    key = EVERY_TYPE if kind in parameters else kind.rsplit(".", 1)[-1]
    info = found.impls.setdefault(key, ClassInfo())
    trait = type_of(item.child_by_field_name("trait"))
    if trait is not None and trait not in info.bases:
        info.bases.append(trait)
    _body_names(item.child_by_field_name("body"), info)


def _use_names(refs: list[ImportRef]) -> set[str]:
    return {local for ref in refs for _, local in ref.names if local != "*"}


def module_members(root: tree_sitter.Node, language: str) -> FileMembers:
    """One Rust file's items, its types' fields and variants, and the `impl` blocks in it."""
    imports = extract_imports(language, root)
    found = FileMembers(imports=imports, names=_use_names(imports))
    # `crate::` and `super::` are receivers too: the crate root's and the parent's items.
    found.imports += [ImportRef("crate", namespace="crate"), ImportRef("super", namespace="super")]
    for node in root.named_children:
        if node.type == "expression_statement" and node.named_children:
            node = node.named_children[0]  # `m!(...);`
        if node.type == "impl_item":
            _impl(node, found)
            continue
        if node.type not in _ITEMS:
            if node.type == "macro_invocation":
                # It may define items, or methods of the types it names, a reader cannot see.
                found.open = True
                for word in syntax.named_descendants(node):
                    if word.type == "identifier" and text(word)[:1].isupper():
                        found.impls.setdefault(text(word), ClassInfo()).open = True
            continue
        name = text(node.child_by_field_name("name"))
        found.names.add(name)
        if node.type in ("struct_item", "enum_item", "union_item", "trait_item"):
            _definition(node, found)
        elif node.type in ("const_item", "static_item"):
            kind = type_of(node.child_by_field_name("type"))
            if kind:
                found.objects[name] = kind
    return found


def _pattern_names(node: tree_sitter.Node | None) -> list[str]:
    if node is None:
        return []
    if node.type == "identifier":
        return [text(node)]
    if node.type == "mut_pattern" and node.named_children:
        return _pattern_names(node.named_children[-1])
    return [text(n) for n in syntax.named_descendants(node) if n.type == "identifier"]


def _function_names(function: tree_sitter.Node, offset: int, out: dict[str, str | None]) -> None:
    params = function.child_by_field_name("parameters")
    for param in params.named_children if params is not None else ():
        kind = type_of(param.child_by_field_name("type"))
        pattern = param.child_by_field_name("pattern")
        names = _pattern_names(pattern if pattern is not None else param)
        for name in names:
            bind(out, name, kind if len(names) == 1 else None)
    for node in nodes_before(function, offset, _FUNCTIONS):
        if node.type == "let_declaration":
            names = _pattern_names(node.child_by_field_name("pattern"))
            kind = type_of(node.child_by_field_name("type")) or type_of(
                node.child_by_field_name("value")
            )
            for name in names:
                bind(out, name, kind if len(names) == 1 else None)
        elif node.type in ("for_expression", "let_condition", "match_arm", "closure_parameters"):
            field = node.child_by_field_name("pattern")
            for name in _pattern_names(field if field is not None else node):
                bind(out, name, None)


def scope_at(root: tree_sitter.Node, lines: list[str], line: int, _indent: int) -> Scope:
    """The scope at the start of `line` (the cursor line, left out)."""
    offset, chain = enclosing_at(root, lines, line, (*_FUNCTIONS, "impl_item"))
    scope = Scope()
    owner: str | None = None
    for node in chain:
        if node.type == "impl_item":
            owner = type_of(node.child_by_field_name("type"))
            continue
        _function_names(node, offset, scope.locals)
        params = node.child_by_field_name("parameters")
        has_self = params is not None and any(
            p.type == "self_parameter" for p in params.named_children
        )
        if owner is not None and has_self:
            scope.locals["self"] = owner
    if owner is not None:
        scope.locals["Self"] = owner
        for name, kind in scope.locals.items():
            if kind == "Self":
                scope.locals[name] = owner
    return scope
