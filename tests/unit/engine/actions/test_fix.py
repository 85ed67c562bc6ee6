"""The generate → verify → revise loop, the offers, and the minimal edits, with a fake model."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from pairline.engine.actions import fix
from pairline.engine.actions.verify import CheckRun, WorkspaceVerifier, compare
from pairline.engine.backends.edit import GREEDY, EditPrompt, Sampling
from pairline.engine.core.config import ActionsConfig, Settings, load_settings

BUGGY = '''import math


def add(a, b):
    """Return the sum."""
    return a - b


def area(r):
    pass
'''
FIXED_ADD = "```python\ndef add(a, b):\n    return a + b\n```"
BROKEN_ADD = "```python\ndef add(a, b):\n    return (a + b\n```"


class FakeModel:
    """Answers from a script, one answer per round, and keeps the prompts it saw."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[EditPrompt] = []

    @property
    def name(self) -> str:
        return "fake"

    @property
    def where(self) -> str:
        return "local"

    async def answer(
        self, prompt: EditPrompt, cancel: threading.Event, sampling: Sampling = GREEDY
    ) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)

    async def aclose(self) -> None:
        return None


def request(kind: str = fix.FIX, line: int = 5, **kw: object) -> fix.FixRequest:
    offer = next(
        o
        for o in fix.offers("python", BUGGY, line, line, selection=False, diagnostics=True)
        if o.kind == kind
    )
    values: dict[str, object] = {
        "kind": kind,
        "language": "python",
        "text": BUGGY,
        "region": offer.region,
        "diagnostics": ("line 6: add(2, 3) returns -1",),
        "file_name": "calc.py",
        "rel_path": "calc.py",
    }
    values.update(kw)
    return fix.FixRequest(**values)  # type: ignore[arg-type]


def test_offers() -> None:
    at_add = fix.offers("python", BUGGY, 5, 5, selection=False, diagnostics=True)
    assert [o.kind for o in at_add] == [fix.FIX]  # has a docstring and a real body
    assert at_add[0].region == fix.Region(3, 6, "add")
    at_area = fix.offers("python", BUGGY, 9, 9, selection=False, diagnostics=False)
    assert [o.kind for o in at_area] == [fix.IMPLEMENT, fix.DOCSTRING]
    # Nothing to fix without a diagnostic or a selection; a selection outside functions fixes
    # its own lines.
    assert fix.offers("python", BUGGY, 0, 0, selection=False, diagnostics=False) == []
    outside = fix.offers("python", BUGGY, 0, 0, selection=True, diagnostics=False)
    assert outside == [fix.Offer(fix.FIX, "Fix this", fix.Region(0, 1))]


@pytest.mark.parametrize(
    "body",
    ["    pass", "    ...", "    # TODO: write it\n    pass", "    raise NotImplementedError"],
)
def test_stub_bodies_offer_implement(body: str) -> None:
    text = f"def f(x):\n{body}\n"
    kinds = [o.kind for o in fix.offers("python", text, 0, 0, selection=False, diagnostics=False)]
    assert fix.IMPLEMENT in kinds


def test_stub_in_other_languages() -> None:
    ts = "function f(x: number): number {\n  // TODO\n}\n"
    go = "package main\n\nfunc f() int {\n\treturn 1\n}\n"
    assert [
        o.kind for o in fix.offers("typescript", ts, 1, 1, selection=False, diagnostics=False)
    ] == [fix.IMPLEMENT]
    assert fix.offers("go", go, 3, 3, selection=False, diagnostics=False) == []


async def test_first_good_answer_is_verified_and_minimal() -> None:
    model = FakeModel([FIXED_ADD])
    result = await fix.fix(request(), model, WorkspaceVerifier(ActionsConfig(), None), 3)
    assert result.verified and result.rounds == 1
    assert result.text is not None
    # The docstring the model dropped is kept; only the buggy line changes.
    assert fix.line_edits(BUGGY, result.text) == [fix.LineEdit(5, 6, "    return a + b\n")]
    prompt = model.prompts[0]
    assert "add(2, 3) returns -1" in prompt.user and "return a - b" in prompt.user
    assert "Buggy version" in prompt.completion


async def test_parse_breaking_candidate_is_rejected_and_revised() -> None:
    model = FakeModel([BROKEN_ADD, FIXED_ADD])
    result = await fix.fix(request(), model, WorkspaceVerifier(ActionsConfig(), None), 3)
    assert result.verified and result.rounds == 2
    first = result.attempts[0].verdict
    assert not first.ok and first.stage == "parse"
    # The revision prompt carries the rejected answer and the reason.
    assert "return (a + b" in model.prompts[1].user
    assert "does not parse" in model.prompts[1].user


async def test_nothing_verified_says_so_and_keeps_best() -> None:
    model = FakeModel(["no idea", BROKEN_ADD, "```python\n" + BUGGY[14:80] + "\n```"])
    result = await fix.fix(request(), model, WorkspaceVerifier(ActionsConfig(), None), 2)
    assert not result.verified and result.text is None
    assert result.rounds == 2
    assert "no verified edit after 2 round(s)" in result.message
    assert result.best_unverified is not None and "(a + b" in result.best_unverified


CHECK = f"{sys.executable} check.py {{file}}"
CHECK_SCRIPT = """
import sys
text = open(sys.argv[1]).read()
if "a + b" not in text:
    print("test_add FAILED: add(2, 3) != 5")
    sys.exit(1)
print("1 passed in 0.01s")
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(BUGGY)
    (tmp_path / "check.py").write_text(CHECK_SCRIPT)
    return tmp_path


async def test_failing_check_triggers_revision(workspace: Path) -> None:
    config = ActionsConfig(trusted=True, check_commands={"python": CHECK})
    wrong = "```python\ndef add(a, b):\n    return a * b\n```"
    model = FakeModel([wrong, FIXED_ADD])
    verifier = WorkspaceVerifier(config, workspace)
    try:
        result = await fix.fix(request(), model, verifier, 3)
    finally:
        verifier.close()
    assert result.verified and result.rounds == 2
    assert result.attempts[0].verdict.stage == "check"
    assert "test_add FAILED" in model.prompts[1].user
    assert result.attempts[1].verdict.checked == CHECK
    assert verifier.commands_run == 3  # baseline once, then each candidate
    assert (workspace / "calc.py").read_text() == BUGGY  # checks ran on a copy


async def test_untrusted_workspace_never_runs_the_command(workspace: Path) -> None:
    marker = workspace / "ran"
    command = f"{sys.executable} -c \"open('{marker}', 'w').write('x')\""
    config = ActionsConfig(trusted=False, check_commands={"python": command})
    verifier = WorkspaceVerifier(config, workspace)
    result = await fix.fix(request(), FakeModel([FIXED_ADD]), verifier, 2)
    verifier.close()
    assert result.verified and result.attempts[0].verdict.stage == "parse"
    assert verifier.commands_run == 0
    assert not marker.exists()


async def test_check_timeout_is_a_rejection(workspace: Path) -> None:
    command = f'{sys.executable} -c "import time; time.sleep(30)"'
    config = ActionsConfig(trusted=True, check_commands={"python": command}, check_timeout_s=0.5)
    verifier = WorkspaceVerifier(config, workspace)
    try:
        verdict = await verifier.verify("python", "calc.py", BUGGY, BUGGY.replace("a - b", "a + b"))
    finally:
        verifier.close()
    assert not verdict.ok and "timed out" in verdict.message


def test_compare_against_baseline() -> None:
    base = CheckRun(1, "/tmp/w/a.py:1: E1 bad\n/tmp/w/a.py:9: E2 worse\nFound 2 in 0.3s")
    fewer = CheckRun(1, "/tmp/x/a.py:9: E2 worse\nFound 1 in 0.1s")
    assert not compare("c", base, CheckRun(1, base.output), "/tmp/w").ok
    assert compare("c", CheckRun(0, ""), CheckRun(0, ""), "/tmp/w").ok
    assert not compare("c", CheckRun(0, ""), CheckRun(1, "boom"), "/tmp/w").ok
    new = compare("c", base, CheckRun(1, "/tmp/w/a.py:3: E3 new"), "/tmp/w")
    assert not new.ok and "new problems" in new.message
    assert compare("c", base, CheckRun(1, fewer.output.replace("/tmp/x", "/tmp/w")), "/tmp/w").ok
    # The same problem on a line that moved is not new.
    moved = CheckRun(1, "/tmp/w/a.py:12: E2 worse\nFound 1 in 0.2s")
    assert compare("c", base, moved, "/tmp/w").ok


async def test_docstring_takes_only_the_docstring() -> None:
    answer = (
        '```python\ndef area(r):\n    """Area of a circle of radius r."""\n    return 3 * r\n```'
    )
    result = await fix.fix(
        request(fix.DOCSTRING, line=9, diagnostics=()),
        FakeModel([answer]),
        WorkspaceVerifier(ActionsConfig(), None),
        1,
    )
    assert result.text is not None
    assert fix.line_edits(BUGGY, result.text) == [
        fix.LineEdit(9, 9, '    """Area of a circle of radius r."""\n')
    ]


def test_line_edits_apply_back() -> None:
    new = BUGGY.replace("a - b", "a + b").replace("    pass\n", "    return math.pi * r * r\n")
    edits = fix.line_edits(BUGGY, new)
    assert [(e.start, e.end) for e in edits] == [(5, 6), (9, 10)]
    lines = BUGGY.splitlines(keepends=True)
    for e in reversed(edits):
        lines[e.start : e.end] = [e.text]
    assert "".join(lines) == new


def test_router_prefers_remote_when_configured() -> None:
    settings = Settings()
    router = fix.EditRouter(settings=lambda: settings, local=lambda: None)
    assert router.choice(fix.FIX) == "local"
    assert router.describe(fix.FIX) == "local: gemma3-270m"
    remote, problems = load_settings(
        {
            "remote": {"baseUrl": "http://127.0.0.1:9/v1", "model": "qwen"},
            "actions": {"backend": {"docstring": "local"}},
        }
    )
    assert not problems
    settings = remote
    assert router.describe(fix.FIX) == "remote: qwen"
    assert router.choice(fix.DOCSTRING) == "local"


def test_actions_settings_validate() -> None:
    _, problems = load_settings({"actions": {"backend": {"fix": "cloud"}}})
    assert problems and "actions.backend.fix" in problems[0]
    settings, problems = load_settings(
        {"actions": {"checkCommands": {"python": "ruff check {file}"}, "rounds": 4}}
    )
    assert not problems
    assert settings.actions.check_commands == {"python": "ruff check {file}"}
    assert settings.actions.rounds == 4 and not settings.actions.trusted
