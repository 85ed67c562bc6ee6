"""What every benchmark shares: machine description, settings, progress, scores, reports.

A report is one JSON object: {"bench", "machine", "settings", "results", ...}. The same object
is printed as a table for people or as JSON (`--json`) for machines, and written under `--out`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from pairline import __version__
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import Settings, dump_settings
from pairline.engine.core.percentile import percentile
from pairline.engine.core.types import EngineError
from pairline.engine.models.manifest import ResolvedModel


def _git_commit() -> str:
    # The source revision makes a figure traceable; an installed wheel simply has none.
    root = Path(__file__).resolve().parents[4]
    if not (root / ".git").exists():
        return ""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def machine_info(model: ResolvedModel | None = None) -> dict[str, Any]:
    """Cores, CPU, memory, OS, Python, llama.cpp build and the model file."""
    from pairline.engine.backends.cpu_probe import cpu_name
    from pairline.engine.backends.llama_runtime import llama_build_info

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    memory_gb = 0.0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    build = llama_build_info()
    info: dict[str, Any] = {
        "cpu": cpu_name(),
        "cores": os.cpu_count() or 1,
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pairline": __version__,
        "git_commit": _git_commit(),
        "llama_cpp_python": build["llama_cpp_python"],
        "gpu_offload": build["gpu_offload"],
        "llama_system_info": build["system_info"],
        "load_avg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else [],
    }
    if model is not None:
        info["model"] = model.name
        info["model_file"] = model.path.name
        info["model_bytes"] = model.path.stat().st_size if model.path.is_file() else 0
    return info


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as LSP positions count."""
    return len(text.encode("utf-16-le")) // 2


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (kB) and thread count of a process, from /proc (Linux); empty elsewhere."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            name, _, value = line.partition(":")
            if name == "VmRSS":
                out["rss_kb"] = int(value.split()[0])
            elif name == "Threads":
                out["threads"] = int(value.strip())
    except OSError:
        pass
    return out


def settings_info(settings: Settings) -> dict[str, Any]:
    data = dump_settings(settings)
    data.pop("remote", None)  # benchmarks never talk to the remote model
    return data


class Progress:
    """A progress bar on stderr; one line per 10% when stderr is not a terminal (logs)."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.perf_counter()
        self._tty = self.stream.isatty()
        self._last_decile = -1
        self.note = ""

    def advance(self, step: int = 1, note: str = "") -> None:
        self.done += step
        if note:
            self.note = note
        fraction = min(self.done / self.total, 1.0)
        elapsed = time.perf_counter() - self.started
        eta = elapsed / fraction - elapsed if fraction > 0 else 0.0
        text = f"{self.label} {self.done}/{self.total} {elapsed:.0f}s eta {eta:.0f}s {self.note}"
        if self._tty:
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r[{bar:<30}] {text}"[:150].ljust(150))
            if self.done >= self.total:
                self.stream.write("\n")
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def add_automatic_argument(parser: argparse.ArgumentParser) -> None:
    """`--automatic`: the quality benches ask as typing does, or (by default) as Tab does."""
    parser.add_argument(
        "--automatic",
        action="store_true",
        help="ask as typing does (automatic trigger: no reranking, strings skipped), not as Tab",
    )


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """count, mean and p50/p95/p99 in milliseconds (None where there is nothing to measure)."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "count": len(seconds),
        "mean_ms": ms(sum(seconds) / len(seconds)) if seconds else None,
        "p50_ms": ms(percentile(seconds, 50)),
        "p95_ms": ms(percentile(seconds, 95)),
        "p99_ms": ms(percentile(seconds, 99)),
    }


def share(part: int, whole: int) -> float | None:
    """part / whole to four places; None when there is no whole to share."""
    return round(part / whole, 4) if whole else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(prediction: str, target: str) -> float:
    """1 - Levenshtein distance / longer length (CrossCodeEval's ES, on 0..1); 1.0 for two ''."""
    longest = max(len(prediction), len(target))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(prediction, target) / longest


def exact_match(prediction: str, target: str) -> bool:
    """Equal up to surrounding whitespace (indentation is not the model's choice to judge)."""
    return prediction.strip() == target.strip()


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def unpack(archive: Path, into: Path) -> None:
    """Extract a wheel, zip, tarball (sdist, npm package) or Debian package into `into`."""
    if archive.suffix == ".deb":
        into.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(archive), str(into)], check=True, timeout=600)
    elif archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")


def write_report(report: dict[str, Any], out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _rows(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_rows(value, name + "."))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            continue  # per-item detail belongs in the JSON, not the table
        else:
            rows.append((name, _fmt(value)))
    return rows


def format_table(report: dict[str, Any]) -> str:
    """The report as aligned `key  value` sections for people."""
    lines = [f"pairline bench {report['bench']}"]
    for section in ("results", "settings", "machine"):
        if section not in report:
            continue
        rows = _rows(report[section])
        width = max((len(k) for k, _ in rows), default=0)
        lines.append("")
        lines.append(f"== {section}")
        lines.extend(f"  {k.ljust(width)}  {v}" for k, v in rows)
    files = report.get("files") or {}
    if files:
        lines.append("")
        lines.extend(f"wrote {path}" for path in files.values())
    return "\n".join(lines)


def emit(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(format_table(report))


@contextlib.contextmanager
def fresh_cache_dir(settings: Settings) -> Iterator[Path]:
    """A temporary cache dir with an empty completion cache and the model files linked in.

    A run never profits from an earlier one, and the models are not assembled again.
    """
    cache_dir = Path(tempfile.mkdtemp(prefix="pairline-bench-cache-"))
    try:
        (cache_dir / "models").symlink_to(settings.cache_path / "models", target_is_directory=True)
        yield cache_dir
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def measuring(settings: Settings) -> Settings:
    """`settings` with the completion cache and speculative work off.

    Quality benchmarks measure the model path: a cache filled by an earlier run would answer
    instantly, and speculative generations would compete with the next task for the CPU.
    """
    completion = dataclasses.replace(settings.completion, cache=False, speculative=False)
    return dataclasses.replace(settings, completion=completion)


def resolve_model(settings: Settings) -> ResolvedModel:
    """The configured model's file (assembled or downloaded first); SystemExit when it fails."""
    from pairline.engine.models import manifest

    try:
        return manifest.resolve(settings.model.name, settings.cache_path)
    except EngineError as exc:
        raise SystemExit(f"pairline: {exc}") from None


async def load_backend(
    settings: Settings, quiet: bool = False
) -> tuple[LocalLlamaBackend, ResolvedModel]:
    """The configured local model, loaded, and its file; SystemExit when it cannot load."""
    from pairline.engine.models import loading

    def stage(message: str, _percent: int) -> None:
        if not quiet:
            print(f"pairline: {message}", file=sys.stderr)

    try:
        backend = await loading.load_local(settings, stage)
    except EngineError as exc:
        raise SystemExit(f"pairline: {exc}") from None
    return backend, backend.model


def finish(
    report: dict[str, Any],
    args: argparse.Namespace,
    name: str,
    figure: Callable[[Path], Path] | None = None,
) -> dict[str, Any]:
    """Write `report` as NAME.json under `--out`, with `figure` drawn into NAME.png first
    (unless `--no-plot`); the report names what it wrote under "files", the JSON included."""
    out_dir = Path(args.out)
    files = {"json": str(out_dir / f"{name}.json")}
    if figure is not None and not args.no_plot:
        files["png"] = str(figure(out_dir / f"{name}.png"))
    report["files"] = files
    write_report(report, out_dir, name)
    return report
