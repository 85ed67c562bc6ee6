"""The server's lifecycle when loading the model fails in a way the loader did not foresee.

A llama-cpp-python build whose shared library cannot be loaded raises RuntimeError on import,
inside the model load. Completion requests wait for the load to end: it must end in an error
the user is told about, and every request must still be answered.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.test_reliability import RawServer

URI = "file:///tmp/pairline-e2e-lifecycle/main.py"
BROKEN_LLAMA = (
    "raise RuntimeError(\"Failed to load shared library 'libllama.so': "
    'undefined symbol: ggml_backend_dev_count")\n'
)
# Only bounds a hung server, so the test fails instead of waiting; not a timing requirement.
HANG_GUARD_S = 120


def _broken_llama_path(tmp_path: Path) -> str:
    """A PYTHONPATH whose `llama_cpp` fails to import as a broken build does."""
    package = tmp_path / "shadow" / "llama_cpp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(BROKEN_LLAMA)
    return os.pathsep.join(filter(None, [str(package.parent), os.environ.get("PYTHONPATH")]))


def test_unexpected_load_failure_is_reported_and_requests_are_answered(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 64)  # passes the magic check; the load itself fails
    server = RawServer(tmp_path / "server.log", env={"PYTHONPATH": _broken_llama_path(tmp_path)})
    try:
        server.initialize({"model": {"name": str(model)}, "completion": {"recordStats": False}})
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": "x = "}},
        )
        answer = server.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": URI},
                "position": {"line": 0, "character": 4},
                "context": {"triggerKind": 1},
            },
            timeout=HANG_GUARD_S,
        )
        assert answer.get("result") == {"items": []}, answer
        assert server.wait_ready() == "error"
        (status,) = [
            n["params"]
            for n in server.notifications
            if n.get("method") == "pairline/status" and n["params"]["state"] == "error"
        ]
        assert "Failed to load shared library" in status["message"], status
        assert model.name in status["message"], status
        shown = [
            n["params"]["message"]
            for n in server.notifications
            if n.get("method") == "window/showMessage"
        ]
        assert any("completions are off" in m and "libllama" in m for m in shown), shown
        assert server.alive()
    finally:
        assert server.close() == 0
