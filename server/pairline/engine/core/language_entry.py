"""What pairline knows about one language: the `Language` entry and its parts.

The entries themselves, one per language, and the lookups by LSP language id and by file
extension are in languages.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Blocks(Enum):
    """How a language delimits a block: what ends a multi-line suggestion."""

    INDENT = "indent"  # `:` then an indented body (a dedent ends it)
    BRACES = "braces"  # `{ … }` (the closing brace ends it)
    KEYWORDS = "keywords"  # `then … end`, `do … done` (read by indentation, like INDENT)


@dataclass(frozen=True)
class Grammar:
    """A tree-sitter grammar wheel and the function in it that returns the language capsule."""

    module: str
    function: str = "language"


@dataclass(frozen=True)
class Dialect:
    """One LSP language id of a language, with its file extensions and grammar."""

    id: str
    extensions: tuple[str, ...]
    grammar: Grammar | None = None


@dataclass(frozen=True)
class Language:
    """Everything pairline knows about one language."""

    # Buffers of one name give each other context; the key of its per-language code.
    name: str
    dialects: tuple[Dialect, ...]
    comment: str  # the line-comment marker
    blocks: Blocks
    # Lines that start a definition. A parse window cut at an arbitrary line can begin inside a
    # docstring, a block comment or a template string, and then reads all the code after it as
    # text; one that begins at a definition does not.
    definition_start: re.Pattern[str] | None = None
    # A line under which an indented definition parses (a method cut out of its class).
    indented_header: str = ""
    # Nodes whose `:` opens an indented block, and a statement that fills an empty one
    # (Blocks.INDENT only).
    block_nodes: frozenset[str] = frozenset()
    empty_body: str = ""
    # Nodes that define a function, method, class or type, with a `name` field.
    definition_nodes: frozenset[str] = frozenset()
    # Nodes that are a function or method (named or not).
    function_nodes: frozenset[str] = frozenset()
    # Next-edit propagation repeats the user's last edit at the nodes of the same kind, and
    # tells nodes apart with the fields below; a type missing from one only skips a construct.
    # More functions (lambdas, closures, function literals): with `function_nodes`, the scopes
    # whose occurrences of a change come first.
    closure_nodes: frozenset[str] = frozenset()
    # Identifiers: what a rename changes.
    identifier_nodes: frozenset[str] = frozenset()
    # Identifiers that name a member (property, field) of a value: not renamed with a variable.
    member_name_nodes: frozenset[str] = frozenset()
    # `value.name`; a Python identifier in its `attribute` field names a member too.
    member_access_nodes: frozenset[str] = frozenset()
    # Literals: a changed one changes where it has the same surroundings.
    literal_nodes: frozenset[str] = frozenset()
    # Pieces of a string (quotes, content, escapes): never a unit of change on their own.
    string_part_nodes: frozenset[str] = frozenset()
    # Calls, with an `arguments` field and a `function` or `constructor` one.
    call_nodes: frozenset[str] = frozenset()
    # The argument lists of those calls.
    argument_list_nodes: frozenset[str] = frozenset()
    # `name=value` arguments, with a `name` field.
    keyword_argument_nodes: frozenset[str] = frozenset()
    # Project files whose content steers import resolution (`tsconfig.json` paths, …).
    config_files: tuple[str, ...] = ()
    # Where the language's tools look for tests: patterns matched from the right of a path
    # relative to the workspace root (`PurePosixPath.match`), e.g. pytest's `test_*.py`.
    test_files: tuple[str, ...] = ()
    # Imports are extracted and resolved, and neighbour files outlined (see the docstring).
    context: bool = False

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(ext for d in self.dialects for ext in d.extensions)
