"""Handing memory the model no longer uses back to the system (Linux; the heap with glibc).

glibc keeps freed memory in its arenas for reuse and returns to the system only what lies at
the top of a heap. Model work allocates and frees blocks with an entry per vocabulary token
(1-3 MB each with Gemma's 262k vocabulary: token candidates while sampling, numpy rows of
logits while scoring) besides the prompts' token lists; once glibc has raised its mmap
threshold past such sizes they come from the arenas, and what is freed between live blocks
stays resident: about 30 MB after a few completions here. `malloc_trim` returns those pages
(in well under a millisecond); the next request faults in what it needs again, so it runs
only once the model has been idle for a moment (`IdleRelease`), not between keystrokes.

The model file is mapped, and loading reads every tensor through the mapping, also those that
llama.cpp then copies into repacked buffers for its faster kernels (about 13 MB of Gemma 3
270M): their pages would stay resident though nothing reads them again. Dropping the
mapping's pages once after loading lets the first evaluation fault back only what is used,
from the page cache, and keeps the file's pages shared with other processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_libc: Any = None
_MADV_DONTNEED = 4  # Linux


def _c_library() -> Any:
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        except OSError:
            _libc = False
    return _libc


def release() -> bool:
    """Give free heap pages back to the system; False where the C library cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = _c_library()
    trim = getattr(libc, "malloc_trim", None) if libc else None  # absent from musl
    if trim is None:
        return False
    trim(0)
    return True


def drop_file_pages(path: Path) -> int:
    """Unmap the resident pages of this process's read-only mappings of `path`; bytes covered.

    The pages stay in the page cache; reading the mapping again maps them back.
    """
    libc = _c_library() if sys.platform.startswith("linux") else None
    madvise = getattr(libc, "madvise", None) if libc else None
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
        target = str(path.resolve())
    except OSError:
        return 0
    if madvise is None:
        return 0
    dropped = 0
    for line in maps.splitlines():
        parts = line.split(maxsplit=5)
        # Never a writable mapping: dropping its pages would lose what was written.
        if len(parts) < 6 or parts[5] != target or "w" in parts[1]:
            continue
        low, high = (int(bound, 16) for bound in parts[0].split("-"))
        if madvise(ctypes.c_void_p(low), ctypes.c_size_t(high - low), _MADV_DONTNEED) == 0:
            dropped += high - low
    return dropped


def resident_kb(pid: int | None = None) -> int:
    """Resident memory of process `pid` (this one by default), in kB; 0 where /proc cannot say
    (another system, a process that is gone)."""
    try:
        status = Path(f"/proc/{pid or 'self'}/status").read_text(encoding="utf-8")
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def after_load(model: Path) -> None:
    """What loading `model` left: the heap's temporary blocks, the repacked tensors' pages."""
    release()
    drop_file_pages(model)


class IdleRelease:
    """Runs `release` through `submit` once `is_idle` has held for `delay_s` seconds.

    `submit` is the model worker's: the heap is then trimmed between two pieces of work, never
    during one. Call `idle()` whenever the worker's queue becomes empty.
    """

    def __init__(
        self,
        submit: Callable[[Callable[[], bool]], object],
        is_idle: Callable[[], bool],
        delay_s: float = 1.0,
    ) -> None:
        self._submit = submit
        self._is_idle = is_idle
        self._delay_s = delay_s
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def idle(self) -> None:
        timer = threading.Timer(self._delay_s, self._fire)
        timer.daemon = True
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = timer
        timer.start()

    def _fire(self) -> None:
        if self._is_idle():
            with contextlib.suppress(RuntimeError):  # the worker was shut down meanwhile
                self._submit(release)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
