"""`pairline bench crossfile`: CrossCodeEval-style tasks from a real package's source.

A task is a one-line statement inside a function that uses a name the module imports from a
sibling module of the same package; the cursor goes at the start of the statement (after its
indentation) and the statement is removed from the line. Each task runs three times through
the engine: without context; with the imported names' signatures (from the sibling modules'
source) as a comment block that leads the prompt (`CompletionRequest.context`), chosen without
looking at the answer (names the enclosing function already used first, then the module's
other sibling imports, up to a character budget); and with the context pairline's own engine
gathers from the unpacked tree, exactly as the server does for a workspace. `--ablate
context.X` runs that last arm once more with the boolean setting `context.X` off (same model,
same tasks), so one run shows what a context lever is worth.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import copy
import dataclasses
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairline.bench.harness import common, plot
from pairline.bench.quality import crossfile_rust, names
from pairline.bench.quality.crossfile_task import Task
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import Settings
from pairline.engine.core.languages import comment_marker
from pairline.engine.core.types import Position, PositionEncoding
from pairline.engine.models.manifest import ResolvedModel
from pairline.engine.workspace import Workspace

_SIMPLE = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Return,
    ast.Raise,
    ast.Assert,
    ast.Delete,
)
_SKIP_PARTS = {"tests", "test", "testing", "docs", "examples", "_vendor", "vendor"}


def download(package: str, version: str | None, into: Path) -> Path:
    """pip download one distribution of `package` (no dependencies) and unpack it."""
    spec = f"{package}=={version}" if version else package
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(into), spec]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"pairline: pip download {spec} failed:\n{result.stderr.strip()}")
    archives = sorted(p for p in into.iterdir() if p.is_file())
    if not archives:
        raise SystemExit(f"pairline: pip download {spec} produced no file")
    archive = archives[0]
    root = into / "src"
    common.unpack(archive, root)
    return root


def distribution_version(root: Path) -> str:
    for meta in sorted(root.glob("*.dist-info/METADATA")) + sorted(root.glob("*/PKG-INFO")):
        match = re.search(r"^Version: (.+)$", meta.read_text(encoding="utf-8"), re.M)
        if match:
            return match.group(1).strip()
    return ""


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module inside a package (folder with __init__.py)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if _SKIP_PARTS & set(rel.parts[:-1]) or path.name.startswith("test_"):
            continue
        top = path.parent
        if not (top / "__init__.py").is_file():
            continue
        # The import root is the parent of the outermost folder that is still a package.
        while top.parent != top and (top.parent / "__init__.py").is_file():
            top = top.parent
        names = list(path.relative_to(top.parent).with_suffix("").parts)
        if names[-1] == "__init__":
            names.pop()
        found[".".join(names)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _signature(node: ast.AST) -> str:
    """One-line signatures of a def, a class (with its public methods) or a constant."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        stub = copy.copy(node)
        stub.body = [ast.Expr(ast.Constant(...))]
        stub.decorator_list = []
        return ast.unparse(stub).split("\n")[0]
    if isinstance(node, ast.ClassDef):
        stub_class = copy.copy(node)
        stub_class.body = [ast.Expr(ast.Constant(...))]
        stub_class.decorator_list = []
        lines = [ast.unparse(stub_class).split("\n")[0]]
        methods = [
            n
            for n in node.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and (n.name == "__init__" or not n.name.startswith("_"))
        ]
        lines.extend("    " + _signature(m) for m in methods[:6])
        return "\n".join(lines)
    if isinstance(node, ast.Assign | ast.AnnAssign):
        text = ast.unparse(node)
        return text if len(text) <= 80 else text[:77] + "..."
    return ""


def _definitions(tree: ast.Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue  # nested definitions get their own turn
        out.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                out.extend(_statements(inner))
        for handler in getattr(stmt, "handlers", []):
            out.extend(_statements(handler.body))
    return out


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def build_tasks(root: Path, context_chars: int) -> list[Task]:
    """Every qualifying statement of every module under `root`, in a stable order."""
    mods = modules(root)
    trees: dict[str, ast.Module] = {}
    for name, path in mods.items():
        try:
            trees[name] = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
    tasks: list[Task] = []
    for name, tree in trees.items():
        path = mods[name]
        is_package = path.name == "__init__.py"
        # name used in this module → signature text from the sibling that defines it
        imported: dict[str, str] = {}
        for node in tree.body:
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _resolve(name, node, is_package)
            if source == name or source not in trees:
                continue
            defs = _definitions(trees[source])
            for alias in node.names:
                if alias.name in defs:
                    signature = _signature(defs[alias.name])
                    if signature:
                        imported[alias.asname or alias.name] = (
                            f"{source.replace('.', '/')}.py: {signature}"
                        )
        if not imported:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for stmt in _statements(func.body):
                if not isinstance(stmt, _SIMPLE) or _is_docstring(stmt):
                    continue
                if stmt.lineno != stmt.end_lineno or stmt.end_col_offset is None:
                    continue
                used = {
                    n.id
                    for n in ast.walk(stmt)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                }
                if not used & set(imported):
                    continue
                index = stmt.lineno - 1
                line = lines[index]
                target = line[stmt.col_offset : stmt.end_col_offset]
                if not 8 <= len(target) <= 120 or ";" in line:
                    continue
                rest = lines.copy()
                rest[index] = line[: stmt.col_offset] + line[stmt.end_col_offset :]
                before = "\n".join(lines[func.lineno - 1 : index])
                tasks.append(
                    Task(
                        path=str(path.relative_to(root)),
                        line=index,
                        column=stmt.col_offset,
                        target=target,
                        text="\n".join(rest),
                        context=_context(imported, before, context_chars),
                    )
                )
    return tasks


def _context(imported: dict[str, str], before: str, budget: int) -> str:
    mark = comment_marker("python")
    words = set(re.findall(r"\w+", before))
    ordered = [n for n in imported if n in words] + [n for n in imported if n not in words]
    out: list[str] = [f"{mark} Definitions imported from other modules of this package:"]
    size = len(out[0])
    for name in ordered:
        block = "\n".join(f"{mark} {line}" for line in imported[name].split("\n"))
        if size + len(block) + 1 > budget:
            continue
        out.append(block)
        size += len(block) + 1
    return "\n".join(out) + "\n" if len(out) > 1 else ""


async def _arm(
    engine: CompletionEngine,
    tasks: list[Task],
    with_context: bool,
    progress: common.Progress,
    root: Path | None = None,
    automatic: bool = False,
) -> list[dict[str, Any]]:
    """One arm. With `root`, pairline's own context engine gathers the context from the tree;
    `automatic` asks as typing does rather than as Tab."""
    workspace = Workspace(PositionEncoding.UTF32)
    engine.context = None
    if root is not None:
        gatherer = ContextGatherer(workspace, [root])
        await asyncio.to_thread(gatherer.ensure_index, engine.settings.context)
        engine.context = gatherer
    out: list[dict[str, Any]] = []
    for i, task in enumerate(tasks):
        uri = (
            (root / task.path).as_uri()
            if root is not None
            else f"file:///pairline-bench/crossfile/{task.path}"
        )
        workspace.open(uri, task.text, language="python")
        request = workspace.request_at(uri, Position(task.line, task.column))
        request = dataclasses.replace(request, automatic=automatic)
        if with_context:
            request = dataclasses.replace(request, context=task.context)
        started = time.perf_counter()
        suggestion = await engine.complete(request)
        seconds = time.perf_counter() - started
        workspace.close(uri)
        # The next arm asks at the same cursor: it must not be served the rest of this
        # arm's suggestion by typing-through.
        engine.forget(uri)
        # Single-line tasks: a block suggestion is judged by its first line.
        text = suggestion.text.split("\n", 1)[0] if suggestion else ""
        out.append(
            {
                "index": i,
                "text": text,
                "seconds": seconds,
                "exact_match": common.exact_match(text, task.target),
                "edit_similarity": round(common.edit_similarity(text.strip(), task.target), 4),
            }
        )
        progress.advance(
            note="pairline context"
            if root is not None
            else ("with context" if with_context else "without context")
        )
    engine.context = None
    return out


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "exact_match": common.mean([float(r["exact_match"]) for r in rows]),
        "edit_similarity": common.mean([r["edit_similarity"] for r in rows]),
        "empty": sum(1 for r in rows if not r["text"].strip()),
        "latency": common.latency_summary([r["seconds"] for r in rows]),
    }


def _ablated(settings: Settings, name: str) -> Settings:
    """`settings` with the boolean context setting `name` (`context.X` or `X`) off."""
    key = name.removeprefix("context.")
    if not isinstance(getattr(settings.context, key, None), bool):
        raise SystemExit(f"pairline: --ablate takes a boolean context setting, not {name!r}")
    context = copy.copy(settings.context)
    setattr(context, key, False)
    return dataclasses.replace(settings, context=context)


@dataclass
class Plan:
    """The tree the tasks come from and the tasks sampled from it."""

    root: Path
    source: str  # `pypi:NAME` or the folder given
    version: str
    tasks_found: int
    tasks: list[Task]


@dataclass
class Measured:
    """Each arm's answers, task by task, and the model file."""

    without: list[dict[str, Any]]
    with_context: list[dict[str, Any]]
    pairline: list[dict[str, Any]]
    ablated: list[dict[str, Any]] | None  # with --ablate
    model: ResolvedModel


def build(args: argparse.Namespace, settings: Settings, tmp: Path) -> Plan:
    """The source tree (downloaded into `tmp` unless `--from-dir`) and the sampled tasks."""
    plot.require(args)
    if args.from_dir:
        root = Path(args.from_dir)
        if not root.is_dir():
            raise SystemExit(f"pairline: no such folder: {root}")
        source = str(root)
    else:
        if not args.package:
            raise SystemExit("pairline: bench crossfile needs --package NAME or --from-dir")
        root = download(args.package, args.version, tmp)
        source = f"pypi:{args.package}"
    if crossfile_rust.is_crate(root):
        if not args.names:
            raise SystemExit("pairline: a Rust crate's tasks are for --names only")
        version = args.version or crossfile_rust.crate_version(root)
        all_tasks = crossfile_rust.build_tasks(root)
    else:
        version = args.version or distribution_version(root)
        all_tasks = build_tasks(root, args.context_chars)
    if not all_tasks:
        raise SystemExit(f"pairline: no cross-file tasks found in {source}")
    tasks = all_tasks
    if 0 < args.n < len(all_tasks):
        chosen = sorted(random.Random(args.seed).sample(range(len(all_tasks)), args.n))
        tasks = [all_tasks[i] for i in chosen]
    if args.ablate:
        _ablated(settings, args.ablate)  # a wrong name fails before the model loads
    return Plan(root, source, version, len(all_tasks), tasks)


async def measure(args: argparse.Namespace, settings: Settings, plan: Plan) -> Measured:
    """The tasks through the engine: without context, with signatures, with pairline's own."""
    tasks, root, automatic = plan.tasks, plan.root, args.automatic
    backend, model = await common.load_backend(settings, quiet=args.json)
    engine = CompletionEngine(settings)
    engine.attach(backend)
    progress = common.Progress((4 if args.ablate else 3) * len(tasks), "crossfile")
    ablated = None
    try:
        without = await _arm(engine, tasks, False, progress, automatic=automatic)
        with_ctx = await _arm(engine, tasks, True, progress, automatic=automatic)
        # The server's own path: imports resolved and outlined by pairline's context engine.
        engine_ctx = await _arm(engine, tasks, False, progress, root=root, automatic=automatic)
        if args.ablate:
            engine.settings = _ablated(settings, args.ablate)
            ablated = await _arm(engine, tasks, False, progress, root=root, automatic=automatic)
            engine.settings = settings
    finally:
        engine.close()
        progress.close()
    return Measured(without, with_ctx, engine_ctx, ablated, model)


def _results(args: argparse.Namespace, plan: Plan, measured: Measured) -> dict[str, Any]:
    results: dict[str, Any] = {
        "package": args.package or Path(args.from_dir).name,
        "version": plan.version,
        "tasks_found": plan.tasks_found,
        "tasks": len(plan.tasks),
        "tasks_with_context": sum(1 for t in plan.tasks if t.context),
        "without_context": _summary(measured.without),
        "with_context": _summary(measured.with_context),
        "pairline_context": _summary(measured.pairline),
    }
    arms = [("with_context", "gain"), ("pairline_context", "pairline_gain")]
    if measured.ablated is not None:
        results["pairline_context_ablated"] = {"off": args.ablate, **_summary(measured.ablated)}
        arms.append(("pairline_context_ablated", "ablated_gain"))
    for arm, gain in arms:
        results[gain] = {
            metric: round(results[arm][metric] - results["without_context"][metric], 4)
            for metric in ("exact_match", "edit_similarity")
            if results[arm][metric] is not None and results["without_context"][metric] is not None
        }
    return results


def _per_task(plan: Plan, measured: Measured) -> list[dict[str, Any]]:
    ablated = measured.ablated
    return [
        {
            "path": task.path,
            "line": task.line + 1,
            "target": task.target,
            "without": measured.without[i]["text"],
            "with": measured.with_context[i]["text"],
            "pairline": measured.pairline[i]["text"],
            **({"ablated": ablated[i]["text"]} if ablated is not None else {}),
            "context_chars": len(task.context),
        }
        for i, task in enumerate(plan.tasks)
    ]


def _figure(png: Path, title: str, results: dict[str, Any], measured: Measured) -> Path:
    return plot.quality_figure(
        png,
        {
            arm: {k: results[arm][k] for k in ("exact_match", "edit_similarity")}
            for arm in ("without_context", "with_context", "pairline_context")
        },
        {
            "without context": [r["seconds"] for r in measured.without],
            "with context": [r["seconds"] for r in measured.with_context],
            "pairline context": [r["seconds"] for r in measured.pairline],
        },
        title,
    )


def report(
    args: argparse.Namespace, settings: Settings, plan: Plan, measured: Measured
) -> dict[str, Any]:
    """The report, written as crossfile-PACKAGE.json (and .png) under `--out`."""
    results = _results(args, plan, measured)
    data: dict[str, Any] = {
        "bench": "crossfile",
        "results": results,
        "settings": {
            "source": plan.source,
            "n": args.n,
            "seed": args.seed,
            "context_chars": args.context_chars,
            "automatic": bool(args.automatic),
            **common.settings_info(settings),
        },
        "machine": common.machine_info(measured.model),
        "per_task": _per_task(plan, measured),
    }
    title = f"crossfile: {results['package']} {plan.version}, n={len(plan.tasks)}"
    return common.finish(
        data,
        args,
        f"crossfile-{results['package']}",
        lambda png: _figure(png, title, results, measured),
    )


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    # The tree stays on disk while the engine reads it (pairline's own context arm).
    with tempfile.TemporaryDirectory(prefix="pairline-crossfile-") as tmp:
        plan = build(args, settings, Path(tmp))
        if args.names:
            return names.run(args, settings, plan)
        measured = asyncio.run(measure(args, settings, plan))
    return report(args, settings, plan, measured)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--package", help="PyPI package to build tasks from (pip download)")
    parser.add_argument("--version", help="package version (default: the latest)")
    parser.add_argument(
        "--from-dir",
        help="use an unpacked source tree instead of downloading (offline); a Rust crate's "
        "folder (Cargo.toml and src/) gives Rust tasks, for --names",
    )
    parser.add_argument("-n", type=int, default=100, help="tasks to sample (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument(
        "--context-chars", type=int, default=1500, help="budget for the context block"
    )
    parser.add_argument(
        "--ablate",
        metavar="SETTING",
        help="run pairline's context arm again with this boolean context setting off, "
        "e.g. context.retrieval",
    )
    parser.add_argument(
        "--names",
        action="store_true",
        help="score member names instead (identifier match, made-up name rate) over arms "
        "flipping context, completion.guide_names and completion.check_names",
    )
    parser.add_argument("--names-arms", help=f"with --names: {','.join(names.ARMS)} (default all)")
    parser.add_argument(
        "--at-member",
        action="store_true",
        help="with --names: put the cursor right after the target's first `receiver.` (the "
        "statement up to the dot typed, as monitor-guided decoding is scored) on the tasks "
        "that access a member",
    )
    common.add_automatic_argument(parser)


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = run(args, common.measuring(settings))
    common.emit(report, args.json)
    return 0
