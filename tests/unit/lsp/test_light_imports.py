"""The language server loads the HTTP client only when a model server or remote is used: it
weighs several MB, in a process most users run with the local model alone."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_server_does_not_import_the_http_client() -> None:
    code = (
        "import sys, pairline.lsp.app, pairline.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
