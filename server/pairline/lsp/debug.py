"""Debug requests for tests and bug reports: what the server holds, not what it guesses.

`pairline/debug/document` {uri} → {uri, version, text}; `pairline/debug/lastPrompt` → {prompt,
guided}: guided maps each receiver the last generation's member names were constrained for
(`completion.guide_names`) to how many members it has;
`pairline/debug/stats` → counters (requests, generations, cache_hits, typing_through, …) and
gauges of model work (generations_pending/running now, and their peaks), and the usage log's
usage_shown/usage_accepted (rows written) and accept_commands (`pairline.accepted` received);
next edits: nextedit_requests, _returned, _shown, _accepted, _stale, _model_calls (the model
predictor asked), and answers per source (nextedit_propagation, nextedit_model); `gated`
(suggestions the confidence gate hid) and last_confidence (the last generated suggestion's
confidence, shown or not, null when none: benches draw the gate's curve from it);
model_host_pid (the model host process, null when the model runs in the server); resident
memory in MB: rss_server_mb, rss_model_host_mb and their sum rss_mb.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from pairline.engine.backends import heap
from pairline.engine.core.types import EngineError
from pairline.lsp.server import PairlineServer

DOCUMENT = "pairline/debug/document"
LAST_PROMPT = "pairline/debug/lastPrompt"
STATS = "pairline/debug/stats"


def setup(server: PairlineServer) -> None:
    @server.feature(DOCUMENT)
    def document(ls: PairlineServer, params: Any) -> dict[str, Any]:
        uri = getattr(params, "uri", None)
        if not isinstance(uri, str):
            raise JsonRpcInvalidParams("expected {uri: string}")
        try:
            doc = ls.documents.get(uri)
        except EngineError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        return {"uri": uri, "version": doc.version, "text": doc.text}

    @server.feature(LAST_PROMPT)
    def last_prompt(ls: PairlineServer, _params: Any) -> dict[str, Any]:
        guided = {name: len(names) for name, names in ls.engine.last_guided.items()}
        return {"prompt": ls.engine.last_prompt, "guided": guided}

    @server.feature(STATS)
    def stats(ls: PairlineServer, _params: Any) -> dict[str, Any]:
        engine: dict[str, Any] = dict(ls.engine.stats) | ls.model.gauges()
        engine["last_confidence"] = ls.engine.last_confidence
        # The model host's process id, null when the model runs in the server (tests kill it).
        host = engine["model_host_pid"] = getattr(ls.model.backend, "pid", None)
        # Memory is what both processes hold: the model's moves to the host, it is not gone.
        server_kb, host_kb = heap.resident_kb(), heap.resident_kb(host) if host else 0
        engine["rss_server_mb"] = round(server_kb / 1024, 1)
        engine["rss_model_host_mb"] = round(host_kb / 1024, 1)
        engine["rss_mb"] = round((server_kb + host_kb) / 1024, 1)
        return engine | dict(ls.usage.counts) | dict(ls.nextedit.stats)
