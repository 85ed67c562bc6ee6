"""The local model loads only when some feature would run it."""

from __future__ import annotations

from typing import Any

import pytest

from pairline.engine.core.config import load_settings
from pairline.lsp.loading import local_model_wanted

SERVER = {
    "completion": {"backend": "remote"},
    "completion_remote": {"base_url": "http://127.0.0.1:8012"},
}


def wanted(data: dict[str, Any]) -> bool:
    settings, problems = load_settings(data)
    assert problems == []
    return local_model_wanted(settings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, True),  # the defaults: everything local
        (SERVER, True),  # code actions still fall back to the local model
        (SERVER | {"remote": {"base_url": "http://127.0.0.1:8080/v1"}}, False),
        (SERVER | {"actions": {"backend": {"*": "remote"}}}, False),
        (SERVER | {"actions": {"backend": {"*": "remote", "docstring": "local"}}}, True),
        (
            SERVER | {"actions": {"backend": {"*": "remote"}}, "next_edit": {"model": "local"}},
            True,
        ),
    ],
)
def test_local_model_wanted(data: dict[str, Any], expected: bool) -> None:
    assert wanted(data) is expected
