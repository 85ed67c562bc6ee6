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


# Test tiers. `model`: loads the real embedded model; `clients`: drives real Neovim or VS Code;
# `slow`: starts real servers or processes and takes seconds each. The fast tier a developer runs
# while working is `-m "not model and not clients and not slow"`.
_TIERS = {
    "model": "needs the real embedded model (slow on CPU)",
    "clients": "drives a real editor (Neovim, VS Code in code-server)",
    "slow": "starts real servers or processes; seconds per test",
}
# Fixtures that load the model or start a model server: a test using one is a `model` test.
_MODEL_FIXTURES = {"backend", "chat_server"}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in _TIERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(ROOT / "tests").parts
        if parts[0] == "clients":
            item.add_marker("clients")
        elif parts[0] == "e2e":
            item.add_marker("slow")  # every e2e test starts the real server over stdio
        if _MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("model")
