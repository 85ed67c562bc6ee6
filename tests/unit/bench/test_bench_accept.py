"""The accept bench's parts without a model: the person's choices, arms, traces, tallies."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pairline.bench.typist import accept
from pairline.bench.typist.accept_person import Ask, Tally, accepted_part, type_trace
from pairline.bench.typist.accept_sources import Trace, pick_traces, prepare_workspaces
from pairline.engine.completion.postprocess import CursorContext, finish
from pairline.engine.core.config import Settings
from pairline.engine.core.types import Mode
from pairline.lsp.loading import local_model_wanted


def test_tab_takes_a_suggestion_that_is_exactly_what_comes_next() -> None:
    assert accepted_part("foo(bar)", "foo(bar) + 1") == ("foo(bar)", 1, True)


def test_words_are_taken_as_far_as_they_match() -> None:
    # "foo", "(" and " bar" match; "baz" does not: three presses of accept-next-word.
    assert accepted_part("foo( bar.baz)", "foo( bar.qux)") == ("foo( bar.", 4, False)
    assert accepted_part("value = 1", "values = 2") == ("", 0, False)  # not a whole word
    assert accepted_part("value = 1", "value = 2") == ("value =", 2, False)
    assert accepted_part("", "anything") == ("", 0, False)


class OracleAsker:
    """Answers at once with the next `words` characters the person will type."""

    def __init__(self, target: str, size: int) -> None:
        self.target = target
        self.size = size
        self.start = 0
        self.typed: list[str] = []

    async def open(self, trace: Trace, uri: str) -> None:
        self.start = trace.text.split("\n")[trace.line].__len__()
        self.doc = trace.text

    def change(self, text: str, offset: int, insert: str) -> None:
        self.typed.append(insert)

    def ask(self, text: str, offset: int) -> Ask:
        done = len("".join(self.typed))
        now = time.perf_counter()
        return Ask(sent_at=now, answered_at=now, text=self.target[done : done + self.size])

    def cancel(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _trace(target: str) -> Trace:
    text = "def f():\n    \n    return 1\n"
    return Trace("base", "f.py", "python", text, 1, 4, target, tuple(0.001 for _ in target))


def test_typing_with_an_oracle_adds_up() -> None:
    target = "x = compute(a, b)\n    y = x + 1"
    trace = _trace(target)
    tally = Tally()
    asker = OracleAsker(target, 5)
    asyncio.run(type_trace(asker, trace, "file:///f.py", tally, debounce=0.0))
    assert "".join(asker.typed) == target
    assert tally.chars_typed + tally.chars_accepted == len(target) == tally.target_chars
    assert tally.full == len(tally.shown_latency_s) > 0 and tally.partial == 0
    assert tally.typed_keys == 1  # the first key; every later step is one Tab
    figures = accept.summary(tally)
    assert figures["keystrokes"] == tally.typed_keys + tally.accept_keys
    assert figures["accepted_share"] == 1.0


def test_enter_takes_the_indentation_with_it() -> None:
    target = "a = 1\n        b = 2"
    tally = Tally()
    asker = OracleAsker(target, 0)  # never suggests anything
    asyncio.run(type_trace(asker, _trace(target), "file:///f.py", tally, debounce=0.0))
    assert "\n        " in asker.typed
    assert tally.typed_keys == len(target) - 8 and tally.chars_typed == len(target)
    assert tally.shown_latency_s == [] and tally.chars_accepted == 0


def test_levers_are_read_from_the_settings_and_flipped() -> None:
    arms, missing = accept.lever_arms(Settings())
    names = {arm.name: arm.overrides for arm in arms}
    assert names["+context.enable"] == {"context.enable": True}
    assert names["+completion.rerank"] == {"completion.rerank": "always"}
    assert names["-completion.postprocess"] == {"completion.postprocess": False}
    # A lever this build lacks is reported, not turned into an arm.
    for key in missing:
        assert key in accept.LEVERS and not any(key in arm.overrides for arm in arms)


def test_naive_turns_the_quality_levers_off_and_keeps_latency_ones() -> None:
    naive = accept.naive_arm(Settings()).overrides
    assert naive["context.enable"] is False and naive["completion.postprocess"] is False
    assert naive["completion.rerank"] == "off"
    assert "completion.cache" not in naive and "completion.speculative" not in naive
    settings = accept.arm_settings(Settings(), accept.naive_arm(Settings()))
    assert settings.context.enable is False and settings.completion.postprocess is False
    assert settings.completion.record_stats is False


def test_an_arm_on_a_setting_the_build_lacks_is_an_error() -> None:
    arm = accept.parse_arm("x=context.no_such_lever=true,completion.max_tokens=8")
    assert arm.overrides == {"context.no_such_lever": True, "completion.max_tokens": 8}
    with pytest.raises(SystemExit, match=r"no setting 'context\.no_such_lever'"):
        accept.arm_settings(Settings(), arm)
    with pytest.raises(SystemExit, match=r"NAME=section\.key=value"):
        accept.parse_arm("nothing")
    with pytest.raises(SystemExit, match="unknown arm"):
        accept.choose_arms("all,-nope", [], Settings())
    good = accept.parse_arm("short=completion.prompt_tokens=256")
    assert accept.arm_settings(Settings(), good).completion.prompt_tokens == 256


def test_choose_arms_expands_levers_in_order() -> None:
    arms, _ = accept.choose_arms("all,naive,levers,peer", ["p=completion.max_tokens=8"], Settings())
    names = [arm.name for arm in arms]
    assert names[:2] == ["all", "naive"] and names[-2:] == ["peer", "p"]
    assert arms[-2].peer and len(names) == len(set(names))


def test_a_lever_named_without_its_sign_is_flipped_from_its_default() -> None:
    arms, _ = accept.choose_arms("context.enable,completion.rerank", [], Settings())
    assert [arm.name for arm in arms] == ["+context.enable", "+completion.rerank"]


def test_compare_checks_the_targets() -> None:
    def arm(saved: float, share: float, p50: float, p95: float) -> dict[str, object]:
        return {
            "chars_saved_per_100_keystrokes": saved,
            "accepted_share": share,
            "latency_shown": {"p50_ms": p50, "p95_ms": p95},
        }

    out = accept.compare({"all": arm(30, 0.6, 10, 100), "peer": arm(10, 0.5, 100, 150)})
    assert out["all_over_peer.chars_saved_per_100_keystrokes"]["met"] is True
    assert out["all_over_peer.accepted_share"]["met"] is False
    assert out["all_over_peer.latency_shown_p50"]["ratio"] == 0.1
    assert out["all_over_peer.latency_shown_p95"]["met"] is False
    assert out["peer_minus_all"]["chars_saved_per_100_keystrokes"] == -20


GO = """package demo

func Sum(values []int) int {
\ttotal := 0
\tfor _, v := range values {
\t\ttotal += v
\t}
\treturn total + offsetOf(values)
}
"""
RUST = """pub fn sum(values: &[i32]) -> i32 {
    let mut total = 0;
    let offset = offset_of(values);
    total + values.iter().sum::<i32>() + offset
}
"""


def test_traces_cover_go_and_rust_and_leave_the_lines_off_disk(tmp_path: Path) -> None:
    base = tmp_path / "demo"
    base.mkdir()
    padding = "\n// padding\n" * 40  # files under 400 bytes are not drawn
    (base / "sum.go").write_text(GO + padding)
    (base / "sum.rs").write_text(RUST + padding)
    traces = pick_traces({"demo": base}, 2, seed=3, lines=2)
    assert {t.language for t in traces} == {"go", "rust"}
    assert traces == pick_traces({"demo": base}, 2, seed=3, lines=2)
    for trace in traces:
        original = (base / trace.path).read_text()
        assert trace.target.split("\n")[0] in original
        assert trace.target.split("\n")[0] not in trace.text
        assert len(trace.intervals) == len(trace.target)
    workspaces = prepare_workspaces({"demo": base}, traces, tmp_path / "ws")
    for trace in traces:
        assert (workspaces["demo"] / trace.path).read_text() == trace.text
    assert (base / traces[0].path).read_text() != traces[0].text  # the source is untouched


def test_without_postprocessing_only_the_line_cut_remains() -> None:
    polished = CursorContext.at("x = foo(", ")", Mode.LINE, "python")
    raw = CursorContext(
        polished.mode, "python", polished.line_before, polished.line_after, 0, polish=False
    )
    assert finish("a, b)\nmore", polished) == "a, b"
    assert finish("a, b)\nmore", raw) == "a, b)"
    assert finish("   \nmore", raw) is None


def test_remote_arms_take_suggestions_from_the_server_and_load_no_model() -> None:
    config = accept.with_remote(Settings(), "http://127.0.0.1:8012")
    assert config.completion.backend == "remote"
    assert config.completion_remote.base_url == "http://127.0.0.1:8012"
    assert config.completion_remote.api == "llama-server"
    assert not local_model_wanted(config)


def _tally(latencies: list[float], accepted: int = 0) -> Tally:
    tally = Tally(target_chars=10, typed_keys=10, chars_typed=10, chars_accepted=accepted)
    tally.shown_latency_s = latencies
    return tally


def test_typists_report_each_person_and_find_the_starved() -> None:
    alone = [_tally([0.1, 0.1, 0.2]), _tally([0.1, 0.1, 0.1])]
    together = [_tally([0.1, 0.2, 0.3]), _tally([])]  # the second person saw nothing
    figures = accept.typists_figures(alone, together)
    first, second = figures["people"]
    assert first["alone"]["p95_ms"] == 200.0 and first["together"]["p95_ms"] == 300.0
    assert first["p95_ratio"] == 1.5 and second["p95_ratio"] is None
    assert figures["starved"] == [1] and figures["worst_p95_ratio"] == 1.5
    slow = accept.typists_figures([_tally([0.1])], [_tally([0.3])])
    assert slow["starved"] == [0]  # three times slower with the others typing


def test_merged_tally_adds_people_up() -> None:
    crowd = accept.merged([_tally([0.1], accepted=2), _tally([0.2, 0.3], accepted=3)])
    assert crowd.chars_accepted == 5 and crowd.shown_latency_s == [0.1, 0.2, 0.3]
