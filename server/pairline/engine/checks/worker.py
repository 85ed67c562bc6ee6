"""A warm pytest for the checks of "Fix this": start the interpreter and pytest once, fork per
check.

A cold `python -m pytest` spends most of a small test file's check starting the interpreter
and importing pytest and its plugins; "Fix this" runs hundreds of such checks. This worker
runs in the check's own interpreter (the project's venv), imports pytest and the installed
plugins once, and answers each request by forking: the child has everything imported but the
project's code, which it imports fresh from the workspace copy, so every check sees the
candidate as it is on disk.

Like `pytest_watchdog`, it is never imported by pairline: the verifier copies it beside a
workspace copy and starts it with the check's interpreter; it imports only the standard
library and pytest. Protocol, one JSON object per line: a request on stdin
`{"args": [...], "cwd": ..., "env": {...}, "timeout": s}`; on stdout first
`{"pid": child}` (so the caller can stop the child's process group when it cancels), then
`{"returncode": n or null, "output": ..., "seconds": s}`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from typing import Any

_WARM_TEST = "test_pairline_warm_up"


def _warm() -> None:
    """Import pytest, its plugins and what a session imports only when it runs (collection,
    fixtures, assertion rewriting, reporting): one run over a trivial test, its output
    dropped (stdout is the protocol's)."""
    import importlib.metadata

    import pytest

    for entry in importlib.metadata.entry_points(group="pytest11"):
        # A broken plugin fails the checks themselves, as it would cold.
        with contextlib.suppress(Exception):
            entry.load()
    # The warm-up is no check: nothing of it is timed or written down.
    for name in ("PAIRLINE_TEST_TIMES", "PAIRLINE_TEST_TIMEOUT_S"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="pairline-warm-") as folder:
        with open(os.path.join(folder, _WARM_TEST + ".py"), "w", encoding="utf-8") as test:
            test.write("def test_warm():\n    assert 1 + 1 == 2\n")
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            with contextlib.suppress(Exception, SystemExit):
                pytest.main(["-q", "-p", "no:cacheprovider", folder])
            sys.stdout.flush()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        # The warm-up's own test leaves no trace a project's tests could trip on.
        sys.modules.pop(_WARM_TEST, None)
        sys.path[:] = [entry for entry in sys.path if not entry.startswith(folder)]


def _child(request: dict[str, Any], out_fd: int) -> None:
    os.setpgid(0, 0)  # its own group: a timeout stops what the tests started too
    # The worker's stdin is the protocol: a test that reads input gets nothing, as in a check.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    sys.dont_write_bytecode = True
    sys.path.insert(0, request["cwd"])  # as `python -m pytest` puts the working directory
    sys.argv = ["pytest", *request["args"]]
    code = 1
    try:
        import pytest

        code = int(pytest.main(list(request["args"])))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(delay)
        delay = min(0.02, delay * 2)


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    _warm()
    _answer({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(request, out.fileno())
            _answer({"pid": pid})
            returncode = _wait(pid, float(request["timeout"]))
            out.seek(0)
            output = out.read().decode("utf-8", "replace")
        if returncode is None:
            output = f"timed out after {float(request['timeout']):.3g} s"
        seconds = time.perf_counter() - started
        _answer({"returncode": returncode, "output": output, "seconds": seconds})


if __name__ == "__main__":
    main()
