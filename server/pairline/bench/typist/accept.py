"""`pairline bench accept`: what a person typing with suggestions gains, arm by arm.

A simulated person (`accept_person`) types traces from pinned real code bases
(`accept_sources`) at a human pace, each inside a workspace holding the rest of its
repository, and takes suggestions with Tab or word by word. Each arm is a set of settings
overrides on pairline, run through the real server over stdio (one server per code base and
arm, with an empty completion cache); the `peer` arm is llama.cpp's `llama-server` on the same
model driven as llama.vim drives it, typed by the same person in the same run.

Built-in arms: `all` (the settings as given), `naive` (prefix-only prompt and only the line
cut: every quality lever of `LEVERS` that this build has, off), `peer`, and one arm per lever
setting this build has, flipped from its default (`-context.retrieval` when it is on by
default, `+completion.token_healing` when off, `+completion.rerank` to `always` from
`invoked`). `LEVERS` is the one list: a lever added to the
settings joins the table by being named there. `--arm NAME=section.key=value,...` adds arms;
a setting the build lacks is an error, never silently ignored.

With `--remote URL` pairline's arms take their suggestions from the llama-server at URL
(`completion.backend = "remote"`, no local model loaded) and the peer arm talks to the same
server, so both sides use one server and one model; `--remote llama-server` starts that server
(the peer's build, on the bench's model) for the whole run. `--typists N` (with `--remote`)
splits the traces among N people who type them at the same time, each into an editor of their
own (pairline: a server each; the peer: a client each) against the one server, started with N
slots: each arm runs every person alone first, then all of them at once, and reports each
person's shown-suggestion p50/p95 both ways (none may be starved: p95 at once at most twice
alone, and something shown).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pairline.bench.harness import arguments, common, peer, plot, servers
from pairline.bench.typist.accept_person import LspAsker, PeerAsker, Tally, type_trace
from pairline.bench.typist.accept_sources import (
    SOURCES,
    Source,
    Trace,
    code_bases,
    pick_traces,
    prepare_workspaces,
)
from pairline.engine.core.config import Settings, dump_settings, load_settings
from pairline.engine.models.manifest import ResolvedModel

# Lever setting -> (its "off" value, its "on" value; None: no single "on", e.g. a threshold).
LEVERS: dict[str, tuple[Any, Any]] = {
    "context.enable": (False, True),
    "context.imports": (False, True),
    "context.buffers": (False, True),
    "context.retrieval": (False, True),
    "context.recent_edits": (False, True),
    "completion.token_healing": (False, True),
    "completion.min_confidence": (0.0, None),
    "completion.syntax_check": (False, True),
    "completion.postprocess": (False, True),
    "completion.rerank": ("off", "always"),
    "completion.speculative": (False, True),
    "completion.cache": (False, True),
    "completion.finish_typed_into": (False, True),
    "completion.context_on_top": (False, True),
    "completion.guide_names": (False, True),
    "completion.check_names": (False, True),
}
# Latency levers stay as they are in `naive`: it is about the prompt and post-processing.
NAIVE_KEEPS = ("completion.speculative", "completion.cache", "completion.finish_typed_into")
PEER = "peer"
DEFAULT_ARMS = "all,naive,levers,peer"
# A suggestion shown within this long of its request came from a cache or typing-through:
# no model is that fast, and a keystroke's round trip over stdio is about a millisecond.
AT_ONCE_S = 0.015
TYPISTS_P95_BOUND = 2.0  # a person's p95 with the others typing, over their p95 alone
TARGETS = {  # pairline (arm `all`) over the peer, from the issue
    "chars_saved_per_100_keystrokes": (">=", 1.5),
    "accepted_share": (">=", 1.5),
    "latency_shown_p50": ("<=", 0.8),
    "latency_shown_p95": ("<=", 0.5),
}


@dataclasses.dataclass(frozen=True)
class Arm:
    """A named set of settings overrides (`section.key` -> value), or the peer."""

    name: str
    overrides: dict[str, Any]
    peer: bool = False


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # a bare string such as `always`


def parse_arm(spec: str) -> Arm:
    """`NAME=section.key=value,section.key=value` as an Arm."""
    name, sep, rest = spec.partition("=")
    if not sep or not name or not rest:
        raise SystemExit(f"pairline: --arm {spec!r}: write NAME=section.key=value[,...]")
    overrides: dict[str, Any] = {}
    for item in rest.split(","):
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise SystemExit(f"pairline: --arm {spec!r}: {item!r} is not section.key=value")
        overrides[key.strip()] = _value(value.strip())
    return Arm(name, overrides)


def _current(settings: Settings, key: str) -> tuple[bool, Any]:
    """(whether this build has setting `key`, its value in `settings`)."""
    section_name, _, field_name = key.partition(".")
    section = getattr(settings, section_name, None)
    if not dataclasses.is_dataclass(section) or field_name not in {
        f.name for f in dataclasses.fields(section)
    }:
        return False, None
    return True, getattr(section, field_name)


def lever_arms(settings: Settings) -> tuple[list[Arm], list[str]]:
    """One arm per lever this build has, flipped from its value; and the levers it lacks."""
    arms: list[Arm] = []
    missing: list[str] = []
    for key, (off, on) in LEVERS.items():
        present, value = _current(settings, key)
        if not present:
            missing.append(key)
        elif on is not None and value != on:
            arms.append(Arm(f"+{key}", {key: on}))  # off, or a milder mode: turn it on
        elif value != off:
            arms.append(Arm(f"-{key}", {key: off}))
    return arms, missing


def naive_arm(settings: Settings) -> Arm:
    overrides = {
        key: off
        for key, (off, _on) in LEVERS.items()
        if key not in NAIVE_KEEPS and _current(settings, key)[0]
    }
    return Arm("naive", overrides)


def choose_arms(names: str, extra: list[str], settings: Settings) -> tuple[list[Arm], list[str]]:
    """The arms named in `--arms` (with `levers` for all lever arms) and the `--arm` ones."""
    levers, missing = lever_arms(settings)
    known = {arm.name: arm for arm in levers}
    # A lever named without its sign: whichever flip this build's default calls for.
    known.update({arm.name[1:]: arm for arm in levers})
    arms: list[Arm] = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name in missing:
            raise SystemExit(f"pairline: arm {name!r}: this build has no setting {name!r}")
        if name in LEVERS and name not in known:
            print(
                f"pairline: {name} is off by default and has no one value to turn it on: "
                f"give it as --arm NAME={name}=VALUE",
                file=sys.stderr,
            )
            continue
        if name == "all":
            arms.append(Arm("all", {}))
        elif name == "naive":
            arms.append(naive_arm(settings))
        elif name == PEER:
            arms.append(Arm(PEER, {}, peer=True))
        elif name == "levers":
            arms.extend(levers)
        elif name in known:
            arms.append(known[name])
        else:
            choices = ", ".join(["all", "naive", "levers", PEER, *known])
            raise SystemExit(f"pairline: unknown arm {name!r} (choose from {choices})")
    arms.extend(parse_arm(spec) for spec in extra)
    names_seen = [arm.name for arm in arms]
    if len(set(names_seen)) != len(names_seen):
        raise SystemExit(f"pairline: arms named twice: {', '.join(names_seen)}")
    return arms, missing


def with_remote(settings: Settings, url: str) -> Settings:
    """`settings` taking suggestions from the llama-server at `url`; code actions go remote too,
    so that no local model loads beside it."""
    data = dump_settings(settings)
    data["completion"]["backend"] = "remote"
    data["completion_remote"].update(base_url=url, api="llama-server")
    data["actions"]["backend"] = {"*": "remote"}
    loaded, problems = load_settings(data)
    if problems:
        raise SystemExit(f"pairline: --remote {url}: {'; '.join(problems)}")
    return loaded


def arm_settings(base: Settings, arm: Arm) -> Settings:
    """`base` with the arm's overrides; SystemExit for a setting this build lacks."""
    data = dump_settings(base)
    for key, value in arm.overrides.items():
        if not _current(base, key)[0]:
            section = key.partition(".")[0]
            raise SystemExit(
                f"pairline: arm {arm.name!r}: this build has no setting {key!r} "
                f"(not in the {section!r} section)"
            )
        section_name, _, field_name = key.partition(".")
        data[section_name][field_name] = value
    # The bench never adds to the user's own usage log.
    data["completion"]["record_stats"] = False
    settings, problems = load_settings(data)
    if problems:
        raise SystemExit(f"pairline: arm {arm.name!r}: {'; '.join(problems)}")
    return settings


async def _run_pairline(
    settings: Settings,
    traces: list[Trace],
    workspaces: dict[str, Path],
    debounce: float,
    log_stem: Path,
) -> Tally:
    tally = Tally()
    options = common.settings_info(settings)
    # One server per code base, so that its workspace is that code base alone.
    for base, root in workspaces.items():
        group = [t for t in traces if t.base == base]
        if not group:
            continue
        log = log_stem.with_name(f"{log_stem.name}-{base}.log")
        async with servers.pairline_server(options, log, root=root, fresh_cache=settings) as client:
            asker = LspAsker(client, tally)
            for trace in group:
                await type_trace(asker, trace, (root / trace.path).as_uri(), tally, debounce)
    return tally


async def _run_peer(
    url: str, traces: list[Trace], workspaces: dict[str, Path], prefix_lines: int, debounce: float
) -> Tally:
    tally = Tally()
    endpoint = peer.connect(url)
    asker = PeerAsker(endpoint, prefix_lines, tally)
    try:
        for trace in traces:
            uri = (workspaces[trace.base] / trace.path).as_uri()
            await type_trace(asker, trace, uri, tally, debounce)
    finally:
        await asker.aclose()
        endpoint.client.close()
    return tally


def merged(tallies: list[Tally]) -> Tally:
    """One tally of several people's (sums and concatenations)."""
    out = Tally()
    for tally in tallies:
        for item in dataclasses.fields(Tally):
            setattr(out, item.name, getattr(out, item.name) + getattr(tally, item.name))
    return out


def typists_figures(alone: list[Tally], together: list[Tally]) -> dict[str, Any]:
    """Each person's latency alone and with the others, and whether anyone was starved."""
    people: list[dict[str, Any]] = []
    for one, crowd in zip(alone, together, strict=True):
        solo, shared = summary(one), summary(crowd)
        people.append(
            {
                "alone": {k: solo["latency_shown"][k] for k in ("p50_ms", "p95_ms")}
                | {"shown": solo["shown"], "saved": solo["chars_saved_per_100_keystrokes"]},
                "together": {k: shared["latency_shown"][k] for k in ("p50_ms", "p95_ms")}
                | {"shown": shared["shown"], "saved": shared["chars_saved_per_100_keystrokes"]},
                "p95_ratio": common.ratio(
                    shared["latency_shown"]["p95_ms"], solo["latency_shown"]["p95_ms"]
                ),
            }
        )
    ratios = [p["p95_ratio"] for p in people if p["p95_ratio"] is not None]
    starved = [
        i
        for i, p in enumerate(people)
        if not p["together"]["shown"] or (p["p95_ratio"] or 0) > TYPISTS_P95_BOUND
    ]
    return {
        "people": people,
        "worst_p95_ratio": max(ratios) if ratios else None,
        "target": f"every p95_ratio <= {TYPISTS_P95_BOUND}",
        "starved": starved,
    }


def summary(tally: Tally) -> dict[str, Any]:
    """An arm's figures; chars_typed + chars_accepted always equals target_chars."""
    keystrokes = tally.typed_keys + tally.accept_keys
    shown = len(tally.shown_latency_s)
    latency = common.latency_summary(tally.shown_latency_s)
    # Shown at once: from a cache or typed through (no model ran); the rest waited for one.
    at_once = [s for s in tally.shown_latency_s if s <= AT_ONCE_S]
    waited = [s for s in tally.shown_latency_s if s > AT_ONCE_S]
    return {
        "target_chars": tally.target_chars,
        "chars_typed": tally.chars_typed,
        "chars_accepted": tally.chars_accepted,
        "keystrokes": keystrokes,
        "typed_keys": tally.typed_keys,
        "accept_keys": tally.accept_keys,
        "chars_saved_per_100_keystrokes": round(100 * tally.chars_accepted / keystrokes, 2)
        if keystrokes
        else None,
        "requests": tally.requests,
        "cancelled": tally.cancelled,
        "shown": shown,
        "shown_per_100_keystrokes": round(100 * shown / keystrokes, 2) if keystrokes else None,
        "accepted_full": tally.full,
        "accepted_partial": tally.partial,
        "accepted_share": common.share(tally.full + tally.partial, shown),
        "full_share": common.share(tally.full, shown),
        "latency_shown": latency,
        "shown_at_once_share": common.share(len(at_once), shown),
        "latency_shown_from_model": common.latency_summary(waited),
    }


def _metric(arm: dict[str, Any], name: str) -> float | None:
    if name.startswith("latency_shown_"):
        value: float | None = arm["latency_shown"][f"{name.rsplit('_', 1)[1]}_ms"]
        return value
    result: float | None = arm[name]
    return result


def compare(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Ratios of `all` to the peer with the issue's targets, and each arm against `all`."""
    out: dict[str, Any] = {}
    if "all" in results and PEER in results:
        for name, (sense, bound) in TARGETS.items():
            value = common.ratio(_metric(results["all"], name), _metric(results[PEER], name))
            met = None if value is None else value >= bound if sense == ">=" else value <= bound
            out[f"all_over_peer.{name}"] = {
                "ratio": value,
                "target": f"{sense} {bound}",
                "met": met,
            }
    if "all" in results:
        base = results["all"]
        for arm, figures in results.items():
            if arm == "all":
                continue
            out[f"{arm}_minus_all"] = {
                name: None
                if figures[name] is None or base[name] is None
                else round(figures[name] - base[name], 4)
                for name in ("chars_saved_per_100_keystrokes", "accepted_share")
            }
    return out


def format_report(report: dict[str, Any]) -> str:
    """The arms as one table, then the ratios to the peer and each arm's difference to `all`."""
    results: dict[str, dict[str, Any]] = report["results"]["arms"]
    header = (
        "arm",
        "saved/100k",
        "accepted",
        "full",
        "part",
        "shown/100k",
        "p50 ms",
        "p95 ms",
        "at once",
        "model p50",
        "keys",
        "typed",
        "taken",
        "cancelled",
    )
    rows: list[tuple[str, ...]] = [header]
    for arm, r in results.items():
        lat = r["latency_shown"]
        rows.append(
            tuple(
                common._fmt(v)
                for v in (
                    arm,
                    r["chars_saved_per_100_keystrokes"],
                    r["accepted_share"],
                    r["accepted_full"],
                    r["accepted_partial"],
                    r["shown_per_100_keystrokes"],
                    lat["p50_ms"],
                    lat["p95_ms"],
                    r["shown_at_once_share"],
                    r["latency_shown_from_model"]["p50_ms"],
                    r["keystrokes"],
                    r["chars_typed"],
                    r["chars_accepted"],
                    r["cancelled"],
                )
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"pairline bench accept ({report['results']['traces']} traces)", ""]
    lines += [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    comparison = report["results"]["comparison"]
    if comparison:
        lines.append("")
        for key, value in comparison.items():
            if "ratio" in value:
                verdict = {True: "met", False: "NOT met", None: "n/a"}[value["met"]]
                lines.append(
                    f"  {key}: {common._fmt(value['ratio'])} (target {value['target']}: {verdict})"
                )
            else:
                parts = ", ".join(f"{k} {common._fmt(v)}" for k, v in value.items())
                lines.append(f"  {key}: {parts}")
    for arm, r in results.items():
        for i, person in enumerate((r.get("typists") or {}).get("people", [])):
            alone, together = person["alone"], person["together"]
            lines.append(
                f"  {arm} person {i}: p50/p95 ms alone {common._fmt(alone['p50_ms'])}/"
                f"{common._fmt(alone['p95_ms'])}, together {common._fmt(together['p50_ms'])}/"
                f"{common._fmt(together['p95_ms'])} (p95 x{common._fmt(person['p95_ratio'])}, "
                f"shown {together['shown']})"
            )
    missing = report["results"]["levers_missing"]
    if missing:
        lines.append(f"  levers not in this build: {', '.join(missing)}")
    files = report.get("files") or {}
    lines += [""] + [f"wrote {path}" for path in files.values()]
    return "\n".join(lines)


def _log_name(arm: str) -> str:
    return "accept-" + re.sub(r"[^\w.+-]", "_", arm) + ".log"


@dataclasses.dataclass
class Plan:
    """What a run types, in which code bases and with which arms, settled before typing."""

    arms: list[Arm]
    levers_missing: list[str]
    arm_settings: dict[str, Settings]
    bases: dict[str, Path]
    traces: list[Trace]
    model: ResolvedModel
    prefix_lines: int
    peer_binary: Path | None


def _bases(args: argparse.Namespace, settings: Settings) -> dict[str, Path]:
    """The code bases to type in: `--source` folders, else the pinned ones (`--bases`)."""
    if args.source:
        return {Path(d).name: Path(d).resolve() for d in args.source}
    sources: tuple[Source, ...] = SOURCES
    if args.bases:
        wanted = {b.strip() for b in args.bases.split(",") if b.strip()}
        sources = tuple(s for s in SOURCES if s.name in wanted or s.label in wanted)
        unknown = wanted - {s.name for s in sources} - {s.label for s in sources}
        if unknown:
            names = ", ".join(s.name for s in SOURCES)
            raise SystemExit(f"pairline: unknown code base {', '.join(unknown)} ({names})")
    return code_bases(settings.cache_path / "bench" / "accept", sources)


def build(args: argparse.Namespace, settings: Settings) -> Plan:
    """The arms, code bases, traces, model file and peer binary; SystemExit on what would fail."""
    plot.require(args)
    if args.typists > 1 and not args.remote:
        raise SystemExit("pairline: --typists needs --remote: the people share one server")
    arms, missing = choose_arms(args.arms, args.arm or [], settings)
    config = {arm.name: arm_settings(settings, arm) for arm in arms if not arm.peer}
    bases = _bases(args, settings)
    traces = pick_traces(bases, args.traces, args.seed, lines=args.lines, **arguments.pace(args))
    if not traces:
        raise SystemExit("pairline: no function bodies to type in the code bases")
    model = common.resolve_model(settings)
    # Before any typing: a missing build should not surface after minutes of it.
    started_peer = any(arm.peer for arm in arms) or args.remote == peer.LLAMA_SERVER
    binary = peer.ensure_binary(args.peer_dir) if started_peer else None
    prefix_lines = arguments.peer_prefix_lines(args)
    return Plan(arms, missing, config, bases, traces, model, prefix_lines, binary)


def _run_arm(
    args: argparse.Namespace,
    settings: Settings,
    plan: Plan,
    arm: Arm,
    workspaces: dict[str, Path],
    remote: str | None = None,
) -> Tally:
    """One arm typed through; `remote`: the llama-server both sides use (else the peer starts
    its own and pairline runs its model itself)."""
    out_dir = Path(args.out)
    debounce = args.debounce_ms / 1000
    if not arm.peer:
        stem = out_dir / _log_name(arm.name).removesuffix(".log")
        config = plan.arm_settings[arm.name]
        config = config if remote is None else with_remote(config, remote)
        return asyncio.run(_run_pairline(config, plan.traces, workspaces, debounce, stem))
    if remote is not None:
        return asyncio.run(_run_peer(remote, plan.traces, workspaces, plan.prefix_lines, debounce))
    log = out_dir / _log_name(arm.name)
    serving = peer.serve(peer.LLAMA_SERVER, plan.model.path, settings.model, log, plan.peer_binary)
    with serving as (url, _):
        return asyncio.run(_run_peer(url, plan.traces, workspaces, plan.prefix_lines, debounce))


def _run_typists(
    args: argparse.Namespace, plan: Plan, arm: Arm, workspaces: dict[str, Path], remote: str
) -> tuple[Tally, dict[str, Any]]:
    """The arm typed by `--typists` people, each alone and then all at once: the crowd's
    merged tally and each person's figures."""
    # Traces dealt out in turn; a person left without any (fewer traces than people) drops out.
    groups = [g for g in (plan.traces[i :: args.typists] for i in range(args.typists)) if g]
    debounce = args.debounce_ms / 1000

    def person(traces: list[Trace], tag: str) -> Any:
        if arm.peer:
            return _run_peer(remote, traces, workspaces, plan.prefix_lines, debounce)
        config = with_remote(plan.arm_settings[arm.name], remote)
        stem = Path(args.out) / f"{_log_name(arm.name).removesuffix('.log')}-{tag}"
        return _run_pairline(config, traces, workspaces, debounce, stem)

    async def together() -> list[Tally]:
        crowd = (person(group, f"person{i}-together") for i, group in enumerate(groups))
        return list(await asyncio.gather(*crowd))

    alone = [asyncio.run(person(g, f"person{i}-alone")) for i, g in enumerate(groups)]
    crowd = asyncio.run(together())
    return merged(crowd), typists_figures(alone, crowd)


def measure(
    args: argparse.Namespace, settings: Settings, plan: Plan
) -> tuple[dict[str, dict[str, Any]], dict[str, Tally]]:
    """Each arm typed through in turn: its figures and its tally, by arm name."""
    results: dict[str, dict[str, Any]] = {}
    tallies: dict[str, Tally] = {}
    progress = common.Progress(len(plan.arms), "accept arms")
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pairline-accept-"))
        workspaces = prepare_workspaces(plan.bases, plan.traces, Path(tmp))
        remote = None
        if args.remote:
            log = Path(args.out) / "accept-remote-server.log"
            serving = peer.serve(
                args.remote, plan.model.path, settings.model, log, plan.peer_binary, args.typists
            )
            remote = stack.enter_context(serving)[0]
        for arm in plan.arms:
            started = time.perf_counter()
            people: dict[str, Any] = {}
            if remote is not None and args.typists > 1:
                tally, people = _run_typists(args, plan, arm, workspaces, remote)
            else:
                tally = _run_arm(args, settings, plan, arm, workspaces, remote)
            tallies[arm.name] = tally
            results[arm.name] = {
                **summary(tally),
                "wall_s": round(time.perf_counter() - started, 1),
                **({"typists": people} if people else {}),
            }
            progress.advance(note=arm.name)
            # Arm by arm, so that a run cut short still leaves what it measured.
            common.write_report(
                {"bench": "accept", "arms": results}, Path(args.out), "accept-partial"
            )
    return results, tallies


def _figure_metrics(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    return {
        arm: {
            "chars saved / 100 keys": r["chars_saved_per_100_keystrokes"],
            "accepted share of shown (%)": None
            if r["accepted_share"] is None
            else 100 * r["accepted_share"],
        }
        for arm, r in results.items()
    }


def report(
    args: argparse.Namespace,
    settings: Settings,
    plan: Plan,
    results: dict[str, dict[str, Any]],
    tallies: dict[str, Tally],
) -> dict[str, Any]:
    """The report of a run, written as accept.json (and accept.png) under `--out`."""
    traces = plan.traces
    data: dict[str, Any] = {
        "bench": "accept",
        "results": {
            "traces": len(traces),
            "arms": results,
            "comparison": compare(results),
            "levers_missing": plan.levers_missing,
        },
        "settings": {
            "seed": args.seed,
            "traces": args.traces,
            "lines": args.lines,
            "code_bases": sorted(plan.bases),
            **arguments.typing_settings(args),
            "peer_prefix_lines": plan.prefix_lines,
            "arms": {arm.name: "llama-server" if arm.peer else arm.overrides for arm in plan.arms},
            "remote": args.remote,
            "typists": args.typists,
            **common.settings_info(settings),
        },
        "machine": common.machine_info(plan.model),
        "trace_files": [
            {"base": t.base, "path": t.path, "line": t.line + 1, "target": t.target} for t in traces
        ],
        "per_trace": {name: tally.per_trace for name, tally in tallies.items()},
    }
    title = f"accept: {len(traces)} traces, seed {args.seed}, {args.cps:g} keys/s"
    metrics = _figure_metrics(results)
    return common.finish(data, args, "accept", lambda png: plot.arms_figure(png, metrics, title))


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    plan = build(args, settings)
    results, tallies = measure(args, settings, plan)
    return report(args, settings, plan, results, tallies)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        action="append",
        help="a local code base to type in instead of the pinned ones (repeatable)",
    )
    parser.add_argument(
        "--bases",
        help="comma-separated pinned code bases to draw from (default: all of them), e.g. "
        "click,rxjs,golang-github-spf13-cobra-dev,librust-semver-dev",
    )
    arguments.add_typing_arguments(parser, traces=12, traces_help="function windows to type")
    parser.add_argument("--lines", type=int, default=2, help="most lines per trace")
    parser.add_argument(
        "--arms",
        default=DEFAULT_ARMS,
        help=f"comma-separated arms: all, naive, levers (one per lever), peer or a lever arm "
        f"such as -context.retrieval (default {DEFAULT_ARMS})",
    )
    parser.add_argument(
        "--arm",
        action="append",
        help="an extra arm NAME=section.key=value[,section.key=value...] (repeatable)",
    )
    parser.add_argument(
        "--remote",
        metavar="URL|llama-server",
        help="pairline takes its suggestions from this llama-server (completion.backend "
        "remote) and the peer arm uses the same one; `llama-server` starts it on the model",
    )
    parser.add_argument(
        "--typists",
        type=int,
        default=1,
        help="people typing at once against the --remote server (each alone first, then "
        "together; the traces are split among them)",
    )
    arguments.add_peer_arguments(parser)
    # The peer arm is llama.cpp's own server, as llama.vim's users run it.
    parser.set_defaults(peer=peer.LLAMA_SERVER)


def main(args: argparse.Namespace, settings: Settings) -> int:
    report = run(args, settings)
    if args.json:
        common.emit(report, True)
    else:
        print(format_report(report))
    return 0
