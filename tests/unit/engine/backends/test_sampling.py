"""Sampled decoding (code-action candidates): what `decoding.sample` may draw."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from pairline.engine.backends import decoding
from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.local_llama import LocalLlamaBackend


def test_top_p_keeps_only_the_tokens_that_make_up_that_mass() -> None:
    row = np.full(100, -50.0, dtype=np.float32)
    row[[3, 7, 9]] = [10.0, 9.0, 1.0]  # token 9 holds well under 1 % of the mass
    rng = np.random.default_rng(0)
    drawn = {decoding.sample(row, 1.0, 0.9, rng) for _ in range(300)}
    assert drawn == {3, 7}


def test_the_same_seed_draws_the_same_tokens() -> None:
    row = np.random.default_rng(1).normal(size=1000).astype(np.float32)

    def draws(seed: int) -> list[int]:
        rng = np.random.default_rng(seed)
        return [decoding.sample(row, 0.8, 0.95, rng) for _ in range(20)]

    assert draws(5) == draws(5)
    assert draws(5) != draws(6)
    assert all(token in np.argsort(-row)[:40] for token in draws(7))  # top-k 40


@pytest.mark.model
async def test_the_embedded_model_samples_different_candidates_by_seed(
    backend: LocalLlamaBackend,
) -> None:
    prompt = "def mean(values):\n    return"
    greedy = GenerationParams(16)
    texts = {
        (await backend.generate(prompt, replace(greedy, temperature=1.0, seed=seed), _go())).text
        for seed in range(4)
    }
    first = await backend.generate(prompt, greedy, _go())
    again = await backend.generate(prompt, greedy, _go())
    assert first.text == again.text  # greedy stays greedy after sampling
    assert len(texts) > 1


def _go() -> threading.Event:
    return threading.Event()
