"""Code bases and typing traces of `pairline bench accept`.

The code bases are pinned versions of real projects in Python, JavaScript/TypeScript, Go and
Rust: PyPI wheels and npm tarballs, and Go and Rust libraries as Debian ships their source
(`golang-*-dev`, `librust-*-dev`). Each is downloaded once into the cache
(`<cache_dir>/bench/accept/`, with the next-edit bench's fetcher) and never into the repository.

A trace is a few consecutive lines of one function body, chosen by the seed alone. Every run
types in a copy of each code base (the workspace) where the traces' files already hold their
blanked text, so the rest of the repository is there for cross-file context but the lines to
type are nowhere on disk.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from pairline.bench.nextedit.sources import fetch
from pairline.bench.typist.traces import candidate_lines, key_intervals, source_files
from pairline.engine.workspace import language_for_path

FAMILIES = ("python", "js", "go", "rust")  # traces rotate over these, in this order


@dataclass(frozen=True)
class Source:
    """A pinned code base: where it is downloaded from and where its root lies once unpacked."""

    registry: str  # "pypi", "npm" or "deb"
    name: str
    version: str
    root: str  # the code base's folder inside the unpacked package ("" for its top)

    @property
    def label(self) -> str:
        short = self.name.removeprefix("golang-github-").removeprefix("librust-")
        return f"{short.removesuffix('-dev')}-{self.version}"


SOURCES = (
    Source("pypi", "click", "8.1.7", ""),
    Source("pypi", "attrs", "23.1.0", ""),
    Source("npm", "commander", "12.1.0", "package"),  # JavaScript
    Source("npm", "rxjs", "7.8.1", "package/src"),  # TypeScript
    Source(
        "deb",
        "golang-github-spf13-cobra-dev",
        "1.6.1-1",
        "usr/share/gocode/src/github.com/spf13/cobra",
    ),
    Source(
        "deb",
        "golang-github-google-go-cmp-dev",
        "0.5.9-1",
        "usr/share/gocode/src/github.com/google/go-cmp",
    ),
    Source("deb", "librust-semver-dev", "1.0.14-1", "usr/share/cargo/registry/semver-1.0.14"),
    Source("deb", "librust-anyhow-dev", "1.0.69-1", "usr/share/cargo/registry/anyhow-1.0.69"),
)


@dataclass(frozen=True)
class Trace:
    """Lines to type back into one file of one code base."""

    base: str  # the code base's label
    path: str  # the file, relative to the code base's root
    language: str
    text: str  # the document as opened: the first target line holds only its indentation
    line: int  # zero-based line of the cursor
    column: int  # characters of indentation before the cursor
    target: str  # what the person types; lines after the first carry their indentation
    intervals: tuple[float, ...]  # seconds before each character (len(target) of them)


def code_bases(cache: Path, sources: tuple[Source, ...] = SOURCES) -> dict[str, Path]:
    """Label -> root folder of each pinned code base, downloaded unless the cache has it."""
    out: dict[str, Path] = {}
    for source in sources:
        folder = fetch(cache, source.registry, source.name, source.version) / source.root
        if not folder.is_dir():
            raise SystemExit(f"pairline: {source.name} {source.version} has no {source.root}/")
        out[source.label] = folder
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def pick_traces(
    bases: dict[str, Path],
    count: int,
    seed: int,
    *,
    lines: int = 2,
    cps: float = 6.0,
    pause_prob: float = 0.15,
    pause_s: float = 0.8,
) -> list[Trace]:
    """`count` traces of up to `lines` lines, rotating over the families that have files."""
    rng = random.Random(seed)
    files: dict[str, list[tuple[str, Path, Path]]] = {family: [] for family in FAMILIES}
    for label, root in sorted(bases.items()):
        for family, paths in source_files([root]).items():
            if family in files:
                files[family].extend((label, root, path) for path in paths)
    families = [f for f in FAMILIES if files[f]]
    traces: list[Trace] = []
    used: set[Path] = set()  # one trace per file: each workspace file holds one blanked window
    attempts = 0
    while len(traces) < count and families and attempts < count * 50:
        attempts += 1
        family = families[len(traces) % len(families)]
        label, root, path = rng.choice(files[family])
        if path in used:
            continue
        try:
            text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            continue
        candidates = candidate_lines(text, family)
        if not candidates:
            continue
        start = rng.choice(candidates)
        window = [start]
        while len(window) < lines and window[-1] + 1 in candidates:
            window.append(window[-1] + 1)
        source = text.split("\n")
        column = _indent(source[start])
        target = "\n".join([source[start].strip()] + [source[j].rstrip() for j in window[1:]])
        document = [*source[:start], source[start][:column], *source[window[-1] + 1 :]]
        used.add(path)
        traces.append(
            Trace(
                base=label,
                path=path.relative_to(root).as_posix(),
                language=language_for_path(str(path)),
                text="\n".join(document),
                line=start,
                column=column,
                target=target,
                intervals=key_intervals(rng, target, cps, pause_prob, pause_s),
            )
        )
    return traces


def prepare_workspaces(bases: dict[str, Path], traces: list[Trace], into: Path) -> dict[str, Path]:
    """A copy of each code base the traces use, its trace files holding their blanked text."""
    out: dict[str, Path] = {}
    for label in dict.fromkeys(t.base for t in traces):
        copy = into / label
        shutil.copytree(bases[label], copy, ignore=shutil.ignore_patterns("node_modules", ".git"))
        out[label] = copy
    for trace in traces:
        (out[trace.base] / trace.path).write_text(trace.text, encoding="utf-8")
    return out
