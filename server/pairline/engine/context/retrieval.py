"""Workspace retrieval: windows of any indexed file that resemble the code above the cursor.

As RepoCoder and CrossCodeEval's retrieval arm do, but cheap enough for every new line typed in
a workspace of thousands of files. Two stages:

1. An inverted index from identifier to the files that use it (`RetrievalIndex`, built on the
   index thread and kept current per saved or watched file) picks the few files that share the
   most identifiers with the lines above the cursor, the rarest identifiers read first and the
   postings read per request capped, so common names cannot make a request slow.
2. Only those files are read (through the file index, so its rules on what may be read hold)
   and cut into windows, cached per file version, and their windows are ranked by Jaccard
   similarity exactly as the open-buffer windows are (buffers.py).

The index holds no text: per identifier (by its hash: an int takes less memory than the
string), the number of the one file that uses it (most
identifiers) or an array of file numbers. A changed file gets a new
number and its old entries are skipped until the postings are compacted. Files and entries are
capped, so a huge tree costs bounded memory (the files past the cap are left out).
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Iterable

from pairline.engine.context.buffers import (
    WINDOW_LINES,
    WINDOW_STEP,
    Window,
    best_window,
    identifiers,
    windows,
)
from pairline.engine.context.index import FileIndex, FileStat
from pairline.engine.context.rank import RETRIEVED, Snippet
from pairline.engine.core import languages
from pairline.engine.core.lru import Lru
from pairline.engine.core.redact import is_secret_file

MAX_FILES = 20_000  # files indexed for retrieval; a larger tree is indexed up to here
MAX_ENTRIES = 4_000_000  # identifier-file pairs held (about 4 bytes each)
POSTING_BUDGET = 8_000  # postings read per request, rarest identifiers first
CANDIDATE_FILES = 4  # files read and cut into windows per request
MAX_SNIPPETS = 3  # retrieved windows offered to the budget
MAX_WINDOW_FILES = 128  # files whose windows are kept
LARGE_FILE_CHARS = 16_000  # past this, only windows around the rarest identifiers are cut
ANCHORS = 6  # the cursor's rarest identifiers looked for in a large file
ANCHOR_HITS = 8  # occurrences looked at per identifier
SUFFIX_SNIPPETS = 2  # windows of the code after the cursor (models without FIM)
SUFFIX_LINES = 200  # lines after the cursor cut into windows (what is nearest matters most)


class RetrievalIndex:
    """Identifier → files, for the files of one `FileIndex`; thread-safe."""

    def __init__(self, index: FileIndex) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._numbers: dict[str, int] = {}  # path → its live file number
        self._paths: list[str | None] = []  # file number → path (None: replaced or removed)
        self._families: list[str] = []  # file number → language family
        self._norms: list[float] = []  # file number → sqrt of its identifier count
        self._postings: dict[int, int | array[int]] = {}
        self._entries = 0
        self._dead = 0  # entries of replaced or removed files, skipped until compaction
        self._windows: Lru[str, tuple[FileStat, list[Window]]] = Lru(MAX_WINDOW_FILES)
        self.generation = 0  # grows with every change; cache keys use it
        self.built = False

    def build(self) -> None:
        """Read every indexed source file once (blocking: run it off the event loop)."""
        for path in sorted(self.index.paths()):
            self.update(path)
        self.built = True

    def __len__(self) -> int:
        return len(self._numbers)

    def update(self, path: str) -> bool:
        """Re-read `path` after it changed, appeared or went away; True if the index changed."""
        language = languages.language_for_path(path)
        text = None
        if language != languages.PLAINTEXT and self.index.has(path):
            text = self.index.read_text(path)
        ids = identifiers(text) if text else frozenset()
        with self._lock:
            old = self._numbers.pop(path, None)
            if old is not None:
                self._paths[old] = None
                self._dead += 1
            self._windows.pop(path)
            if ids and len(self._numbers) < MAX_FILES and self._entries + len(ids) <= MAX_ENTRIES:
                number = len(self._paths)
                self._numbers[path] = number
                self._paths.append(path)
                self._families.append(languages.family(language))
                self._norms.append(math.sqrt(len(ids)))
                for key in map(hash, ids):
                    posting = self._postings.get(key)
                    if posting is None:
                        self._postings[key] = number
                    elif isinstance(posting, int):
                        self._postings[key] = array("i", (posting, number))
                    else:
                        posting.append(number)
                self._entries += len(ids)
            if self._dead > max(64, len(self._numbers)):
                self._compact()
            changed = old is not None or path in self._numbers
            if changed:
                self.generation += 1
            return changed

    def _compact(self) -> None:
        """Drop the entries of replaced and removed files (under the lock)."""
        live = self._paths
        postings: dict[int, int | array[int]] = {}
        entries = 0
        for key, posting in self._postings.items():
            kept = [n for n in _numbers(posting) if live[n] is not None]
            if kept:
                postings[key] = kept[0] if len(kept) == 1 else array("i", kept)
                entries += len(kept)
        self._postings, self._entries, self._dead = postings, entries, 0

    def candidates(
        self, cursor_ids: Iterable[str], family: str, exclude: frozenset[str]
    ) -> list[str]:
        """The files of `family` sharing the most identifiers with the cursor, best first."""
        return self._choose(cursor_ids, family, exclude)[0]

    def _choose(
        self, cursor_ids: Iterable[str], family: str, exclude: frozenset[str]
    ) -> tuple[list[str], list[str]]:
        """The candidate files, and the cursor's rarest identifiers found in the index.

        Shared identifiers count against the square root of the file's own: a huge file shares
        something with everything, and costs the most to cut into windows.
        """
        with self._lock:
            found = [
                (_numbers(p), name)
                for name in cursor_ids
                if (p := self._postings.get(hash(name))) is not None
            ]
            # Rarest first: they say most about what is being written.
            found.sort(key=lambda pair: (len(pair[0]), pair[1]))
            anchors = [name for _, name in found[:ANCHORS]]
            counts: Counter[int] = Counter()
            read = 0
            for posting, _ in found:
                if read and read + len(posting) > POSTING_BUDGET:
                    break
                counts.update(posting)
                read += len(posting)
            # Most files are of the cursor's family and live: the best few usually suffice.
            for first in (16 * CANDIDATE_FILES, None):
                top = counts.most_common(first)
                ranked: list[tuple[float, str]] = []
                for number, shared in top:
                    path = self._paths[number]
                    wanted = path is not None and path not in exclude
                    if wanted and path is not None and self._families[number] == family:
                        ranked.append((-shared / self._norms[number], path))
                if len(ranked) >= CANDIDATE_FILES or len(top) == len(counts):
                    break
        # Only the files with the most shared identifiers are weighed by size (a cheap cut that
        # can miss a tiny file sharing few); ties follow `most_common`, hence index order.
        ranked.sort()
        return [path for _, path in ranked[:CANDIDATE_FILES]], anchors

    def windows_of(self, path: str, anchors: Iterable[str] = ()) -> list[Window]:
        """The windows of `path` as it is on disk now.

        A small file is cut whole, once per version. In a large one only the windows holding
        one of `anchors` (the cursor's rarest identifiers) are cut: they are the whole file's
        windows that can share the most with the cursor, found without tokenizing it all.
        """
        stat = self.index.stat(path)
        held = self._windows.get(path)
        if held is not None and held[0] == stat:
            return held[1]
        text = self.index.read_text(path) if stat is not None else None
        if not text:
            return []
        anchors = list(anchors)
        if anchors and len(text) > LARGE_FILE_CHARS:
            return _windows_near(text, anchors)
        found = windows(text)
        if stat is not None:
            self._windows.put(path, (stat, found))
        return found

    def snippets(
        self, cursor_ids: frozenset[str], family: str, exclude: frozenset[str]
    ) -> list[Snippet]:
        """The best window of each candidate file, best first, at most `MAX_SNIPPETS`."""
        if not cursor_ids:
            return []
        found: list[Snippet] = []
        paths, anchors = self._choose(cursor_ids, family, exclude)
        for path in paths:
            if is_secret_file(path):
                continue
            match = best_window(self.windows_of(path, anchors), cursor_ids)
            if match is not None:
                found.append(
                    Snippet(
                        path=self.index.display_path(path),
                        line=match.window.start,
                        text=match.window.text,
                        tier=RETRIEVED,
                        score=round(match.score, 6),
                    )
                )
        found.sort(key=lambda s: (-s.score, s.path, s.line))
        return found[:MAX_SNIPPETS]


def _numbers(posting: int | array[int]) -> array[int] | tuple[int]:
    return (posting,) if isinstance(posting, int) else posting


def _windows_near(text: str, anchors: list[str]) -> list[Window]:
    """The windows of `windows(text)` that hold one of `anchors` (a few hits of each)."""
    hits: list[int] = []
    for word in anchors:
        at = text.find(word)
        while at >= 0 and len(hits) < ANCHOR_HITS * len(anchors):
            hits.append(at)
            at = text.find(word, at + len(word))
    hits.sort()
    lines = text.split("\n")
    # The last window of `windows` is the first that reaches the end.
    final = max(0, -(-(len(lines) - WINDOW_LINES) // WINDOW_STEP) * WINDOW_STEP)
    starts: set[int] = set()
    line = last = 0
    for at in hits:
        line += text.count("\n", last, at)
        last = at
        block = line // WINDOW_STEP * WINDOW_STEP
        starts.update((min(final, max(0, block - WINDOW_STEP)), min(final, block)))
    out: list[Window] = []
    for start in sorted(starts):
        end = min(len(lines), start + WINDOW_LINES)
        chunk = "\n".join(lines[start:end]).rstrip()
        if chunk.strip():
            out.append(Window(start, end, chunk, identifiers(chunk)))
    return out


def suffix_snippets(suffix: str, line: int, path: str, cursor_ids: frozenset[str]) -> list[Snippet]:
    """Windows of the code after the cursor line (`suffix` starts on the cursor line `line`).

    For a model without fill-in-the-middle tokens, which never sees that code otherwise.
    """
    rest = suffix.split("\n", SUFFIX_LINES + 1)[1 : SUFFIX_LINES + 1]
    if not rest or not cursor_ids:
        return []
    scored = []
    for window in windows("\n".join(rest)):
        score = best_window([window], cursor_ids)
        if score is not None:
            scored.append(score)
    scored.sort(key=lambda m: (-m.score, m.window.start))
    return [
        Snippet(
            path=path,
            line=line + 1 + m.window.start,
            text=m.window.text,
            tier=RETRIEVED,
            score=round(m.score, 6),
        )
        for m in scored[:SUFFIX_SNIPPETS]
    ]
