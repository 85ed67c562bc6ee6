"""The soak's short version: two minutes of busy editing, memory flat, cache within its bound.

`pairline bench soak --minutes 30` is the long run (figures in the README); this one runs the
same command for two minutes and reads its JSON report. An API key is planted in the
environment and named in the settings: the report must not contain it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

KEY_ENV = "PAIRLINE_PLANTED_KEY"
KEY = "sk-planted-" + "S0ak" * 9


def test_two_minute_soak(tmp_path: Path) -> None:
    config = tmp_path / "pairline.json"
    config.write_text(json.dumps({"remote": {"api_key_env": KEY_ENV}}))
    out = tmp_path / "bench"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pairline",
            "bench",
            "soak",
            "--minutes",
            "2",
            # The first document swap (about 40 s in) loads the context code paths once.
            "--warmup-s",
            "60",
            "--out",
            str(out),
            "--config",
            str(config),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, KEY_ENV: KEY},
    )
    report_text = (out / "soak.json").read_text()
    report = json.loads(report_text)
    results = report["results"]
    print("\nsoak:", json.dumps(results))
    assert results["unanswered"] == 0 and results["errors"] == 0
    assert results["rss_growth_after_warmup"] <= 0.10
    assert results["cache_within_bound"]
    assert results["peak_generations_running"] == 1
    assert results["keystrokes"] > 0 and results["generations"] > 0
    # A code-action list every 50 keystrokes, each answered (its speed is the bench's to quote).
    lists = results["code_action_list"]
    assert lists["count"] >= results["keystrokes"] // 50 - 1 >= 1
    assert 0 <= lists["p50_ms"] <= lists["p95_ms"]
    # Thread pools grow to their caps; a thread per request would mean hundreds.
    assert results["threads_max"] < 40 < results["requests"]
    assert done.returncode == 0, done.stderr[-2000:]
    # Bench JSON, its table and the server's log never hold the key.
    for text in (report_text, done.stdout, done.stderr, (out / "soak-server.log").read_text()):
        assert KEY not in text
