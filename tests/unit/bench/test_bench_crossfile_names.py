"""Scoring of bench crossfile --names: identifier match and the made-up name rate."""

from __future__ import annotations

from pairline.bench.quality.crossfile_task import Task
from pairline.bench.quality.names import (
    ARMS,
    arm_settings,
    at_member,
    first_member,
    identifier_match,
    made_up,
    summary,
)
from pairline.engine.core.config import Settings


def test_the_first_member_after_a_dot() -> None:
    assert first_member("x = ctx.obj.get(1)") == "obj"
    assert first_member("return value") is None
    assert first_member("f(1.5)") is None  # a number is no receiver


def test_identifier_match_compares_first_members() -> None:
    assert identifier_match("ctx.obj.x", "return ctx.obj") is True
    assert identifier_match("ctx.options", "return ctx.obj") is False
    assert identifier_match("", "return ctx.obj") is False
    assert identifier_match("ctx.obj", "return 1") is None


def test_made_up_needs_a_resolved_receiver() -> None:
    members = {"ctx": frozenset({"obj"})}
    assert made_up("ctx.options", "    ", members)
    assert not made_up("ctx.obj", "    ", members)
    assert not made_up("other.options", "    ", members)
    assert not made_up("", "    ", members)


def test_the_rate_is_over_shown_suggestions() -> None:
    row = {"exact_match": False, "edit_similarity": 0.0, "seconds": 0.1}
    rows = [
        {**row, "text": "ctx.options", "identifier_match": False, "made_up": True},
        {**row, "text": "ctx.obj", "identifier_match": True, "made_up": False},
        {**row, "text": "", "identifier_match": None, "made_up": False},
    ]
    result = summary(rows)
    assert result["shown"] == 2 and result["made_up"] == 1 and result["made_up_rate"] == 0.5
    assert result["identifier_match"] == 0.5 and result["identifier_tasks"] == 2


def test_arms_flip_the_three_settings() -> None:
    settings = arm_settings(Settings(), "no_context_guide_check")
    assert not settings.context.enable
    assert settings.completion.guide_names and settings.completion.check_names
    assert arm_settings(Settings(), "context").context.enable
    assert not Settings().context.enable  # the base settings are left alone
    guide_only = arm_settings(Settings(), "no_context_guide")
    assert guide_only.completion.guide_names and not guide_only.completion.check_names
    seen = arm_settings(Settings(), "no_context_guide_seen").completion
    assert seen.guide_names and seen.prefer_seen_names and not seen.check_names
    assert len(ARMS) == 9


def test_at_member_types_the_statement_up_to_its_first_dot() -> None:
    text = "def f(ctx):\n    \n    return 1\n"
    task = Task("m.py", 1, 4, "value = ctx.obj.get(1)", text, "")
    moved = at_member(task)
    assert moved is not None
    assert moved.typed == "value = ctx." and moved.target == "obj.get(1)"
    assert moved.column == 4 + len("value = ctx.")
    assert moved.text.split("\n")[1] == "    value = ctx."
    assert moved.text.split("\n")[2] == "    return 1"
    assert identifier_match(moved.typed + "obj", moved.typed + moved.target) is True
    assert identifier_match(moved.typed + "options", moved.typed + moved.target) is False
    assert at_member(Task("m.py", 1, 4, "return 1", text, "")) is None
