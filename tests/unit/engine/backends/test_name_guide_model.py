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


async def test_a_member_used_nearby_is_preferred_and_the_gate_sees_the_models_own_odds(
    backend: LocalLlamaBackend,
) -> None:
    members = {"helpers": frozenset({"normalise_path", "slug"})}
    guided = GenerationParams(max_tokens=8, members=members)
    plain = await backend.generate(PROMPT, guided, threading.Event())
    assert plain.text.startswith(("normalise_path", "slug"))
    taken = "slug" if plain.text.startswith("slug") else "normalise_path"
    other = "normalise_path" if taken == "slug" else "slug"
    # The member the model takes anyway, preferred: the same text, the same log-probabilities.
    same = {"helpers": frozenset({taken})}
    kept = await backend.generate(
        PROMPT, GenerationParams(max_tokens=8, members=members, seen=same), threading.Event()
    )
    assert kept.text == plain.text and kept.logprobs == plain.logprobs
    # The other one, used nearby: preferred, with its own (lower) log-probability reported.
    moved = await backend.generate(
        PROMPT,
        GenerationParams(max_tokens=8, members=members, seen={"helpers": frozenset({other})}),
        threading.Event(),
    )
    assert moved.text.startswith(other), moved.text
    assert moved.logprobs[0] < plain.logprobs[0]
