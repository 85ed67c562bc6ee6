"""Fixtures shared by the unit tests that need the real embedded model."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pairline.engine.backends.local_llama import LocalLlamaBackend
from pairline.engine.core.config import Settings
from pairline.engine.models import manifest


@pytest.fixture
async def backend() -> AsyncIterator[LocalLlamaBackend]:
    """The default model, loaded (tests that use it are marked `model`)."""
    settings = Settings()
    loaded = LocalLlamaBackend(
        manifest.resolve(settings.model.name, settings.cache_path), settings.model
    )
    await loaded.load()
    yield loaded
    loaded.close()
