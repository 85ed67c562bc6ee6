"""Settings from the editor: `initializationOptions` and `workspace/didChangeConfiguration`.

Invalid settings are reported with `window/showMessage` and replaced by defaults; they never
stop the server.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from pairline.engine.core.config import Settings, load_settings


def read_settings(ls: LanguageServer, data: Any) -> Settings:
    """Structure `data`, telling the user about every problem found."""
    settings, problems = load_settings(data)
    if problems:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message="pairline settings: " + "; ".join(problems),
            )
        )
    return settings
