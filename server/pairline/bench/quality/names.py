"""`bench crossfile --names`: do the suggestions name members that exist?

Each crossfile task runs through arms that flip the prompt's cross-file context
(`context.enable`), guided decoding of member names (`completion.guide_names`) and their
post-check (`completion.check_names`), all against the one unpacked tree. Besides exact match
and edit similarity, each arm is scored by

- identifier match: the first member name after a `.` in the target line against the first one
  in the suggestion (tasks whose target has a member access), as Agrawal et al. (NeurIPS 2023,
  monitor-guided decoding) score next-identifier match;
- with `--at-member`, the tasks whose target accesses a member are asked again with the cursor
  right after its first `receiver.` (the statement typed up to the dot): the task shape of the
  MGD paper, where the next identifier is what the monitor constrains, and the moment a user
  typing a dot waits for;
- made-up name rate: the share of shown suggestions that name a member its receiver does not
  have, where the receiver resolves at the task's cursor (pairline's own name monitor, the same
  for every arm, whatever the arm's settings).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairline.bench.harness import common
from pairline.engine.backends.name_guide import TAIL_CHARS, member_access
from pairline.engine.completion.engine import CompletionEngine
from pairline.engine.completion.names_check import first_made_up
from pairline.engine.context import ContextGatherer
from pairline.engine.core.config import Settings
from pairline.engine.core.types import CompletionRequest, Position, PositionEncoding
from pairline.engine.workspace import Workspace, language_for_path

if TYPE_CHECKING:
    from pairline.bench.quality.crossfile import Plan
    from pairline.bench.quality.crossfile_task import Task

# name → (context.enable, completion.guide_names, completion.check_names,
# completion.prefer_seen_names)
ARMS: dict[str, tuple[bool, bool, bool, bool]] = {
    "no_context": (False, False, False, False),
    "context": (True, False, False, False),
    "context_check": (True, False, True, False),
    "context_guide": (True, True, False, False),
    "context_guide_check": (True, True, True, False),
    "no_context_guide": (False, True, False, False),
    "no_context_check": (False, False, True, False),
    "no_context_guide_check": (False, True, True, False),
    "no_context_guide_seen": (False, True, False, True),
}
_MEMBER = re.compile(r"(?<![\w])[A-Za-z_]\w*\s*\.\s*([A-Za-z_]\w*)")
# Rust: a path's `::` is a member access too (`Version::parse`).
_RUST_MEMBER = re.compile(r"(?<![\w:])[A-Za-z_]\w*\s*(?:\.|::)\s*([A-Za-z_]\w*)")


def _member_pattern(language: str) -> re.Pattern[str]:
    return _RUST_MEMBER if language == "rust" else _MEMBER


def first_member(text: str, language: str = "python") -> str | None:
    """The first member name after a `.` (or Rust's `::`) in `text` (strings are not told
    apart)."""
    found = _member_pattern(language).search(text)
    return found.group(1) if found else None


def at_member(task: Task) -> Task | None:
    """The task with its statement typed up to its first member's dot; None without a member."""
    found = _member_pattern(language_for_path(task.path)).search(task.target)
    if found is None:
        return None
    head = task.target[: found.start(1)]
    line_start = sum(len(line) + 1 for line in task.text.split("\n")[: task.line])
    at = line_start + task.column
    return dataclasses.replace(
        task,
        column=task.column + len(head),
        target=task.target[len(head) :],
        text=task.text[:at] + head + task.text[at:],
        typed=head,
    )


def identifier_match(prediction: str, target: str, language: str = "python") -> bool | None:
    """Whether the first member names agree; None when the target accesses no member."""
    wanted = first_member(target, language)
    return None if wanted is None else first_member(prediction, language) == wanted


def made_up(
    text: str, before: str, members: Mapping[str, frozenset[str]], language: str = "python"
) -> bool:
    """Whether the suggestion names a member that its (resolved) receiver lacks."""
    found = first_made_up(text, before, "", members, language)
    return bool(text.strip()) and found is not None


def arm_settings(settings: Settings, arm: str) -> Settings:
    context_on, guide, check, seen = ARMS[arm]
    context = copy.copy(settings.context)
    context.enable = context_on
    completion = dataclasses.replace(
        settings.completion, guide_names=guide, check_names=check, prefer_seen_names=seen
    )
    return dataclasses.replace(settings, context=context, completion=completion)


def _request(workspace: Workspace, root: Path, task: Task, automatic: bool) -> CompletionRequest:
    uri = (root / task.path).as_uri()
    workspace.open(uri, task.text, language=language_for_path(task.path))
    request = workspace.request_at(uri, Position(task.line, task.column))
    return dataclasses.replace(request, automatic=automatic)


async def _arm(
    engine: CompletionEngine,
    gatherer: ContextGatherer,
    plan: Plan,
    members: list[Mapping[str, frozenset[str]]],
    automatic: bool,
    progress: common.Progress,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, task in enumerate(plan.tasks):
        request = _request(gatherer.workspace, plan.root, task, automatic)
        started = time.perf_counter()
        suggestion = await engine.complete(request)
        seconds = time.perf_counter() - started
        gatherer.workspace.close(request.uri)
        engine.forget(request.uri)  # no typing-through into the next arm
        text = suggestion.text.split("\n", 1)[0] if suggestion else ""
        before = request.prefix.rsplit("\n", 1)[-1]
        out.append(
            {
                "text": text,
                "seconds": seconds,
                "exact_match": common.exact_match(text, task.target),
                "edit_similarity": round(
                    common.edit_similarity((task.typed + text).strip(), task.typed + task.target),
                    4,
                ),
                "identifier_match": identifier_match(
                    task.typed + text, task.typed + task.target, request.language
                ),
                "made_up": made_up(text, before, members[i], request.language),
            }
        )
        progress.advance()
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    shown = [r for r in rows if r["text"].strip()]
    scored = [float(r["identifier_match"]) for r in rows if r["identifier_match"] is not None]
    return {
        "exact_match": common.mean([float(r["exact_match"]) for r in rows]),
        "edit_similarity": common.mean([r["edit_similarity"] for r in rows]),
        "identifier_match": common.mean(scored),
        "identifier_tasks": len(scored),
        "shown": len(shown),
        "made_up": sum(1 for r in shown if r["made_up"]),
        "made_up_rate": common.share(sum(1 for r in shown if r["made_up"]), len(shown)),
        "latency": common.latency_summary([r["seconds"] for r in rows]),
    }


async def measure(
    args: argparse.Namespace, settings: Settings, plan: Plan, arms: list[str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Each arm's rows, and what the monitor found at the tasks' cursors."""
    workspace = Workspace(PositionEncoding.UTF32)
    gatherer = ContextGatherer(workspace, [plan.root])
    await asyncio.to_thread(gatherer.ensure_index, settings.context)
    members: list[Mapping[str, frozenset[str]]] = []
    resolved = 0  # tasks whose cursor follows `receiver.` with the receiver's members known
    started = time.perf_counter()
    for task in plan.tasks:
        request = _request(workspace, plan.root, task, args.automatic)
        members.append(gatherer.members_at(request))
        access = member_access(request.prefix[-TAIL_CHARS:])
        resolved += access is not None and access[0] in members[-1]
        workspace.close(request.uri)
    monitor: dict[str, Any] = {
        "tasks_with_receivers": sum(1 for m in members if m),
        "cursor_receiver_known": resolved,
        "receivers_mean": common.mean([float(len(m)) for m in members]),
        "seconds_per_task_cold": round((time.perf_counter() - started) / len(plan.tasks), 5),
    }
    backend, model = await common.load_backend(settings, quiet=args.json)
    engine = CompletionEngine(settings)
    engine.attach(backend)
    engine.context = gatherer
    progress = common.Progress(len(arms) * len(plan.tasks), "crossfile names")
    rows: dict[str, list[dict[str, Any]]] = {}
    try:
        for arm in arms:
            engine.settings = arm_settings(settings, arm)
            rows[arm] = await _arm(engine, gatherer, plan, members, args.automatic, progress)
    finally:
        engine.close()
        progress.close()
    monitor["model"] = model.name
    return rows, monitor


def run(args: argparse.Namespace, settings: Settings, plan: Plan) -> dict[str, Any]:
    """The names arms on `plan`'s tasks, as a report (crossfile-names-PACKAGE.json)."""
    arms = [a.strip() for a in args.names_arms.split(",")] if args.names_arms else list(ARMS)
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise SystemExit(f"pairline: unknown --names-arms {unknown}; known: {', '.join(ARMS)}")
    if getattr(args, "at_member", False):
        moved = [t for t in map(at_member, plan.tasks) if t is not None]
        plan = dataclasses.replace(plan, tasks=moved)
    rows, monitor = asyncio.run(measure(args, settings, plan, arms))
    package = args.package or Path(args.from_dir).name
    per_task = [
        {"path": t.path, "line": t.line + 1, "typed": t.typed, "target": t.target}
        | {arm: rows[arm][i]["text"] for arm in arms}
        for i, t in enumerate(plan.tasks)
    ]
    data: dict[str, Any] = {
        "bench": "crossfile-names",
        "results": {
            "package": package,
            "version": plan.version,
            "tasks_found": plan.tasks_found,
            "tasks": len(plan.tasks),
            "monitor": monitor,
            **{arm: summary(rows[arm]) for arm in arms},
        },
        "settings": {
            "source": plan.source,
            "n": args.n,
            "seed": args.seed,
            "automatic": bool(args.automatic),
            "at_member": bool(getattr(args, "at_member", False)),
            "arms": {
                arm: dict(zip(("context", "guide", "check", "seen"), ARMS[arm], strict=True))
                for arm in arms
            },
            **common.settings_info(settings),
        },
        "machine": common.machine_info(),
        "per_task": per_task,
    }
    return common.finish(data, args, f"crossfile-names-{package}")
