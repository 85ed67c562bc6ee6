"""What the name monitor (receivers.py) needs to know per language: how to read a file's
definitions and the scope at a cursor, the names every module and object has, the bases from
outside the workspace whose members are known by name, and the methods that create attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import tree_sitter

from pairline.engine.context import members_go, members_js, members_rust
from pairline.engine.context.members import (
    MODULE_DUNDERS,
    OBJECT_DUNDERS,
    FileMembers,
    module_members,
)
from pairline.engine.context.scope import Scope, scope_at
from pairline.engine.core import languages

# Methods that give the instance its attributes: there `self.` may well name a new one.
CREATORS = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__", "setUp"})

_EXCEPTION = frozenset(
    [
        "args",
        "with_traceback",
        "add_note",
        "__traceback__",
        "__cause__",
        "__context__",
        "__notes__",
        "__suppress_context__",
    ]
)
_ENUM = frozenset(
    ["name", "value", "_name_", "_value_", "_missing_", "_generate_next_value_", "__members__"]
)
_INT = frozenset(name for name in dir(int) if not name.startswith("__"))
# Bases outside the workspace whose members are known by name.
BUILTIN_BASES: dict[str, frozenset[str]] = {
    "Enum": _ENUM,
    "Flag": _ENUM,
    "IntEnum": _ENUM | _INT,
    "IntFlag": _ENUM | _INT,
    "object": frozenset(),
    "ABC": frozenset(),
    "Generic": frozenset(),
    "Protocol": frozenset(),
    "BaseException": _EXCEPTION,
    "Exception": _EXCEPTION,
    **{
        name: _EXCEPTION
        for name in [
            "ValueError",
            "TypeError",
            "RuntimeError",
            "KeyError",
            "LookupError",
            "IndexError",
            "OSError",
            "AttributeError",
            "NotImplementedError",
            "ImportError",
        ]
    },
}


@dataclass(frozen=True)
class Rules:
    """What differs between the languages the monitor reads."""

    members: Callable[[tree_sitter.Node, str], FileMembers]
    scope: Callable[[tree_sitter.Node, list[str], int, int], Scope]
    module_names: frozenset[str]  # names every module has
    object_names: frozenset[str]  # names every object has
    bases: Mapping[str, frozenset[str]]  # bases outside the workspace known by name
    creators: frozenset[str]  # methods where `self.`/`this.` may name a new attribute
    # Go: a module is a package, all the files of a folder, merged by `merge`.
    packages: bool = False
    merge: Callable[[list[FileMembers]], FileMembers] = members_go.merged
    # Rust: a type's methods come from the `impl` blocks of every file of its crate.
    crate_impls: bool = False


RULES = {
    "python": Rules(
        lambda root, _language: module_members(root),
        scope_at,
        MODULE_DUNDERS,
        OBJECT_DUNDERS,
        BUILTIN_BASES,
        CREATORS,
    ),
    "js": Rules(
        members_js.module_members,
        members_js.scope_at,
        frozenset(),
        members_js.OBJECT_MEMBERS,
        members_js.BUILTIN_BASES,
        members_js.CREATORS,
    ),
    "go": Rules(
        members_go.module_members,
        members_go.scope_at,
        frozenset(),
        frozenset(),
        {},
        frozenset(),
        packages=True,
    ),
    "rust": Rules(
        members_rust.module_members,
        members_rust.scope_at,
        frozenset(),
        members_rust.TYPE_MEMBERS,
        members_rust.BUILTIN_BASES,
        frozenset(),
        crate_impls=True,
    ),
}


def family(language: str) -> str:
    """The language's family name ("python", "js", ...), "" when pairline does not know it."""
    entry = languages.find(language)
    return entry.name if entry is not None else ""
