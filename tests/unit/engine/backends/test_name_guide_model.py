"""Guided member names on the real embedded model, in process and through the model host."""

from __future__ import annotations

import threading

import pytest

from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.host_backend import HostBackend
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import Settings
from pairline.engine.models import manifest

pytestmark = pytest.mark.model

PROMPT = "import helpers\n\nhelpers."
MEMBERS = {"helpers": frozenset({"normalise_path"})}
GUIDED = GenerationParams(max_tokens=8, members=MEMBERS)


async def test_after_a_known_receiver_the_model_writes_one_of_its_members(
    backend: LocalLlamaBackend,
) -> None:
    free = await backend.generate(PROMPT, GenerationParams(max_tokens=8), threading.Event())
    guided = await backend.generate(PROMPT, GUIDED, threading.Event())
    assert not free.text.startswith("normalise_path")  # left alone, the model invents a name
    assert guided.text.startswith("normalise_path")
    # The gate sees the constrained distribution: sure of a name that is the only way on.
    assert guided.logprobs[0] > free.logprobs[0] or guided.text == free.text
    assert all(value <= 0.0 for value in guided.logprobs)


async def test_every_branched_candidate_names_a_member(backend: LocalLlamaBackend) -> None:
    found = await backend.candidates(PROMPT, GUIDED, 3, threading.Event())
    assert len(found) == 3
    assert all(candidate.text.startswith("normalise_path") for candidate in found)


async def test_a_half_typed_member_is_healed_into_a_whole_one(backend: LocalLlamaBackend) -> None:
    params = GenerationParams(max_tokens=8, heal=True, members=MEMBERS)
    guided = await backend.generate(PROMPT + "nor", params, threading.Event())
    assert ("nor" + guided.text).startswith("normalise_path")


async def test_the_model_host_guides_names_too() -> None:
    settings = Settings()
    host = HostBackend(manifest.resolve(settings.model.name, settings.cache_path), settings.model)
    await host.load()
    try:
        guided = await host.generate(PROMPT, GUIDED, threading.Event())
    finally:
        host.close()
    assert guided.text.startswith("normalise_path")
