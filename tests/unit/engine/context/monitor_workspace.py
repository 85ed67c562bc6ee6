"""A workspace written from a dict of files, and the name monitor's map at a marked cursor in
a buffer opened in it: what the receiver tests of every language share."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import Settings
from pairline.engine.core.types import Position, PositionEncoding
from pairline.engine.workspace import Workspace


def gatherer_for(root: Path, files: Mapping[str, str]) -> ContextGatherer:
    """A gatherer indexing `root`, once `files` (relative path → dedented text) are written."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    gatherer = ContextGatherer(Workspace(PositionEncoding.UTF32), [root])
    gatherer.ensure_index(Settings().context)
    return gatherer


def members_at(
    gatherer: ContextGatherer, source: str, rel: str, language: str, marker: str = "<|>"
) -> dict[str, frozenset[str]]:
    """The monitor's map at `marker` in `source`, opened as `rel` of the workspace."""
    root = Path(gatherer.index.roots[0])
    text = textwrap.dedent(source).lstrip()
    offset = text.index(marker)
    text = text.replace(marker, "")
    line = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    uri = (root / rel).as_uri()
    gatherer.workspace.open(uri, text, language=language)
    return dict(gatherer.members_at(gatherer.workspace.request_at(uri, Position(line, column))))
