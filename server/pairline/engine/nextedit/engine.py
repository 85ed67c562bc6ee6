"""The next-edit engine: records the user's edits and answers "which edit comes next?".

The server calls `record` for every applied document change, `forget` when a document closes
and `predict` for a request. Predictions come from propagation first (the last edit repeated
where it applies, no model), then, when propagation found nothing and `next_edit.model` allows
it, from the model predictor. What `predict` returns is at least `next_edit.min_confidence`, at
most `next_edit.max_edits` alternatives (best first), adds no parse error, and belongs to the
document versions current when the answer is made: a document that changed meanwhile loses its
edits, and a request for an old version gets none.

Propagation and parse checks run on one worker thread of their own: the propagator's parse
trees serve one thread, and the event loop stays free for typing. The worker reads snapshots
of the documents, never the live ones the event loop edits.

Each edit handed out gets an id (`offer`); `shown` and `accepted` record it in the usage log
with the "nextedit" surface, and an accept ends the current edit in the history, so the applied
suggestion counts as an edit of its own (the next prediction repeats it further).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from pairline.engine.actions.router import make_remote
from pairline.engine.backends.base import Backend
from pairline.engine.backends.edit import EditBackend
from pairline.engine.core import syntax
from pairline.engine.core.config import NextEditConfig, RemoteConfig, Settings
from pairline.engine.core.document import Document
from pairline.engine.core.types import EngineError, Position
from pairline.engine.nextedit import model
from pairline.engine.nextedit.history import EditHistory
from pairline.engine.nextedit.propagate import Propagator, ProposedEdit
from pairline.engine.usage import ShownEvent, UsageRecorder, new_id
from pairline.engine.workspace import Workspace

log = logging.getLogger(__name__)

PROPAGATION = "propagation"
MODEL = "model"
# Edits handed out and not yet accepted, remembered for `shown` and `accepted`.
_MAX_OFFERS = 256
# Edits the model proposes are few; recent edits given to it as context.
_RECENT_EDITS = 8


@dataclass(frozen=True)
class Prediction:
    """What `predict` found: the edits (best first), where they came from and how long it took."""

    edits: list[ProposedEdit]
    source: str = ""  # PROPAGATION, MODEL, or "" when there is nothing
    latency_ms: float = 0.0
    model: str = ""  # the model's name when `source` is MODEL


@dataclass
class _Offer:
    event: ShownEvent
    shown: bool = False  # written to the usage log as shown


@dataclass
class _Remote:
    """The remote backend, kept while its settings stay the same (its connections are reused)."""

    config: RemoteConfig | None = None
    backend: EditBackend | None = None
    closing: list[EditBackend] = field(default_factory=list)


def snapshot(doc: Document) -> Document:
    """A copy of `doc` that later edits of `doc` leave alone (the text itself is shared)."""
    return Document(
        doc.uri, doc.text, language=doc.language, version=doc.version, encoding=doc.encoding
    )


class NextEditEngine:
    """Edit history, propagation and the model predictor behind one `predict`."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        local: Callable[[], Backend | None] = lambda: None,
        *,
        usage: UsageRecorder | None = None,
        history: EditHistory | None = None,
        propagator: Propagator | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`local` gives the local backend when loaded: the server's `LocalModel`, or any
        stand-in for it (None: no local model)."""
        self._settings = settings
        self._local = local
        self._usage = usage
        self.history = history if history is not None else EditHistory()
        self._propagator = propagator if propagator is not None else Propagator()
        self._clock = clock
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pairline-nextedit")
        self._cancels: dict[str, threading.Event] = {}  # model predictions under way, per uri
        self._offers: OrderedDict[str, _Offer] = OrderedDict()
        self._remote = _Remote()
        self._closed = False
        self.stats: Counter[str] = Counter()

    @property
    def config(self) -> NextEditConfig:
        return self._settings().next_edit

    # --- What the editor did ------------------------------------------------------------------

    def record(self, uri: str, before: str, after: str, version: int = 0) -> None:
        """A change of `uri` from `before` to `after` was applied (now at `version`)."""
        cancel = self._cancels.get(uri)
        if cancel is not None:
            cancel.set()  # a model answer for the old text would be stale
        settings = self._settings()
        # The history may be the workspace's, read by the completion context too.
        if settings.next_edit.enable or (settings.context.enable and settings.context.recent_edits):
            self.history.record(uri, before, after, version=version)

    def forget(self, uri: str) -> None:
        """`uri` was closed: drop its edits and its parse tree."""
        cancel = self._cancels.pop(uri, None)
        if cancel is not None:
            cancel.set()
        self.history.forget(uri)
        if not self._closed:
            # The tree cache belongs to the worker thread: let the worker drop it.
            self._worker.submit(self._propagator.forget, uri)

    # --- Predictions --------------------------------------------------------------------------

    async def predict(
        self,
        uri: str,
        position: Position,
        documents: Workspace,
        *,
        version: int | None = None,
    ) -> Prediction:
        """The edits that should follow the user's last one, for a request at `position` of `uri`.

        Raises UnknownDocument when `uri` is not open and InvalidPosition for a position past
        its end. A `version` other than the document's is answered with no edit.
        """
        config = self.config
        doc = documents.get(uri)
        cursor = doc.clamp(position)
        self.stats["nextedit_requests"] += 1
        if not config.enable or self._closed:
            return Prediction([])
        if version is not None and version != doc.version:
            self.stats["nextedit_stale"] += 1
            return Prediction([])
        started = self._clock()
        target = snapshot(doc)
        edits = [
            edit
            for edit in await self._propagate(target, cursor, documents, config.max_edits)
            if edit.confidence >= config.min_confidence
        ]
        source, model = PROPAGATION if edits else "", ""
        if not edits and config.model != "off":
            backend = self._backend(config)
            if backend is not None:
                edits = await self._predict_with_model(backend, target, cursor, config)
                source, model = MODEL, backend.name
        edits = _fresh(edits[: config.max_edits], documents)
        if not _current(documents, uri, target.version):
            edits = []  # the request's own document changed: nothing of this holds any more
        if not edits:
            return Prediction([])
        self.stats[f"nextedit_{source}"] += 1
        return Prediction(edits, source, (self._clock() - started) * 1000, model)

    async def _propagate(
        self, target: Document, cursor: Position, documents: Workspace, limit: int
    ) -> list[ProposedEdit]:
        """The last edit (of any document) repeated; the request's document first."""
        edit = self.history.last()
        if edit is None or edit.uri not in documents:
            return []
        if edit.uri == target.uri:
            edited, others = target, []
        else:
            edited, others = snapshot(documents.get(edit.uri)), [target]
        others += [
            snapshot(doc) for doc in documents.documents() if doc.uri not in (target.uri, edit.uri)
        ]
        found = await asyncio.get_running_loop().run_in_executor(
            self._worker,
            partial(
                self._propagator.propose,
                edit,
                edited,
                others=others,
                # The cursor ranks occurrences by distance only in the document it is in.
                cursor=cursor if edited is target else None,
                limit=limit,
                earlier=self.history.edits(edit.uri)[:-1],
            ),
        )
        # Stable: the edits of the request's document first, each group in its own order.
        return sorted(found, key=lambda proposed: proposed.uri != target.uri)

    def _backend(self, config: NextEditConfig) -> Backend | EditBackend | None:
        if config.model == "local":
            return self._local()
        remote = self._settings().remote
        if not remote.base_url:
            return None  # "remote" without an endpoint: nothing is sent anywhere
        if self._remote.backend is None or self._remote.config != remote:
            if self._remote.backend is not None:
                self._remote.closing.append(self._remote.backend)
            self._remote.backend, self._remote.config = make_remote(remote), remote
        return self._remote.backend

    async def _predict_with_model(
        self,
        backend: Backend | EditBackend,
        target: Document,
        cursor: Position,
        config: NextEditConfig,
    ) -> list[ProposedEdit]:
        cancel = threading.Event()
        previous = self._cancels.get(target.uri)
        if previous is not None:
            previous.set()  # one model prediction per document: the newest request wins
        self._cancels[target.uri] = cancel
        self.stats["nextedit_model_calls"] += 1
        try:
            found = await model.predict_with_model(
                backend, self.history.recent(_RECENT_EDITS), target, cursor, cancel=cancel
            )
        except EngineError as exc:
            log.warning("next-edit model prediction failed: %s", exc)
            return []
        finally:
            if self._cancels.get(target.uri) is cancel:
                del self._cancels[target.uri]
        if cancel.is_set():
            return []
        wanted = [edit for edit in found if edit.confidence >= config.min_confidence]
        return await asyncio.get_running_loop().run_in_executor(
            self._worker, partial(parse_clean, target, wanted)
        )

    # --- Usage --------------------------------------------------------------------------------

    def offer(self, edit: ProposedEdit, prediction: Prediction, language: str) -> str:
        """An id for `edit`, about to be returned; `shown` and `accepted` take it."""
        event_id = new_id()
        event = ShownEvent(
            language=language,
            source=prediction.source,
            latency_ms=prediction.latency_ms,
            chars=len(edit.text),
            mode=edit.kind,
            model=prediction.model,
            surface="nextedit",
        )
        self._offers[event_id] = _Offer(event)
        while len(self._offers) > _MAX_OFFERS:
            self._offers.popitem(last=False)
        self.stats["nextedit_returned"] += 1
        return event_id

    def shown(self, event_id: str) -> bool:
        """The editor shows edit `event_id`; False when it is unknown or already recorded."""
        offer = self._offers.get(event_id)
        if offer is None or offer.shown:
            return False
        offer.shown = True  # once: the usage log keeps one row per id
        self.stats["nextedit_shown"] += 1
        if self._usage is not None:
            self._usage.shown(offer.event, event_id)
        return True

    def accepted(self, event_id: str) -> bool:
        """The user applied edit `event_id`; False when it is unknown (or already accepted)."""
        # What was applied is an edit of its own: the user's next change starts another.
        self.history.settle()
        if event_id not in self._offers:
            return False
        self.shown(event_id)  # clients need not report showing it
        del self._offers[event_id]
        self.stats["nextedit_accepted"] += 1
        if self._usage is not None:
            self._usage.accepted(event_id)
        return True

    async def aclose(self) -> None:
        """Stop: cancel model work, close remote connections, end the worker."""
        self.close()
        for backend in [*self._remote.closing, self._remote.backend]:
            if backend is not None:
                await backend.aclose()
        self._remote = _Remote()

    def close(self) -> None:
        self._closed = True
        for cancel in self._cancels.values():
            cancel.set()
        self._worker.shutdown(wait=False, cancel_futures=True)


def _current(documents: Workspace, uri: str, version: int) -> bool:
    return uri in documents and documents.get(uri).version == version


def _fresh(edits: Sequence[ProposedEdit], documents: Workspace) -> list[ProposedEdit]:
    """The edits whose document is still open at the version they were made for."""
    return [edit for edit in edits if _current(documents, edit.uri, edit.version)]


def parse_clean(document: Document, edits: Sequence[ProposedEdit]) -> list[ProposedEdit]:
    """The edits of `document` that, applied alone, add no parse error to it."""
    text = document.text
    before = syntax.error_count(document.language, text)
    kept = []
    for edit in edits:
        if edit.uri != document.uri or edit.version != document.version:
            continue
        if not 0 <= edit.start <= edit.end <= len(text):
            continue
        if before is not None:
            after = syntax.error_count(
                document.language, text[: edit.start] + edit.text + text[edit.end :]
            )
            if after is None or after > before:
                continue
        kept.append(edit)
    return kept
