"""Loading the local model: every front end goes through `load_local`.

The language server, `pairline complete | fix | doctor` and the benchmarks all load the model
here, so a model that cannot be loaded fails with one kind of error (`EngineError`) and one kind
of message whatever went wrong underneath (a missing file, a llama.cpp build that cannot load its
shared library, a crash in the loader).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pairline.engine.backends.host_backend import HostBackend
from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import Settings
from pairline.engine.core.types import EngineError
from pairline.engine.models import manifest

log = logging.getLogger(__name__)

# Called with a message and how far the load is, in percent.
StageCallback = Callable[[str, int], None]

_RESOLVED_PERCENT = 10  # finding or assembling the file: quick unless assembled the first time
_LOADING_PERCENT = 50


async def load_local(
    settings: Settings, on_stage: StageCallback | None = None
) -> LocalLlamaBackend:
    """The configured local model, loaded in this process; any failure raises EngineError.

    `on_stage` is called from a worker thread while the file is found or assembled, then from
    the caller's thread when loading starts.
    """
    backend = await _load(settings, on_stage, None)
    assert isinstance(backend, LocalLlamaBackend)
    return backend


async def load_served(
    settings: Settings, on_stage: StageCallback | None = None, log_level: str = "INFO"
) -> LocalLlamaBackend | HostBackend:
    """The local model as the language server runs it: in a model host process unless
    `model.host` is off (then as `load_local`). The host logs at `log_level`."""
    return await _load(settings, on_stage, log_level if settings.model.host else None)


async def _load(
    settings: Settings, on_stage: StageCallback | None, host_log_level: str | None
) -> LocalLlamaBackend | HostBackend:
    name = settings.model.name

    def resolving(message: str) -> None:
        if on_stage is not None:
            on_stage(message, _RESOLVED_PERCENT)

    try:
        resolved = await asyncio.to_thread(manifest.resolve, name, settings.cache_path, resolving)
        if on_stage is not None:
            on_stage(f"loading {resolved.path.name}", _LOADING_PERCENT)
        backend: LocalLlamaBackend | HostBackend = (
            LocalLlamaBackend(resolved, settings.model)
            if host_log_level is None
            else HostBackend(resolved, settings.model, log_level=host_log_level)
        )
        try:
            await backend.load()
        except BaseException:
            backend.close()
            raise
    except EngineError:
        raise
    except Exception as exc:
        # Not a failure the loader foresaw (a broken llama.cpp build, a bug): still say which
        # model and what happened, so the user sees it instead of completions that never come.
        log.debug("loading model %s failed", name, exc_info=True)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise EngineError(f"cannot load model {name}: {detail}") from exc
    return backend


def load_local_sync(settings: Settings, on_stage: StageCallback | None = None) -> LocalLlamaBackend:
    """`load_local` for callers without an event loop."""
    return asyncio.run(load_local(settings, on_stage))
