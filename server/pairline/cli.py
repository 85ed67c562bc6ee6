"""Command line: `pairline serve | complete | fix | doctor | models | stats | bench`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pairline import __version__
from pairline.cli_settings import add_model_args, settings_from_args
from pairline.engine.core.config import Settings

if TYPE_CHECKING:  # the code actions load only when `fix` runs
    from pairline.engine.actions.offers import FixRequest
    from pairline.engine.actions.outcome import FixResult

log = logging.getLogger("pairline")

MAX_FILE_BYTES = 10 * 1024 * 1024


def _setup_logging(level: str) -> None:
    # stdout belongs to the LSP transport (serve) or to the result (complete): log to stderr.
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pygls logs every message at INFO; keep that for --log-level debug only.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("pygls").setLevel(logging.WARNING)


def cmd_serve(args: argparse.Namespace) -> int:
    from pairline.lsp.app import create_server

    server = create_server()
    if args.tcp:
        log.info("listening on %s:%d", args.host, args.port)
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return 0


def _parse_location(spec: str) -> tuple[Path, int, int]:
    try:
        file, line, col = spec.rsplit(":", 2)
        return Path(file), int(line), int(col)
    except ValueError:
        raise SystemExit(f"pairline: expected FILE:LINE:COL (1-based), got {spec!r}") from None


_PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml")


def project_root(path: Path) -> Path:
    """The nearest ancestor of `path` that looks like a project root, else its directory."""
    start = path.resolve().parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return folder
    return start


def _read_source(path: Path) -> str:
    if not path.is_file():
        raise SystemExit(f"pairline: no such file: {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SystemExit(f"pairline: {path} is too large ({size} bytes; limit {MAX_FILE_BYTES})")
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        raise SystemExit(f"pairline: {path} looks like a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SystemExit(f"pairline: {path} is not UTF-8 text ({exc.reason})") from None


async def _complete(args: argparse.Namespace) -> int:
    from pairline.engine.completion.engine import CompletionEngine
    from pairline.engine.context import ContextGatherer
    from pairline.engine.core.types import EngineError, Position, PositionEncoding
    from pairline.engine.models import loading
    from pairline.engine.workspace import Workspace, language_for_path

    path, line, col = _parse_location(args.location)
    text = _read_source(path)
    settings = settings_from_args(args)
    if line < 1 or col < 1:
        raise SystemExit("pairline: LINE and COL are 1-based")
    workspace = Workspace(PositionEncoding.UTF32)  # columns count characters on the CLI
    uri = path.resolve().as_uri()
    doc = workspace.open(uri, text, language=args.language or language_for_path(str(path)))
    if line > doc.line_count:
        raise SystemExit(
            f"pairline: {path} has {doc.line_count} lines; line {line} is past the end"
        )
    request = workspace.request_at(uri, Position(line - 1, col - 1))

    def stage(message: str, _percent: int) -> None:
        if not args.quiet:
            print(f"pairline: {message}", file=sys.stderr)

    started = time.perf_counter()
    engine = CompletionEngine(settings)
    if settings.completion.backend == "local":  # else suggestions come from a model server
        try:
            engine.attach(await loading.load_local(settings, stage))
        except EngineError as exc:
            print(f"pairline: {exc}", file=sys.stderr)
            return 1
    if args.context is not None:
        settings.context.enable = args.context
    if settings.context.enable:
        # Same context as the server: the project the file belongs to is the workspace root.
        gatherer = ContextGatherer(workspace, [project_root(path)])
        await asyncio.to_thread(gatherer.ensure_index, settings.context)
        engine.context = gatherer
    loaded = time.perf_counter()
    remote = engine.server.current(settings)
    if remote is not None:
        remote.on_status = lambda _state, message: print(f"pairline: {message}", file=sys.stderr)
    try:
        suggestion = await engine.complete(request)
        model = engine.backend.name if engine.backend is not None else ""
    finally:
        engine.close()
    if args.json:
        print(
            json.dumps(
                {
                    "file": str(path),
                    "line": line,
                    "column": col,
                    "model": model,
                    "mode": engine.mode_at(request).value,
                    "completion": suggestion.text if suggestion else None,
                    "load_s": round(loaded - started, 3),
                    "prompt": engine.last_prompt,
                    "timings": suggestion.timings if suggestion else {},
                },
                indent=2,
            )
        )
    elif suggestion is not None:
        print(suggestion.text)
    if suggestion is None:
        print("pairline: no suggestion at this position", file=sys.stderr)
        return 3
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    return asyncio.run(_complete(args))


def _fix_request(
    args: argparse.Namespace, settings: Settings
) -> tuple[Path, str, Path, FixRequest] | None:
    """The file, its text, the workspace root and the request for `pairline fix`; None (said
    on stderr) when the action is not offered there."""
    from pairline.engine.actions import fix, session
    from pairline.engine.workspace import language_for_path

    spec = args.location
    parts = spec.rsplit(":", 2)
    path = Path(parts[0]) if len(parts) > 1 and parts[1].isdigit() else Path(spec)
    line = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1
    text = _read_source(path)
    language = args.language or language_for_path(str(path))
    start = max(0, min(line - 1, text.count("\n")))
    offers = fix.offers(
        language, text, start, start, selection=True, diagnostics=bool(args.problem)
    )
    offer = next((o for o in offers if o.kind == args.action), None)
    if offer is None:
        print(f"pairline: no {args.action!r} action at {path}:{line}", file=sys.stderr)
        return None
    root = Path(args.root).resolve() if args.root else path.resolve().parent
    try:
        rel_path: str | None = str(path.resolve().relative_to(root))
    except ValueError:
        rel_path = None
    request = session.action_request(
        args.action,
        language=language,
        text=text,
        region=offer.region,
        settings=settings,
        diagnostics=tuple(args.problem or ()),
        file_name=path.name,
        rel_path=rel_path,
    )
    return path, text, root, request


async def _fix(args: argparse.Namespace) -> int:
    from pairline.engine.actions import fix, session
    from pairline.engine.backends.edit import EditBackend
    from pairline.engine.core.types import EngineError
    from pairline.engine.models import loading
    from pairline.engine.models.local import LocalModel

    settings = settings_from_args(args)
    found = _fix_request(args, settings)
    if found is None:
        return 3
    path, text, root, request = found
    model = LocalModel()  # loaded only when the router picks the local model
    router = fix.EditRouter(settings=lambda: settings, local=model)

    async def ready_local() -> None:
        model.attach(await loading.load_local(settings))

    def progress(message: str, _percent: int) -> None:
        print(f"pairline: {message}", file=sys.stderr)

    def announce(backend: EditBackend) -> None:
        print(
            f"pairline: {fix.TITLES[args.action]} via {backend.where}: {backend.name}",
            file=sys.stderr,
        )

    try:
        result = await session.run_action(
            request,
            router,
            settings,
            root,
            ready_local=ready_local,
            progress=progress,
            on_backend=announce,
        )
    except EngineError as exc:
        print(f"pairline: {exc}", file=sys.stderr)
        return 1
    finally:
        await router.aclose()
        model.close()
    return _print_fix(result, settings, path, text)


def _print_fix(result: FixResult, settings: Settings, path: Path, text: str) -> int:
    """Say how the action went on stderr and print its edit as a diff; the exit status."""
    new_text, message = result.offered(settings.actions.offer_unverified)
    print(f"pairline: {message} ({result.seconds:.1f} s)", file=sys.stderr)
    if new_text is None:
        return 2
    import difflib

    sys.stdout.writelines(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            f"a/{path.name}",
            f"b/{path.name}",
        )
    )
    return 0 if result.verified else 2


def cmd_fix(args: argparse.Namespace) -> int:
    return asyncio.run(_fix(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    from pairline.doctor import run_doctor

    return run_doctor(settings_from_args(args), load=not args.no_load, as_json=args.json)


def cmd_models(args: argparse.Namespace) -> int:
    from pairline import models_cli

    if args.models_command == "pull":
        return models_cli.run_pull(args)
    return models_cli.run_list(settings_from_args(args))


def cmd_stats(args: argparse.Namespace) -> int:
    from pairline.stats import run

    return run(args, settings_from_args(args))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pairline", description="A local-first coding copilot delivered as a Language Server."
    )
    parser.add_argument("--version", action="version", version=f"pairline {__version__}")
    parser.add_argument("--log-level", default="", help="debug, info, warning, error")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    serve.add_argument("--host", default="127.0.0.1", help="TCP address (default: loopback)")
    serve.add_argument("--port", type=int, default=2087, help="TCP port")
    serve.set_defaults(func=cmd_serve, default_level="info")

    complete = sub.add_parser("complete", help="print the completion at FILE:LINE:COL (1-based)")
    complete.add_argument("location", help="FILE:LINE:COL, line and column counted from 1")
    complete.add_argument("--language", help="language id (default: from the file extension)")
    complete.add_argument("--max-tokens", type=int, help="most tokens to generate on one line")
    complete.add_argument("--json", action="store_true", help="print details as JSON")
    complete.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    complete.add_argument(
        "--context",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="context from imported files in the prompt (default: the context.enable setting)",
    )
    add_model_args(complete)
    complete.set_defaults(func=cmd_complete, default_level="warning")

    fix_cmd = sub.add_parser(
        "fix", help="print a verified edit for FILE[:LINE] as a unified diff (nothing is written)"
    )
    fix_cmd.add_argument("location", help="FILE[:LINE[:COL]], line counted from 1")
    fix_cmd.add_argument(
        "--action", choices=["fix", "implement", "docstring"], default="fix", help="what to do"
    )
    fix_cmd.add_argument("--problem", action="append", help="a diagnostic message (repeatable)")
    fix_cmd.add_argument("--root", help="workspace root for check commands (default: file's dir)")
    fix_cmd.add_argument("--language", help="language id (default: from the file extension)")
    fix_cmd.add_argument("--remote-url", help="OpenAI-compatible or Anthropic base URL")
    add_model_args(fix_cmd)
    fix_cmd.set_defaults(func=cmd_fix, default_level="warning")

    doctor = sub.add_parser("doctor", help="check the model, llama.cpp, grammars, cache, remote")
    doctor.add_argument("--remote-url", help="remote model server base URL to check")
    doctor.add_argument("--no-load", action="store_true", help="do not load the model")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    add_model_args(doctor)
    doctor.set_defaults(func=cmd_doctor, default_level="warning")

    from pairline.models_cli import add_parser as add_models_parser

    add_models_parser(sub).set_defaults(func=cmd_models, default_level="warning")

    stats = sub.add_parser(
        "stats", help="suggestions shown and accepted per language (local data, never sent)"
    )
    stats.add_argument("--days", type=float, help="only the last N days (default: all kept)")
    stats.add_argument("--json", action="store_true", help="print the numbers as JSON")
    stats.add_argument(
        "--png", help="where to write the figure (default: stats.png in the cache dir)"
    )
    stats.add_argument("--no-png", action="store_true", help="do not write the figure")
    stats.add_argument("--config", help="settings file (.toml or .json)")
    stats.add_argument("--cache-dir", help="where models and caches are kept")
    stats.set_defaults(func=cmd_stats, default_level="warning")

    from pairline.bench.command import add_parser as add_bench_parser

    # The benchmarks' options need their modules (the HTTP client, the peer's harness): loaded
    # only when the command is `bench`, so that `serve` does not carry them (6 MB of memory).
    words = sys.argv[1:] if argv is None else argv
    add_bench_parser(sub, with_subcommands="bench" in words)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    _setup_logging(args.log_level or args.default_level)
    result: int = args.func(args)
    return result
