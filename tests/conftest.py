"""Shared test helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat_server import running_chat_server

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def sample_path() -> Path:
    return FIXTURES / "sample.py"


@pytest.fixture(scope="session")
def chat_server() -> Iterator[str]:
    """Base URL (…/v1) of a real llama.cpp OpenAI-compatible server for this test session."""
    with running_chat_server() as url:
        yield url
