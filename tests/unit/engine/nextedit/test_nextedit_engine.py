"""NextEditEngine: recording, propagation first, settings, freshness, the model path, usage."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pairline.engine.core.config import ContextConfig, NextEditConfig, Settings
from pairline.engine.core.document import Document
from pairline.engine.core.types import Position, Range, TextChange, UnknownDocument
from pairline.engine.nextedit import engine as engine_module
from pairline.engine.nextedit.engine import MODEL, PROPAGATION, NextEditEngine, parse_clean
from pairline.engine.nextedit.history import Edit
from pairline.engine.nextedit.propagate import ProposedEdit
from pairline.engine.usage import UsageRecorder, log_path, read_records
from pairline.engine.workspace import Workspace

URI = "file:///w/total.py"
OTHER = "file:///w/report.py"
TEXT = (
    "def total(items):\n"
    "    count = 0\n"
    "    for item in items:\n"
    "        count += item.price\n"
    "    label = 'count'\n"
    "    counter = 2\n"
    "    return count\n"
)


class Setup:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.documents = Workspace()
        self.usage = UsageRecorder(lambda: self.settings)
        self.engine = NextEditEngine(lambda: self.settings, usage=self.usage)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.documents.open(uri, text, language="python", version=version)

    def replace(self, uri: str, line: int, start: int, end: int, text: str) -> None:
        """Apply a change as didChange does, and record it."""
        doc = self.documents.get(uri)
        before = doc.text
        span = Range(Position(line, start), Position(line, end))
        self.documents.change(uri, [TextChange(text, span)], doc.version + 1)
        self.engine.record(uri, before, doc.text, doc.version)

    def rename_count(self) -> None:
        self.open(URI, TEXT)
        self.replace(URI, 1, 4, 9, "total_count")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    made = Setup(Settings(cache_dir=str(tmp_path)))
    yield made
    await made.engine.aclose()
    made.usage.close()


def _with(setup: Setup, **next_edit: Any) -> None:
    setup.settings = Settings(
        cache_dir=setup.settings.cache_dir, next_edit=NextEditConfig(**next_edit)
    )


async def test_a_rename_proposes_the_next_occurrence_first(setup: Setup) -> None:
    setup.rename_count()
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents, version=2)
    assert prediction.source == PROPAGATION
    first = prediction.edits[0]
    assert (first.range.start, first.range.end) == (Position(3, 8), Position(3, 13))
    assert first.text == "total_count" and first.version == 2
    lines = TEXT.splitlines()
    for edit in prediction.edits:  # never the string 'count' nor the longer name `counter`
        assert lines[edit.range.start.line][edit.range.start.character :].startswith("count")
        assert edit.range.start.line not in (4, 5)
    assert len(prediction.edits) <= 3


async def test_max_edits_and_min_confidence(setup: Setup) -> None:
    setup.rename_count()
    _with(setup, max_edits=1)
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents)
    assert len(prediction.edits) == 1
    _with(setup, min_confidence=0.95)  # a rename scores 0.9
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents)
    assert prediction.edits == [] and prediction.source == ""


async def test_an_old_version_gets_nothing(setup: Setup) -> None:
    setup.rename_count()
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents, version=1)
    assert prediction.edits == []
    assert setup.engine.stats["nextedit_stale"] == 1


async def test_a_document_changed_while_predicting_loses_its_edits(setup: Setup) -> None:
    setup.rename_count()
    documents = setup.documents

    class Typing:
        """Propagation that takes long enough for the user to type meanwhile."""

        def propose(self, edit: Edit, document: Document, **kwargs: Any) -> list[ProposedEdit]:
            found = real.propose(edit, document, **kwargs)
            typed = threading.Event()

            def type_now() -> None:
                documents.change(URI, [TextChange("x", Range(Position(0, 0), Position(0, 0)))], 3)
                typed.set()

            loop.call_soon_threadsafe(type_now)
            typed.wait(5)
            return found

        def forget(self, uri: str) -> None:
            real.forget(uri)

    loop = asyncio.get_running_loop()
    real = engine_module.Propagator()
    engine = NextEditEngine(lambda: setup.settings, propagator=Typing())  # type: ignore[arg-type]
    engine.history = setup.engine.history
    try:
        prediction = await engine.predict(URI, Position(1, 15), documents, version=2)
    finally:
        await engine.aclose()
    assert prediction.edits == []


async def test_disabled_records_and_predicts_nothing(setup: Setup) -> None:
    _with(setup, enable=False)
    setup.settings.context = ContextConfig(recent_edits=False)
    setup.rename_count()
    assert setup.engine.history.last() is None
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents)
    assert prediction.edits == []


async def test_disabled_still_records_for_the_completion_context(setup: Setup) -> None:
    # The history is shared: completions show recent edits even with next edits off.
    _with(setup, enable=False)
    setup.settings.context = ContextConfig(enable=True, recent_edits=True)
    setup.rename_count()
    assert setup.engine.history.last() is not None
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents)
    assert prediction.edits == []


async def test_closed_and_unknown_documents(setup: Setup) -> None:
    setup.rename_count()
    setup.engine.forget(URI)
    setup.documents.close(URI)
    assert setup.engine.history.last() is None
    with pytest.raises(UnknownDocument):
        await setup.engine.predict(URI, Position(0, 0), setup.documents)


async def test_the_edit_in_another_document_carries_to_the_requested_one(setup: Setup) -> None:
    setup.open(OTHER, "from total import total\n\nprint(total([]))\n")
    setup.open(URI, TEXT)
    setup.replace(URI, 0, 4, 9, "grand_total")  # def total( -> def grand_total(
    prediction = await setup.engine.predict(OTHER, Position(0, 0), setup.documents)
    assert prediction.edits, "the call in the other buffer"
    assert prediction.edits[0].uri == OTHER


def _proposal(doc: Document, start: int, end: int, text: str, confidence: float) -> ProposedEdit:
    return ProposedEdit(
        doc.uri,
        doc.version,
        Range(doc.position_at(start), doc.position_at(end)),
        start,
        end,
        text,
        "expression",
        confidence,
    )


async def test_the_model_runs_only_when_enabled_and_propagation_found_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, Sequence[Edit], Document, Position]] = []

    async def predict_with_model(
        backend: object,
        recent: Sequence[Edit],
        document: Document,
        cursor: Position,
        *,
        cancel: threading.Event | None = None,
    ) -> list[ProposedEdit]:
        calls.append((backend, recent, document, cursor))
        at = document.text.index("label")
        return [
            _proposal(document, at, at + 5, "name", 0.7),
            _proposal(document, at, at + 5, "name = (", 0.9),  # adds a parse error
            _proposal(document, at, at + 5, "title", 0.2),  # under min_confidence
        ]

    class FakeBackend:
        name = "fake-model"

    backend = FakeBackend()
    monkeypatch.setattr(engine_module.model, "predict_with_model", predict_with_model)
    engine = NextEditEngine(lambda: setup.settings, lambda: backend)  # type: ignore[arg-type,return-value]
    setup.engine = engine
    setup.open(URI, TEXT)
    setup.replace(URI, 6, 11, 16, "count + 1")  # nothing to propagate
    try:
        prediction = await engine.predict(URI, Position(6, 0), setup.documents)
        assert prediction.edits == [] and calls == []  # model "off" by default

        _with(setup, model="local")
        prediction = await engine.predict(URI, Position(6, 0), setup.documents)
        assert prediction.source == MODEL and prediction.model == "fake-model"
        assert [edit.text for edit in prediction.edits] == ["name"]
        (used, recent, document, cursor) = calls[0]
        assert used is backend and recent[0].inserted == " + 1"
        assert cursor == Position(6, 0) and document.version == 2

        _with(setup, model="remote")  # no remote.base_url: nothing is sent anywhere
        prediction = await engine.predict(URI, Position(6, 0), setup.documents)
        assert prediction.edits == [] and len(calls) == 1
    finally:
        await engine.aclose()


def test_parse_clean_drops_edits_that_add_errors() -> None:
    doc = Document(URI, "x = 1\ny = 2\n", language="python", version=4)
    good = _proposal(doc, 4, 5, "3", 0.9)
    bad = _proposal(doc, 4, 5, "(", 0.9)
    old = ProposedEdit(URI, 3, good.range, 4, 5, "3", "literal", 0.9)
    assert parse_clean(doc, [good, bad, old]) == [good]


async def test_shown_and_accepted_go_to_the_usage_log(setup: Setup) -> None:
    setup.rename_count()
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents)
    first, second = (
        setup.engine.offer(edit, prediction, "python") for edit in prediction.edits[:2]
    )
    assert setup.engine.shown(first) and not setup.engine.shown(first)  # one row per edit
    assert setup.engine.accepted(second)  # shown on accept when the client never said so
    assert not setup.engine.accepted(second) and not setup.engine.accepted("unknown")
    records = {r.id: r for r in read_records(log_path(setup.settings.cache_path))}
    assert set(records) == {first, second}
    assert records[second].accepted and not records[first].accepted
    event = records[first].event
    assert (event.surface, event.source, event.mode) == ("nextedit", PROPAGATION, "rename")
    stats = setup.engine.stats
    assert (stats["nextedit_returned"], stats["nextedit_shown"], stats["nextedit_accepted"]) == (
        2,
        2,
        1,
    )


async def test_an_accepted_edit_is_an_edit_of_its_own(setup: Setup) -> None:
    setup.rename_count()
    prediction = await setup.engine.predict(URI, Position(1, 15), setup.documents)
    edit = prediction.edits[0]
    event_id = setup.engine.offer(edit, prediction, "python")
    # The client applies the edit, then runs the command.
    setup.replace(URI, edit.range.start.line, 8, 13, edit.text)
    assert setup.engine.accepted(event_id)
    last = setup.engine.history.last()
    text = setup.documents.get(URI).text
    assert last is not None and last.start == text.index("total_count +=") and last.version == 3
    # The next prediction carries the rename further, past the occurrence just applied.
    again = await setup.engine.predict(URI, Position(3, 8), setup.documents)
    assert again.edits and all(e.range.start.line != 3 for e in again.edits)
    # The accepted edit repeated the rename: the next ones are surer for it.
    assert again.edits[0].confidence > prediction.edits[0].confidence
