"""The completion engine with a scripted backend: routing, superseding, per-language switch."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.core.config import Settings, load_settings
from pairline.engine.core.types import CompletionRequest, Mode, Position, Superseded
from pairline.engine.models.manifest import FimTemplate


class ScriptedBackend:
    """Answers with fixed text; `hold` keeps a generation running until it is cancelled."""

    def __init__(self, text: str, hold: bool = False) -> None:
        self.text = text
        self.hold = hold
        self.prompts: list[str] = []
        self.started = asyncio.Event()

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def fim(self) -> FimTemplate | None:
        return None

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        self.prompts.append(prompt)
        self.started.set()
        if self.hold:
            while not cancel.is_set():
                await asyncio.sleep(0.001)
            return Generation("", "cancelled")
        out = ""
        for ch in self.text:  # stream: stop as soon as the suggestion is complete
            out += ch
            if params.is_complete(out):
                return Generation(out, "complete", generated_tokens=len(out))
        return Generation(out, "max_tokens", generated_tokens=len(out))

    def close(self) -> None:
        pass


def fresh(cache_dir: Path, **completion: object) -> Settings:
    """Settings with a cache of the test's own."""
    settings, problems = load_settings({"cache_dir": str(cache_dir), "completion": completion})
    assert problems == []
    return settings


def req(prefix: str, suffix: str = "", uri: str = "file:///a.py") -> CompletionRequest:
    return CompletionRequest(uri, "python", prefix, suffix, Position(0, len(prefix)))


async def test_line_suggestion_stops_streaming_at_the_newline(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    backend = ScriptedBackend("total(xs)\nprint('never shown')")
    engine.attach(backend)
    suggestion = await engine.complete(req("result = "))
    assert suggestion is not None
    assert suggestion.text == "total(xs)" and suggestion.mode is Mode.LINE
    assert suggestion.timings["generated_tokens"] == len("total(xs)\n")


async def test_newer_request_supersedes_the_older_one(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    slow = ScriptedBackend("", hold=True)
    engine.attach(slow)
    older = asyncio.create_task(engine.complete(req("a = ")))
    await slow.started.wait()
    engine.backend = ScriptedBackend("2")
    newer = await engine.complete(req("a = 1 + "))
    assert (await older) is None
    assert newer is not None and newer.text == "2"


async def test_superseded_is_reported_apart_from_nothing_to_add(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    slow = ScriptedBackend("", hold=True)
    engine.attach(slow)
    older = asyncio.create_task(engine.complete(req("a = "), report_superseded=True))
    await slow.started.wait()
    engine.cancel("file:///a.py")  # what an edit of the document does
    with pytest.raises(Superseded):
        await older
    # Nothing useful to say is still None.
    engine.backend = ScriptedBackend("   ")
    assert await engine.complete(req("b = "), report_superseded=True) is None


async def test_other_documents_are_not_superseded(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    engine.attach(ScriptedBackend("x"))
    results = await asyncio.gather(
        engine.complete(req("a = ", uri="file:///a.py")),
        engine.complete(req("b = ", uri="file:///b.py")),
    )
    assert all(r is not None for r in results)


async def test_disabled_language_gets_nothing(tmp_path: Path) -> None:
    settings, _ = load_settings(
        {"completion": {"enable": {"*": True, "python": False}}, "cache_dir": str(tmp_path)}
    )
    engine = CompletionEngine(settings)
    backend = ScriptedBackend("x")
    engine.attach(backend)
    assert await engine.complete(req("a = ")) is None
    assert backend.prompts == []


async def test_failed_model_answers_nothing(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    engine.fail("model missing")
    assert await engine.complete(req("a = ")) is None
    assert engine.error == "model missing"


async def test_block_mode_after_def(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    engine.attach(ScriptedBackend("\n    return 1\n\ndef other():\n"))
    suggestion = await engine.complete(req("def one():", "\n"))
    assert suggestion is not None and suggestion.mode is Mode.BLOCK
    assert suggestion.text == "\n    return 1"


async def test_second_identical_request_comes_from_the_cache(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, speculative=False))
    backend = ScriptedBackend("total(xs)")
    engine.attach(backend)
    first = await engine.complete(req("result = "))
    engine.forget("file:///a.py")  # no typing-through: the cache must answer
    second = await engine.complete(req("result = "))
    assert first is not None and second is not None
    assert second.text == first.text and second.source == "cache"
    assert len(backend.prompts) == 1
    assert engine.stats["cache_hits"] == 1


async def test_cache_survives_a_restart_and_misses_on_a_new_suffix(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, speculative=False))
    engine.attach(ScriptedBackend("total(xs)"))
    await engine.complete(req("result = ", "\nprint(result)\n"))
    engine.close()
    restarted = CompletionEngine(fresh(tmp_path, speculative=False))
    backend = ScriptedBackend("other()")
    restarted.attach(backend)
    again = await restarted.complete(req("result = ", "\nprint(result)\n"))
    assert again is not None and again.text == "total(xs)" and backend.prompts == []
    changed = await restarted.complete(req("result = ", "\nlog(result)\n"))
    assert changed is not None and changed.text == "other()" and len(backend.prompts) == 1


async def test_typing_through_serves_the_rest_without_the_model(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, cache=False))
    backend = ScriptedBackend("compute_total(items)")
    engine.attach(backend)
    await engine.complete(req("value = "))
    typed = await engine.complete(req("value = comp"))
    assert typed is not None and typed.text == "ute_total(items)" and typed.source == "typing"
    assert len(backend.prompts) == 1
    # Typing something else leaves the suggestion behind: the model is asked again.
    await engine.complete(req("value = x"))
    assert len(backend.prompts) == 2


async def test_asked_again_where_it_was_made_the_model_is_asked_anew(tmp_path: Path) -> None:
    # The prompt may have changed there (context found meanwhile): no typing-through with
    # nothing typed, and with the cache off the model sees the request again.
    engine = CompletionEngine(fresh(tmp_path, cache=False))
    backend = ScriptedBackend("compute_total(items)")
    engine.attach(backend)
    await engine.complete(req("value = "))
    again = await engine.complete(req("value = "))
    assert again is not None and again.source != "typing" and len(backend.prompts) == 2


async def test_speculation_fills_the_cache_for_the_accepted_text(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    backend = ScriptedBackend(" + 1")
    engine.attach(backend)
    await engine.complete(req("a = "))
    assert engine._speculation is not None
    await engine._speculation.task
    assert backend.prompts[-1].endswith("a = + 1")
    engine.forget("file:///a.py")
    accepted = await engine.complete(req("a = + 1"))
    assert accepted is not None and accepted.source == "cache"
    assert engine.stats["speculations"] == 1


async def test_a_keystroke_cancels_speculation(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path))
    engine.attach(ScriptedBackend("first()"))
    await engine.complete(req("a = "))
    engine.backend = ScriptedBackend("", hold=True)  # speculation now runs until cancelled
    speculation = engine._speculation
    assert speculation is not None
    task = speculation.task
    engine.cancel("file:///a.py")
    await asyncio.wait({task}, timeout=30)  # a hang guard: the held generation never ends
    assert task.done() and engine._speculation is None


async def test_suggestion_that_breaks_the_parse_is_trimmed(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, cache=False))
    engine.attach(ScriptedBackend("values) + 1)"))
    suggestion = await engine.complete(req("total = sum(", ")\n"))
    assert suggestion is not None and suggestion.text == "values"
    assert engine.stats["syntax_trimmed"] == 1


async def test_automatic_requests_skip_where_nothing_helps(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, cache=False))
    backend = ScriptedBackend("x")
    engine.attach(backend)
    in_string = replace(req('msg = "hel', '"\n'), automatic=True)
    before_code = replace(req("total = ", " compute(a, b) + offset\n"), automatic=True)
    before_closers = replace(req("print(", ")\n"), automatic=True)
    assert await engine.complete(in_string) is None
    assert await engine.complete(before_code) is None
    assert await engine.complete(before_closers) is not None
    assert engine.stats["skipped"] == 2
    # Asked for explicitly, the same places are served.
    assert await engine.complete(replace(in_string, automatic=False)) is not None


async def test_huge_buffer_skips_context_gathering(tmp_path: Path) -> None:
    from pairline.engine.context import ContextGatherer
    from pairline.engine.workspace import Workspace

    settings, _ = load_settings(
        {
            "cache_dir": str(tmp_path),
            "completion": {"cache": False},
            "context": {"maxFileBytes": 1000},
        }
    )
    workspace = Workspace()
    (tmp_path / "helpers.py").write_text("def helper(x):\n    return x\n")
    text = "from helpers import helper\n" + "y = helper(1)\n" * 200 + "z = "
    uri = (tmp_path / "big.py").as_uri()
    workspace.open(uri, text, language="python")
    engine = CompletionEngine(settings)
    engine.attach(ScriptedBackend("helper(2)"))
    engine.context = ContextGatherer(workspace, [tmp_path])
    await asyncio.to_thread(engine.context.ensure_index, settings.context)
    line = text.count("\n")
    suggestion = await engine.complete(workspace.request_at(uri, Position(line, 4)))
    assert suggestion is not None
    assert engine.last_prompt is not None and "def helper" not in engine.last_prompt


class RankingBackend(ScriptedBackend):
    """Offers fixed candidates and scores each continuation by a table of its first line."""

    def __init__(self, candidates: list[str], scores: dict[str, float]) -> None:
        super().__init__(candidates[0])
        self.candidate_texts = candidates
        self.scores = scores
        self.scored: list[str] = []

    async def candidates(
        self, prompt: str, params: GenerationParams, count: int, cancel: threading.Event
    ) -> list[Generation]:
        self.prompts.append(prompt)
        return [Generation(text, "complete", generated_tokens=1) for text in self.candidate_texts]

    async def joint_logprobs(
        self, prompt: str, continuations: list[str], cancel: threading.Event
    ) -> list[float]:
        self.scored.extend(continuations)
        return [self.scores.get(text.split("\n", 1)[0], -100.0) for text in continuations]


def test_rerank_suffix_takes_a_few_lines_that_say_something() -> None:
    from pairline.engine.prompt.fim import rerank_suffix

    assert rerank_suffix("") == "" and rerank_suffix("\n  \n\n") == ""
    assert rerank_suffix(")\n\n    return x\n    y\n    z\n") == ")\n\n    return x\n    y"
    assert len(rerank_suffix("x" * 5000)) == 320


async def test_rerank_picks_the_candidate_the_suffix_likes(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, cache=False))
    backend = RankingBackend(
        ["total = 0", "total = []", "total = {}"],
        {"total = 0": -9.0, "total = []": -2.0, "total = {}": -5.0},
    )
    engine.attach(backend)
    suggestion = await engine.complete(req("    ", "\n    total.append(1)\n    return total\n"))
    assert suggestion is not None and suggestion.text == "total = []"
    # Each candidate was scored together with the code that follows it.
    assert sorted(backend.scored) == sorted(
        f"{text}\n    total.append(1)\n    return total\n" for text in backend.candidate_texts
    )
    assert engine.stats["reranked"] == 1 and engine.stats["rerank_changed"] == 1


async def test_rerank_drops_candidates_the_syntax_check_rejects(tmp_path: Path) -> None:
    engine = CompletionEngine(fresh(tmp_path, cache=False))
    backend = RankingBackend(["return (x", "return x"], {"return (x": 0.0, "return x": -1.0})
    engine.attach(backend)
    suggestion = await engine.complete(req("def f(x):\n    ", "\n\nprint(f(1))\n"))
    assert suggestion is not None and suggestion.text == "return x"
    # The unbalanced candidate is scored only as what the syntax check leaves of it.
    assert not any(text.startswith("return (") for text in backend.scored)


async def test_no_rerank_while_typing_or_when_switched_off(tmp_path: Path) -> None:
    scores = {"a = 1": -1.0, "a = 2": 0.0}
    suffix = "\nprint(a)\n"
    typing = CompletionEngine(fresh(tmp_path / "t", cache=False))
    backend = RankingBackend(["a = 1", "a = 2"], scores)
    typing.attach(backend)
    automatic = replace(req("", suffix), automatic=True)
    assert (await typing.complete(automatic)) is not None
    assert backend.scored == [] and typing.stats["reranked"] == 0

    off = CompletionEngine(fresh(tmp_path / "o", cache=False, rerank="off"))
    backend = RankingBackend(["a = 1", "a = 2"], scores)
    off.attach(backend)
    suggestion = await off.complete(req("", suffix))
    assert suggestion is not None and suggestion.text == "a = 1" and backend.scored == []

    always = CompletionEngine(fresh(tmp_path / "a", cache=False, rerank="always"))
    backend = RankingBackend(["a = 1", "a = 2"], scores)
    always.attach(backend)
    suggestion = await always.complete(automatic)
    assert suggestion is not None and suggestion.text == "a = 2"
