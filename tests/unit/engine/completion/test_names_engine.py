"""Member names in the completion engine: what the backend is asked to constrain (guide_names)
and what the post-check cuts (check_names), on a workspace of real files."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.completion.plan import used_members
from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import load_settings
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.workspace import Workspace
from tests.unit.engine.completion.test_engine import ScriptedBackend


class RecordingBackend(ScriptedBackend):
    """A scripted backend that keeps the generation parameters it was given."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.params: list[GenerationParams] = []

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        self.params.append(params)
        return await super().generate(prompt, params, cancel)


async def _engine(
    tmp_path: Path, answer: str, **completion: object
) -> tuple[CompletionEngine, RecordingBackend, CompletionRequest]:
    settings, problems = load_settings(
        {"cache_dir": str(tmp_path / "cache"), "completion": {"cache": False, **completion}}
    )
    assert problems == []
    (tmp_path / "helpers.py").write_text("def normalise_path(p):\n    return p\n")
    text = "import helpers\n\n\ndef f(p):\n    return "
    workspace = Workspace()
    uri = (tmp_path / "main.py").as_uri()
    workspace.open(uri, text, language="python")
    engine = CompletionEngine(settings)
    backend = RecordingBackend(answer)
    engine.attach(backend)
    engine.context = ContextGatherer(workspace, [tmp_path])
    await asyncio.to_thread(engine.context.ensure_index, settings.context)
    return engine, backend, workspace.request_at(uri, Position(4, 11))


async def test_guided_generation_is_given_the_receivers_members(tmp_path: Path) -> None:
    engine, backend, request = await _engine(tmp_path, "helpers.normalise_path(p)", guideNames=True)
    assert await engine.complete(request) is not None
    assert "normalise_path" in backend.params[-1].members["helpers"]
    assert engine.last_guided == backend.params[-1].members


async def test_unguided_generation_is_given_no_members(tmp_path: Path) -> None:
    engine, backend, request = await _engine(tmp_path, "helpers.normalise_path(p)")
    assert await engine.complete(request) is not None
    assert backend.params[-1].members == {}


async def test_the_check_drops_a_made_up_member(tmp_path: Path) -> None:
    engine, _, request = await _engine(tmp_path, "helpers.make_path(p)", checkNames=True)
    assert await engine.complete(request) is None
    assert engine.stats["names_rejected"] == 1


async def test_without_the_check_a_made_up_member_is_shown(tmp_path: Path) -> None:
    engine, _, request = await _engine(tmp_path, "helpers.make_path(p)")
    suggestion = await engine.complete(request)
    assert suggestion is not None and suggestion.text == "helpers.make_path(p)"


def test_members_used_around_the_cursor_after_the_same_receiver() -> None:
    prefix = "a = helpers.join(x)\nself.items.append(1)\nhelpers.zzz()\nb = helpers."
    suffix = "\nhelpers.normalise_path(y)\nv = Version::parse(s)?\nother.join()\n"
    request = CompletionRequest("file:///m.py", "python", prefix, suffix, Position(3, 4))
    members = {
        "helpers": frozenset({"join", "normalise_path", "slug"}),
        "self": frozenset({"items", "grow"}),
        "self.items": frozenset({"append", "pop"}),
        "Version": frozenset({"parse", "new"}),
    }
    assert used_members(request, members) == {
        "helpers": {"join", "normalise_path"},  # `zzz` is not a member: not counted
        "self": {"items"},
        "self.items": {"append"},
        "Version": {"parse"},
    }
    assert used_members(request, {}) == {}


async def test_members_used_nearby_are_passed_along_only_when_preferred(tmp_path: Path) -> None:
    engine, backend, request = await _engine(
        tmp_path, "helpers.normalise_path(p)", guideNames=True, preferSeenNames=True
    )
    request = dataclasses.replace(request, suffix="\n\nx = helpers.normalise_path('.')\n")
    assert await engine.complete(request) is not None
    assert backend.params[-1].seen == {"helpers": {"normalise_path"}}
    engine, backend, request = await _engine(tmp_path, "helpers.x", guideNames=True)
    request = dataclasses.replace(request, suffix="\n\nx = helpers.normalise_path('.')\n")
    assert await engine.complete(request) is not None
    assert backend.params[-1].seen == {}
