"""The model predictor with fake backends: prompt shape, answer → proposal, and every rejection."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import pytest

from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.backends.edit import GREEDY, Cancelled, EditPrompt, Sampling
from pairline.engine.core.document import Document
from pairline.engine.core.types import Position, Range, TextChange
from pairline.engine.models.manifest import FimTemplate
from pairline.engine.nextedit import model_diff
from pairline.engine.nextedit.history import Edit, EditHistory
from pairline.engine.nextedit.model import UNSCORED_CONFIDENCE, predict_with_model
from pairline.engine.nextedit.model_prompt import build_prompt, examples, window_around
from pairline.engine.nextedit.propagate import ProposedEdit

URI = "file:///src/app.py"
BEFORE = (
    "import os\n"
    "\n"
    "def total(items):\n"
    "    count = 0\n"
    "    for item in items:\n"
    "        count += item.size\n"
    "    return count\n"
)
# The user's edit: `count` renamed on its first line.
AFTER = BEFORE.replace("    count = 0", "    amount = 0")
WINDOW = AFTER.split("\n")  # the default window holds the whole (short) text
NEXT = AFTER.replace("        count += item.size", "        amount += item.size")
CURSOR = Position(3, 10)


class FakeModel:
    """A local backend that 'generates' a scripted answer one character per token."""

    def __init__(self, answer: str, *, cancel_after: int | None = None) -> None:
        self.answer = answer
        self.cancel_after = cancel_after
        self.prompts: list[str] = []
        self.generated = ""

    @property
    def name(self) -> str:
        return "fake"

    @property
    def fim(self) -> FimTemplate | None:
        return None

    async def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        self.prompts.append(prompt)
        text = ""
        for index, ch in enumerate(self.answer):
            if self.cancel_after is not None and index >= self.cancel_after:
                cancel.set()
            if cancel.is_set():
                return Generation(text, "cancelled")
            text += ch
            self.generated = text
            if params.is_complete(text):
                return Generation(text, "complete")
            if index + 1 >= params.max_tokens:
                return Generation(text, "max_tokens")
        return Generation(text, "eos")

    def close(self) -> None:
        return None


class ScoringModel(FakeModel):
    """A local backend that also scores continuations, as the llama backend does."""

    def __init__(self, answer: str, scores: tuple[float, float]) -> None:
        super().__init__(answer)
        self.scores = scores
        self.scored: list[tuple[str, tuple[str, ...]]] = []

    async def joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]:
        self.scored.append((prompt, tuple(continuations)))
        return list(self.scores)


class FakeRemote:
    """An edit backend (a remote chat model) answering with a fenced block."""

    def __init__(self, answer: str | None) -> None:
        self.reply = answer
        self.prompts: list[EditPrompt] = []

    @property
    def name(self) -> str:
        return "remote"

    @property
    def where(self) -> str:
        return "remote"

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        self.prompts.append(prompt)
        if self.reply is None:
            raise Cancelled("cancelled")
        return self.reply

    async def aclose(self) -> None:
        return None


def history_of(*steps: tuple[str, str], uri: str = URI) -> list[Edit]:
    history = EditHistory()
    for before, after in steps:
        history.record(uri, before, after)
        history.settle()
    return history.recent()


def answer_for(text: str) -> str:
    """The window rewritten as `text`, closed as a model closes it."""
    return text.rstrip("\n") + "\n\n```\n# Edit 3 in app.py, before:\n"


async def predict(
    backend: object, answer_text: str | None = None, *, text: str = AFTER, **kwargs: object
) -> list[ProposedEdit]:
    recent = history_of((BEFORE, AFTER))
    document = Document(URI, text, language="python", version=5)
    return await predict_with_model(backend, recent, document, CURSOR, **kwargs)  # type: ignore[arg-type]


def test_the_prompt_shows_the_edits_oldest_first_then_the_window_to_rewrite() -> None:
    middle = AFTER.replace("import os", "import sys")
    recent = history_of((BEFORE, AFTER), (AFTER, middle))
    document = Document(URI, middle, language="python")
    window = window_around(document, CURSOR, 9)
    prompt = build_prompt(examples(recent), document, window)
    completion = prompt.completion
    first = completion.index("# Edit 1 in app.py, before:\n```python\n")
    assert completion.index("    count = 0", first) < completion.index("# Edit 1, after:")
    assert completion.index("# Edit 2 in app.py, before:\n```python\nimport os") > first
    assert completion.endswith(
        "# Edit 3 in app.py, before:\n```python\n" + middle.rstrip("\n") + "\n\n```\n"
        "# Edit 3, after:\n```python\n"
    )
    assert prompt.stop == ("\n```",)
    # The chat form: the edits as diffs, the same window, what to answer.
    assert "-    count = 0\n+    amount = 0" in prompt.user
    assert "-import os\n+import sys" in prompt.user
    assert middle.rstrip("\n") in prompt.user and "```python block" in prompt.user


def test_the_window_is_whole_lines_around_the_cursor_mostly_below() -> None:
    text = "".join(f"line {n}\n" for n in range(40))
    window = window_around(Document(URI, text), Position(20, 3), 9)
    assert window.first == 17 and window.lines == tuple(f"line {n}" for n in range(17, 26))
    assert text[window.start : window.end] == "\n".join(window.lines)
    top = window_around(Document(URI, text), Position(0, 0), 9)
    assert top.first == 0 and len(top.lines) == 9


def test_only_the_newest_edits_that_fit_are_shown_oldest_first() -> None:
    steps, text = [], BEFORE
    for n in range(5):
        new = text.replace("import os", f"import os{n}\nimport os", 1)
        steps.append((text, new))
        text = new
    big = text + "x = 1\n" * 1000
    recent = history_of(*steps, (text, big))  # the newest is too big to show
    shown = examples(recent)
    assert shown == sorted(recent, key=lambda e: e.sequence)[2:5]
    assert [e.inserted for e in shown] == ["2\nimport os", "3\nimport os", "4\nimport os"]


async def test_the_changed_line_becomes_a_proposal_of_the_renamed_word() -> None:
    model = FakeModel(answer_for(NEXT))
    [proposal] = await predict(model)
    assert proposal.kind == "model" and proposal.confidence == UNSCORED_CONFIDENCE
    assert proposal.uri == URI and proposal.version == 5
    assert AFTER[proposal.start : proposal.end] == "count" and proposal.text == "amount"
    assert proposal.range.start == Position(5, 8) and proposal.range.end == Position(5, 13)
    assert AFTER[: proposal.start] + proposal.text + AFTER[proposal.end :] == NEXT
    assert model.prompts[0].endswith("# Edit 2, after:\n```python\n")


async def test_generation_stops_once_the_answer_copies_the_window_again() -> None:
    # After the changed line, two copied lines are enough: the rest is never generated.
    model = FakeModel(NEXT + "\n" + "garbage that would be rejected\n" * 5)
    [proposal] = await predict(model)
    assert proposal.text == "amount"
    assert model.generated.endswith("        amount += item.size\n    return count\n\n")


async def test_of_changes_far_apart_the_first_is_offered() -> None:
    # The model goes on to change a later line; the answer is read up to the first change.
    far = NEXT.replace("def total", "def total_size").replace("return count", "return 0")
    [proposal] = await predict(FakeModel(answer_for(far)))
    assert proposal.text == "total_size" and proposal.range.start.line == 2


async def test_the_local_model_scores_the_new_lines_against_the_old() -> None:
    model = ScoringModel(answer_for(NEXT), scores=(-1.0, -3.0))
    [proposal] = await predict(model)
    assert proposal.confidence == pytest.approx(1 / (1 + math.exp(-2.0)), abs=1e-3)
    [(prompt, continuations)] = model.scored
    assert prompt.endswith("# Edit 2, after:\n```python\n" + "\n".join(WINDOW[:5]) + "\n")
    # Each followed by the next line: an insertion is weighed against going on without it.
    assert continuations == (
        "        amount += item.size\n    return count\n",
        "        count += item.size\n    return count\n",
    )


async def test_an_unlikely_change_gets_a_low_confidence() -> None:
    [proposal] = await predict(ScoringModel(answer_for(NEXT), scores=(-9.0, -1.0)))
    assert proposal.confidence < 0.01


async def test_a_remote_edit_backend_answers_the_same_request() -> None:
    remote = FakeRemote(f"```python\n{NEXT}```\n")
    [proposal] = await predict(remote)
    assert proposal.text == "amount" and proposal.confidence == UNSCORED_CONFIDENCE
    assert "-    count = 0\n+    amount = 0" in remote.prompts[0].user


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("unchanged", answer_for(AFTER)),
        ("whitespace only", answer_for(AFTER.replace("    return count", "    return  count "))),
        (
            "a big rewrite",
            answer_for(
                "import os\n\ndef total(things):\n    n = 0\n    for t in things:\n"
                "        n += t.size\n        n -= 1\n    return n\n"
            ),
        ),
        (
            "two places close together",
            answer_for(NEXT.replace("    amount = 0", "    amount = 1")),
        ),
        ("lines of the window repeated", answer_for(AFTER.rstrip("\n") + "\n" + WINDOW[6])),
        ("a parse error", answer_for(NEXT.replace("item.size", "item.size("))),
        ("an undo of the last edit", answer_for(BEFORE)),
        ("a cut answer that never comes back", NEXT.split("    return")[0]),
        ("a cut answer still copying", "\n".join(WINDOW[:3])),
    ],
)
async def test_rejected_answers_propose_nothing(name: str, answer: str) -> None:
    assert await predict(FakeModel(answer)) == [], name


async def test_the_undo_of_an_older_edit_is_rejected_too() -> None:
    middle = AFTER.replace("import os", "import sys")
    recent = history_of((BEFORE, AFTER), (AFTER, middle))
    document = Document(URI, middle, language="python")
    undo = answer_for(middle.replace("    amount = 0", "    count = 0"))
    assert await predict_with_model(FakeModel(undo), recent, document, CURSOR) == []


async def test_without_recent_edits_the_model_is_not_asked() -> None:
    model = FakeModel(answer_for(NEXT))
    document = Document(URI, AFTER, language="python")
    assert await predict_with_model(model, [], document, CURSOR) == []
    assert model.prompts == []


async def test_a_cancelled_request_proposes_nothing() -> None:
    cancel = threading.Event()
    cancel.set()
    model = FakeModel(answer_for(NEXT))
    assert await predict(model, cancel=cancel) == []
    assert model.prompts == []  # not even asked
    assert await predict(FakeModel(answer_for(NEXT), cancel_after=40)) == []
    assert await predict(FakeRemote(None)) == []


async def test_an_edit_while_the_model_answers_proposes_nothing() -> None:
    document = Document(URI, AFTER, language="python", version=5)

    class Typing(FakeModel):
        async def generate(
            self, prompt: str, params: GenerationParams, cancel: threading.Event
        ) -> Generation:
            document.apply([TextChange("x = 1\n", Range(Position(0, 0), Position(0, 0)))], 6)
            return await super().generate(prompt, params, cancel)

    recent = history_of((BEFORE, AFTER))
    assert await predict_with_model(Typing(answer_for(NEXT)), recent, document, CURSOR) == []


async def test_a_cancel_while_scoring_proposes_nothing() -> None:
    cancel = threading.Event()

    class CancelledScores(ScoringModel):
        async def joint_logprobs(
            self, prompt: str, continuations: Sequence[str], cancel: threading.Event
        ) -> list[float]:
            cancel.set()
            return [float("-inf")] * len(continuations)

    assert await predict(CancelledScores(answer_for(NEXT), (0, 0)), cancel=cancel) == []


async def test_crlf_documents_keep_their_line_breaks() -> None:
    before, after, following = (t.replace("\n", "\r\n") for t in (BEFORE, AFTER, NEXT))
    recent = history_of((before, after))
    document = Document(URI, after, language="python")
    [proposal] = await predict_with_model(FakeModel(answer_for(NEXT)), recent, document, CURSOR)
    assert after[: proposal.start] + proposal.text + after[proposal.end :] == following


def test_cut_answers_are_completed_from_the_window_after_they_come_back() -> None:
    window = ["a", "b", "c", "d", "e"]
    # An inserted line, then two copied lines: the rest of the window follows unchanged.
    assert model_diff.read_answer("a\nX\nb\nc\n", window, False, 4) == ["a", "X", *window[1:]]
    # A deleted line.
    assert model_diff.read_answer("a\nc\nd\n", window, False, 4) == ["a", "c", "d", "e"]
    assert model_diff.settled("a\nc\nd\n", window, 4)
    assert not model_diff.settled("a\nb\nc\n", window, 4)  # still copying
    assert model_diff.settled("a\n1\n2\n3\n4\n5\n6\n7\n", window, 4)  # too far to be small
    assert model_diff.read_answer("a\n1\n2\n3\n4\n5\n6\n7\n", window, False, 4) is None


@pytest.mark.model
async def test_the_embedded_model_answers_with_well_formed_proposals_in_the_window() -> None:
    from pairline.engine.core import syntax
    from pairline.engine.core.config import Settings
    from pairline.engine.models import loading

    backend = await loading.load_local(Settings())
    try:
        recent = history_of((BEFORE, AFTER))
        document = Document(URI, AFTER, language="python", version=5)
        found = await predict_with_model(backend, recent, document, CURSOR)
    finally:
        backend.close()
    # The tiny model may well propose nothing; what it proposes must be usable as it is.
    assert isinstance(found, list) and len(found) <= 1
    window = window_around(document, CURSOR, 9)
    before_errors = syntax.error_count("python", AFTER)
    for proposal in found:
        assert proposal.kind == "model" and proposal.uri == URI and proposal.version == 5
        assert window.start <= proposal.start <= proposal.end <= window.end
        assert document.offset_at(proposal.range.start) == proposal.start
        assert document.offset_at(proposal.range.end) == proposal.end
        assert 0.0 <= proposal.confidence <= 1.0
        changed = AFTER[: proposal.start] + proposal.text + AFTER[proposal.end :]
        assert changed != AFTER
        assert (syntax.error_count("python", changed) or 0) <= (before_errors or 0)
