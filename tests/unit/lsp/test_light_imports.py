"""The language server loads the HTTP client only when a model server or remote is used: it
weighs several MB, in a process most users run with the local model alone."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> str:
    code += "\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return found.stdout.strip()


def test_starting_the_server_does_not_import_the_http_client() -> None:
    # The command line as `pairline serve` parses it: the benchmarks' options (whose modules
    # use the HTTP client) are registered only for `pairline bench`.
    code = (
        "import sys, pairline.lsp.app, pairline.cli\n"
        "pairline.cli.build_parser(['serve']).parse_args(['serve'])"
    )
    assert _loaded_after(code) == "[]"


def test_the_bench_command_still_gets_every_benchmark() -> None:
    code = (
        "import sys, pairline.cli\n"
        "args = pairline.cli.build_parser(['bench', 'startup']).parse_args(['bench', 'startup'])\n"
        "assert args.bench_module == 'typist.startup', args"
    )
    assert _loaded_after(code) != "[]"
