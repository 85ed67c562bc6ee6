"""Typing traces from real source files: blank one line inside a function and type it back.

Everything here is decided by the seed: which files, which line, how fast each key is pressed
and where the typist pauses. Only what the server answers (and so which suggestions get
accepted) depends on the run.
"""

from __future__ import annotations

import random
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from pairline.engine.workspace import language_for_path

PY_SUFFIXES = (".py",)
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
# family: suffixes, for the families `source_files` collects
SUFFIXES = {"python": PY_SUFFIXES, "js": JS_SUFFIXES, "go": (".go",), "rust": (".rs",)}
_MAX_FILE_BYTES = 100_000
_PY_DEF = re.compile(r"^(\s*)(async\s+)?def\s+\w+")
_JS_FUNC = re.compile(r"(function\b.*\{\s*$)|(=>\s*\{\s*$)|(^\s*\w+\s*\([^;]*\)\s*\{\s*$)")
_GO_FUNC = re.compile(r"^func\b.*\{\s*$")
_RUST_FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s.*\{\s*$")
# Opening lines of a function whose body is delimited by braces, per family.
_BRACE_FUNCS = {"js": _JS_FUNC, "go": _GO_FUNC, "rust": _RUST_FN}
_COMMENT_STARTS = ("#", "//", "/*", "*", '"""', "'''", "@")


@dataclass(frozen=True)
class Trace:
    """One line to type back: the document with the line's text removed, and that text."""

    path: str  # where the source came from (for the report)
    language: str
    text: str  # the document as opened: the target line holds only its indentation
    line: int  # zero-based line of the cursor
    column: int  # characters of indentation before the cursor
    target: str  # what the typist types
    intervals: tuple[float, ...]  # seconds before each keystroke (len(target) of them)


def default_source_dirs() -> list[Path]:
    """Installed packages of this interpreter: plenty of real Python (and some JS/TS)."""
    dirs = {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    return sorted(d for d in dirs if d.is_dir())


def source_files(dirs: list[Path]) -> dict[str, list[Path]]:
    """Candidate files by family (`SUFFIXES`), sorted so the seed alone picks among them."""
    found: dict[str, list[Path]] = {family: [] for family in SUFFIXES}
    for root in dirs:
        for path in sorted(root.rglob("*")):
            name = path.name
            if name.endswith((".min.js", ".d.ts", ".bundle.js")) or not path.is_file():
                continue
            family = next((f for f, ends in SUFFIXES.items() if path.suffix in ends), None)
            if family is None:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if 400 <= size <= _MAX_FILE_BYTES:
                found[family].append(path)
    return found


def _usable(line: str) -> bool:
    body = line.strip()
    return (
        12 <= len(body) <= 80
        and not body.startswith(_COMMENT_STARTS)
        and body.isprintable()
        and "'''" not in body
        and '"""' not in body
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def candidate_lines(text: str, family: str) -> list[int]:
    """Lines inside function bodies worth typing (code, not comments or docstrings)."""
    lines = text.split("\n")
    out: list[int] = []
    for i, line in enumerate(lines):
        if family == "python":
            match = _PY_DEF.match(line)
            if not match or not line.rstrip().endswith(":"):
                continue
            base = _indent(line)
            for j in range(i + 1, min(i + 40, len(lines))):
                body = lines[j]
                if body.strip() and _indent(body) <= base:
                    break
                if _usable(body) and _indent(body) > base:
                    out.append(j)
        else:
            if not _BRACE_FUNCS[family].search(line) or _indent(line) > 8:
                continue
            depth = line.count("{") - line.count("}")
            for j in range(i + 1, min(i + 40, len(lines))):
                body = lines[j]
                depth += body.count("{") - body.count("}")
                if depth <= 0:
                    break
                if _usable(body) and not body.rstrip().endswith("{"):
                    out.append(j)
    return sorted(set(out))


def key_intervals(
    rng: random.Random, target: str, cps: float, pause_prob: float, pause_s: float
) -> tuple[float, ...]:
    out = []
    previous = ""
    for ch in target:
        gap = rng.uniform(0.5, 1.5) / cps
        # People pause at word boundaries (thinking, reading the suggestion), not mid-word.
        if previous and not previous.isalnum() and rng.random() < pause_prob:
            gap += pause_s * rng.uniform(0.5, 1.5)
        out.append(round(gap, 4))
        previous = ch
    return tuple(out)


def build_traces(
    dirs: list[Path],
    count: int,
    seed: int,
    *,
    cps: float = 6.0,
    pause_prob: float = 0.15,
    pause_s: float = 0.8,
) -> list[Trace]:
    """`count` traces from files under `dirs`, alternating Python and JS/TS where both exist."""
    rng = random.Random(seed)
    files = source_files(dirs)  # Go and Rust are the accept bench's; not drawn here
    families = [f for f in ("python", "js") if files[f]]
    traces: list[Trace] = []
    attempts = 0
    while len(traces) < count and families and attempts < count * 50:
        family = families[len(traces) % len(families)]
        attempts += 1
        path = rng.choice(files[family])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        text = text.replace("\r\n", "\n")
        lines = candidate_lines(text, family)
        if not lines:
            continue
        line = rng.choice(lines)
        source_lines = text.split("\n")
        original = source_lines[line]
        column = _indent(original)
        target = original.strip()
        source_lines[line] = original[:column]
        traces.append(
            Trace(
                path=str(path),
                language=language_for_path(str(path)),
                text="\n".join(source_lines),
                line=line,
                column=column,
                target=target,
                intervals=key_intervals(rng, target, cps, pause_prob, pause_s),
            )
        )
    return traces
