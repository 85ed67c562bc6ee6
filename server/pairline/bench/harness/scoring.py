"""pass@1 by execution: run a candidate program with its tests in a separate, sandboxed process.

The child is a fresh `python -I` (no user site, no PYTHONPATH) in an empty temp dir, with a CPU
and memory limit, a wall-clock timeout and the socket module disabled, so a model's code cannot
reach the network, loop forever or fill memory. This is a guard against accidents, not a
security boundary: only run benchmark data you trust.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

# Prepended to every program: any attempt to open a socket fails (no network during scoring).
_NO_NETWORK = """\
import socket as _socket
def _blocked(*_a, **_k):
    raise OSError("network disabled while scoring")
_socket.socket = _blocked
_socket.create_connection = _blocked
_socket.getaddrinfo = _blocked
del _socket, _blocked
"""

_MEMORY_BYTES = 1 << 30


def _limits() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (30, 30))


def humaneval_program(prompt: str, completion: str, suffix: str, test: str, entry: str) -> str:
    """The program HumanEval(-Infilling) runs: code, its tests and `check(entry_point)`."""
    return f"{prompt}{completion}{suffix}\n{test}\ncheck({entry})\n"


def run_passes(program: str, timeout_s: float = 10.0) -> bool:
    """True when `program` exits 0 within the timeout."""
    return run_result(program, timeout_s) is True


def run_result(program: str, timeout_s: float = 10.0) -> bool | None:
    """Whether `program` exits 0, or None when it runs past the timeout."""
    with tempfile.TemporaryDirectory(prefix="pairline-score-") as tmp:
        path = Path(tmp) / "candidate.py"
        path.write_text(_NO_NETWORK + program, encoding="utf-8")
        try:
            result = subprocess.run(
                [sys.executable, "-I", str(path)],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout_s,
                preexec_fn=_limits,  # only sets rlimits between fork and exec
                env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
            )
        except subprocess.TimeoutExpired:
            return None
        return result.returncode == 0
