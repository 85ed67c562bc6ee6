"""`pairline bench soak`: hours of editing compressed into minutes, watching memory and cache.

One `pairline serve` over stdio, driven like a busy editor: several documents are typed into
at once, each keystroke sends `didChange` and an `inlineCompletion` request (cancelling the
one still in flight for that document), code actions are listed now and then, and every
finished document is closed and a new one opened under a new URI, so per-document state that
is never dropped shows up as growth. Every few seconds the server's RSS, thread count, on-disk
completion cache size and `pairline/debug/stats` are sampled.

The verdict: RSS growth after warm-up (the median of the last samples against the median of
the first samples after warm-up) within `--max-growth`, the cache within its bound, and every
request answered (a result, or an error such as RequestCancelled). The model comes from the
usual cache dir; the completion cache lives in a fresh temporary dir with a small bound.

With `--fix-loop`, a "Fix this" loop runs all the while on a file of a trusted temporary
workspace whose check always fails, so the loop spends its whole budget generating and checking
candidates: the code-action list latency is then measured with a loop running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pairline.bench.harness import common, servers
from pairline.bench.harness.lspclient import REQUEST_CANCELLED, LspClient, Pending
from pairline.engine.core.config import Settings
from pairline.engine.models.manifest import ResolvedModel

# The typing benches' editor, which also lists code actions.
_CAPABILITIES: dict[str, Any] = {
    **servers.CAPABILITIES,
    "textDocument": {**servers.CAPABILITIES["textDocument"], "codeAction": {}},
}

_NAMES = ("total", "items", "parse", "load", "scale", "merge", "count", "render", "check")
_ARGS = ("values", "path", "limit", "data", "key", "config", "text", "size")
_BODIES = (
    "result = []\n    for item in {a}:\n        result.append(item)\n    return result\n",
    "if not {a}:\n        return None\n    return {a}[0]\n",
    "total = 0\n    for value in {a}:\n        total += value\n    return total\n",
    'with open({a}, encoding="utf-8") as handle:\n        return handle.read()\n',
    "return {{key: {a}[key] for key in sorted({a})}}\n",
)


def _function(rng: random.Random, serial: int) -> str:
    """A new small Python function: distinct text keeps the cache filling up."""
    name = f"{rng.choice(_NAMES)}_{serial}"
    arg = rng.choice(_ARGS)
    body = rng.choice(_BODIES).format(a=arg)
    return f"def {name}({arg}):\n    {body}\n"


def _position(text: str) -> dict[str, int]:
    lines = text.split("\n")
    return {"line": len(lines) - 1, "character": common.utf16_len(lines[-1])}


def _dir_bytes(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        with contextlib.suppress(OSError):
            if item.is_file():
                total += item.stat().st_size
    return total


@dataclasses.dataclass
class _Doc:
    uri: str
    text: str
    target: str  # the whole text the typist will have typed when this document is done
    version: int = 1
    pending: Pending | None = None


class Soak:
    """Types into several documents of one server and samples it."""

    def __init__(self, client: LspClient, args: argparse.Namespace, cache_dir: Path) -> None:
        self.client = client
        self.args = args
        self.cache_dir = cache_dir
        self.rng = random.Random(args.seed)
        self.serial = 0
        self.requests: list[Pending] = []
        self.keystrokes = 0
        self.documents_opened = 0
        self.samples: list[dict[str, Any]] = []
        self.fixes = 0  # "Fix this" loops run to the end (with --fix-loop)

    def _new_doc(self) -> _Doc:
        self.serial += 1
        self.documents_opened += 1
        uri = f"file:///tmp/pairline-soak/doc{self.serial}.py"
        header = f'"""Soak document {self.serial}."""\n\nimport os\n\n\n'
        target = header + "".join(_function(self.rng, self.serial * 10 + i) for i in range(3))
        doc = _Doc(uri=uri, text=header, target=target)
        self.client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": header}},
        )
        return doc

    def _type(self, doc: _Doc) -> _Doc:
        if len(doc.text) >= len(doc.target):
            if doc.pending is not None and not doc.pending.future.done():
                self.client.cancel(doc.pending)
            self.client.notify("textDocument/didClose", {"textDocument": {"uri": doc.uri}})
            return self._new_doc()
        char = doc.target[len(doc.text)]
        at = _position(doc.text)
        doc.text += char
        doc.version += 1
        self.keystrokes += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": doc.uri, "version": doc.version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": char}],
            },
        )
        if doc.pending is not None and not doc.pending.future.done():
            self.client.cancel(doc.pending)  # an editor drops the stale request
        doc.pending = self.client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": doc.uri},
                "position": _position(doc.text),
                "context": {"triggerKind": 2},
            },
        )
        self.requests.append(doc.pending)
        if self.keystrokes % 50 == 0:
            line = _position(doc.text)["line"]
            where = {"line": line, "character": 0}
            self.requests.append(
                self.client.request(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": doc.uri},
                        "range": {"start": where, "end": where},
                        "context": {"diagnostics": []},
                    },
                )
            )
        return doc

    async def _sample(self, started: float) -> None:
        assert self.client.process is not None
        stats = await self.client.call("pairline/debug/stats", None, timeout=120)
        status = common.proc_status(self.client.process.pid)
        self.samples.append(
            {
                "t_s": round(time.perf_counter() - started, 1),
                "rss_mb": round(status.get("rss_kb", 0) / 1024, 1),
                "threads": status.get("threads", 0),
                "cache_bytes": _dir_bytes(self.cache_dir / "completions"),
                "keystrokes": self.keystrokes,
                "stats": stats,
            }
        )

    async def fix_loop(self, workspace: Path, deadline: float) -> None:
        """Run "Fix this" on the workspace's file again and again until `deadline`."""
        path = workspace / "calc.py"
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8")
        item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        self.client.notify("textDocument/didOpen", {"textDocument": item})
        where = {"line": 1, "character": 4}
        problem = {"range": {"start": where, "end": where}, "message": "wrong result"}
        while time.perf_counter() < deadline:
            actions = await self.client.call(
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": uri},
                    "range": {"start": where, "end": where},
                    "context": {"diagnostics": [problem]},
                },
            )
            fix = next(a for a in actions or [] if "Fix this" in a["title"])
            with contextlib.suppress(Exception):
                await self.client.call("codeAction/resolve", fix, timeout=600)
            self.fixes += 1

    async def run(self) -> float:
        args = self.args
        docs = [self._new_doc() for _ in range(args.docs)]
        interval = 1.0 / args.rate
        started = begin = time.perf_counter()
        deadline = started + args.minutes * 60
        next_sample = started
        turn = 0
        fixing = (
            asyncio.ensure_future(self.fix_loop(args.fix_workspace, deadline))
            if args.fix_workspace is not None
            else None
        )
        while (now := time.perf_counter()) < deadline:
            if now >= next_sample:
                await self._sample(begin)
                next_sample += args.sample_s
            index = turn % len(docs)
            docs[index] = self._type(docs[index])
            turn += 1
            await self.client.drain()
            if docs[index].text.endswith("\n") and args.pause_s > 0:
                # A typist stops at line ends: the answers to the last requests arrive then.
                await asyncio.sleep(args.pause_s)
                started += args.pause_s  # keep the keystroke rate between pauses
            await asyncio.sleep(max(0.0, started + turn * interval - time.perf_counter()))
        if fixing is not None:
            with contextlib.suppress(Exception):
                await fixing
        # Let the last requests finish (or be answered as cancelled) before judging.
        for doc in docs:
            if doc.pending is not None and not doc.pending.future.done():
                self.client.cancel(doc.pending)
        await self.client.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(p.future for p in self.requests), return_exceptions=True), 120
            )
        await self._sample(begin)
        return time.perf_counter() - begin


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def summarise(
    samples: list[dict[str, Any]], warmup_s: float, tail_share: float = 0.2
) -> dict[str, Any]:
    """RSS at warm-up end and at the end (medians over windows, robust to one noisy sample)."""
    rss = [(s["t_s"], s["rss_mb"]) for s in samples if s["rss_mb"] > 0]
    after = [(t, v) for t, v in rss if t >= warmup_s] or rss
    window = max(1, int(len(after) * tail_share))
    baseline = _median([v for _, v in after[:window]])
    final = _median([v for _, v in after[-window:]])
    growth = (final - baseline) / baseline if baseline else 0.0
    return {
        "rss_start_mb": rss[0][1] if rss else 0.0,
        "rss_after_warmup_mb": baseline,
        "rss_end_mb": final,
        "rss_max_mb": max((v for _, v in rss), default=0.0),
        "rss_growth_after_warmup": round(growth, 4),
    }


def _options(
    args: argparse.Namespace, settings: Settings, model: ResolvedModel, cache_dir: Path
) -> dict[str, Any]:
    options = common.settings_info(settings)
    if args.fix_loop:
        options["actions"]["trusted"] = True
        command = f"{sys.executable} check.py"
        options["actions"]["check_commands"] = {"python": command}
    # The model by path (already assembled), the caches in a dir of their own.
    options["model"]["name"] = str(model.path)
    options["cache_dir"] = str(cache_dir)
    options["completion"]["cache"] = True
    options["completion"]["cache_size_mb"] = args.cache_mb
    return options


def measure(
    args: argparse.Namespace, settings: Settings, model: ResolvedModel
) -> tuple[Soak, float, dict[str, Any]]:
    """The soak itself: the Soak with its samples, its seconds and the server's options."""
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(tempfile.mkdtemp(prefix="pairline-soak-"))
    args.fix_workspace = _fix_workspace(cache_dir) if args.fix_loop else None
    try:
        options = _options(args, settings, model, cache_dir)
        soak, seconds = asyncio.run(_soak(args, options, cache_dir, out_dir))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return soak, seconds, options


def _results(args: argparse.Namespace, soak: Soak, seconds: float) -> dict[str, Any]:
    samples = soak.samples
    bound = args.cache_mb * 1024 * 1024
    warmup_s = args.warmup_s if args.warmup_s is not None else min(60.0, args.minutes * 15)
    answered = [p for p in soak.requests if p.answered_at is not None]
    cancelled = [p for p in answered if (p.error or {}).get("code") == REQUEST_CANCELLED]
    failed = [p for p in answered if p.error and p not in cancelled]
    last = samples[-1]["stats"] if samples else {}
    cache_max = max((s["cache_bytes"] for s in samples), default=0)
    return {
        "minutes": args.minutes,
        "seconds": round(seconds, 1),
        "documents": args.docs,
        "documents_opened": soak.documents_opened,
        "keystrokes": soak.keystrokes,
        "requests": len(soak.requests),
        "answered": len(answered) - len(cancelled) - len(failed),
        "cancelled": len(cancelled),
        "errors": len(failed),
        "unanswered": len(soak.requests) - len(answered),
        "warmup_s": warmup_s,
        **summarise(samples, warmup_s),
        "threads_start": samples[0]["threads"] if samples else 0,
        "threads_end": samples[-1]["threads"] if samples else 0,
        "threads_max": max((s["threads"] for s in samples), default=0),
        "cache_bytes_max": cache_max,
        "cache_bound_bytes": bound,
        "cache_within_bound": cache_max <= bound,
        "generations": last.get("generations", 0),
        "peak_generations_running": last.get("peak_generations_running", 0),
        "peak_generations_pending": last.get("peak_generations_pending", 0),
        "fix_loops": soak.fixes,
        # The list only parses the buffer: it must stay instant while the model is busy.
        "code_action_list": common.latency_summary(
            [
                p.answered_at - p.sent_at
                for p in answered
                if p.answered_at is not None
                and p.method == "textDocument/codeAction"
                and not p.error
            ]
        ),
    }


def report(
    args: argparse.Namespace,
    model: ResolvedModel,
    options: dict[str, Any],
    soak: Soak,
    seconds: float,
) -> dict[str, Any]:
    """The report and its verdict, written as soak.json under `--out`."""
    results = _results(args, soak, seconds)
    results["ok"] = (
        results["rss_growth_after_warmup"] <= args.max_growth
        and results["cache_within_bound"]
        and results["unanswered"] == 0
        and results["errors"] == 0
    )
    data: dict[str, Any] = {
        "bench": "soak",
        "machine": common.machine_info(model),
        "settings": options,
        "results": results,
        "samples": [{k: v for k, v in s.items() if k != "stats"} for s in soak.samples],
    }
    return common.finish(data, args, "soak")


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    model = common.resolve_model(settings)
    soak, seconds, options = measure(args, settings, model)
    return report(args, model, options, soak, seconds)


async def _soak(
    args: argparse.Namespace, options: dict[str, Any], cache_dir: Path, out_dir: Path
) -> tuple[Soak, float]:
    log = out_dir / "soak-server.log"
    async with servers.pairline_server(
        options, log, root=args.fix_workspace, capabilities=_CAPABILITIES
    ) as client:
        soak = Soak(client, args, cache_dir)
        seconds = await soak.run()
    return soak, seconds


def _fix_workspace(parent: Path) -> Path:
    """A workspace whose one function is buggy and whose check never passes (and takes time)."""
    workspace = parent / "workspace"
    workspace.mkdir()
    (workspace / "calc.py").write_text("def add(a, b):\n    return a - b\n", encoding="utf-8")
    (workspace / "check.py").write_text(
        "import time\ntime.sleep(0.5)\nprint('FAILED: the check never passes')\n"
        "raise SystemExit(1)\n",
        encoding="utf-8",
    )
    return workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to type")
    parser.add_argument("--docs", type=int, default=3, help="documents typed into at once")
    parser.add_argument("--rate", type=float, default=10.0, help="keystrokes per second, in all")
    parser.add_argument(
        "--pause-s", type=float, default=0.5, help="pause after each typed line (0: none)"
    )
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--warmup-s", type=float, help="seconds before RSS growth counts (default: min(60, 25%%))"
    )
    parser.add_argument("--cache-mb", type=int, default=1, help="completion cache bound (MB)")
    parser.add_argument(
        "--max-growth", type=float, default=0.10, help="RSS growth after warm-up that fails"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the typed text")
    parser.add_argument(
        "--fix-loop",
        action="store_true",
        help='keep a "Fix this" loop running (a check that never passes) while typing',
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = run(args, settings)
    common.emit(report, args.json)
    return 0 if report["results"]["ok"] else 1
