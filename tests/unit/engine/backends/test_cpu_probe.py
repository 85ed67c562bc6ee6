"""The check that llama.cpp's AMX kernels run here: when it probes, what it keeps, and the load.

Fake children (small scripts that kill themselves with a signal when told to use the extra
buffer types) stand in for a CPU whose kernels crash. One test runs the real child process on
the real embedded model; the verdict it gives depends on the machine, so it asserts only that
a verdict came back, that the plain kernels run, and that a model loaded the way the verdict
says produces tokens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs
import pytest

from pairline import doctor
from pairline.engine.backends import cpu_probe
from pairline.engine.backends.llama_runtime import llama_build_info
from pairline.engine.core.config import Settings
from pairline.engine.models import manifest

AMX_INFO = "CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |"
PLAIN_INFO = "CPU : AVX2 = 1 | AVX512 = 1 | REPACK = 1 |"


def _model(tmp_path: Path, name: str = "m.gguf") -> Path:
    model = tmp_path / name
    model.write_bytes(b"GGUF")
    return model


def _dies_with_extra_buffers(name: str, plain_too: bool = False) -> str:
    """A child that kills itself with signal `name` when it runs with the extra buffer types."""
    modes = "('extra', 'plain')" if plain_too else "('extra',)"
    return (
        "import os, resource, signal, sys\n"
        "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
        f"if sys.argv[2] in {modes}:\n"
        f"    os.kill(os.getpid(), signal.{name})\n"
    )


def _with_script(monkeypatch: pytest.MonkeyPatch, script: str) -> list[bool]:
    """Children run `script` instead of the model; returns the modes they ran in."""
    runs: list[bool] = []
    real = cpu_probe.run_child

    def run(model: Path, extra: bool = True) -> str | None:
        runs.append(extra)
        return real(model, extra, timeout_s=60, script=script)

    monkeypatch.setattr(cpu_probe, "run_child", run)
    monkeypatch.setattr(cpu_probe, "_key", lambda model: f"key:{model.name}")
    return runs


def test_only_builds_with_amx_kernels_are_probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[Path] = []
    monkeypatch.setattr(
        cpu_probe, "run_child", lambda model, extra=True: calls.append(model) or "ok"
    )
    model = _model(tmp_path)
    assert cpu_probe.extra_buffers_safe(model, PLAIN_INFO, tmp_path) is True
    verdict = cpu_probe.probe(model, PLAIN_INFO, tmp_path)
    assert verdict.safe and verdict.describe().endswith(
        "(no AMX kernels in this build: nothing to probe)"
    )
    assert calls == []
    assert not (tmp_path / "llama-probe.json").exists()


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
@pytest.mark.parametrize("name", ["SIGSEGV", "SIGBUS", "SIGILL", "SIGABRT"])
def test_every_fatal_signal_counts_and_the_plain_kernels_are_tried(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _dies_with_extra_buffers(name)
    model = _model(tmp_path)
    assert cpu_probe.run_child(model, True, timeout_s=60, script=script) == name
    assert cpu_probe.run_child(model, False, timeout_s=60, script=script) == "ok"
    runs = _with_script(monkeypatch, script)
    verdict = cpu_probe.probe(model, AMX_INFO, tmp_path)
    assert verdict == cpu_probe.ProbeVerdict(name, "ok")
    assert runs == [True, False]  # the plain retry
    assert not verdict.safe and not verdict.plain_crashes
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert runs == [True, False]  # the second answer came from the record
    kept = json.loads((tmp_path / "llama-probe.json").read_text())
    assert kept == {"key:m.gguf": {"extra": name, "plain": "ok"}}
    assert verdict.describe() == (
        f"plain CPU kernels: llama.cpp's AMX kernels died of {name} in a test process; "
        "the plain kernels ran"
    )


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_a_crash_with_the_plain_kernels_too_is_named_with_the_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _with_script(monkeypatch, _dies_with_extra_buffers("SIGSEGV", plain_too=True))
    model = _model(tmp_path)
    verdict = cpu_probe.probe(model, AMX_INFO, tmp_path)
    assert verdict == cpu_probe.ProbeVerdict("SIGSEGV", "SIGSEGV")
    assert runs == [True, False]
    assert not verdict.safe and verdict.plain_crashes
    text = verdict.describe()
    assert "crashes on this CPU even without its repacked AMX kernels" in text
    assert "SIGSEGV" in text and 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in text


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_a_child_killed_from_outside_or_failing_otherwise_is_no_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model(tmp_path)
    failing = "import sys\nsys.exit(3)\n"
    assert cpu_probe.run_child(model, True, timeout_s=60, script=failing) is None
    slow = "import time\ntime.sleep(30)\n"
    assert cpu_probe.run_child(model, True, timeout_s=0.5, script=slow) is None
    # The OOM killer's signal says nothing about the kernels.
    _with_script(monkeypatch, _dies_with_extra_buffers("SIGKILL"))
    verdict = cpu_probe.probe(model, AMX_INFO, tmp_path)
    assert verdict == cpu_probe.ProbeVerdict(cpu_probe.UNKNOWN) and verdict.safe
    assert "untested" in verdict.describe()
    assert not (tmp_path / "llama-probe.json").exists()


def test_a_verdict_is_kept_and_a_damaged_record_probes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, bool]] = []

    def crashing(model: Path, extra: bool = True) -> str:
        calls.append((model, extra))
        return "SIGSEGV" if extra else "ok"

    monkeypatch.setattr(cpu_probe, "run_child", crashing)
    monkeypatch.setattr(cpu_probe, "_key", lambda model: f"key:{model.name}")
    model = _model(tmp_path)
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert len(calls) == 2  # extra, then plain; the second answer came from the record
    assert json.loads((tmp_path / "llama-probe.json").read_text()) == {
        "key:m.gguf": {"extra": "SIGSEGV", "plain": "ok"}
    }
    (tmp_path / "llama-probe.json").write_text("{not json")
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is False
    assert len(calls) == 4


def test_records_from_when_only_sigill_counted_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpu_probe, "run_child", lambda model, extra=True: pytest.fail("probed"))
    monkeypatch.setattr(cpu_probe, "_key", lambda model: f"key:{model.name}")
    crashed, ran = _model(tmp_path, "crashed.gguf"), _model(tmp_path, "ran.gguf")
    record = {"key:crashed.gguf": False, "key:ran.gguf": True}
    (tmp_path / "llama-probe.json").write_text(json.dumps(record))
    old = cpu_probe.probe(crashed, AMX_INFO, tmp_path)
    assert old == cpu_probe.ProbeVerdict("SIGILL", None) and not old.safe
    assert old.describe() == (
        "plain CPU kernels: llama.cpp's AMX kernels died of SIGILL in a test process"
    )
    assert cpu_probe.probe(ran, AMX_INFO, tmp_path) == cpu_probe.ProbeVerdict("ok")
    assert cpu_probe.extra_buffers_safe(ran, AMX_INFO, tmp_path) is True


def test_the_record_keeps_the_newest_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cpu_probe, "run_child", lambda model, extra=True: "ok")
    monkeypatch.setattr(cpu_probe, "_key", lambda model: f"key:{model.name}")
    for i in range(cpu_probe._KEEP + 5):
        cpu_probe.extra_buffers_safe(_model(tmp_path, f"m{i}.gguf"), AMX_INFO, tmp_path)
    kept = json.loads((tmp_path / "llama-probe.json").read_text())
    assert len(kept) == cpu_probe._KEEP
    assert f"key:m{cpu_probe._KEEP + 4}.gguf" in kept and "key:m0.gguf" not in kept


def test_an_inconclusive_probe_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cpu_probe, "run_child", lambda model, extra=True: None)
    model = _model(tmp_path)
    # A child that timed out or failed for another reason: load normally, ask again next time.
    assert cpu_probe.extra_buffers_safe(model, AMX_INFO, tmp_path) is True
    assert not (tmp_path / "llama-probe.json").exists()


def test_doctor_fails_where_even_the_plain_kernels_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verdict = cpu_probe.ProbeVerdict("SIGSEGV", "SIGBUS")
    monkeypatch.setattr(cpu_probe, "probe", lambda model: verdict)
    settings = Settings(cache_dir=str(tmp_path))
    settings.model.name = str(_model(tmp_path))
    # The load is refused before llama.cpp sees the file, so the fake model is enough.
    check = doctor._check("model", doctor._model(settings, load=True))
    assert not check.ok
    assert "even without its repacked AMX kernels" in check.detail
    assert "SIGBUS" in check.detail


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

    path = manifest.resolve("gemma3-270m", Path(platformdirs.user_cache_dir("pairline"))).path
    outcome = cpu_probe.run_child(path)
    assert outcome is not None  # the child either ran the model or died of a signal
    if not cpu_probe.has_amx_kernels(llama_build_info()["system_info"]):
        assert outcome == "ok"  # without AMX kernels there is nothing to crash on
    assert cpu_probe.run_child(path, extra=False) == "ok"  # the plain kernels run everywhere
    verdict = cpu_probe.probe(path, llama_build_info()["system_info"], tmp_path)
    assert not verdict.plain_crashes, verdict.describe()
    with cpu_probe.without_extra_buffers(not verdict.safe):
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=1, verbose=False)
    out = llm.create_completion("def add(a, b):\n    return", max_tokens=4, temperature=0)
    assert out["usage"]["completion_tokens"] >= 1
