"""Token healing on a model server: what is backed off, the grammar that spells it again, and
the answer the engine gets back (the backed-off text taken off, the log-probabilities kept)."""

from __future__ import annotations

import math

import pytest

from pairline.engine.backends.server_healing import (
    MAX_BACKOFF_CHARS,
    backed_off,
    grammar,
    strip_healed,
)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("    return sel", " sel"),  # the space joins the word, as tokenizers join it
        ("    sel", "sel"),  # after indentation: the word alone
        ("x = foo.ba", "ba"),
        ("print(", "("),
        ("items[0].", "."),
        ("    return ", ""),  # after whitespace the cursor is between tokens already
        ("", ""),
        ("x = " + "a" * (MAX_BACKOFF_CHARS + 1), ""),  # too long to spell again
        ("x = " + "a" * MAX_BACKOFF_CHARS, " " + "a" * MAX_BACKOFF_CHARS),
        ("é", "é"),  # not a word character of ours: one character
    ],
)
def test_backed_off(prompt: str, expected: str) -> None:
    assert backed_off(prompt) == expected


def test_grammar_quotes_the_backed_off_text() -> None:
    assert grammar(" sel") == 'root ::= " sel" .*'
    assert grammar('"') == 'root ::= "\\"" .*'
    assert grammar("\\") == 'root ::= "\\\\" .*'


def test_strip_healed_keeps_the_tokens_that_reach_past_it() -> None:
    # " self" spells the backed-off " sel" and one more character; ".x" is new.
    text, logprobs, ends = strip_healed(" sel", " self.x", (-0.5, -0.2), (5, 7)) or ("?", (), ())
    assert (text, logprobs, ends) == ("f.x", (-0.5, -0.2), (1, 3))
    # A token that ends exactly at the backed-off text is dropped with it.
    assert strip_healed(" sel", " sel(", (-0.1, -0.3), (4, 5)) == ("(", (-0.3,), (1,))


def test_strip_healed_rejects_an_answer_that_ignored_the_grammar() -> None:
    assert strip_healed(" sel", " other", (), ()) is None
    assert strip_healed(" sel", " se", (), ()) == ("", (), ())  # cut short inside it


def test_the_token_past_the_backed_off_text_is_scored_among_those_that_spell_it() -> None:
    # " self" (log-prob -1.2) beat " sel" and " selected" among the tokens spelling " sel";
    # " (" does not spell it and leaves the sum. Tokens after it keep their own value.
    alternatives = (
        ((" self", -1.2), (" (", -0.5), (" sel", -2.0), (" selected", -3.0)),
        ((".", -0.1),),
    )
    out = strip_healed(" sel", " self.", (-1.2, -0.1), (5, 6), alternatives)
    assert out is not None
    text, logprobs, ends = out
    expected = -1.2 - math.log(math.exp(-1.2) + math.exp(-2.0) + math.exp(-3.0))
    assert text == "f." and ends == (1, 2)
    assert logprobs[0] == pytest.approx(expected) and logprobs[1] == -0.1
    # Without alternatives (a server that lists none) the value stays as given.
    assert strip_healed(" sel", " self.", (-1.2, -0.1), (5, 6)) == ("f.", (-1.2, -0.1), (1, 2))
