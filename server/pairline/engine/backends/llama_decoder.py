"""Prefill, decoding and scoring on a loaded llama.cpp model, run on its worker thread alone.

`LlamaDecoder` holds the `Llama` object `LocalLlamaBackend` loaded and does the model work:
evaluating a prompt in small batches that reuse the KV cache, greedy or sampled decoding with
token healing, guided member names (name_guide.py) and FIM stop markers, first-token branching
for candidates, and scoring a continuation's log-probability. Every method checks the cancel
flag between batches or tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pairline.engine.backends import decoding
from pairline.engine.backends.base import Generation, GenerationParams
from pairline.engine.backends.name_guide import NameGuide, Texts, Vocabulary, code_before
from pairline.engine.models.manifest import FimTemplate

# Prompt tokens evaluated between two looks at the cancel flag.
_PREFILL_CHUNK = 64
# Tokens scored per batch. llama.cpp keeps an output buffer of one vocabulary-sized row per
# token that asks for logits, sized by the largest batch seen, for good: with Gemma's 262k
# vocabulary 8 rows are 8 MB (and as much again in the compute buffer), a whole prompt's
# worth would be hundreds. 8 gave the same scores as 16 here (4 did not: other kernels).
_SCORE_CHUNK = 8
# Token texts remembered for token healing (a few thousand distinct ones cover typing).
_PIECES_KEPT = 16384


def _anything(_token: int) -> bool:
    return True


class LlamaDecoder:
    """Model work on one loaded `Llama` (not thread-safe: one thread calls it)."""

    def __init__(self, llm: Any, fim: FimTemplate | None) -> None:
        self._llm = llm
        self._fim = fim
        self._pieces: dict[int, str] = {}
        self._vocabulary: Vocabulary | None = None  # for guided names, built when first needed

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text`."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def tokenize_special(self, text: str) -> list[int]:
        """Token ids of `text` with control tokens (FIM markers) parsed as such."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _prefill(self, tokens: Sequence[int], cancel: threading.Event) -> int:
        """Evaluate all but the last prompt token, reusing the KV cache; returns tokens reused."""
        llm = self._llm
        cached = llm.input_ids[: llm.n_tokens]
        reused = 0
        for a, b in zip(cached, tokens[:-1], strict=False):
            if a != b:
                break
            reused += 1
        if reused < llm.n_tokens:
            if not self._window_kept(reused) or not llm._ctx.kv_cache_seq_rm(-1, reused, -1):
                reused = 0
                llm.reset()
            llm.n_tokens = reused
        for start in range(reused, len(tokens) - 1, _PREFILL_CHUNK):
            if cancel.is_set():
                return reused
            llm.eval(tokens[start : min(start + _PREFILL_CHUNK, len(tokens) - 1)])
        return reused

    def _window_kept(self, reused: int) -> bool:
        """Whether the cache still holds what the token after `reused` tokens attends to.

        A sliding-window cache smaller than the context overwrites positions that left the
        window; llama.cpp removes a range without saying that the rest no longer suffices.
        """
        import llama_cpp

        n_swa = int(llama_cpp.llama_model_n_swa(self._llm._model.model))
        if n_swa <= 0 or reused == 0:
            return True
        oldest = int(llama_cpp.llama_memory_seq_pos_min(self._llm._ctx.memory, 0))
        return oldest <= max(0, reused - n_swa)

    def _prompt_tokens(self, prompt: str, room: int) -> list[int]:
        """The prompt's tokens, cut from the front (BOS kept) to leave `room` in the window."""
        llm = self._llm
        tokens = list(
            llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=self._fim is not None)
        )
        limit = llm.n_ctx() - room - 1
        if len(tokens) > limit:
            # Keep the BOS token and the text nearest the cursor.
            tokens = tokens[:1] + tokens[len(tokens) - limit + 1 :]
        return tokens

    def generate(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Generation:
        started = time.perf_counter()
        if cancel.is_set():
            return Generation("", "cancelled")
        tokens = self._prompt_tokens(prompt, params.max_tokens)
        healed = ""
        if params.heal and len(tokens) > 2:
            # Back off the last token; the output must spell it again, or a longer token.
            last = self._piece(tokens[-1])
            if last and prompt.endswith(last):
                healed, tokens = last, tokens[:-1]
        reused = self._prefill(tokens, cancel)
        guide = self._guide(prompt[: len(prompt) - len(healed)], params)
        out, reason = self._greedy(tokens, [], params, cancel, healed, guide)
        return decoding.generation(out, reason, len(tokens), reused, started)

    def _guide(self, prompt: str, params: GenerationParams) -> NameGuide | None:
        """The request's guided names, when it names receivers (the vocabulary's index is
        built at the first such request: about a second, once per model)."""
        if not params.members:
            return None
        if self._vocabulary is None:
            self._vocabulary = self._index_vocabulary()
        before = code_before(prompt, self._fim)
        return NameGuide(self._vocabulary, params.members, before, params.seen)

    def _index_vocabulary(self) -> Vocabulary:
        import ctypes

        import llama_cpp

        vocab = self._llm._model.vocab
        buffer = ctypes.create_string_buffer(256)
        ends: list[int] = []
        to_piece, is_eog = llama_cpp.llama_token_to_piece, llama_cpp.llama_vocab_is_eog

        def pieces() -> Iterator[str]:
            for token in range(self._llm.n_vocab()):
                size = to_piece(vocab, token, buffer, 256, 0, False)
                piece = buffer.raw[:size].decode("utf-8", errors="ignore") if size > 0 else ""
                if not piece and is_eog(vocab, token):  # end-of-generation tokens spell nothing
                    ends.append(token)
                yield piece

        texts = Texts.of(pieces())  # one string, not a quarter of a million
        return Vocabulary(texts, ends)

    def _piece(self, token: int) -> str:
        """The text of one token."""
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._llm.detokenize([token]).decode("utf-8", errors="ignore")
            if len(self._pieces) >= _PIECES_KEPT:
                self._pieces.clear()
            self._pieces[token] = piece
        return piece

    def _logits(self) -> Any:
        import numpy as np

        llm = self._llm
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))

    def _greedy(
        self,
        tokens: list[int],
        forced: list[tuple[int, float]],
        params: GenerationParams,
        cancel: threading.Event,
        healed: str = "",
        guide: NameGuide | None = None,
    ) -> tuple[decoding.Decoded, str]:
        """Decoding after `tokens` (prefilled but for the last) and `forced` tokens (with their
        log-probabilities), greedy unless `params` asks for sampling; the output starts with
        `healed`, which is not shown, and names after known receivers follow `guide`.
        """
        import llama_cpp
        import numpy as np

        llm = self._llm
        out = decoding.Decoded(healed)
        if cancel.is_set():
            return out, "cancelled"
        vocab = llm._model.vocab
        stops = self._fim.stop if self._fim else ()
        for token, logprob in forced:
            out.add(token, self._detokenize([*out.tokens, token]), logprob)
        if forced and params.is_complete(out.text):
            return out, "complete"
        sequence = tokens + [token for token, _ in forced]
        self._prefill(sequence, cancel)
        pending = sequence[-1:]
        rng = np.random.default_rng(params.seed) if params.temperature > 0 else None
        while True:
            if cancel.is_set():
                return out, "cancelled"
            llm.eval(pending)
            choice = self._choose(self._logits(), out, params, rng, guide)
            if choice is None or llama_cpp.llama_vocab_is_eog(vocab, choice[0]):
                return out, "eos"
            token, logprob = choice
            out.add(token, self._detokenize([*out.tokens, token]), logprob)
            if out.need:
                pending = [token]
                continue
            text = out.text
            if any(stop in text for stop in stops):
                out.full = out.healed + min((text.split(stop)[0] for stop in stops), key=len)
                return out, "eos"
            if params.is_complete(text):
                return out, "complete"
            if len(out.logprobs) >= params.max_tokens:  # the backed-off token is free
                return out, "max_tokens"
            if llm.n_tokens + 1 >= llm.n_ctx():
                return out, "context"
            pending = [token]

    def _choose(
        self,
        row: Any,
        out: decoding.Decoded,
        params: GenerationParams,
        rng: Any,
        guide: NameGuide | None,
    ) -> tuple[int, float] | None:
        """The next token and its log-probability, among those the constraints allow (the
        backed-off text, the guided names); None when no token agrees with the backed-off text.
        """
        allowed = guide.allowed(out.full) if guide is not None else None
        fits = (lambda token: guide.fits(out.full, token)) if guide is not None else None
        preferred = guide.preferred(out.full) if guide is not None and allowed is not None else None
        unbiased = row
        if preferred is not None:
            row = row.copy()
            row[preferred] += decoding.SEEN_BONUS
        need = out.need
        if need:
            fallback = self.tokenize(need)[:1]
            choice = decoding.healing_choice(row, need, self._piece, fallback, allowed, fits)
            if choice is None:
                return None
            token, norm = choice
        elif allowed is not None and rng is None:
            token, norm = decoding.guided_choice(row, allowed, fits or _anything)
        else:
            scores = row if allowed is None else decoding.only(row, allowed)
            pick = self._picker(params, rng)
            token, norm = decoding.fitting_choice(scores, pick, fits or _anything)
        if preferred is not None:  # the gate sees the model's own log-probability
            scores = unbiased if allowed is None else unbiased[allowed]
            return token, float(unbiased[token]) - decoding.log_normalizer(scores)
        return token, float(row[token]) - norm

    @staticmethod
    def _picker(params: GenerationParams, rng: Any) -> Callable[[Any], int]:
        """How a token is taken from a logits row: the likeliest, or drawn when sampling."""
        if rng is None:
            return lambda row: int(row.argmax())
        return lambda row: decoding.sample(row, params.temperature, params.top_p, rng)

    def _detokenize(self, tokens: list[int]) -> str:
        return str(self._llm.detokenize(tokens).decode("utf-8", errors="ignore"))

    def candidates(
        self, prompt: str, params: GenerationParams, count: int, cancel: threading.Event
    ) -> list[Generation]:
        import llama_cpp
        import numpy as np

        started = time.perf_counter()
        llm = self._llm
        tokens = self._prompt_tokens(prompt, params.max_tokens)
        reused = self._prefill(tokens, cancel)
        if cancel.is_set():
            return []
        llm.eval(tokens[-1:])
        logits = self._logits()
        guide = self._guide(prompt, params)
        allowed = guide.allowed("") if guide is not None else None
        if allowed is not None:  # the first tokens branch among the allowed ones alone
            norm = decoding.log_normalizer(logits[allowed])
            logits = decoding.only(logits, allowed)
        else:
            norm = decoding.log_normalizer(logits)
        vocab = llm._model.vocab
        ranked = np.argsort(-logits)[: count + 4]
        firsts = [
            int(t)
            for t in ranked
            if logits[t] > -np.inf
            and not llama_cpp.llama_vocab_is_eog(vocab, int(t))
            and (guide is None or guide.fits("", int(t)))
        ]
        out: list[Generation] = []
        for first in firsts[:count]:
            decoded, reason = self._greedy(
                tokens, [(first, float(logits[first]) - norm)], params, cancel, guide=guide
            )
            if reason == "cancelled":
                return []
            out.append(decoding.generation(decoded, reason, len(tokens), reused, started))
        return out

    def joint_logprobs(
        self, prompt: str, continuations: Sequence[str], cancel: threading.Event
    ) -> list[float]:
        import numpy as np

        llm = self._llm
        n_vocab = llm.n_vocab()
        scored: list[float] = []
        for continuation in continuations:
            after = self.tokenize(continuation)
            tokens = self._prompt_tokens(prompt, len(after) + 1)
            self._prefill(tokens, cancel)
            if cancel.is_set():
                return [float("-inf")] * len(continuations)
            # The last prompt token and the continuation in batches with logits at every
            # position: position i predicts token i + 1.
            sequence = tokens[-1:] + after
            total = 0.0
            llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
            for start in range(0, len(sequence) - 1, _SCORE_CHUNK):
                chunk = sequence[start : start + _SCORE_CHUNK]
                n_past = llm.n_tokens
                llm._batch.set_batch(batch=chunk, n_past=n_past, logits_all=True)
                llm._ctx.decode(llm._batch)
                llm.input_ids[n_past : n_past + len(chunk)] = chunk
                llm.n_tokens += len(chunk)
                for i in range(len(chunk)):
                    if start + i + 1 >= len(sequence):
                        break
                    row = np.ctypeslib.as_array(llm._ctx.get_logits_ith(i), shape=(n_vocab,))
                    peak = float(row.max())
                    norm = peak + float(np.log(np.exp(row - peak).sum()))
                    total += float(row[sequence[start + i + 1]]) - norm
            scored.append(total)
        return scored
