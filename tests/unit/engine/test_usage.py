"""The local usage log: records, reads back, stays bounded, and never breaks the server."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from pairline.engine import usage
from pairline.engine.core.config import load_settings
from pairline.engine.core.types import CompletionRequest, Mode, Position, Suggestion
from pairline.engine.usage import ShownEvent, UsageLog, UsageLogError, UsageRecorder, read_records
from pairline.lsp.usage import ACCEPTED, _parse, accept_command

DAY = 86400.0


def event(language: str = "python", source: str = "model", chars: int = 10) -> ShownEvent:
    return ShownEvent(
        language=language, source=source, latency_ms=120.0, chars=chars, mode="line", model="m"
    )


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_shown_and_accepted_read_back(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    log = UsageLog(path)
    first = log.shown(event(chars=10))
    second = log.shown(event("go", "cache", chars=8))
    third = log.shown(event(chars=6))
    assert first and second and third and len({first, second, third}) == 3
    assert log.accepted(first)
    assert log.accepted(second, 3)  # partial: 3 of 8 characters
    assert log.accepted(second, 5)  # the same suggestion again: counted once, the most taken
    assert not log.accepted("not-an-id")
    log.close()
    records = {r.id: r for r in read_records(path)}
    assert set(records) == {first, second, third}
    assert records[first].accepted and records[first].accepted_chars == 10
    assert records[second].accepted and records[second].accepted_chars == 5
    assert records[second].event == event("go", "cache", chars=8)
    assert not records[third].accepted and records[third].accepted_chars == 0


def test_accepted_chars_never_exceed_the_suggestion(tmp_path: Path) -> None:
    log = UsageLog(tmp_path / "u.sqlite3")
    shown = log.shown(event(chars=4))
    assert shown and log.accepted(shown, 400)
    log.close()
    assert read_records(tmp_path / "u.sqlite3")[0].accepted_chars == 4


def test_since_filters_by_time(tmp_path: Path) -> None:
    clock = Clock()
    log = UsageLog(tmp_path / "u.sqlite3", clock=clock)
    log.shown(event("old"))
    clock.now += 5 * DAY
    log.shown(event("new"))
    log.close()
    recent = read_records(tmp_path / "u.sqlite3", since=clock.now - DAY)
    assert [r.event.language for r in recent] == ["new"]


def test_old_rows_are_pruned(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "u.sqlite3"
    log = UsageLog(path, keep_days=30, clock=clock)
    old = log.shown(event("old"))
    assert old and log.accepted(old)
    log.close()
    clock.now += 31 * DAY
    log = UsageLog(path, keep_days=30, clock=clock)
    log.shown(event("new"))  # opening prunes
    log.close()
    assert [r.event.language for r in read_records(path)] == ["new"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM accepted").fetchone()[0] == 0


def test_row_count_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "u.sqlite3"
    log = UsageLog(path, max_shown=10)
    for _ in range(usage._PRUNE_EVERY + 50):
        log.shown(event())
    # Pruned while running: never more than the bound plus one pruning interval.
    assert len(read_records(path)) <= 10 + usage._PRUNE_EVERY
    log.close()
    UsageLog(path, max_shown=10).shown(event("last"))  # opening prunes to the bound
    records = read_records(path)
    assert len(records) == 10 + 1 and records[-1].event.language == "last"


def test_corrupt_file_is_moved_aside_and_recreated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "usage.sqlite3"
    path.write_bytes(b"definitely not a database " * 200)
    with pytest.raises(UsageLogError):
        read_records(path)
    caplog.set_level(logging.WARNING)
    log = UsageLog(path)
    assert log.shown(event()) is not None
    log.close()
    assert (tmp_path / "usage.sqlite3.corrupt").read_bytes().startswith(b"definitely")
    assert len(read_records(path)) == 1
    assert len([r for r in caplog.records if "moved to" in r.message]) == 1


def test_unusable_location_disables_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    caplog.set_level(logging.WARNING)
    log = UsageLog(blocker / "usage.sqlite3")
    assert log.shown(event()) is None
    assert log.shown(event()) is None
    assert not log.accepted("abc")
    assert not log.enabled
    assert len([r for r in caplog.records if "stats recording is off" in r.message]) == 1


def test_read_only_log_disables_with_one_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "usage.sqlite3"
    UsageLog(path).close()
    UsageLog(path).shown(event())

    def read_only(p: Path) -> sqlite3.Connection:
        # Tests may run as root, which ignores file modes: open the file read-only instead.
        return sqlite3.connect(f"file:{p}?mode=ro", uri=True, isolation_level=None)

    monkeypatch.setattr(usage, "_connect", read_only)
    caplog.set_level(logging.WARNING)
    log = UsageLog(path)
    assert log.shown(event()) is None
    assert log.shown(event()) is None
    assert not log.enabled
    assert len([r for r in caplog.records if "stats recording is off" in r.message]) == 1
    assert path.exists() and not (tmp_path / "usage.sqlite3.corrupt").exists()


def test_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert read_records(tmp_path / "nothing" / "usage.sqlite3") == []
    assert not (tmp_path / "nothing").exists()


def test_setting_switches_recording_off(tmp_path: Path) -> None:
    settings, problems = load_settings(
        {"cacheDir": str(tmp_path), "completion": {"recordStats": False}}
    )
    assert problems == [] and settings.completion.record_stats is False
    recorder = UsageRecorder(lambda: settings)
    assert recorder.shown(event()) is None
    assert not recorder.accepted("abc")
    assert not (tmp_path / usage.FILE_NAME).exists()
    assert load_settings(None)[0].completion.record_stats is True


def test_recorder_follows_the_cache_dir(tmp_path: Path) -> None:
    current = {"cache_dir": str(tmp_path / "a")}
    recorder = UsageRecorder(lambda: load_settings(current)[0])
    shown = recorder.shown(event())
    assert shown and recorder.accepted(shown)
    current["cache_dir"] = str(tmp_path / "b")
    assert recorder.shown(event("go"))
    recorder.close()
    assert len(read_records(tmp_path / "a" / usage.FILE_NAME)) == 1
    assert [r.event.language for r in read_records(tmp_path / "b" / usage.FILE_NAME)] == ["go"]
    assert recorder.counts == {"usage_shown": 2, "usage_accepted": 1}


def test_lsp_command_records_no_code(tmp_path: Path) -> None:
    settings = load_settings({"cacheDir": str(tmp_path)})[0]
    ls = SimpleNamespace(usage=UsageRecorder(lambda: settings))
    secret = "SECRET_CODE_TEXT_42"
    request = CompletionRequest(
        uri="file:///x/secret_name.py",
        language="python",
        prefix=f"x = {secret}",
        suffix="",
        position=Position(0, 0),
    )
    suggestion = Suggestion(
        text=f"({secret})",
        position=Position(0, 0),
        mode=Mode.BLOCK,
        model="m",
        timings={"total_s": 0.25},
        source="model",
    )
    command = accept_command(ls, request, suggestion, "inline")  # type: ignore[arg-type]
    assert command is not None and command.command == ACCEPTED
    assert command.arguments and isinstance(command.arguments[0], str)
    ls.usage.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert secret.encode() not in data and b"secret_name" not in data
    (record,) = read_records(tmp_path / usage.FILE_NAME)
    assert record.event.latency_ms == 250.0 and record.event.mode == "block"
    assert record.event.chars == len(suggestion.text)


def test_command_arguments_are_checked() -> None:
    assert _parse(("abc",)) == ("abc", None)
    assert _parse(("abc", 3)) == ("abc", 3)
    assert _parse(("abc", 3.0)) == ("abc", 3)
    for bad in [(), ("abc", -1), ("abc", True), (5,), ("",), ("x" * 65,), ("a", 1, 2)]:
        with pytest.raises(JsonRpcInvalidParams):
            _parse(bad)
