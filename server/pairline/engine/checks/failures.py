"""Failures read back from a check's output, and the workspace lines they point at.

`parse(tool, output)` understands pytest (`--tb=short` or the default long tracebacks),
doctest, `node --test` (TAP), `go test` and `cargo test`; each failure keeps its test, a
one-line reason and its frames, outermost first. `spots(...)` turns failures into places to
mark: the deepest frame inside the workspace, the failing line of the test itself, and, when
neither lies in the file the user saved, the definition of that file the test's line calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pairline.engine.core import languages, syntax
from pairline.engine.core.languages import SKIP_DIRS

_DETAIL_LINES = 8  # of a failure's text given with its diagnostic (and to the model)
_READ_LIMIT = 2_000_000  # a frame's file larger than this is not read for its line


@dataclass(frozen=True)
class Frame:
    path: str  # as the tool printed it: relative to some folder of the workspace, or absolute
    line: int  # 1-based


@dataclass(frozen=True)
class Failure:
    test: str
    reason: str  # one line: "assert 3.0 == 2.0", "ZeroDivisionError: division by zero"
    detail: str  # a few lines of the failure's own text
    frames: tuple[Frame, ...]  # outermost (the test) first


@dataclass(frozen=True)
class Spot:
    """A line of a workspace file to mark, and what to say there."""

    rel_path: str
    line: int  # 0-based
    start: int  # code points into `text`
    end: int
    text: str  # the line itself (to convert columns to the client's encoding)
    message: str
    detail: str


# --- Parsing ------------------------------------------------------------------------------


_PYTEST_HEADER = re.compile(r"^_{3,} (.+?) _{3,}$")
_PYTEST_FRAME = re.compile(r"^([^\s:][^:\n]*\.\w+):(\d+): (?:in \S+|\w+.*)$")
_PYTEST_ERROR = re.compile(r"^E {1,4}(.*)$")
_DOCTEST_FILE = re.compile(r'^File "(.+)", line (\d+), in (\S+)$')
_TAP_FAIL = re.compile(r"^(\s*)not ok \d+ - (.+?)(?: # .*)?$")
_TAP_FIELD = re.compile(r"^\s*(\w+): (.*)$")
_JS_FRAME = re.compile(r"\(?(?:file://)?(/[^():\s]+):(\d+):\d+\)?\s*$")
_GO_FAIL = re.compile(r"^\s*--- FAIL: (\S+)")
_GO_MESSAGE = re.compile(r"^\s+(\S+\.go):(\d+): (.*)$")
_GO_FRAME = re.compile(r"^\s+(/\S+\.go):(\d+)")
_RUST_PANIC = re.compile(r"^thread '(.+?)'(?: \(\d+\))? panicked at (\S+?):(\d+):\d+:$")
_RUST_PANIC_OLD = re.compile(r"^thread '(.+?)' panicked at '(.*)', (\S+?):(\d+):\d+$")


def _detail(lines: Iterable[str]) -> str:
    kept = [line.rstrip() for line in lines if line.strip()]
    return "\n".join(kept[:_DETAIL_LINES])


def _pytest(output: str) -> list[Failure]:
    failures: list[Failure] = []
    test = ""
    frames: list[Frame] = []
    errors: list[str] = []
    source: list[str] = []

    def flush() -> None:
        if test and errors:
            reason = next((e for e in errors if e.strip()), "failed").strip()
            failures.append(Failure(test, reason, _detail([*source[:1], *errors]), tuple(frames)))

    for line in output.splitlines():
        header = _PYTEST_HEADER.match(line)
        if header is not None or line.startswith(("=====", "FAILED ", "ERROR ")):
            flush()
            test, frames, errors, source = (header.group(1) if header else ""), [], [], []
            continue
        frame = _PYTEST_FRAME.match(line)
        if frame is not None:
            frames.append(Frame(frame.group(1), int(frame.group(2))))
            continue
        error = _PYTEST_ERROR.match(line)
        if error is not None:
            errors.append(error.group(1))
        elif test and len(frames) == 1 and line.startswith("    ") and not source:
            # The test's own failing line, under its frame.
            source.append(f"{frames[0].path}:{frames[0].line}: {line.strip()}")
    flush()
    return failures


def _doctest(output: str) -> list[Failure]:
    failures: list[Failure] = []
    for block in output.split("*" * 70):
        lines = block.strip().splitlines()
        where = _DOCTEST_FILE.match(lines[0]) if lines else None
        if where is None:
            continue
        sections: dict[str, list[str]] = {}
        current = ""
        for line in lines[1:]:
            if not line.startswith(" ") and line.endswith(":"):
                current = line[:-1]
                sections[current] = []
            elif current:
                sections[current].append(line.strip())
        example = " ".join(sections.get("Failed example", [])) or "an example"
        if "Exception raised" in sections:
            raised = [ln for ln in sections["Exception raised"] if ln]
            reason = f"{example} raised {raised[-1] if raised else 'an exception'}"
        else:
            expected = " ".join(sections.get("Expected", [])) or "nothing"
            got = " ".join(sections.get("Got", [])) or "nothing"
            reason = f"{example}: expected {expected}, got {got}"
        frame = Frame(where.group(1), int(where.group(2)))
        failures.append(Failure(where.group(3), reason, _detail(lines[1:]), (frame,)))
    return failures


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _node(output: str) -> list[Failure]:
    failures: list[Failure] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        fail = _TAP_FAIL.match(line)
        if fail is None:
            continue
        fields: dict[str, list[str]] = {}
        current = ""
        for body in lines[i + 1 :]:
            if body.strip() == "...":
                break
            field = _TAP_FIELD.match(body)
            if field is not None and len(body) - len(body.lstrip()) <= len(fail.group(1)) + 2:
                current = field.group(1)
                value = field.group(2)
                fields[current] = [] if value in ("|-", "|", ">-") else [_unquote(value)]
            elif current:
                fields[current].append(body.strip())
        if "subtestsFailed" in " ".join(fields.get("failureType", [])):
            continue  # a suite whose own tests are reported one by one
        error = [e for e in fields.get("error", []) if e]
        name = " ".join(fields.get("name", []))
        reason = error[0] if error else "failed"
        if name and name != "AssertionError" and not reason.startswith(name):
            reason = f"{name}: {reason}"
        frames = [
            Frame(m.group(1), int(m.group(2)))
            for m in (_JS_FRAME.search(s) for s in fields.get("stack", []))
            if m is not None
        ]
        failures.append(Failure(fail.group(2), reason, _detail(error), tuple(reversed(frames))))
    return failures


def _go(output: str) -> list[Failure]:
    failures: list[Failure] = []
    test = ""
    panic: list[str] = []
    frames: list[Frame] = []
    for line in output.splitlines():
        fail = _GO_FAIL.match(line)
        if fail is not None:
            test = fail.group(1)
            continue
        message = _GO_MESSAGE.match(line)
        if message is not None and test:
            frame = Frame(message.group(1), int(message.group(2)))
            failures.append(Failure(test, message.group(3), message.group(3), (frame,)))
        elif line.startswith("panic: "):
            panic.append(line)
        elif panic and (frame_match := _GO_FRAME.match(line)) is not None:
            frames.append(Frame(frame_match.group(1), int(frame_match.group(2))))
    if panic:
        failures.append(Failure("panic", panic[0], _detail(panic), tuple(reversed(frames))))
    return failures


def _cargo(output: str) -> list[Failure]:
    failures: list[Failure] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        panic = _RUST_PANIC.match(line)
        if panic is not None:
            text = [ln for ln in lines[i + 1 : i + 4] if ln.strip() and not ln.startswith("note:")]
            reason = text[0].strip() if text else "panicked"
            frame = Frame(panic.group(2), int(panic.group(3)))
            failures.append(Failure(panic.group(1), reason, _detail(text), (frame,)))
            continue
        old = _RUST_PANIC_OLD.match(line)
        if old is not None:
            frame = Frame(old.group(3), int(old.group(4)))
            failures.append(Failure(old.group(1), old.group(2), old.group(2), (frame,)))
    return failures


_PARSERS = {"pytest": _pytest, "doctest": _doctest, "node": _node, "go": _go, "cargo": _cargo}


def parse(tool: str, output: str) -> list[Failure]:
    """The failures in a check's output; a configured command's output is read by every parser."""
    parser = _PARSERS.get(tool)
    if parser is not None:
        return parser(output)
    for each in _PARSERS.values():
        found = each(output)
        if found:
            return found
    return []


# --- Where they point ---------------------------------------------------------------------


def _resolve(root: Path, frame: Frame, bases: list[PurePosixPath]) -> PurePosixPath | None:
    """The frame's file relative to `root`, when it is a workspace file (not a dependency)."""
    path = PurePosixPath(frame.path)
    if path.is_absolute():
        try:
            found = PurePosixPath(Path(path).resolve().relative_to(root.resolve()).as_posix())
        except (ValueError, OSError):
            return None
    else:
        near = next((b / path for b in bases if (root / b / path).is_file()), None)
        if near is None:
            return None
        found = near
    parts = found.parts
    if ".." in parts or any(p in SKIP_DIRS or p in ("site-packages", "target") for p in parts):
        return None
    return found


def _line_of(root: Path, rel: PurePosixPath, line: int, texts: dict[str, str]) -> str | None:
    key = str(rel)
    if key not in texts:
        try:
            path = root / rel
            texts[key] = (
                path.read_text("utf-8", "replace") if path.stat().st_size < _READ_LIMIT else ""
            )
        except OSError:
            texts[key] = ""
    lines = texts[key].splitlines()
    return lines[line] if 0 <= line < len(lines) else None


def _spot(rel: PurePosixPath, line: int, text: str, message: str, detail: str) -> Spot:
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return Spot(str(rel), line, start, max(end, start), text, message, detail)


def _definitions(language: str, text: str) -> dict[str, int]:
    """Line of each function, class or type name defined in `text` (first one wins)."""
    parser = syntax.parser_for(language)
    entry = languages.find(language)
    if parser is None or entry is None:
        return {}
    found: dict[str, int] = {}
    stack = [parser.parse(text.encode("utf-8", "surrogatepass")).root_node]
    while stack:
        node = stack.pop()
        if node.type in entry.definition_nodes:
            name = node.child_by_field_name("name")
            if name is not None and name.text:
                found.setdefault(name.text.decode("utf-8", "replace"), name.start_point[0])
        stack.extend(node.children)
    return found


_CALLED = re.compile(r"([A-Za-z_]\w*)\s*\(")


def spots(
    failures: list[Failure], root: Path, saved: str, language: str, saved_text: str
) -> list[Spot]:
    """Where to mark each failure; `saved` (relative to root) is the file whose save ran it."""
    saved_path = PurePosixPath(saved)
    bases = [saved_path.parent, *saved_path.parent.parents]
    texts: dict[str, str] = {saved: saved_text}
    definitions: dict[str, int] | None = None
    result: list[Spot] = []
    for failure in failures:
        message = f"{failure.test} failed: {failure.reason}"
        inside = [
            (rel, frame.line - 1)
            for frame in failure.frames
            if (rel := _resolve(root, frame, bases)) is not None
        ]
        chosen = []
        if inside:
            chosen.append(inside[-1])  # the deepest frame in the workspace
            if inside[0] != inside[-1]:
                chosen.append(inside[0])  # the failing line of the test
        lines = {where: _line_of(root, *where, texts) for where in chosen}
        if not any(rel == saved_path for rel, _ in chosen):
            # The test failed in its own assertion: mark what it calls from the saved file.
            if definitions is None:
                definitions = _definitions(language, saved_text)
            called = _CALLED.findall(" ".join([*(t or "" for t in lines.values()), failure.detail]))
            line = next((definitions[n] for n in called if n in definitions), None)
            if line is not None:
                chosen.append((saved_path, line))
                lines[(saved_path, line)] = _line_of(root, saved_path, line, texts)
        for rel, line in chosen:
            text = lines.get((rel, line))
            if text is not None:
                result.append(_spot(rel, line, text, message, failure.detail))
    return result
