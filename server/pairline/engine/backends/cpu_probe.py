"""Which of llama.cpp's CPU kernels run on this machine, found out in child processes.

llama-cpp-python builds llama.cpp for the CPU it is built on. On a CPU that advertises AMX, that
build moves the weights into AMX tiles at load (llama.cpp's "extra buffer types") and multiplies
there. That path does not run everywhere: where the kernel or the hypervisor does not let the
process use the tile registers the first multiply dies of SIGILL, and on some cloud Xeons it dies
of SIGSEGV inside the AMX multiply. Either takes the language server, and the editor's session,
with it. A child process that loads the model and evaluates a prompt finds that out without
risk, and every death by a signal counts (SIGSEGV, SIGBUS, SIGILL, SIGABRT, ...): whatever the
fault, the server must not run those kernels. Where the child dies, a second child tries the
plain CPU kernels (`use_extra_bufts = false`), and both outcomes are kept per llama.cpp build,
CPU and model file, so the check costs one or two extra model loads, once. Models then load with
the plain kernels, slower but correct; when even those crash, the load is refused with advice to
rebuild, rather than letting the first completion take the server down.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_VERDICTS = "llama-probe.json"
_TIMEOUT_S = 300.0
_KEEP = 64  # verdicts remembered
# The child loads exactly as the server does and runs one small batch through every layer; with
# "plain" as its second argument it turns the extra buffer types off as `without_extra_buffers`
# does. A crash here is expected, so it leaves no core file behind.
_CHILD = """
import sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except (ImportError, OSError, ValueError):
    pass
import llama_cpp
from llama_cpp import llama_cpp as native
if sys.argv[2] == "plain":
    original = native.llama_model_default_params
    def defaults():
        params = original()
        params.use_extra_bufts = False
        return params
    native.llama_model_default_params = defaults
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=128, n_threads=1, n_gpu_layers=0,
                      verbose=False)
llm.eval(llm.tokenize(b"def add(a, b):\\n    return a + b\\n"))
"""

OK = "ok"  # the child ran the model
NOT_PROBED = "not probed"  # the build has no AMX kernels
UNKNOWN = "unknown"  # the child gave no answer; asked again next time
# Signals that come from outside the child (the OOM killer, Ctrl-C in the terminal, a logout)
# say nothing about the kernels: such a death is no verdict.
_FROM_OUTSIDE = frozenset({"SIGKILL", "SIGTERM", "SIGINT", "SIGHUP"})
# What gets a build without the AMX kernels (said where they, or all kernels, crash).
REBUILD = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --force-reinstall --no-cache-dir llama-cpp-python'
)


def _crashed(outcome: str | None) -> bool:
    return outcome is not None and outcome not in (OK, NOT_PROBED, UNKNOWN)


@dataclass(frozen=True)
class ProbeVerdict:
    """What the test processes found: `extra` with the repacked kernels, `plain` without.

    `extra` is OK, the name of the signal the child died of, NOT_PROBED or UNKNOWN; `plain` is
    OK or a signal's name where the extra child died, None where it was not run or gave no answer.
    """

    extra: str
    plain: str | None = None

    @property
    def safe(self) -> bool:
        """Whether models may load with llama.cpp's extra buffer types (the repacked kernels)."""
        return not _crashed(self.extra)

    @property
    def plain_crashes(self) -> bool:
        """Whether llama.cpp dies here even with the plain kernels: no model load is safe."""
        return not self.safe and _crashed(self.plain)

    def describe(self) -> str:
        """Which kernels models load with, and why, in one sentence."""
        if self.extra == NOT_PROBED:
            return "default CPU kernels (no AMX kernels in this build: nothing to probe)"
        if self.extra == OK:
            return "repacked AMX kernels (a test process ran them)"
        if self.extra == UNKNOWN:
            return (
                "repacked AMX kernels, untested (the test process gave no answer; it runs "
                "again at the next load)"
            )
        if self.plain_crashes:
            return (
                "llama.cpp crashes on this CPU even without its repacked AMX kernels (test "
                f"processes died of {self.extra} with them and of {self.plain} without): "
                f"rebuild llama-cpp-python without native CPU flags: {REBUILD}"
            )
        ran = "; the plain kernels ran" if self.plain == OK else ""
        return (
            f"plain CPU kernels: llama.cpp's AMX kernels died of {self.extra} in a test "
            f"process{ran}"
        )

    def record(self) -> dict[str, str | None]:
        """How it is kept in the verdicts file."""
        return {"extra": self.extra, "plain": self.plain}

    @staticmethod
    def from_record(value: object) -> ProbeVerdict | None:
        """A kept verdict, None for anything unreadable (then the probe runs again)."""
        if isinstance(value, bool):
            # Kept before every signal counted, when only SIGILL did: False meant that one.
            return ProbeVerdict(OK if value else "SIGILL")
        if not isinstance(value, dict):
            return None
        extra, plain = value.get("extra"), value.get("plain")
        if not isinstance(extra, str) or extra in (NOT_PROBED, UNKNOWN):
            return None
        if plain is not None and not isinstance(plain, str):
            return None
        return ProbeVerdict(extra, plain)


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


def signal_name(number: int) -> str:
    """The name of signal `number` ("SIGSEGV" for 11), or its number where it has none."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_child(
    model: Path, extra: bool = True, timeout_s: float = _TIMEOUT_S, script: str = _CHILD
) -> str | None:
    """How a child process that runs `model` ended: OK, or the name of the signal that killed it.

    `extra` says whether it loads with llama.cpp's extra buffer types or without them. None
    when nothing can be concluded: it timed out, could not start, or failed otherwise (a
    damaged file, no memory: the normal load reports those). `script` is the child's code,
    given the model's path and "extra" or "plain".
    """
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script, str(model), "extra" if extra else "plain"],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode == 0:
        return OK
    if proc.returncode < 0:  # killed by a signal (POSIX)
        return signal_name(-proc.returncode)
    return None


def _conclusive(outcome: str | None) -> str | None:
    return None if outcome in _FROM_OUTSIDE else outcome


def probe(
    model: Path, system_info: str | None = None, cache_dir: Path | None = None
) -> ProbeVerdict:
    """Which kernels `model` may run with on this machine, from the record or a test process.

    `system_info` defaults to the installed llama.cpp's. Verdicts are facts about the machine,
    not settings: they live in the user cache dir unless `cache_dir` says otherwise.
    """
    if system_info is None:
        import llama_cpp

        system_info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    if not has_amx_kernels(system_info):
        return ProbeVerdict(NOT_PROBED)
    if not model.is_file():
        return ProbeVerdict(UNKNOWN)  # the load itself will say what is wrong with the path
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("pairline"))
    path = cache_dir / _VERDICTS
    key = _key(model)
    verdicts = _read(path)
    kept = ProbeVerdict.from_record(verdicts.get(key))
    if kept is not None:
        return kept
    log.info("checking that llama.cpp's AMX kernels run on this CPU (once per model and build)")
    extra = _conclusive(run_child(model, extra=True))
    if extra is None:
        return ProbeVerdict(UNKNOWN)
    plain = None
    if extra != OK:
        log.info("llama.cpp's AMX kernels died of %s; checking the plain kernels", extra)
        plain = _conclusive(run_child(model, extra=False))
    verdict = ProbeVerdict(extra, plain)
    verdicts.pop(key, None)
    verdicts[key] = verdict.record()
    # Newest last; models that come and go (tests, experiments) must not grow it for ever.
    verdicts = dict(list(verdicts.items())[-_KEEP:])
    with contextlib.suppress(OSError):  # an unwritable cache only means probing again
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(verdicts, indent=1), encoding="utf-8")
        tmp.replace(path)
    if verdict.plain_crashes:
        log.error("%s", verdict.describe())
    elif not verdict.safe:
        log.warning(
            "llama.cpp's AMX kernels crash on this CPU (%s in a test process): loading models "
            "without repacked weights, which is slower. Rebuilding llama-cpp-python without "
            "native CPU flags (%s) avoids them.",
            verdict.extra,
            REBUILD,
        )
    return verdict


def extra_buffers_safe(
    model: Path, system_info: str | None = None, cache_dir: Path | None = None
) -> bool:
    """Whether loading `model` with llama.cpp's extra buffer types is safe on this machine."""
    return probe(model, system_info, cache_dir).safe


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
