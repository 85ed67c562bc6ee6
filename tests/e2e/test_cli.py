"""The `pairline` command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample.py"


def pairline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pairline", *args], capture_output=True, text=True, timeout=300
    )


def test_complete_prints_a_completion_for_the_sample() -> None:
    lines = SAMPLE.read_text().split("\n")
    line = next(i for i, text in enumerate(lines) if text == "    return ") + 1
    result = pairline("complete", f"{SAMPLE}:{line}:{len(lines[line - 1]) + 1}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_complete_json_reports_mode_and_timings() -> None:
    result = pairline("complete", f"{SAMPLE}:6:16", "--json", "-q")
    assert result.returncode in (0, 3), result.stderr
    report = json.loads(result.stdout)
    assert report["line"] == 6 and report["model"] == "gemma3-270m"
    assert report["mode"] in ("line", "block")


def test_complete_rejects_a_line_past_the_end() -> None:
    result = pairline("complete", f"{SAMPLE}:999:1")
    assert result.returncode != 0
    assert "past the end" in result.stderr


def test_complete_rejects_binary_files(tmp_path: Path) -> None:
    blob = tmp_path / "blob.py"
    blob.write_bytes(b"\x00\x01\x02binary")
    result = pairline("complete", f"{blob}:1:1")
    assert result.returncode != 0
    assert "binary" in result.stderr


def test_doctor_passes_on_this_install() -> None:
    result = pairline("doctor", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout
    names = {check["name"]: check for check in report["checks"]}
    assert names["model"]["ok"] and "gemma" in names["model"]["detail"]
    assert "kernels: " in names["model"]["detail"]  # which ones, and why
    assert names["grammars"]["ok"] and "python" in names["grammars"]["detail"]


def test_doctor_fails_with_a_reason(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_text("hello")
    result = pairline("doctor", "--model", str(fake), "--remote-url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "not a GGUF model file" in result.stdout
    assert "unreachable" in result.stdout


def test_complete_uses_context_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (tmp_path / "pricing.py").write_text(
        "def apply_discount(price: float, percent: float) -> float:\n"
        '    """Price after taking off `percent` percent."""\n'
        "    return price * (1 - percent / 100)\n"
    )
    main = tmp_path / "main.py"
    main.write_text("from pricing import apply_discount\n\ntotal = apply_discount(")
    result = pairline("complete", f"{main}:3:24", "--json", "-q", "--context")
    assert result.returncode in (0, 3), result.stderr
    prompt = json.loads(result.stdout)["prompt"]
    assert "def apply_discount(price: float, percent: float) -> float" in prompt
    bare = pairline("complete", f"{main}:3:24", "--json", "-q")  # context is off by default
    assert "apply_discount(price" not in json.loads(bare.stdout)["prompt"]
