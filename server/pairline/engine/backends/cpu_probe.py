"""Whether llama.cpp's repacked-weight kernels run on this CPU, found out in a child process.

llama-cpp-python builds llama.cpp for the CPU it is built on. On a CPU that advertises AMX, that
build moves the weights into AMX tiles at load and multiplies there; where the kernel or the
hypervisor does not actually let the process use the tile registers (seen on virtual machines
with Xeon CPUs), the first multiply dies with SIGILL and takes the language server, and the
editor's session, with it. A child process that loads the model and evaluates a prompt finds
that out without risk; the verdict is kept per llama.cpp build, CPU and model file, so the
check costs one extra model load, once. Where it fails, models load without the extra buffer
types (llama.cpp's `use_extra_bufts = false`): the plain CPU kernels, slower but correct.

Nothing is probed where the build has no AMX kernels: there the question does not arise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import platform
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_VERDICTS = "llama-probe.json"
_TIMEOUT_S = 300.0
_KEEP = 64  # verdicts remembered
# The child loads exactly as the server does and runs one small batch through every layer.
_CHILD = """
import sys, llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=128, n_threads=1, n_gpu_layers=0,
                      verbose=False)
llm.eval(llm.tokenize(b"def add(a, b):\\n    return a + b\\n"))
"""


def has_amx_kernels(system_info: str) -> bool:
    """Whether llama.cpp was built with AMX kernels (its system info says `AMX_INT8 = 1`)."""
    return "AMX_INT8 = 1" in system_info


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _key(model: Path) -> str:
    import llama_cpp

    # The library file stands for the build: a rebuild changes its size or time.
    library = Path(llama_cpp.__file__).parent / "lib"
    parts = [getattr(llama_cpp, "__version__", "?"), cpu_name()]
    for item in sorted(library.glob("*ggml*")) if library.is_dir() else []:
        stat = item.stat()
        parts.append(f"{item.name}:{stat.st_size}:{int(stat.st_mtime)}")
    stat = model.stat()
    parts.append(f"{model.resolve()}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: probe again
    return data if isinstance(data, dict) else {}


def run_child(model: Path, timeout_s: float = _TIMEOUT_S) -> bool | None:
    """True when the child ran the model, False when it died of SIGILL, None when unknown."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(model)],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode == -signal.SIGILL:
        return False
    # Any other failure (a damaged file, no memory) is the normal load's to report.
    return True if proc.returncode == 0 else None


def extra_buffers_safe(
    model: Path, system_info: str | None = None, cache_dir: Path | None = None
) -> bool:
    """Whether loading `model` with llama.cpp's extra buffer types is safe on this machine.

    `system_info` defaults to the installed llama.cpp's. Verdicts are facts about the machine,
    not settings: they live in the user cache dir unless `cache_dir` says otherwise.
    """
    if system_info is None:
        import llama_cpp

        system_info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    if not has_amx_kernels(system_info) or not model.is_file():
        return True
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("pairline"))
    path = cache_dir / _VERDICTS
    key = _key(model)
    verdicts = _read(path)
    if isinstance(verdicts.get(key), bool):
        return bool(verdicts[key])
    log.info("checking that llama.cpp's AMX kernels run on this CPU (once per model and build)")
    verdict = run_child(model)
    if verdict is None:
        return True
    verdicts.pop(key, None)
    verdicts[key] = verdict
    # Newest last; models that come and go (tests, experiments) must not grow it for ever.
    verdicts = dict(list(verdicts.items())[-_KEEP:])
    with contextlib.suppress(OSError):  # an unwritable cache only means probing again
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(verdicts, indent=1), encoding="utf-8")
        tmp.replace(path)
    if not verdict:
        log.warning(
            "llama.cpp's AMX kernels crash on this CPU (SIGILL in a test process): loading "
            "models without repacked weights, which is slower. Rebuilding llama-cpp-python "
            'without native CPU flags (CMAKE_ARGS="-DGGML_NATIVE=OFF") avoids them.'
        )
    return verdict


@contextlib.contextmanager
def without_extra_buffers(active: bool = True) -> Iterator[None]:
    """While active, `llama_cpp.Llama(...)` loads with `use_extra_bufts = false`.

    llama-cpp-python has no argument for it; it reads its model parameters from
    `llama_model_default_params()`, so that is wrapped for the duration of the load.
    """
    if not active:
        yield
        return
    from llama_cpp import llama_cpp as native

    original = native.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    native.llama_model_default_params = defaults
    try:
        yield
    finally:
        native.llama_model_default_params = original
