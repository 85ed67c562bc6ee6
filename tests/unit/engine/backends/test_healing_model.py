"""Token healing on the real embedded model: a mid-word cursor gets the rest of the word."""

from __future__ import annotations

from pathlib import Path

import pytest

from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.core.config import load_settings
from pairline.engine.core.types import CompletionRequest, Position

pytestmark = pytest.mark.model


def healing_engine(tmp_path: Path, backend: LocalLlamaBackend) -> CompletionEngine:
    settings, problems = load_settings(
        {"cache_dir": str(tmp_path), "completion": {"cache": False, "min_confidence": 0}}
    )
    assert problems == []
    engine = CompletionEngine(settings)
    engine.attach(backend)
    return engine


@pytest.mark.parametrize(
    ("prefix", "word"),
    [
        ("import os\n\nfor name in os.listd", "listdir("),
        (
            "class Counter:\n    def __init__(self):\n        self.count = 0\n\n"
            "    def bump(self):\n        self.cou",
            "count",
        ),
    ],
)
async def test_a_mid_word_cursor_gets_a_suggestion_that_extends_the_typed_characters(
    tmp_path: Path, backend: LocalLlamaBackend, prefix: str, word: str
) -> None:
    typed = prefix.rsplit(".", 1)[-1]
    line = prefix.rsplit("\n", 1)[-1]
    position = Position(prefix.count("\n"), len(line))
    request = CompletionRequest("file:///w/a.py", "python", prefix, "\n", position)
    suggestion = await healing_engine(tmp_path, backend).complete(request)
    assert suggestion is not None
    assert (typed + suggestion.text).startswith(word)
