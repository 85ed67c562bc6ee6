"""`python -m pairline.bench.harness.llama_cpp_server ARGS`: llama-cpp-python's OpenAI server.

The same server as `python -m llama_cpp.server ARGS`, except that it loads the model the way
pairline's engine does on this machine: where llama.cpp's AMX kernels crash the CPU (see
`engine/backends/cpu_probe.py`), without the extra buffer types. The bench's peer and the
tests' remote model run through it, so they neither crash in those kernels nor get a different
weight layout than the engine they are compared with.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def _model_argument(argv: list[str]) -> Path | None:
    for index, arg in enumerate(argv):
        if arg == "--model" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--model="):
            return Path(arg.split("=", 1)[1])
    return None


def main() -> None:
    from pairline.engine.backends import cpu_probe

    model = _model_argument(sys.argv[1:])
    safe = model is None or cpu_probe.extra_buffers_safe(model)
    with cpu_probe.without_extra_buffers(not safe):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
