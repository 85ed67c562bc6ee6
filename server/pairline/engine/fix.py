"""Code-action edits: find what can be offered, then generate → verify → revise.

`offers()` is what the editor's code-action list costs: one tree-sitter parse, no model call.
`fix()` is the loop run when the user picks an action: it asks the model for a new version of
the region, applies it to a shadow copy of the file, lets the verifier judge it, and on a
rejection asks again with the reason, up to `rounds` times. `line_edits()` turns the accepted
text into minimal whole-line replacements.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import tree_sitter

from pairline.engine import syntax
from pairline.engine.backends.base import Backend
from pairline.engine.backends.edit import EditBackend, LocalEditBackend
from pairline.engine.config import RemoteConfig, Settings
from pairline.engine.prompt.edit import (
    EditTask,
    budget_context,
    build_prompt,
    extract_code,
    reindent,
)
from pairline.engine.redact import is_secret_file
from pairline.engine.types import EngineError
from pairline.engine.verify import Verdict, Verifier

log = logging.getLogger(__name__)

FIX, IMPLEMENT, DOCSTRING = "fix", "implement", "docstring"
TITLES = {FIX: "Fix this", IMPLEMENT: "Implement this function", DOCSTRING: "Add docstring"}
MAX_REGION_LINES = 150  # a larger enclosing function is too much to rewrite: use the lines

_FUNCTIONS = frozenset(
    {
        "function_definition",  # python
        "function_declaration",  # javascript, typescript, go
        "method_definition",  # javascript, typescript
        "method_declaration",  # go
        "function_item",  # rust
        "arrow_function",
        "function_expression",
        "generator_function_declaration",
    }
)
_STUB_STATEMENTS = frozenset({"pass_statement", "ellipsis"})
_STUB_WORDS = ("TODO", "NotImplemented", "not implemented", "unimplemented!", "todo!")


@dataclass(frozen=True)
class Region:
    """Whole lines [start, end) of a document, with the function they belong to, if any."""

    start: int
    end: int
    function: str = ""  # name of the enclosing function ("" for plain lines)


@dataclass(frozen=True)
class Offer:
    """An action the editor may list; computing it costs a parse, never a model call."""

    kind: str
    title: str
    region: Region


@dataclass(frozen=True)
class FixRequest:
    """One action to carry out on one document."""

    kind: str  # FIX, IMPLEMENT or DOCSTRING
    language: str
    text: str  # the whole document
    region: Region
    diagnostics: tuple[str, ...] = ()
    file_name: str = "untitled"
    rel_path: str | None = None  # the file relative to the workspace root, when on disk
    context_lines: int = 120


@dataclass(frozen=True)
class Attempt:
    round: int
    answer: str  # what the model said
    candidate: str | None  # the whole new document, None when no code could be read
    verdict: Verdict
    seconds: float


@dataclass(frozen=True)
class FixResult:
    """The outcome: `text` is the verified new document, or None when nothing verified."""

    text: str | None
    verified: bool
    message: str
    model: str
    where: str  # "remote" or "local"
    attempts: tuple[Attempt, ...] = ()
    seconds: float = 0.0
    best_unverified: str | None = None  # the most promising rejected candidate, if any

    @property
    def rounds(self) -> int:
        return len(self.attempts)


@dataclass(frozen=True)
class LineEdit:
    """Replace lines [start, end) with `text` (whole lines, line breaks included)."""

    start: int
    end: int
    text: str


# --- What can be offered -------------------------------------------------------------------


def _tree(language: str, text: str) -> tree_sitter.Tree | None:
    parser = syntax.parser_for(language)
    if parser is None:
        return None
    return parser.parse(text.encode("utf-8", "surrogatepass"))


def _function_at(root: tree_sitter.Node, start: int, end: int) -> tree_sitter.Node | None:
    """The innermost function whose lines contain lines [start, end]."""
    best: tree_sitter.Node | None = None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.start_point[0] > start or node.end_point[0] < end:
            continue
        if node.type in _FUNCTIONS:
            best = node  # children come later, so the innermost wins
        stack.extend(node.named_children)
    return best


def _name(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    return name.text.decode("utf-8", "replace") if name is not None and name.text else ""


def _body_statements(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    body = node.child_by_field_name("body")
    if body is None:
        return []
    return [c for c in body.named_children if c.type != "comment"]


def _is_docstring(node: tree_sitter.Node) -> bool:
    return node.type == "expression_statement" and any(
        c.type in ("string", "concatenated_string") for c in node.named_children
    )


def is_stub(node: tree_sitter.Node) -> bool:
    """An empty body, `pass`, `...`, a TODO, or `raise NotImplementedError`-like placeholder."""
    body = node.child_by_field_name("body")
    if body is None or body.type not in ("block", "statement_block"):
        return False
    statements = _body_statements(node)
    if statements and _is_docstring(statements[0]):
        statements = statements[1:]
    text = (body.text or b"").decode("utf-8", "replace")
    if not statements:
        return True
    if len(statements) != 1:
        return False
    only = statements[0]
    if only.type in _STUB_STATEMENTS or (
        only.type == "expression_statement"
        and [c.type for c in only.named_children] == ["ellipsis"]
    ):
        return True
    return any(word in text for word in _STUB_WORDS)


def _has_docstring(node: tree_sitter.Node) -> bool:
    statements = _body_statements(node)
    return bool(statements) and _is_docstring(statements[0])


def _block_region(lines: int, start: int, end: int) -> Region:
    return Region(max(0, start), min(lines, max(end, start + 1)))


def offers(
    language: str,
    text: str,
    start: int,
    end: int,
    *,
    selection: bool,
    diagnostics: bool,
) -> list[Offer]:
    """The actions worth listing for lines [start, end] (a cursor has start == end)."""
    line_count = text.count("\n") + 1
    tree = _tree(language, text)
    function = _function_at(tree.root_node, start, end) if tree is not None else None
    result: list[Offer] = []
    if selection or diagnostics:
        if function is not None and (
            function.end_point[0] - function.start_point[0] < MAX_REGION_LINES
        ):
            region = Region(function.start_point[0], function.end_point[0] + 1, _name(function))
        else:
            region = _block_region(line_count, start, end + 1)
        result.append(Offer(FIX, TITLES[FIX], region))
    if function is not None:
        region = Region(function.start_point[0], function.end_point[0] + 1, _name(function))
        if is_stub(function):
            result.append(Offer(IMPLEMENT, TITLES[IMPLEMENT], region))
        if language == "python" and function.type == "function_definition":
            body = function.child_by_field_name("body")
            on_own_lines = body is not None and body.start_point[0] > function.start_point[0]
            if on_own_lines and not _has_docstring(function):
                result.append(Offer(DOCSTRING, TITLES[DOCSTRING], region))
    return result


# --- Applying an answer ----------------------------------------------------------------------


# Only the line breaks LSP knows (str.splitlines also splits at form feeds and U+2028).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _pick_function(code: str, language: str, name: str) -> str:
    """When the answer holds more than the function asked for, keep only that function."""
    if not name:
        return code
    tree = _tree(language, code)
    if tree is None:
        return code
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in _FUNCTIONS and _name(node) == name:
            lines = code.split("\n")
            start = node.start_point[0]
            # Keep decorators written right above the function.
            while start > 0 and lines[start - 1].lstrip().startswith("@"):
                start -= 1
            return "\n".join(lines[start : node.end_point[0] + 1])
        stack.extend(reversed(node.named_children))
    return code


def _python_function(code: str) -> tree_sitter.Node | None:
    tree = _tree("python", code)
    if tree is None:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            return node
        stack.extend(reversed(node.named_children))
    return None


def _docstring_of(code: str) -> str | None:
    """The docstring statement's text in the first Python function of `code`, if any."""
    function = _python_function(code)
    if function is None:
        stripped = code.strip()
        return stripped if stripped.startswith(('"""', "'''")) else None
    statements = _body_statements(function)
    if statements and _is_docstring(statements[0]):
        return (statements[0].text or b"").decode("utf-8", "replace")
    return None


def _with_docstring(old: str, answer_code: str) -> str | None:
    """`old` (a function) with the docstring from the answer put in; its code stays as it was."""
    docstring = _docstring_of(answer_code)
    function = _python_function(old)
    if docstring is None or function is None:
        return None
    body = function.child_by_field_name("body")
    if body is None:
        return None
    lines = old.split("\n")
    first = body.start_point[0]
    pad = lines[first][: _indent_of(lines[first])]
    doc_lines = reindent(docstring.strip("\n"), pad + "x").split("\n")
    return "\n".join(lines[:first] + doc_lines + lines[first:])


def _keep_docstring(old: str, new: str) -> str:
    """Put back a docstring the model dropped while rewriting a function's code."""
    kept = _docstring_of(old)
    if kept is None or _docstring_of(new) is not None or _python_function(new) is None:
        return new
    return _with_docstring(new, kept) or new


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def apply_answer(request: FixRequest, answer: str) -> str | None:
    """The whole new document with the answer's code in place of the region (None: no code)."""
    code = extract_code(answer)
    if code is None:
        return None
    lines = _lines(request.text)
    region = request.region
    old = "".join(lines[region.start : region.end])
    code = _pick_function(code, request.language, region.function)
    if request.language == "python" and request.kind == DOCSTRING:
        # Only the docstring is taken from the answer: a small model asked for a docstring
        # often rewrites the code too, and that is not what the user asked for.
        with_doc = _with_docstring(old.rstrip("\r\n"), code)
        if with_doc is None:
            return None
        code = with_doc
    elif request.language == "python" and region.function:
        code = _keep_docstring(old.rstrip("\r\n"), reindent(code.strip("\n"), old))
    code = reindent(code.strip("\n"), old)
    newline = _newline(request.text)
    new = newline.join(code.split("\n"))
    if old.endswith(("\n", "\r")) or region.end < len(lines):
        new += newline
    return "".join(lines[: region.start]) + new + "".join(lines[region.end :])


def line_edits(old: str, new: str) -> list[LineEdit]:
    """Minimal whole-line replacements that turn `old` into `new`."""
    a, b = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        LineEdit(i1, i2, "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


# --- The loop --------------------------------------------------------------------------------


def task_for(request: FixRequest, previous: Attempt | None) -> EditTask:
    lines = _lines(request.text)
    region = request.region
    before, after = budget_context(lines, region.start, region.end, request.context_lines)
    previous_region: str | None = None
    if previous is not None and previous.candidate is not None:
        new_lines = _lines(previous.candidate)
        grown = len(new_lines) - len(lines)
        previous_region = "".join(new_lines[region.start : region.end + grown])
    elif previous is not None:
        previous_region = previous.answer
    return EditTask(
        kind=request.kind,
        language=request.language,
        file_name=request.file_name,
        region="".join(lines[region.start : region.end]),
        before=before,
        after=after,
        diagnostics=request.diagnostics,
        previous=previous_region,
        feedback=previous.verdict.message if previous is not None else None,
    )


ProgressCallback = Callable[[str, int], None]


async def fix(
    request: FixRequest,
    backend: EditBackend,
    verifier: Verifier,
    rounds: int,
    *,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> FixResult:
    """Generate, verify and revise up to `rounds` times; the first verified candidate wins.

    Raises RemoteError (or another EngineError) when the model cannot be asked at all.
    """
    if backend.where == "remote" and is_secret_file(request.file_name):
        # A .env or key file is nothing but secrets: redacting it would leave nothing to fix.
        raise EngineError(f"{request.file_name} holds secrets; it is never sent to a remote model")
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    attempts: list[Attempt] = []
    for number in range(1, rounds + 1):
        if progress is not None:
            what = "asking" if number == 1 else "revising with"
            progress(
                f"round {number}/{rounds}: {what} {backend.name}", (number - 1) * 100 // rounds
            )
        round_started = time.perf_counter()
        prompt = build_prompt(task_for(request, attempts[-1] if attempts else None))
        answer = await backend.answer(prompt, cancel)
        candidate = apply_answer(request, answer)
        if candidate is None:
            missing = "docstring" if request.kind == DOCSTRING else "code"
            verdict = Verdict(False, "extract", f"the answer holds no {missing}")
        else:
            if progress is not None:
                progress(f"round {number}/{rounds}: checking", (2 * number - 1) * 50 // rounds)
            verdict = await verifier.verify(
                request.language, request.rel_path, request.text, candidate
            )
        attempt = Attempt(number, answer, candidate, verdict, time.perf_counter() - round_started)
        attempts.append(attempt)
        log.info(
            "%s round %d/%d with %s: %s (%s)",
            request.kind,
            number,
            rounds,
            backend.name,
            "accepted" if verdict.ok else "rejected",
            verdict.message.splitlines()[0] if verdict.message else verdict.stage,
        )
        if verdict.ok:
            return FixResult(
                text=candidate,
                verified=True,
                message=verdict.message,
                model=backend.name,
                where=backend.where,
                attempts=tuple(attempts),
                seconds=time.perf_counter() - started,
            )
    best = _best(attempts)
    last = attempts[-1].verdict.message if attempts else "no attempt"
    return FixResult(
        text=None,
        verified=False,
        message=f"no verified edit after {len(attempts)} round(s); last: {last}",
        model=backend.name,
        where=backend.where,
        attempts=tuple(attempts),
        seconds=time.perf_counter() - started,
        best_unverified=best.candidate if best is not None else None,
    )


# A rejection at a later stage got further: a candidate that parses beats one that does not.
_STAGE_RANK = {"check": 3, "setup": 2, "parse": 1, "unchanged": 0, "extract": 0}


def _best(attempts: Sequence[Attempt]) -> Attempt | None:
    usable = [a for a in attempts if a.candidate is not None and a.verdict.stage != "unchanged"]
    if not usable:
        return None
    return max(usable, key=lambda a: (_STAGE_RANK.get(a.verdict.stage, 0), a.round))


# --- Routing ---------------------------------------------------------------------------------


@dataclass
class EditRouter:
    """Chooses the model for each action: remote when configured, else the local one.

    `actions.backend` can force "remote" or "local" per action. The remote backend is kept
    while its settings stay the same, so its HTTP connections are reused.
    """

    settings: Callable[[], Settings]
    local: Callable[[], Backend | None]
    _remote: EditBackend | None = field(default=None, init=False)
    _remote_config: RemoteConfig | None = field(default=None, init=False)

    def choice(self, kind: str) -> str:
        """ "remote" or "local": where `kind` would run now."""
        settings = self.settings()
        wanted = settings.actions.backend_for(kind)
        if wanted == "local":
            return "local"
        if wanted == "remote" or settings.remote.base_url:
            return "remote"
        return "local"

    def describe(self, kind: str) -> str:
        """Shown in the action title, so the user sees what leaves the machine."""
        settings = self.settings()
        if self.choice(kind) == "remote":
            remote = settings.remote
            if not remote.base_url:
                return "remote: not configured"
            from pairline.engine.backends.http import host_of

            return f"remote: {remote.model or host_of(remote.base_url)}"
        backend = self.local()
        return f"local: {backend.name if backend is not None else settings.model.name}"

    def backend(self, kind: str) -> EditBackend:
        settings = self.settings()
        if self.choice(kind) == "local":
            local = self.local()
            if local is None:
                raise EngineError("the local model is not loaded")
            return LocalEditBackend(local, settings.actions.local_max_tokens)
        if not settings.remote.base_url:
            raise EngineError(
                f'actions.backend asks for a remote model for "{kind}" but remote.base_url is empty'
            )
        if self._remote is None or self._remote_config != settings.remote:
            self._remote = make_remote(settings.remote)
            self._remote_config = settings.remote
        return self._remote

    async def aclose(self) -> None:
        if self._remote is not None:
            await self._remote.aclose()
        self._remote = None
        self._remote_config = None


def make_remote(config: RemoteConfig) -> EditBackend:
    """The backend for `remote.api`."""
    if config.api == "anthropic":
        from pairline.engine.backends.anthropic import AnthropicBackend

        return AnthropicBackend(config)
    from pairline.engine.backends.openai_compat import OpenAICompatBackend

    return OpenAICompatBackend(config)
