"""Where a process's resident memory lies: the model file, other files, anonymous memory.

Read from /proc/PID/smaps (Linux). The model file is mapped (llama.cpp's mmap) and every page
of it is read on each token, so it counts in full; anonymous memory holds the Python heap and
llama.cpp's buffers (KV cache, compute buffer, repacked weights), of which only the pages
written so far count. Mappings of 8 MB and more are listed one by one: those are the buffers.
The language server runs the model in a child process (the model host), so what pairline holds
is the sum over the server and its children (`breakdown_tree`, `resident_kb_tree`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

_LARGE_KB = 8 * 1024


def breakdown(pid: int, model: Path | None = None) -> dict[str, Any]:
    """Resident MB by kind for process `pid`; empty where /proc/PID/smaps cannot be read."""
    try:
        text = Path(f"/proc/{pid}/smaps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return parse_smaps(text, str(model.resolve()) if model is not None else None)


def process_tree(pid: int) -> list[int]:
    """`pid` and its child processes (the language server and its model host), from /proc."""
    children: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            # The command name may hold spaces: the fields after it are state, then ppid.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
    return [pid, *sorted(children)]


def resident_kb_tree(pid: int) -> int:
    """Resident kB of `pid` and its children together (0 where /proc cannot say)."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            status = Path(f"/proc/{member}/status").read_text(encoding="ascii")
            total += int(status.split("VmRSS:", 1)[1].split()[0])
    return total


def breakdown_tree(pid: int, model: Path | None = None) -> dict[str, Any]:
    """`breakdown` summed over `pid` and its children, with each one's RSS in `processes_mb`."""
    parts = [part for part in (breakdown(member, model) for member in process_tree(pid)) if part]
    if not parts:
        return {}
    out: dict[str, Any] = {
        key: round(sum(part[key] for part in parts), 1)
        for key in ("rss_mb", "model_file_mb", "other_files_mb", "anonymous_mb")
    }
    out["large_anonymous"] = [entry for part in parts for entry in part["large_anonymous"]]
    out["processes_mb"] = [part["rss_mb"] for part in parts]
    return out


def parse_smaps(text: str, model_path: str | None) -> dict[str, Any]:
    """`breakdown` of the text of an smaps file; `model_path` names the model's mapping."""
    totals = {"model_file": 0, "other_files": 0, "anonymous": 0}
    large: list[tuple[int, int]] = []  # (resident kB, mapped kB) of big anonymous mappings
    kind = "anonymous"
    size_kb = 0
    for line in text.splitlines():
        head = line.split(maxsplit=5)
        if head and "-" in head[0] and not head[0].endswith(":"):
            low, _, high = head[0].partition("-")
            size_kb = (int(high, 16) - int(low, 16)) // 1024
            path = head[5].strip() if len(head) > 5 else ""
            if model_path is not None and path == model_path:
                kind = "model_file"
            elif path.startswith("/"):
                kind = "other_files"
            else:
                kind = "anonymous"  # heap, stacks, llama.cpp's and numpy's buffers
        elif head and head[0] == "Rss:":
            resident = int(head[1])
            totals[kind] += resident
            if kind == "anonymous" and resident >= _LARGE_KB:
                large.append((resident, size_kb))
    out: dict[str, Any] = {"rss_mb": _mb(sum(totals.values()))}
    out.update({f"{name}_mb": _mb(kb) for name, kb in totals.items()})
    out["large_anonymous"] = [
        f"{_mb(resident)} of {_mb(mapped)} MB" for resident, mapped in sorted(large, reverse=True)
    ]
    return out


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)
