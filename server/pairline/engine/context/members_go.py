"""The member names a Go file defines, and the scope at a cursor in one.

Go's unit is the package (a folder): the name monitor merges the files of a package (`merged`).
A package's members seen from outside are its exported top-level names. A struct's are its
fields, its methods (from any file of the package) and its embedded types' members; an
interface's are its methods. Types as written come from declarations (`p *Server`, `q util.T`,
`var y Server`) and composite literals (`x := &Server{}`); a method's receiver is a parameter of
its type; a function's single result type is kept, so `s := util.New()` has it. Same shapes as
the Python side (members.py, scope.py).
"""

from __future__ import annotations

from collections.abc import Iterable

import tree_sitter

from pairline.engine.context.imports import extract_imports
from pairline.engine.context.members import ClassInfo, FileMembers, returned, text
from pairline.engine.context.scope import Scope, bind, enclosing_at, nodes_before

_FUNCTIONS = ("function_declaration", "method_declaration", "func_literal")


def type_of(node: tree_sitter.Node | None) -> str | None:
    """The named type a type or a composite literal names, as written ("T", "pkg.T")."""
    if node is None:
        return None
    if node.type in ("type_identifier", "qualified_type"):
        return text(node)
    if node.type == "pointer_type" and node.named_children:
        return type_of(node.named_children[-1])
    if node.type == "generic_type":
        return type_of(node.child_by_field_name("type"))
    if node.type == "unary_expression" and text(node).startswith("&"):
        return type_of(node.child_by_field_name("operand"))
    if node.type == "composite_literal":
        return type_of(node.child_by_field_name("type"))
    if node.type == "call_expression":  # `util.New()`: a function whose result may be known
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type in ("identifier", "selector_expression"):
            return text(callee)
    return None


def _struct(node: tree_sitter.Node, info: ClassInfo) -> None:
    body = next((c for c in node.named_children if c.type == "field_declaration_list"), None)
    for field in body.named_children if body is not None else ():
        if field.type != "field_declaration":
            continue
        names = field.children_by_field_name("name")
        kind = type_of(field.child_by_field_name("type"))
        for name in names:
            info.names.add(text(name))
            if kind:
                info.types.setdefault(text(name), kind)
        if not names:  # embedded: its members are promoted
            if kind is None:
                info.open = True
            else:
                info.names.add(kind.rsplit(".", 1)[-1])
                info.bases.append(kind)


def _type_spec(spec: tree_sitter.Node, found: FileMembers) -> None:
    name = text(spec.child_by_field_name("name"))
    shape = spec.child_by_field_name("type")
    info = found.classes.setdefault(name, ClassInfo())
    if shape is not None and shape.type == "struct_type":
        _struct(shape, info)
    elif shape is not None and shape.type == "interface_type":
        for elem in shape.named_children:
            if elem.type == "method_elem":
                info.names.add(text(elem.child_by_field_name("name")))
            else:
                info.open = True  # an embedded interface or a type set
    else:
        info.open = True  # `type Celsius float64`, an alias: not a shape the monitor reads


def _receiver_type(method: tree_sitter.Node) -> str | None:
    receiver = method.child_by_field_name("receiver")
    if receiver is None:
        return None
    params = [c for c in receiver.named_children if c.type == "parameter_declaration"]
    return type_of(params[0].child_by_field_name("type")) if params else None


def module_members(root: tree_sitter.Node, language: str) -> FileMembers:
    """One Go file's top-level names (exported ones as the package's members), its types and
    the methods it declares on them."""
    found = FileMembers(imports=extract_imports(language, root))
    exported: set[str] = set()
    for node in root.named_children:
        if node.type == "function_declaration":
            name = text(node.child_by_field_name("name"))
            exported.add(name)
            made = type_of(node.child_by_field_name("result"))
            if made is not None:
                returned(found, name, made)
        elif node.type == "method_declaration":
            owner = _receiver_type(node)
            if owner is not None:
                info = found.classes.setdefault(owner, ClassInfo())
                info.names.add(text(node.child_by_field_name("name")))
        elif node.type == "type_declaration":
            for spec in node.named_children:
                if spec.type in ("type_spec", "type_alias"):
                    exported.add(text(spec.child_by_field_name("name")))
                    _type_spec(spec, found)
        elif node.type in ("var_declaration", "const_declaration"):
            for spec in _specs(node):
                for name, kind in _declared(spec):
                    exported.add(name)
                    if kind:
                        found.objects[name] = kind
    found.names = {name for name in exported if name[:1].isupper()}
    return found


def _specs(node: tree_sitter.Node) -> Iterable[tree_sitter.Node]:
    for child in node.named_children:
        if child.type in ("var_spec", "const_spec"):
            yield child
        elif child.type in ("var_spec_list", "const_spec_list"):
            yield from (c for c in child.named_children if c.type in ("var_spec", "const_spec"))


def _declared(spec: tree_sitter.Node) -> list[tuple[str, str | None]]:
    names = [text(n) for n in spec.children_by_field_name("name")]
    kind = type_of(spec.child_by_field_name("type"))
    value = spec.child_by_field_name("value")
    if kind is None and value is not None and len(value.named_children) == len(names) == 1:
        kind = type_of(value.named_children[0])
    return [(name, kind) for name in names]


def merged(files: Iterable[FileMembers]) -> FileMembers:
    """The files of one package as one: names, types (methods from every file), objects."""
    out = FileMembers()
    for found in files:
        out.names |= found.names
        out.imports.extend(found.imports)
        out.objects.update(found.objects)
        for name, kind in found.returns.items():
            returned(out, name, kind)
        out.open = out.open or found.open
        for name, info in found.classes.items():
            into = out.classes.setdefault(name, ClassInfo())
            into.names |= info.names
            into.bases.extend(b for b in info.bases if b not in into.bases)
            into.types.update(info.types)
            into.open = into.open or info.open
    return out


def _function_names(function: tree_sitter.Node, offset: int, out: dict[str, str | None]) -> None:
    for field in ("receiver", "parameters"):
        params = function.child_by_field_name(field)
        for param in params.named_children if params is not None else ():
            kind = type_of(param.child_by_field_name("type"))
            for name in param.children_by_field_name("name"):
                bind(out, text(name), kind)
    for node in nodes_before(function, offset, _FUNCTIONS):
        if node.type == "short_var_declaration":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            declared = [text(n) for n in left.named_children] if left is not None else []
            values = right.named_children if right is not None else []
            for index, local in enumerate(declared):
                one = len(declared) == len(values)
                bind(out, local, type_of(values[index]) if one else None)
        elif node.type == "var_spec":
            for local, kind in _declared(node):
                bind(out, local, kind)
        elif node.type in ("range_clause", "parameter_declaration"):
            for first in node.named_children[:1]:
                for ident in first.named_children if first.type == "expression_list" else [first]:
                    bind(out, text(ident), None)


def scope_at(root: tree_sitter.Node, lines: list[str], line: int, _indent: int) -> Scope:
    """The scope at the start of `line` (the cursor line, left out)."""
    offset, chain = enclosing_at(root, lines, line, _FUNCTIONS)
    scope = Scope()
    for function in chain:
        _function_names(function, offset, scope.locals)
    return scope
