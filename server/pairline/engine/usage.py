"""Local usage log: the suggestions shown to the user and the ones accepted, for `pairline stats`.

Each suggestion returned to the editor is one `shown` row (language id, where it came from:
model, cache or typing-through, latency, length, mode, model name, time) and each accept one
`accepted` row naming it by id. Never code text or file names. The log is a small SQLite file
in the cache dir; nothing reads it but `pairline stats`, and nothing sends it anywhere.

Both tables are append-only and bounded: rows older than `keep_days` and suggestions beyond the
newest `max_shown` are pruned as the log grows, and SQLite reuses the freed pages, so the file
stops growing. Recording is best effort: a corrupt file is moved aside and recreated once; a
read-only, vanished or otherwise unusable one costs one log line and turns recording off for
this process. Nothing here raises into the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pairline.engine.core.config import Settings

log = logging.getLogger(__name__)

FILE_NAME = "usage.sqlite3"
KEEP_DAYS = 30
MAX_SHOWN = 50_000  # under 10 MB of rows and indexes, even with long model names
_PRUNE_EVERY = 500
_SCHEMA_VERSION = 1
# Writes happen on the server's event loop: wait briefly for another pairline process that
# holds the lock, then drop the event rather than stall completions.
_BUSY_TIMEOUT_S = 0.2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS shown (
    id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    language TEXT NOT NULL,
    source TEXT NOT NULL,
    mode TEXT NOT NULL,
    surface TEXT NOT NULL,
    model TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    chars INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS shown_ts ON shown (ts);
CREATE TABLE IF NOT EXISTS accepted (
    id TEXT NOT NULL,
    ts REAL NOT NULL,
    chars INTEGER
);
CREATE INDEX IF NOT EXISTS accepted_id ON accepted (id);
"""


class UsageLogError(Exception):
    """The log exists but cannot be read."""


@dataclass(frozen=True)
class ShownEvent:
    """One suggestion returned to the editor."""

    language: str
    source: str  # "model", "cache" or "typing"
    latency_ms: float
    chars: int
    mode: str  # "line" or "block"
    model: str
    # "inline" (ghost text), "menu" (a completion item) or "nextedit" (a next-edit suggestion,
    # whose `source` is "propagation" or "model" and `mode` the kind of change, e.g. "rename")
    surface: str = "inline"


@dataclass(frozen=True)
class Record:
    """A shown suggestion as read back, with what became of it."""

    id: str
    ts: float
    event: ShownEvent
    accepted: bool
    accepted_chars: int  # characters taken (a partial accept takes fewer than `event.chars`)


def new_id() -> str:
    """A fresh suggestion id (what `shown` returns and `accepted` takes)."""
    return secrets.token_hex(8)


def log_path(cache_dir: Path) -> Path:
    return cache_dir / FILE_NAME


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        # WAL with synchronous=NORMAL: a commit is an append without fsync, cheap enough for the
        # event loop. The WAL is checkpointed and truncated small to keep the file bounded.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=256")
        conn.execute("PRAGMA journal_size_limit=1048576")
    except BaseException:
        conn.close()
        raise
    return conn


def _transient(exc: sqlite3.Error) -> bool:
    # Another process holds the write lock: this event is lost, the log is fine.
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _corrupt(exc: sqlite3.Error) -> bool:
    # OperationalError covers read-only, missing and locked files; a plain DatabaseError means
    # the bytes are not (or no longer) a database of ours.
    return type(exc) is sqlite3.DatabaseError


class UsageLog:
    """Append `shown` and `accepted` events to one file; never raises."""

    def __init__(
        self,
        path: Path,
        *,
        keep_days: float = KEEP_DAYS,
        max_shown: int = MAX_SHOWN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.keep_days = keep_days
        self.max_shown = max_shown
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._disabled = False
        self._recovered = False
        self._since_prune = 0

    @property
    def enabled(self) -> bool:
        return not self._disabled

    def shown(self, event: ShownEvent, event_id: str | None = None) -> str | None:
        """Record a suggestion (under `event_id`, else a new id); its id, or None on failure."""
        event_id = event_id or new_id()
        row = (
            event_id,
            self._clock(),
            event.language,
            event.source,
            event.mode,
            event.surface,
            event.model,
            round(float(event.latency_ms), 3),
            int(event.chars),
        )
        ok = self._write("INSERT INTO shown VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        if not ok:
            return None
        self._since_prune += 1
        if self._since_prune >= _PRUNE_EVERY:
            self._prune()
        return event_id

    def accepted(self, event_id: str, chars: int | None = None) -> bool:
        """Record an accept of suggestion `event_id` (`chars`: how much of it, when partial)."""
        conn = self._connection()
        if conn is None:
            return False
        try:
            known = conn.execute("SELECT 1 FROM shown WHERE id = ?", (event_id,)).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return False
        if known is None:
            return False  # not ours, pruned, or from a log since moved aside
        return self._write(
            "INSERT INTO accepted VALUES (?, ?, ?)",
            (event_id, self._clock(), None if chars is None else max(0, int(chars))),
        )

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):  # closing a broken log: nothing to save
                self._conn.close()
            self._conn = None

    def _write(self, sql: str, row: tuple[object, ...]) -> bool:
        for _attempt in range(2):
            conn = self._connection()
            if conn is None:
                return False
            try:
                conn.execute(sql, row)
                return True
            except sqlite3.Error as exc:
                if _transient(exc):
                    log.debug("usage log busy; event dropped: %s", exc)
                    return False
                if not self._failed(exc):
                    return False
        return False

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._disabled:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._open()
            self._prune()
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.Error) and _transient(exc):
                self.close()  # another process is setting the log up: try with the next event
                log.debug("usage log busy at open; event dropped: %s", exc)
            elif isinstance(exc, sqlite3.Error) and _corrupt(exc) and self._move_aside(exc):
                return self._connection()
            else:
                self._disable(exc)
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = _connect(self.path)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown usage log version {version}")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _failed(self, exc: sqlite3.Error) -> bool:
        """Handle a failed statement; True when a fresh log is open to try again."""
        self.close()
        if _corrupt(exc) and self._move_aside(exc):
            return self._connection() is not None
        self._disable(exc)
        return False

    def _move_aside(self, exc: BaseException) -> bool:
        if self._recovered:
            return False
        self._recovered = True  # once per process: a file that keeps breaking is left alone
        aside = self.path.with_name(self.path.name + ".corrupt")
        log.warning("usage log %s is unreadable (%s); moved to %s", self.path, exc, aside.name)
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(str(self.path) + suffix)
        except OSError as move_exc:
            self._disable(move_exc)
            return False
        return True

    def _disable(self, exc: BaseException) -> None:
        if not self._disabled:
            log.warning("usage log %s unusable (%s); stats recording is off", self.path, exc)
        self._disabled = True
        self.close()

    def _prune(self) -> None:
        self._since_prune = 0
        conn = self._conn
        if conn is None:
            return
        cutoff = self._clock() - self.keep_days * 86400
        try:
            conn.execute("DELETE FROM shown WHERE ts < ?", (cutoff,))
            newest = conn.execute("SELECT max(rowid) FROM shown").fetchone()[0]
            if newest is not None and newest > self.max_shown:
                conn.execute("DELETE FROM shown WHERE rowid <= ?", (newest - self.max_shown,))
            conn.execute("DELETE FROM accepted WHERE id NOT IN (SELECT id FROM shown)")
        except sqlite3.Error as exc:
            if not _transient(exc):  # busy: the next prune will do
                self._failed(exc)


def read_records(path: Path, since: float | None = None) -> list[Record]:
    """Every shown suggestion in the log at `path` (from `since`, a Unix time), oldest first.

    A missing log is empty; an unreadable one raises UsageLogError.
    """
    if not path.is_file():
        return []
    query = """
        SELECT s.id, s.ts, s.language, s.source, s.latency_ms, s.chars, s.mode, s.model,
               s.surface, count(a.id), max(coalesce(a.chars, s.chars))
        FROM shown AS s LEFT JOIN accepted AS a ON a.id = s.id
        WHERE s.ts >= ?
        GROUP BY s.id
        ORDER BY s.ts
    """
    try:
        conn = sqlite3.connect(path, timeout=2.0)
        try:
            rows = conn.execute(query, (since if since is not None else float("-inf"),)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UsageLogError(f"cannot read {path}: {exc}") from exc
    records = []
    for row in rows:
        event_id, ts, language, source, latency, chars, mode, model, surface, accepts, taken = row
        event = ShownEvent(
            language=language,
            source=source,
            latency_ms=latency,
            chars=chars,
            mode=mode,
            model=model,
            surface=surface,
        )
        accepted = accepts > 0
        records.append(
            Record(
                id=event_id,
                ts=ts,
                event=event,
                accepted=accepted,
                accepted_chars=min(chars, taken) if accepted else 0,
            )
        )
    return records


class UsageRecorder:
    """The server's recorder: follows the settings (switch, cache dir), counts what it wrote."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._log: UsageLog | None = None
        self.counts: Counter[str] = Counter()

    def _current(self) -> UsageLog | None:
        settings = self._settings()
        if not settings.completion.record_stats:
            return None
        path = log_path(settings.cache_path)
        if self._log is None or self._log.path != path:
            self.close()
            self._log = UsageLog(path)
        return self._log

    def shown(self, event: ShownEvent, event_id: str | None = None) -> str | None:
        usage = self._current()
        event_id = usage.shown(event, event_id) if usage is not None else None
        if event_id is not None:
            self.counts["usage_shown"] += 1
        return event_id

    def accepted(self, event_id: str, chars: int | None = None) -> bool:
        usage = self._current()
        ok = usage is not None and usage.accepted(event_id, chars)
        if ok:
            self.counts["usage_accepted"] += 1
        return ok

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
