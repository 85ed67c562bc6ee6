"""`pairline bench latency`: replay typing through the real server over stdio, like an editor.

Per keystroke the client sends `didChange`; once the typist has been quiet for the debounce
time it sends `textDocument/inlineCompletion`, cancelling (`$/cancelRequest`) the request still
in flight. At the next key press a visible suggestion that is a prefix of what is typed next
is accepted (one Tab) instead. After each answered request the client asks
`pairline/debug/lastPrompt` for the prompt the model saw; `--raw` replays those prompts through
llama-cpp-python in-process (the server's overhead), `--peer` sends the same cursor positions
to a llama.cpp-style HTTP server as llama.vim would (pairline/peer ratios from one run);
`--peer llama-server` builds and starts llama.cpp's own server on the same model for that.

Where an answer came from (cache, typing-through, model) is read from the moves of the
`pairline/debug/stats` counters after each answered request; a server without those counters
gets null ("n/a") shares rather than a 0 that was never measured. Each run starts with an
empty completion cache so that runs do not feed each other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairline.bench.harness import arguments, common, peer, plot, servers
from pairline.bench.harness.lspclient import LspClient, Pending
from pairline.bench.harness.peer import connect, llama_vim_prompt
from pairline.bench.typist.traces import Trace, build_traces, default_source_dirs
from pairline.engine.core.config import Settings
from pairline.engine.core.types import Mode
from pairline.engine.models.manifest import ResolvedModel


@dataclass
class Request:
    """One inlineCompletion request of the replay and its fate."""

    trace: int
    keystroke: int  # global index of the key press it follows
    language: str
    prefix: str
    suffix: str
    remaining: str  # what the typist still had to type at that moment
    pending: Pending
    cancelled_at: float | None = None
    text: str | None = None  # the suggestion shown (None: nothing)
    accepted: bool = False
    prompt: str | None = None
    source: str | None = None  # "cache" / "typing_through" / "model" when the server says

    @property
    def answered(self) -> bool:
        return self.cancelled_at is None and self.pending.answered_at is not None

    @property
    def latency_s(self) -> float | None:
        end = self.cancelled_at or self.pending.answered_at
        return None if end is None else end - self.pending.sent_at

    @property
    def acceptable(self) -> bool:
        return bool(self.text) and self.remaining.startswith(self.text or "\0")


# RequestCancelled and ContentModified: the server's word for "superseded".
_OUT_OF_DATE = (-32800, -32801)


class Replay:
    """Types the traces into one server and records every request."""

    def __init__(self, client: LspClient, args: argparse.Namespace) -> None:
        self.client = client
        self.debounce = args.debounce_ms / 1000
        self.accept = args.accept
        self.requests: list[Request] = []
        self.keystrokes = 0
        self.accepts = 0
        self.chars_total = 0
        self.chars_accepted = 0
        self.debounced = 0
        self._latest: Request | None = None
        self._prompt_for: Request | None = None
        self._stats: dict[str, Any] | None = None
        self._by_id: dict[int, Request] = {}

    def _on_answer(self, pending: Pending) -> None:
        request = self._by_id.get(pending.id)
        if request is None or request.cancelled_at is not None:
            return
        if (pending.error or {}).get("code") in _OUT_OF_DATE:
            # The server gave up on it (a newer keystroke): cancelled, as if the client had.
            request.cancelled_at = pending.answered_at
            return
        result = pending.result
        items = result.get("items", []) if isinstance(result, dict) else result or []
        if items and isinstance(items[0].get("insertText"), str):
            request.text = items[0]["insertText"]
        if request is self._latest:
            # Written before the next keystroke can be: the server still holds this prompt.
            self.client.request("pairline/debug/lastPrompt", None, on_answer=self._on_prompt)
            self.client.request("pairline/debug/stats", None, on_answer=self._on_stats)
            self._prompt_for = request

    def _on_stats(self, pending: Pending) -> None:
        # Counters moved since the last answered request: cache hits and typing-through answer
        # at once, so they belong to this request and not to one cancelled in between.
        stats = pending.result if isinstance(pending.result, dict) else {}
        previous, self._stats = self._stats, stats
        if self._prompt_for is None or not stats or previous is None:
            return
        for counter, source in (("cache_hits", "cache"), ("typing_through", "typing_through")):
            if stats.get(counter, 0) > previous.get(counter, 0):
                self._prompt_for.source = source
                return
        self._prompt_for.source = "model"

    def _on_prompt(self, pending: Pending) -> None:
        result = pending.result if isinstance(pending.result, dict) else {}
        if self._prompt_for is None:
            return
        self._prompt_for.prompt = result.get("prompt")

    def _send_request(
        self, index: int, trace: Trace, uri: str, text: str, offset: int, remaining: str
    ) -> None:
        latest = self._latest
        if latest is not None and latest.pending.answered_at is None:
            latest.cancelled_at = time.perf_counter()
            self.client.cancel(latest.pending)
        line_start = text.rfind("\n", 0, offset) + 1
        line = text.count("\n", 0, offset)
        character = common.utf16_len(text[line_start:offset])
        pending = self.client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 2},  # Automatic: typing, not an explicit command
            },
            on_answer=self._on_answer,
        )
        request = Request(
            trace=index,
            keystroke=self.keystrokes,
            language=trace.language,
            prefix=text[:offset],
            suffix=text[offset:],
            remaining=remaining,
            pending=pending,
        )
        self._by_id[pending.id] = request
        self.requests.append(request)
        self._latest = request

    async def run_trace(self, index: int, trace: Trace) -> None:
        uri = f"file:///pairline-bench/latency/{index}/{Path(trace.path).name}"
        self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": trace.language,
                    "version": 1,
                    "text": trace.text,
                }
            },
        )
        lines = trace.text.split("\n")
        text = trace.text
        offset = sum(len(line) + 1 for line in lines[: trace.line]) + trace.column
        version = 1
        typed = 0
        waited = 0.0
        self._latest = None
        self.chars_total += len(trace.target)
        while typed < len(trace.target):
            await asyncio.sleep(max(trace.intervals[typed] - waited, 0.0))
            latest = self._latest
            remaining = trace.target[typed:]
            if (
                self.accept
                and latest is not None
                and latest.answered
                and latest.text
                and remaining.startswith(latest.text)
            ):
                insert = latest.text  # Tab: take the visible suggestion
                latest.accepted = True
                self.accepts += 1
                self.chars_accepted += len(insert)
            else:
                insert = trace.target[typed]
            line = text.count("\n", 0, offset)
            character = common.utf16_len(text[text.rfind("\n", 0, offset) + 1 : offset])
            at = {"line": line, "character": character}
            version += 1
            self.client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": at, "end": at}, "text": insert}],
                },
            )
            text = text[:offset] + insert + text[offset:]
            offset += len(insert)
            typed += len(insert)
            self.keystrokes += 1
            gap = trace.intervals[typed] if typed < len(trace.target) else float("inf")
            waited = 0.0
            if gap > self.debounce:
                await asyncio.sleep(self.debounce)
                waited = self.debounce
                self._send_request(index, trace, uri, text, offset, trace.target[typed:])
            else:
                self.debounced += 1
            await self.client.drain()
        last = self._latest
        if last is not None and last.cancelled_at is None:
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(asyncio.shield(last.pending.future), 120)
        await asyncio.sleep(0.05)  # let a lastPrompt answer arrive
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def run_raw(settings: Settings, model_path: Path, requests: list[Request]) -> list[float]:
    """Seconds per prompt when the same prompts run directly through llama-cpp-python."""
    import llama_cpp

    from pairline.engine.backends import cpu_probe
    from pairline.engine.completion.postprocess import CursorContext, cut
    from pairline.engine.core import syntax

    config = settings.model
    # The weights go where the server puts them, so the comparison is like for like.
    safe = cpu_probe.extra_buffers_safe(model_path)
    with cpu_probe.without_extra_buffers(not safe):
        llm = llama_cpp.Llama(
            model_path=str(model_path),
            n_ctx=config.n_ctx,
            n_threads=config.threads,
            n_threads_batch=config.threads,
            n_batch=config.n_batch,
            n_gpu_layers=config.n_gpu_layers,
            verbose=False,
        )
    progress = common.Progress(len(requests), "raw")
    out: list[float] = []
    for request in requests:
        assert request.prompt is not None
        block = syntax.opens_block(request.language, request.prefix, request.suffix)
        mode = Mode.BLOCK if block else Mode.LINE
        ctx = CursorContext.at(
            request.prefix,
            request.suffix,
            mode,
            request.language,
            settings.completion.max_block_lines,
        )
        limit = settings.completion.max_block_tokens if block else settings.completion.max_tokens
        started = time.perf_counter()
        text = ""
        stream: Any = llm.create_completion(
            request.prompt,
            max_tokens=limit,
            temperature=0.0,
            top_k=1,
            repeat_penalty=1.0,
            stream=True,
        )
        for chunk in stream:
            text += chunk["choices"][0]["text"]
            if cut(text, ctx)[1]:
                break
        stream.close()
        out.append(time.perf_counter() - started)
        progress.advance()
    llm.close()
    return out


def run_peer(
    url: str, requests: list[Request], prefix_lines: int
) -> tuple[list[float], int, bool, int]:
    """Seconds per request against the peer, its acceptable answers, dialect, prompts trimmed."""
    endpoint = connect(url)
    progress = common.Progress(len(requests), "peer")
    seconds: list[float] = []
    acceptable = 0
    trimmed = 0
    for request in requests:
        prompt = llama_vim_prompt(request.prefix, prefix_lines)
        fitted = endpoint.fit(prompt)
        trimmed += fitted != prompt
        text, elapsed = endpoint.complete(fitted)
        seconds.append(elapsed)
        if text and request.remaining.startswith(text):
            acceptable += 1
        progress.advance()
    endpoint.client.close()
    return seconds, acceptable, endpoint.native, trimmed


@dataclass
class Plan:
    """What a run types and what it compares with, settled before any server starts."""

    traces: list[Trace]
    dirs: list[Path]
    model: ResolvedModel
    prefix_lines: int
    peer_binary: Path | None


@dataclass
class PeerRun:
    """The peer's answers to the requests pairline answered."""

    url: str  # the URL given, or what was started for the run
    seconds: list[float]
    acceptable: int
    native: bool
    trimmed: int


@dataclass
class Measured:
    """The replay with every request, and the same requests timed raw and at the peer."""

    replay: Replay
    raw_s: list[float] | None  # with --raw
    peer: PeerRun | None  # with --peer


def build(args: argparse.Namespace, settings: Settings) -> Plan:
    """The traces, the model file and the peer's binary; SystemExit on what would fail later."""
    plot.require(args)
    dirs = [Path(d) for d in args.source] if args.source else default_source_dirs()
    traces = build_traces(dirs, args.traces, args.seed, **arguments.pace(args))
    if not traces:
        raise SystemExit(f"pairline: no usable source files under {', '.join(map(str, dirs))}")
    model = common.resolve_model(settings)
    # Before the replay: a missing compiler should not surface after minutes of typing.
    binary = peer.ensure_binary(args.peer_dir) if args.peer == peer.LLAMA_SERVER else None
    return Plan(traces, dirs, model, arguments.peer_prefix_lines(args), binary)


async def _replay(
    args: argparse.Namespace, settings: Settings, traces: list[Trace], out_dir: Path
) -> Replay:
    options = common.settings_info(settings)
    async with servers.pairline_server(
        options, out_dir / "latency-server.log", fresh_cache=settings
    ) as client:
        replay = Replay(client, args)
        replay._stats = await client.call("pairline/debug/stats", None)
        progress = common.Progress(len(traces), "latency")
        for index, trace in enumerate(traces):
            await replay.run_trace(index, trace)
            progress.advance()
        return replay


def _answered(replay: Replay) -> list[Request]:
    return [r for r in replay.requests if r.answered]


def _with_prompt(replay: Replay) -> list[Request]:
    # Cache hits and typing-through never reach the model: raw has nothing to replay there.
    return [r for r in _answered(replay) if r.prompt and r.source in (None, "model")]


def measure(args: argparse.Namespace, settings: Settings, plan: Plan) -> Measured:
    """The replay through the server, then the same requests raw and at the peer."""
    out_dir = Path(args.out)
    replay = asyncio.run(_replay(args, settings, plan.traces, out_dir))
    raw_s = run_raw(settings, plan.model.path, _with_prompt(replay)) if args.raw else None
    peer_run = None
    if args.peer:
        log = out_dir / "latency-peer.log"
        serving = peer.serve(args.peer, plan.model.path, settings.model, log, plan.peer_binary)
        with serving as (url, label):
            found = run_peer(url, _answered(replay), plan.prefix_lines)
        peer_run = PeerRun(label, *found)
    return Measured(replay, raw_s, peer_run)


def _results(replay: Replay, traces: int) -> dict[str, Any]:
    requests = replay.requests
    answered = _answered(replay)
    shown = [r for r in answered if r.text]
    acceptable = [r for r in shown if r.acceptable]
    cancelled = [r for r in requests if r.cancelled_at is not None]
    sources = [r.source for r in answered if r.source]
    keystrokes = replay.keystrokes
    share = common.share
    return {
        "traces": traces,
        "keystrokes": keystrokes,
        "accepts": replay.accepts,
        "chars_total": replay.chars_total,
        "chars_accepted": replay.chars_accepted,
        "chars_saved_per_100_keystrokes": round(100 * replay.chars_accepted / keystrokes, 2)
        if keystrokes
        else None,
        "requests": len(requests),
        "debounced_keystrokes": replay.debounced,
        "answered": len(answered),
        "cancelled": len(cancelled),
        "cancelled_share": share(len(cancelled), len(requests)),
        "shown": len(shown),
        "acceptable": len(acceptable),
        "acceptable_rate": share(len(acceptable), len(shown)),
        "acceptable_per_answered": share(len(acceptable), len(answered)),
        # null until the server reports where an answer came from (see the module docstring)
        "cache_share": share(sources.count("cache"), len(answered)) if sources else None,
        "typing_through_share": (
            share(sources.count("typing_through"), len(answered)) if sources else None
        ),
        "latency": common.latency_summary(_seconds(answered)),
        "latency_shown": common.latency_summary(_seconds(shown)),
        # Answers that never reached the model: the cache and typing-through.
        "latency_cache_or_typing": common.latency_summary(
            _seconds([r for r in answered if r.source in ("cache", "typing_through")])
        ),
    }


def _seconds(requests: list[Request]) -> list[float]:
    return [r.latency_s for r in requests if r.latency_s is not None]


def _raw_results(replay: Replay, raw_s: list[float]) -> dict[str, Any]:
    pairline_same = common.latency_summary(_seconds(_with_prompt(replay)))
    raw = common.latency_summary(raw_s)
    return {
        "requests": len(raw_s),
        "latency": raw,
        "pairline_latency_same_requests": pairline_same,
        "overhead_ratio_p50": common.ratio(pairline_same["p50_ms"], raw["p50_ms"]),
        "overhead_ratio_mean": common.ratio(pairline_same["mean_ms"], raw["mean_ms"]),
    }


def _peer_results(run: PeerRun, latency: dict[str, Any]) -> dict[str, Any]:
    summary = common.latency_summary(run.seconds)
    return {
        "url": run.url,
        "endpoint": "/completion" if run.native else "/v1/completions",
        "requests": len(run.seconds),
        "prompts_trimmed_to_context": run.trimmed,
        "latency": summary,
        "acceptable_per_answered": common.share(run.acceptable, len(run.seconds)),
        "pairline_over_peer_p50": common.ratio(latency["p50_ms"], summary["p50_ms"]),
        "pairline_over_peer_p95": common.ratio(latency["p95_ms"], summary["p95_ms"]),
    }


def _outcome(request: Request) -> str:
    if request.cancelled_at is not None:
        return "cancelled"
    if request.accepted:
        return "accepted"
    return "shown" if request.text else "empty"


def _timeline(requests: list[Request]) -> list[dict[str, Any]]:
    return [
        {
            "trace": r.trace,
            "keystroke": r.keystroke,
            "latency_ms": None if r.latency_s is None else round(r.latency_s * 1000, 1),
            "outcome": _outcome(r),
            "text": r.text,
        }
        for r in requests
    ]


def report(
    args: argparse.Namespace, settings: Settings, plan: Plan, measured: Measured
) -> dict[str, Any]:
    """The report of a run, written as latency.json (and latency.png) under `--out`."""
    replay = measured.replay
    results = _results(replay, len(plan.traces))
    series: dict[str, list[float]] = {"pairline (LSP)": _seconds(_answered(replay))}
    if measured.raw_s is not None:
        series["raw llama-cpp-python"] = measured.raw_s
        results["raw"] = _raw_results(replay, measured.raw_s)
    if measured.peer is not None:
        series["peer"] = measured.peer.seconds
        results["peer"] = _peer_results(measured.peer, results["latency"])
    timeline = _timeline(replay.requests)
    data: dict[str, Any] = {
        "bench": "latency",
        "results": results,
        "settings": {
            "seed": args.seed,
            "traces": args.traces,
            "source": [str(d) for d in plan.dirs],
            **arguments.typing_settings(args),
            "accept": bool(args.accept),
            "raw": bool(args.raw),
            "peer": args.peer or "",
            "peer_prefix_lines": plan.prefix_lines,
            **common.settings_info(settings),
        },
        "machine": common.machine_info(plan.model),
        "trace_files": [
            {"path": t.path, "line": t.line + 1, "target": t.target} for t in plan.traces
        ],
        "timeline": timeline,
    }
    title = f"latency: {len(plan.traces)} traces, {replay.keystrokes} keystrokes, seed {args.seed}"
    return common.finish(
        data, args, "latency", lambda png: plot.latency_figure(png, series, timeline, title)
    )


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    plan = build(args, settings)
    return report(args, settings, plan, measure(args, settings, plan))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        action="append",
        help="folder of source files to build traces from (repeatable; default: the Python "
        "and JS/TS files of installed packages)",
    )
    arguments.add_typing_arguments(parser, traces=10, traces_help="lines to type back")
    parser.add_argument(
        "--no-accept", dest="accept", action="store_false", help="never accept suggestions"
    )
    parser.add_argument(
        "--raw", action="store_true", help="also run the same prompts in-process (overhead)"
    )
    parser.add_argument(
        "--peer",
        help="URL of a llama.cpp-compatible server to compare with, 'auto' to start "
        "`python -m llama_cpp.server` on the same model, or 'llama-server' to build (once, "
        "see `bench build-peer`) and start llama.cpp's own server on it",
    )
    arguments.add_peer_arguments(parser)


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = run(args, settings)
    common.emit(report, args.json)
    return 0
