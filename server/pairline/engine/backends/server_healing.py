"""Token healing on a model server: back off the typed word, and make the answer spell it again.

A prompt cut at the cursor often ends inside a token (`return sel`): the tokenizer splits the
word where no training text did, and the model, seeing an odd last token, continues it badly.
In process the decoder backs off the last token and constrains the first ones it generates
(`llama_decoder`). A server's tokens are not at hand without a round trip, so here the back-off
is by characters: the word being typed (with the one space before it, which tokenizers join to
the word), or a last punctuation character. The prompt goes without it, and a grammar (GBNF,
which llama-server takes as `grammar`) requires the answer to begin with it; the backed-off
text is then taken off the answer, so the engine sees text after the cursor as before.
"""

from __future__ import annotations

import math
import re

from pairline.engine.backends.decoding import agrees

# Tokens the server lists per step while healing, so that the backed-off text's tokens are
# scored among those that spell it (`n_probs`).
HEAL_ALTERNATIVES = 10
# A word longer than this is left as typed: spelling it again costs more tokens than healing
# its end can win.
MAX_BACKOFF_CHARS = 24
_WORD = re.compile(rf"(?:(?<=\S) )?[A-Za-z0-9_]{{1,{MAX_BACKOFF_CHARS}}}\Z")
_PUNCTUATION = re.compile(r"[^\sA-Za-z0-9_]\Z")


def backed_off(prompt: str) -> str:
    """The end of `prompt` to take off and have the model spell again ("" for none).

    Nothing after whitespace (the cursor sits between tokens already) or inside a word longer
    than `MAX_BACKOFF_CHARS`; the whole word otherwise, with its one leading space when a word
    comes before it; else a last punctuation character.
    """
    if not prompt or prompt[-1].isspace():
        return ""
    word = _WORD.search(prompt)
    if word is not None:
        start = word.start()
        before = prompt[start - 1] if start > 0 and word.group()[0] != " " else ""
        if before.isalnum() or before == "_":
            return ""  # the word is longer than the limit: its start is not here
        return word.group()
    punctuation = _PUNCTUATION.search(prompt)
    return punctuation.group() if punctuation is not None else ""


def grammar(healed: str) -> str:
    """A GBNF grammar for answers that begin with `healed` and go on freely."""
    return f"root ::= {_literal(healed)} .*"


def _literal(text: str) -> str:
    escaped = "".join(
        "\\" + char if char in '"\\' else f"\\x{ord(char):02x}" if ord(char) < 0x20 else char
        for char in text
    )
    return f'"{escaped}"'


def strip_healed(
    healed: str,
    text: str,
    logprobs: tuple[float, ...],
    token_ends: tuple[int, ...],
    alternatives: tuple[tuple[tuple[str, float], ...], ...] = (),
) -> tuple[str, tuple[float, ...], tuple[int, ...]] | None:
    """The answer after the backed-off text, with the log-probabilities of the tokens that
    reach past it; None when the answer does not begin with `healed` (a server that ignored
    the grammar).

    A token that spells the end of `healed` and more keeps its log-probability, renormalised
    as in process: the typed characters are given, so it counts among the `alternatives` at
    its step that spell them too (the server's log-probabilities ignore the grammar)."""
    if not text.startswith(healed):
        return None if not healed.startswith(text) else ("", (), ())
    cut = len(healed)
    kept: list[tuple[float, int]] = []
    start = 0
    for index, (value, end) in enumerate(zip(logprobs, token_ends, strict=True)):
        if end > cut:
            if start < cut and index < len(alternatives):
                value = _among_agreeing(value, text[start:end], healed[start:], alternatives[index])
            kept.append((value, end - cut))
        start = end
    return text[cut:], tuple(v for v, _ in kept), tuple(e for _, e in kept)


def _among_agreeing(
    value: float, chosen: str, need: str, alternatives: tuple[tuple[str, float], ...]
) -> float:
    """`value` (the chosen token's log-probability) among the tokens that agree with `need`."""
    agreeing = {piece: logprob for piece, logprob in alternatives if agrees(piece, need)}
    agreeing[chosen] = value
    peak = max(agreeing.values())
    return value - (peak + math.log(sum(math.exp(v - peak) for v in agreeing.values())))
