"""engine/actions/session.py: loading the local model and running a code action, with fakes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pairline.engine.actions import fix, session
from pairline.engine.backends.edit import GREEDY, EditBackend, EditPrompt, Sampling
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import Settings, load_settings
from pairline.engine.core.types import EngineError
from pairline.engine.models import loading

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "```python\ndef add(a, b):\n    return a + b\n```"


def settings_for(model: str, tmp_path: Path) -> Settings:
    settings, problems = load_settings({"model": {"name": model}, "cacheDir": str(tmp_path)})
    assert not problems
    return settings


def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    return path


async def test_an_unforeseen_load_failure_becomes_an_engine_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []

    async def broken_load(self: LocalLlamaBackend) -> None:
        raise RuntimeError("Failed to load shared library 'libllama.so'")

    monkeypatch.setattr(LocalLlamaBackend, "load", broken_load)
    monkeypatch.setattr(LocalLlamaBackend, "close", lambda self: closed.append(True))
    stages: list[tuple[str, int]] = []
    path = gguf(tmp_path)
    with pytest.raises(EngineError) as err:
        await loading.load_local(
            settings_for(str(path), tmp_path), lambda m, p: stages.append((m, p))
        )
    assert "libllama.so" in str(err.value) and str(path) in str(err.value)
    assert "RuntimeError" in str(err.value)
    assert stages == [(f"loading {path.name}", 50)]
    assert closed == [True]  # the half-made backend's worker is stopped


async def test_a_missing_model_keeps_its_own_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(EngineError, match="model file not found"):
        await loading.load_local(settings_for(str(missing), tmp_path))


def test_action_request_clamps_the_region_and_takes_the_context_size() -> None:
    settings = load_settings({"actions": {"contextLines": 40}})[0]
    request = session.action_request(
        fix.FIX, language="python", text=BUGGY, region=fix.Region(-3, 99, "add"), settings=settings
    )
    assert request.region == fix.Region(0, 3, "add")
    assert request.context_lines == 40
    with pytest.raises(EngineError):
        session.action_request(
            "rewrite", language="python", text=BUGGY, region=fix.Region(0, 1), settings=settings
        )


def test_the_local_model_gets_the_context_lines_its_window_holds() -> None:
    settings = load_settings({"actions": {"contextLines": 120}})[0]
    region = fix.Region(0, 20, "f")
    request = session.action_request(
        fix.FIX, language="python", text="x = 1\n" * 400, region=region, settings=settings
    )
    # 1536 tokens: 256 for the answer, 256 for the instructions, the region twice (revisions).
    assert session.local_context_lines(request, 1536, 256) == (1536 - 512 - 480) // 12
    assert session.local_context_lines(request, 8192, 256) == 120  # never more than asked
    assert session.local_context_lines(request, 512, 256) == 0


class ScriptedModel:
    name = "scripted"
    where = "local"

    def __init__(self) -> None:
        self.asked = 0

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        self.asked += 1
        return FIXED

    async def aclose(self) -> None:
        return None


class LocalOnlyRouter(fix.EditRouter):
    """Chooses the local model and hands out the scripted one."""

    def __init__(self, model: EditBackend) -> None:
        super().__init__(settings=Settings, local=lambda: None)
        self.model = model

    def choice(self, kind: str) -> str:
        return "local"

    def backend(self, kind: str) -> EditBackend:
        return self.model


def fix_request(settings: Settings) -> fix.FixRequest:
    offers = fix.offers("python", BUGGY, 1, 1, selection=False, diagnostics=True)
    offer = next(o for o in offers if o.kind == fix.FIX)
    return session.action_request(
        offer.kind, language="python", text=BUGGY, region=offer.region, settings=settings
    )


async def test_run_action_waits_for_the_local_model_then_verifies() -> None:
    settings = Settings()
    model = ScriptedModel()
    waited: list[int] = []

    async def ready_local() -> None:
        waited.append(model.asked)

    chosen: list[str] = []
    result = await session.run_action(
        fix_request(settings),
        LocalOnlyRouter(model),
        settings,
        None,
        ready_local=ready_local,
        on_backend=lambda backend: chosen.append(backend.name),
    )
    assert waited == [0]  # before the model was asked
    assert chosen == ["scripted"]
    assert result.verified and result.text is not None and "a + b" in result.text


async def test_run_action_stops_when_the_local_model_is_not_available() -> None:
    settings = Settings()
    model = ScriptedModel()

    async def unavailable() -> None:
        raise EngineError("the local model is not available: broken")

    with pytest.raises(EngineError, match="not available"):
        await session.run_action(
            fix_request(settings), LocalOnlyRouter(model), settings, None, ready_local=unavailable
        )
    assert model.asked == 0
