"""Candidates and suffix scoring on the real embedded model, and the KV cache left sane."""

from __future__ import annotations

import threading

import pytest

from pairline.engine.backends.base import GenerationParams
from pairline.engine.backends.local_llama import LocalLlamaBackend

pytestmark = pytest.mark.model

PROMPT = "def add(a, b):\n    "
LINE = GenerationParams(max_tokens=24, is_complete=lambda text: "\n" in text)


async def test_candidates_start_with_the_greedy_answer_and_differ(
    backend: LocalLlamaBackend,
) -> None:
    greedy = await backend.generate(PROMPT, LINE, threading.Event())
    found = await backend.candidates(PROMPT, LINE, 3, threading.Event())
    assert len(found) == 3
    assert found[0].text == greedy.text
    assert len({g.text for g in found}) == 3  # each branches at a different first token


async def test_suffix_scores_prefer_what_fits_and_leave_generation_unchanged(
    backend: LocalLlamaBackend,
) -> None:
    before = await backend.generate(PROMPT, LINE, threading.Event())
    prompt = "numbers = [1, 2, 3, 4, 5, 6, 7, 8"
    fits, odd = await backend.joint_logprobs(prompt, [", 9, 10]\n", ", 9, 2]\n"], threading.Event())
    assert fits < 0 and odd < 0
    assert fits > odd
    # Scoring left batches of its own in the KV cache: the next generation must not see them.
    after = await backend.generate(PROMPT, LINE, threading.Event())
    assert after.text == before.text
    again = await backend.joint_logprobs(prompt, [", 9, 10]\n"], threading.Event())
    assert again[0] == pytest.approx(fits, abs=1e-3)


async def test_cancelled_scoring_answers_minus_infinity(backend: LocalLlamaBackend) -> None:
    cancel = threading.Event()
    cancel.set()
    assert await backend.joint_logprobs(PROMPT, ["return a + b"], cancel) == [float("-inf")]
    assert await backend.candidates(PROMPT, LINE, 3, cancel) == []
