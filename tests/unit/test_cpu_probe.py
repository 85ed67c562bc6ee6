"""The check that llama.cpp's AMX kernels run here: when it probes, what it keeps, and the load.

One test runs the real child process on the real embedded model; the verdict it gives depends
on the machine, so it asserts only that a verdict came back and that a model loaded the way
the verdict says produces tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

import platformdirs
import pytest

from pairline.engine import models
from pairline.engine.backends import cpu_probe
from pairline.engine.backends.llama_runtime import llama_build_info

AMX_INFO = "CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |"
PLAIN_INFO = "CPU : AVX2 = 1 | AVX512 = 1 | REPACK = 1 |"


def test_only_builds_with_amx_kernels_are_probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[Path] = []
    monkeypatch.setattr(cpu_probe, "run_child", lambda model: calls.append(model) or True)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert cpu_probe.extra_buffers_safe(model, PLAIN_INFO, tmp_path) is True
    assert calls == []
    assert not (tmp_path / "llama-probe.json").exists()


def test_a_verdict_is_kept_and_a_damaged_record_probes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def crashing(model: Path) -> bool:
        calls.append(model)
        return False

    monkeypatch.setattr(cpu_probe, "run_child", crashing)
    monkeypatch.setattr(cpu_probe, "_key", lambda model: f"key:{model.name}")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert len(calls) == 1  # the second answer came from the record
    assert json.loads((tmp_path / "llama-probe.json").read_text()) == {"key:m.gguf": False}
    (tmp_path / "llama-probe.json").write_text("{not json")
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert len(calls) == 2


def test_the_record_keeps_the_newest_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cpu_probe, "run_child", lambda model: True)
    monkeypatch.setattr(cpu_probe, "_key", lambda model: f"key:{model.name}")
    for i in range(cpu_probe._KEEP + 5):
        model = tmp_path / f"m{i}.gguf"
        model.write_bytes(b"GGUF")
        cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path)
    kept = json.loads((tmp_path / "llama-probe.json").read_text())
    assert len(kept) == cpu_probe._KEEP
    assert f"key:m{cpu_probe._KEEP + 4}.gguf" in kept and "key:m0.gguf" not in kept


def test_an_inconclusive_probe_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cpu_probe, "run_child", lambda model: None)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    # A child that timed out or failed for another reason: load normally, ask again next time.
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is True
    assert not (tmp_path / "llama-probe.json").exists()


def test_without_extra_buffers_changes_the_defaults_only_while_active() -> None:
    from llama_cpp import llama_cpp as native

    assert native.llama_model_default_params().use_extra_bufts is True
    with cpu_probe.without_extra_buffers():
        assert native.llama_model_default_params().use_extra_bufts is False
    assert native.llama_model_default_params().use_extra_bufts is True
    with cpu_probe.without_extra_buffers(False):
        assert native.llama_model_default_params().use_extra_bufts is True


@pytest.mark.model
def test_real_probe_and_load_on_the_embedded_model(tmp_path: Path) -> None:
    import llama_cpp

    path = models.resolve("gemma3-270m", Path(platformdirs.user_cache_dir("pairline"))).path
    verdict = cpu_probe.run_child(path)
    assert verdict is not None  # the child either ran the model or died of SIGILL
    if not cpu_probe.has_amx_kernels(llama_build_info()["system_info"]):
        assert verdict is True  # without AMX kernels there is nothing to crash on
    safe = cpu_probe.extra_buffers_safe(path, llama_build_info()["system_info"], tmp_path)
    with cpu_probe.without_extra_buffers(not safe):
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=1, verbose=False)
    out = llm.create_completion("def add(a, b):\n    return", max_tokens=4, temperature=0)
    assert out["usage"]["completion_tokens"] >= 1
