"""Names that exist: which next tokens keep a member name after a resolved receiver real.

While the text ends in `receiver.partial` (or `receiver::partial`) for a receiver whose member
names are known, a token may come next only when the partial name followed by its text is
still a prefix of a member, or completes a member and goes on with a character that cannot be
part of a name (`normalise_path(` as one token); once the partial is a whole member, any token
that starts with such a character ends it. Names split over several tokens work because each
step asks again with the text so far.

`Vocabulary` indexes one model's token texts (built once per model); `NameGuide` holds one
request's receivers and the code before the cursor, and answers per token with the sorted ids
allowed next, or None where nothing is constrained. Pure Python and numpy, no model needed.
"""

from __future__ import annotations

import io
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

from pairline.engine.models.manifest import FimTemplate

# Characters of code before the cursor looked at for a receiver: receivers are short, and a
# fixed tail keeps the per-token check cheap however long the prompt is.
TAIL_CHARS = 256
# Token ids of the allowed sets remembered per model (4 bytes each): typing along one receiver
# asks for the same sets again. A whole name allows every token that ends it (about 150k with
# Gemma's vocabulary), so the bound is on ids, not on sets.
_KEPT_IDS = 2_000_000


def is_name_char(char: str) -> bool:
    """Whether `char` can be part of an identifier (Python, JS/TS, Go, Rust)."""
    return char.isalnum() or char in "_$"


def _name_start(text: str, end: int) -> int:
    """Where the run of name characters that ends at `end` starts."""
    start = end
    while start > 0 and is_name_char(text[start - 1]):
        start -= 1
    return start


def _separator_before(text: str, index: int) -> int:
    """The length of the member separator ("." or "::") that ends at `index`, else 0."""
    if text.endswith("::", 0, index):
        return 2
    return 1 if text.endswith(".", 0, index) else 0


def member_access(text: str) -> tuple[str, str] | None:
    """(receiver, partial name) when `text` ends in a member access, as written.

    The receiver is the whole dotted chain before the last separator (`self.items` in
    `self.items.ap`), and it must start at a word boundary: in `f().items.ap` the chain does
    not start a name, so nothing is named.
    """
    start = _name_start(text, len(text))
    if start < len(text) and text[start].isdigit():
        return None
    sep = _separator_before(text, start)
    if not sep:
        return None
    receiver_end = end = start - sep
    while True:
        begin = _name_start(text, end)
        if begin == end or text[begin].isdigit():
            return None
        sep = _separator_before(text, begin)
        if not sep:
            break
        end = begin - sep
    if begin > 0 and text[begin - 1] in ".:":
        return None  # a member of something that is not a name (a call, an index)
    return text[begin:receiver_end], text[start:]


def code_before(prompt: str, fim: FimTemplate | None) -> str:
    """The end of the code before the cursor in `prompt` (the generated text follows it)."""
    if fim is not None and fim.middle and prompt.endswith(fim.middle):
        prompt = prompt[: -len(fim.middle)]
        if fim.order != "spm" and fim.suffix in prompt:
            prompt = prompt[: prompt.rindex(fim.suffix)]
    return prompt[-TAIL_CHARS:]


class Texts(Sequence[str]):
    """Many short texts held as one string and where each starts, optionally in another order:
    a list of a quarter of a million token texts costs Python about 20 MiB in objects, this a
    few (one string, 4 bytes per offset)."""

    def __init__(self, joined: str, starts: array[int], order: array[int] | None = None) -> None:
        self._joined, self._starts, self._order = joined, starts, order

    @classmethod
    def of(cls, texts: Iterable[str]) -> Texts:
        starts, joined, at = array("i", [0]), io.StringIO(), 0
        for text in texts:
            joined.write(text)
            at += len(text)
            starts.append(at)
        return cls(joined.getvalue(), starts)

    def ordered(self, order: Any) -> Texts:
        """The same texts seen in `order` (a numpy array of indices into these)."""
        seen = array("i")
        seen.frombytes(order.astype(f"=i{seen.itemsize}").tobytes())
        return Texts(self._joined, self._starts, seen)

    def __len__(self) -> int:
        return len(self._order) if self._order is not None else len(self._starts) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        at = self._order[index] if self._order is not None else index
        return self._joined[self._starts[at] : self._starts[at + 1]]


def _sorted_ids(pieces: Sequence[str]) -> Any:
    """The ids of the non-empty pieces in the order of their texts. Sorted as UTF-8 in one
    numpy block (bytewise order is code point order) that goes back to the system when done,
    rather than as a quarter of a million Python strings at once."""
    import numpy as np

    longest = max((len(p.encode("utf-8", "surrogatepass")) for p in pieces), default=1)
    encoded = np.fromiter(
        (p.encode("utf-8", "surrogatepass") for p in pieces),
        dtype=f"S{max(longest, 1)}",
        count=len(pieces),
    )
    order = np.argsort(encoded, kind="stable")
    return order[encoded[order] != b""].astype(np.int32)


class Vocabulary:
    """One model's token texts, indexed to find the tokens that spell a start of a name."""

    def __init__(self, pieces: Sequence[str], ends: Iterable[int] = ()) -> None:
        """`pieces[i]` is token i's text; `ends` are tokens (end of generation, control
        tokens) that may follow a whole name besides those starting with a non-name character.
        """
        import numpy as np

        self.pieces = pieces if isinstance(pieces, Texts) else Texts.of(pieces)
        # Token texts in sorted order with their ids alongside: the tokens spelling a given
        # text, or starting with one, are a run found by bisection (a dict of a quarter of a
        # million entries would double what this holds).
        self._ids: Any = _sorted_ids(self.pieces)
        self._sorted = self.pieces.ordered(self._ids)
        after_name = (t for t, p in enumerate(self.pieces) if p and not is_name_char(p[0]))
        after = np.fromiter(after_name, dtype=np.int32)
        self._after_name: Any = np.unique(np.concatenate([after, np.array(ends, np.int32)]))
        self._cache: OrderedDict[tuple[frozenset[str], str], Any] = OrderedDict()
        self._held = 0  # ids in the cache

    def allowed(self, members: frozenset[str], partial: str) -> Any | None:
        """Sorted ids of the tokens that may follow `partial` for a name in `members`; None
        when `partial` starts no member (the receiver's members are not all known, or the
        user writes a new one) or no token spells a way on: then nothing is constrained."""
        key = (members, partial)
        found = self._cache.get(key)
        if found is None:
            found = self._compute(members, partial)
            if found is None:
                return None
            self._cache[key] = found
            self._held += len(found)
            while self._held > _KEPT_IDS and len(self._cache) > 1:
                self._held -= len(self._cache.popitem(last=False)[1])
        else:
            self._cache.move_to_end(key)
        return found

    def _compute(self, members: frozenset[str], partial: str) -> Any | None:
        import numpy as np

        rests = [m[len(partial) :] for m in members if m.startswith(partial)]
        if not rests:
            return None
        ids: set[int] = set()
        for rest in rests:
            if rest:  # a whole member's way on is the tokens that end a name, added below
                ids.update(self._spelling(rest))
        found = np.array(sorted(ids), dtype=np.int32)
        if "" in rests:  # the partial is a whole member: it may end here
            # Tokens that go on with a name and those that end one are apart: merge in order.
            ends = self._after_name
            found = np.insert(ends, np.searchsorted(ends, found), found)
        return found if len(found) else None  # no token spells the way on: leave it free

    def _spelling(self, rest: str) -> Iterable[int]:
        """Tokens that spell a start of `rest`, or all of it and then a non-name character."""
        ordered, ids = self._sorted, self._ids
        for length in range(1, len(rest) + 1):
            start = index = bisect_left(ordered, rest[:length])
            while index < len(ordered) and ordered[index] == rest[:length]:
                index += 1
            yield from (int(t) for t in ids[start:index])
        index = bisect_left(ordered, rest)
        while index < len(ordered) and ordered[index].startswith(rest):
            piece = ordered[index]
            if len(piece) > len(rest) and not is_name_char(piece[len(rest)]):
                yield int(ids[index])
            index += 1


class NameGuide:
    """One request's constraint: the receivers' members and the code before the cursor."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        members: Mapping[str, frozenset[str]],
        before: str,
        seen: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        """`before` is the code before the generated text (less any backed-off token);
        `seen`: of the members, those the code around the cursor uses already."""
        self._vocabulary = vocabulary
        self._members = members
        self._seen = seen or {}
        self._before = before[-TAIL_CHARS:]

    def allowed(self, generated: str) -> Any | None:
        """Sorted ids of the tokens allowed after `generated`; None: any token may come."""
        return self._spelling(self._members, generated)

    def preferred(self, generated: str) -> Any | None:
        """Sorted ids of the allowed tokens that spell a member already used (`seen`) after
        the receiver being written; None when there are none."""
        return self._spelling(self._seen, generated) if self._seen else None

    def _spelling(self, members: Mapping[str, frozenset[str]], generated: str) -> Any | None:
        text = (self._before + generated)[-TAIL_CHARS:]
        if not text or not (is_name_char(text[-1]) or text[-1] in ".:"):
            return None  # the common case, decided without a scan
        access = member_access(text)
        if access is None:
            return None
        names = members.get(access[0])
        if not names:
            return None
        return self._vocabulary.allowed(frozenset(names), access[1])

    def fits(self, generated: str, token: int) -> bool:
        """Whether `token` after `generated` names only members that exist where its own text
        holds a separator: a token such as `.get` writes the dot and the start of a name at
        once, which `allowed` (asked before the dot is there) never sees."""
        piece = self._vocabulary.pieces[token]
        if "." not in piece and ":" not in piece:
            return True  # the common case
        text = (self._before + generated)[-TAIL_CHARS:] + piece
        for at in range(len(text) - len(piece), len(text)):
            if text[at] not in ".:":
                continue
            end = at + 1
            while end < len(text) and is_name_char(text[end]):
                end += 1
            access = member_access(text[:end])
            names = self._members.get(access[0]) if access is not None else None
            if access is None or not names:
                continue
            if end < len(text):  # the name ends inside the token: a whole member, or made up
                if access[1] not in names:
                    return False
            elif not any(name.startswith(access[1]) for name in names):
                return False
        return True
