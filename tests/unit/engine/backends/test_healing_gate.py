"""Token healing's constraint and the confidence gate, with fake logits and log-probabilities."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pairline.bench.quality.infill import gate_curve, typed
from pairline.engine.backends import decoding
from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.core.config import ModelConfig, Settings, load_settings
from pairline.engine.core.types import CompletionRequest, Position
from pairline.engine.models import manifest
from tests.tiny_gguf import write_tiny_gguf
from tests.unit.engine.completion.test_engine import ScriptedBackend

PIECES = ["", " ba", " b", "bar", " bad", " bar", "(", " baz()", "x"]


def piece(token: int) -> str:
    return PIECES[token]


def test_a_token_agrees_when_it_spells_a_start_of_what_is_needed_or_runs_past_it() -> None:
    assert decoding.agrees(" b", " ba") and decoding.agrees(" bar", " ba")
    assert not decoding.agrees(" bad", " bar") and not decoding.agrees("", " ba")


def test_healing_picks_the_likeliest_agreeing_token_not_the_likeliest_token() -> None:
    row = np.array([0.0, 1.0, 0.5, 9.0, 2.0, 3.0, 8.0, 2.5, 7.0], dtype=np.float32)
    # "bar" and "(" are likelier, but only " b", " ba", " bad", " bar", " baz()" agree.
    token, norm = decoding.healing_choice(row, " ba", piece, []) or (0, 0.0)
    assert token == 5
    assert norm == pytest.approx(math.log(sum(math.exp(row[t]) for t in (1, 2, 4, 5, 7))))
    # Nothing likely agrees: the text's own first token is always a candidate.
    assert decoding.healing_choice(row, "x", piece, [8]) == (8, pytest.approx(7.0))
    assert decoding.healing_choice(row, "q", piece, []) is None


def test_decoded_hides_the_backed_off_text_and_the_tokens_inside_it() -> None:
    out = decoding.Decoded(" ba")
    out.add(2, " b", -0.1)
    assert out.need == "a" and out.text == ""
    out.add(3, " bar", -0.5)  # runs past the typed text: its tail "r" is the suggestion
    out.add(6, " bar(", -2.0)
    assert out.need == "" and out.text == "r("
    assert out.logprobs == [-0.5, -2.0] and out.token_ends == [1, 2]


def test_confidence_counts_only_the_tokens_that_are_shown() -> None:
    generation = Generation(
        "total(xs)\nnext", "eos", logprobs=(-0.1, -0.3, -5.0), token_ends=(5, 10, 14)
    )
    assert decoding.shown_logprobs(generation.logprobs, generation.token_ends, "total") == [-0.1]
    assert decoding.confidence(generation, "total(xs)") == math.exp(-0.2)
    assert decoding.confidence(Generation("total", "eos"), "total") is None


class LogprobBackend(ScriptedBackend):
    """Answers with one line whose tokens have the given log-probability each."""

    def __init__(self, text: str, logprob: float) -> None:
        super().__init__(text)
        self.logprob = logprob
        self.params: list[GenerationParams] = []

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        self.params.append(params)
        ends = tuple(range(1, len(self.text) + 1))
        return Generation(self.text, "eos", logprobs=(self.logprob,) * len(ends), token_ends=ends)


def settings(tmp_path: Path, **completion: object) -> Settings:
    loaded, problems = load_settings({"cache_dir": str(tmp_path), "completion": completion})
    assert problems == []
    return loaded


def request(prefix: str) -> CompletionRequest:
    return CompletionRequest("file:///a.py", "python", prefix, "", Position(0, len(prefix)))


async def test_the_gate_hides_unsure_suggestions_and_reports_each_confidence(
    tmp_path: Path,
) -> None:
    engine = CompletionEngine(settings(tmp_path, min_confidence=0.5, cache=False))
    engine.attach(LogprobBackend("return total", math.log(0.4)))
    assert await engine.complete(request("x = 1\n")) is None
    assert engine.stats["gated"] == 1
    assert engine.last_confidence is not None and math.isclose(engine.last_confidence, 0.4)
    engine.attach(LogprobBackend("return total", math.log(0.6)))
    shown = await engine.complete(request("y = 2\n"))
    assert shown is not None and shown.text == "return total"
    assert math.isclose(shown.timings["confidence"], 0.6)


async def test_the_gate_is_open_at_zero(tmp_path: Path) -> None:
    engine = CompletionEngine(settings(tmp_path, cache=False, min_confidence=0))
    engine.attach(LogprobBackend("return total", math.log(0.01)))
    assert await engine.complete(request("x = 1\n")) is not None


async def test_healing_is_asked_for_mid_word_only_and_when_switched_on(tmp_path: Path) -> None:
    engine = CompletionEngine(settings(tmp_path, cache=False, token_healing=True))
    backend = LogprobBackend("ta", -0.1)
    engine.attach(backend)
    await engine.complete(request("x = to"))
    await engine.complete(request("x = 1\n    "))
    assert [p.heal for p in backend.params] == [True, False]
    engine = CompletionEngine(settings(tmp_path, cache=False, token_healing=False))
    engine.attach(backend)
    await engine.complete(request("x = to"))
    assert backend.params[-1].heal is False


def test_the_bench_types_a_start_of_the_missing_line_and_draws_the_gate_curve() -> None:
    task = {"prompt": "def f(x):\n", "canonical_solution": "    return x + 1\n", "suffix": ""}
    assert typed(task, 3) == "    ret" and typed(task, 0) == ""
    assert typed({**task, "canonical_solution": "    x\n"}, 3) == "    "  # something is left
    curve = gate_curve([0.9, 0.2, None], [True, False, False], [True, True, False])
    assert curve[0] == {
        "min_confidence": 0.0,
        "shown": 0.6667,
        "pass_at_1": 0.3333,
        "precision": 0.5,
    }
    assert curve[5] == {
        "min_confidence": 0.5,
        "shown": 0.3333,
        "pass_at_1": 0.3333,
        "precision": 1.0,
    }


async def test_on_a_real_llama_cpp_model_decoding_matches_its_own_greedy_and_heals(
    tmp_path: Path,
) -> None:
    # A tiny random model spells every token as one byte: the backed-off token is the only
    # one that agrees with itself, so a healed generation must equal the plain one.
    path = write_tiny_gguf(tmp_path / "tiny.gguf", ())
    backend = LocalLlamaBackend(manifest.resolve(str(path), tmp_path), ModelConfig(n_ctx=512))
    await backend.load()
    try:
        prompt = "def total(xs):\n    return su"
        params = GenerationParams(max_tokens=12)
        plain = await backend.generate(prompt, params, threading.Event())
        llm = backend._llm
        tokens = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        theirs = []
        for token in llm.generate(tokens, top_k=1, temp=0.0, repeat_penalty=1.0, reset=True):
            if len(theirs) == 12:
                break
            theirs.append(token)
        assert plain.text == llm.detokenize(theirs).decode("utf-8", errors="ignore")
        assert len(plain.logprobs) == len(plain.token_ends) == 12
        assert all(p <= 0 for p in plain.logprobs) and plain.token_ends[-1] == len(plain.text)
        healed = await backend.generate(prompt, replace(params, heal=True), threading.Event())
        assert healed.text == plain.text
        assert healed.logprobs == pytest.approx(plain.logprobs, abs=1e-4)
    finally:
        backend.close()
