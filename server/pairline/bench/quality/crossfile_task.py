"""One task of `bench crossfile`: a statement to complete in a file of a real code base, with the
statement removed from the file (crossfile.py builds Python ones, crossfile_rust.py Rust ones)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    path: str  # module path relative to the package root
    line: int  # zero-based
    column: int
    target: str
    text: str  # the module with the statement removed
    context: str  # signatures of imported sibling names, as comments
    typed: str = ""  # the start of the statement already typed before the cursor (`--at-member`)
