"""`pairline stats`: the table, the JSON and the PNG from a usage log in a temporary cache dir."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from pairline import cli
from pairline.engine.usage import FILE_NAME, ShownEvent, UsageLog

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shown(log: UsageLog, language: str, source: str, latency_ms: float, chars: int = 10) -> str:
    event_id = log.shown(
        ShownEvent(
            language=language,
            source=source,
            latency_ms=latency_ms,
            chars=chars,
            mode="line",
            model="m",
        )
    )
    assert event_id is not None
    return event_id


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """Python: 4 shown (2 model, 1 cache, 1 typing), 2 accepted; Go: 1 shown, none accepted."""
    cache = tmp_path / "cache"
    log = UsageLog(cache / FILE_NAME)
    a = shown(log, "python", "model", 100.0, chars=12)
    shown(log, "python", "model", 300.0)
    b = shown(log, "python", "cache", 2.0, chars=8)
    shown(log, "python", "typing", 1.0)
    shown(log, "go", "model", 500.0)
    log.accepted(a)
    log.accepted(b, 3)
    log.close()
    return cache


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["stats", *args])
    return code, capsys.readouterr().out


def test_json_numbers_per_language(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--cache-dir", str(cache_dir), "--json", "--no-png")
    assert code == 0
    report = json.loads(out)
    assert report["local_only"] is True and report["png"] is None
    python = report["languages"]["python"]
    assert python["shown"] == 4 and python["accepted"] == 2
    assert python["acceptance_rate"] == 0.5
    assert python["chars_accepted"] == 12 + 3
    assert python["cache_share"] == 0.25 and python["typing_share"] == 0.25
    assert python["model_latency_ms"] == {"p50": 100.0, "p95": 300.0}
    assert python["latency_ms"] == {"p50": 2.0, "p95": 300.0}
    go = report["languages"]["go"]
    assert (go["shown"], go["accepted"], go["acceptance_rate"]) == (1, 0, 0.0)
    assert report["total"]["shown"] == 5 and report["total"]["accepted"] == 2


def test_table_and_png_in_the_cache_dir(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--cache-dir", str(cache_dir))
    assert code == 0
    assert "local only" in out and "never sent" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["python"][1:4] == ["4", "2", "50%"]
    assert rows["go"][1:4] == ["1", "0", "0%"]
    assert rows["all"][1:3] == ["5", "2"]
    png = cache_dir / "stats.png"
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert f"figure: {png}" in out


def test_png_where_asked_and_settings_from_a_config_file(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "pairline.toml"
    config.write_text(f'cache_dir = "{cache_dir}"\n', encoding="utf-8")
    target = tmp_path / "out" / "figure.png"
    code, out = run(capsys, "--config", str(config), "--json", "--png", str(target))
    assert code == 0
    assert json.loads(out)["png"] == str(target)
    assert target.read_bytes().startswith(PNG_MAGIC)


def test_without_matplotlib_the_table_stays_and_the_extra_is_named(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after a plain `pip install pairline`: matplotlib comes only with the bench extra.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = cli.main(["stats", "--cache-dir", str(cache_dir)])
    captured = capsys.readouterr()
    assert code == 0
    assert "pip install 'pairline[bench]'" in captured.err
    assert "--no-png" in captured.err and "Traceback" not in captured.err
    rows = {line.split()[0]: line.split() for line in captured.out.splitlines() if line.strip()}
    assert rows["python"][1:4] == ["4", "2", "50%"]
    assert "figure:" not in captured.out
    assert not (cache_dir / "stats.png").exists()
    code, out = run(capsys, "--cache-dir", str(cache_dir), "--json")
    assert code == 0 and json.loads(out)["png"] is None


def test_days_limits_the_window(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = UsageLog(cache_dir / FILE_NAME, clock=lambda: time.time() - 10 * 86400)
    shown(log, "rust", "model", 50.0)
    log.close()
    code, out = run(capsys, "--cache-dir", str(cache_dir), "--json", "--no-png")
    assert "rust" in json.loads(out)["languages"]
    code, out = run(capsys, "--cache-dir", str(cache_dir), "--json", "--no-png", "--days", "7")
    assert code == 0 and "rust" not in json.loads(out)["languages"]


def test_empty_log_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--cache-dir", str(tmp_path))
    assert code == 0
    assert "no completions recorded yet" in out and str(tmp_path / FILE_NAME) in out
    assert "local only" in out
    assert not (tmp_path / FILE_NAME).exists() and not (tmp_path / "stats.png").exists()
    code, out = run(capsys, "--cache-dir", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["languages"] == {}


def test_unreadable_log_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"not a database" * 100)
    assert cli.main(["stats", "--cache-dir", str(tmp_path)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_says_when_recording_is_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "settings.json"
    config.write_text(
        json.dumps({"cacheDir": str(tmp_path), "completion": {"recordStats": False}}),
        encoding="utf-8",
    )
    code, out = run(capsys, "--config", str(config))
    assert code == 0 and "recording is off" in out


def test_next_edits_are_counted_apart(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = UsageLog(cache_dir / FILE_NAME)
    for source in ("propagation", "propagation", "model"):
        event = ShownEvent("python", source, 4.0, 11, "rename", "", surface="nextedit")
        event_id = log.shown(event)
        assert event_id is not None
    log.accepted(event_id)
    log.close()
    code, out = run(capsys, "--cache-dir", str(cache_dir), "--json", "--no-png")
    report = json.loads(out)
    assert code == 0 and report["languages"]["python"]["shown"] == 4  # completions only
    nexts = report["next_edits"]
    assert (nexts["shown"], nexts["accepted"]) == (3, 1)
    assert nexts["propagation_share"] == pytest.approx(2 / 3)
    code, out = run(capsys, "--cache-dir", str(cache_dir), "--no-png")
    assert "next edits: 3 shown, 1 accepted (33%), 67% by propagation" in out
