"""Load: bursts of ~100 edits/s with a completion request per edit, across several documents.

Like an editor under a fast typist, the client cancels the request still in flight for a
document when it sends the next. Every request must be answered (a result, or a
RequestCancelled error), model work must never run more than one generation at a time, the
worker's queue must stay bounded (one per document plus one speculation), and the server's
text must be exactly what was typed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_reliability import REQUEST_CANCELLED, RawServer

pytestmark = pytest.mark.model

DOCUMENTS = 4
SECONDS = 20.0
EDITS_PER_SECOND = 100
TYPED = "def area(radius):\n    return 3.14159 * radius * radius\n\n\n"


def test_edit_bursts_are_answered_and_model_work_stays_bounded(tmp_path: Path) -> None:
    server = RawServer(tmp_path / "server.log")
    try:
        server.initialize({"completion": {"cache": True, "speculative": True}})
        assert server.wait_ready() == "ready"
        uris = [f"file:///tmp/pairline-load/doc{i}.py" for i in range(DOCUMENTS)]
        texts = dict.fromkeys(uris, "import math\n\n")
        for uri in uris:
            server.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": texts[uri],
                    }
                },
            )
        boxes: list[Any] = []
        in_flight: dict[str, int] = {}
        versions = dict.fromkeys(uris, 1)
        sent = 0
        started = time.monotonic()
        while time.monotonic() - started < SECONDS:
            uri = uris[sent % DOCUMENTS]
            text = texts[uri]
            char = TYPED[(sent // DOCUMENTS) % len(TYPED)]
            lines = text.split("\n")
            end = {"line": len(lines) - 1, "character": len(lines[-1])}
            versions[uri] += 1
            server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": versions[uri]},
                    "contentChanges": [{"range": {"start": end, "end": end}, "text": char}],
                },
            )
            texts[uri] = text = text + char
            if uri in in_flight:
                server.notify("$/cancelRequest", {"id": in_flight[uri]})
            lines = text.split("\n")
            msg_id, box = server.request_async(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": len(lines) - 1, "character": len(lines[-1])},
                    "context": {"triggerKind": 2},
                },
            )
            in_flight[uri] = msg_id
            boxes.append(box)
            sent += 1
            time.sleep(max(0.0, started + sent / EDITS_PER_SECOND - time.monotonic()))
        answers = [server.wait(box) for box in boxes]
        results = [a for a in answers if "result" in a]
        cancelled = [a for a in answers if a.get("error", {}).get("code") == REQUEST_CANCELLED]
        assert len(results) + len(cancelled) == sent, [
            a for a in answers if a not in results and a not in cancelled
        ][:3]
        stats = server.request("pairline/debug/stats", None)["result"]
        assert stats["generations"] > 0  # the model did run: the bound below is not vacuous
        assert stats["peak_generations_running"] == 1
        assert stats["peak_generations_pending"] <= DOCUMENTS + 1
        # Speculations started by the last answers may still be queued; nothing stays stuck.
        for _ in range(600):  # a hang guard, not a timing requirement
            if server.request("pairline/debug/stats", None)["result"]["generations_pending"] == 0:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("generations stayed queued")
        for uri in uris:
            answer = server.request("pairline/debug/document", {"uri": uri})
            assert answer["result"]["text"] == texts[uri]
        print(
            f"\nload: {sent} edits+requests in {SECONDS:.0f} s over {DOCUMENTS} documents; "
            f"{len(results)} answered, {len(cancelled)} cancelled; stats {stats}"
        )
        assert server.alive()
    finally:
        assert server.close() == 0
