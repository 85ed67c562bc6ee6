"""Prompts for code-action edits, and reading the model's answer back into code.

The prompt holds the region to rewrite (its enclosing function, or the selected lines), the
diagnostics' messages, the surrounding file within a line budget, and on a revision round the
previous answer with the check output that rejected it (before any, how the check fails on the
code as it is). Chat models get it as messages and
answer in a fenced block; base models get a completion-style "buggy version / fixed version"
text primed with the region's first line, because they continue text rather than follow
instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pairline.engine.backends.edit import EditPrompt
from pairline.engine.core.languages import comment_marker
from pairline.engine.core.suggestion_end import indent_of

FENCE = "```"
_FENCED = re.compile(r"```[\w.+-]*[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)

SYSTEM = (
    "You are an expert programmer working inside an editor. You change only what the task "
    "asks for and keep the rest of the code exactly as it is. Answer with one fenced code "
    "block and nothing else."
)


@dataclass(frozen=True)
class EditTask:
    """Everything a prompt needs: what to do, where, and what went wrong so far."""

    kind: str  # "fix", "implement" or "docstring"
    language: str
    file_name: str
    region: str  # the text to rewrite (whole lines)
    before: str  # file text before the region, already cut to the budget
    after: str  # file text after the region, already cut to the budget
    diagnostics: tuple[str, ...] = ()
    previous: str | None = None  # the last rejected candidate region
    feedback: str | None = None  # why it was rejected
    failure: str | None = None  # how the check fails on the code as it is (no `previous` yet)


def _instruction(task: EditTask) -> str:
    if task.kind == "implement":
        return (
            "Implement the function below: replace its placeholder body with a working "
            "implementation. Keep its signature and docstring."
        )
    if task.kind == "docstring":
        return (
            "Write a concise docstring for the function below: one summary line, then the "
            "arguments and the return value if they are not obvious. Answer with the whole "
            "function including the new docstring; do not change its code."
        )
    return "Fix the bug in the code below. Keep everything that is not part of the fix unchanged."


def build_prompt(task: EditTask) -> EditPrompt:
    lang = task.language or ""
    parts = [f"File `{task.file_name}`."]
    if task.before.strip() or task.after.strip():
        parts.append(
            "The rest of the file, for reference (do not repeat it):\n"
            f"{FENCE}{lang}\n{task.before}<<REGION>>\n{task.after}{FENCE}"
        )
    if task.diagnostics:
        parts.append("Problems reported here:\n" + "\n".join(f"- {d}" for d in task.diagnostics))
    parts.append(_instruction(task))
    parts.append(f"{FENCE}{lang}\n{task.region.rstrip()}\n{FENCE}")
    if task.failure:
        parts.append(
            f"The check fails on this code:\n{FENCE}\n{task.failure.strip()}\n{FENCE}\n"
            "Change the code so that it passes."
        )
    if task.previous is not None:
        parts.append(
            "Your previous answer was rejected:\n"
            f"{FENCE}{lang}\n{task.previous.rstrip()}\n{FENCE}\n"
            f"Why: {task.feedback or 'it did not pass the checks'}\n"
            "Answer again with a corrected version."
        )
    parts.append(f"Answer with the complete new version of that code in one {FENCE}{lang} block.")
    user = "\n\n".join(parts)
    return EditPrompt(system=SYSTEM, user=user, completion=completion_prompt(task), stop=STOPS)


STOPS = ("\n" + FENCE,)


def completion_prompt(task: EditTask) -> str:
    """A base-model prompt: the file, the region marked as buggy, then the fixed one begun."""
    mark = comment_marker(task.language)
    notes = "".join(f"{mark} problem: {d}\n" for d in task.diagnostics)
    if task.kind == "implement":
        heading, answer_heading = "Unfinished version", "Finished version"
    elif task.kind == "docstring":
        heading, answer_heading = "Version without docstring", "Version with a docstring"
    else:
        heading, answer_heading = "Buggy version", "Fixed version"
    feedback = ""
    if task.failure:
        shown = task.failure.strip().replace("\n", f"\n{mark} ")
        feedback = f"{mark} The check fails on it:\n{mark} {shown}\n"
    if task.previous is not None:
        reason = (task.feedback or "").strip().replace("\n", f"\n{mark} ")
        feedback = (
            f"{mark} Rejected attempt:\n{FENCE}\n{task.previous.rstrip()}\n{FENCE}\n"
            f"{mark} It was rejected because: {reason}\n"
        )
    return (
        f"{mark} File: {task.file_name}\n"
        f"{FENCE}\n{task.before}{task.after}{FENCE}\n\n"
        f"{notes}{mark} {heading}:\n{FENCE}\n{task.region.rstrip()}\n{FENCE}\n"
        f"{feedback}{mark} {answer_heading}:\n{FENCE}\n"
    )


def extract_code(answer: str) -> str | None:
    """The code in a model's answer: the first fenced block, or the bare answer."""
    match = _FENCED.search(answer)
    code = match.group(1) if match else answer
    if FENCE in code:
        code = code.split(FENCE)[0]
    return code if code.strip() else None


def reindent(code: str, like: str) -> str:
    """Shift `code` so its first line has the indentation of `like`'s first non-blank line."""
    lines = code.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    target_line = next((ln for ln in like.split("\n") if ln.strip()), "")
    shift = indent_of(target_line) - indent_of(first)
    if shift == 0:
        return code
    pad = target_line[: indent_of(target_line)]
    if shift > 0:
        return "\n".join(pad[:shift] + ln if ln.strip() else ln for ln in lines)
    return "\n".join(ln[-shift:] if ln[:-shift].strip() == "" else ln.lstrip() for ln in lines)


def budget_context(lines: list[str], start: int, end: int, budget: int) -> tuple[str, str]:
    """The lines before `start` and from `end` on, cut to `budget` lines nearest the region."""
    before_n = min(start, budget // 2 + max(0, budget // 2 - (len(lines) - end)))
    after_n = min(len(lines) - end, budget - before_n)
    before = lines[start - before_n : start]
    after = lines[end : end + after_n]
    head = "".join(before)
    tail = "".join(after)
    if start - before_n > 0:
        head = "...\n" + head
    if end + after_n < len(lines):
        tail = tail + "...\n"
    return head, tail
