"""The post-check of member names: a suggestion is cut before the first member access that names
a member its receiver does not have.

`members` maps a receiver as written ("helpers", "self", "self.items") to the names it really
has (the name monitor, context/receivers.py); receivers missing there are never judged. The
check reads the suggestion in its line (what precedes the cursor and follows the suggestion),
skips strings and comments, and judges only names the suggestion writes: a name the user typed
is theirs, and a name assigned to (`self.count = 0`) is being created. Comments and strings are
told apart per language (`#` in Python, `//` and `/* */` elsewhere; Rust's `'` starts a
lifetime as often as a character, so it is not a quote there), and Rust's paths are accesses
too (`Version::parse`). It needs no model, so it works for any backend.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pairline.engine.core import languages

_CHAIN = re.compile(r"(?<![\w.:])[A-Za-z_]\w*(?:[ \t]*(?:\.|::)[ \t]*[A-Za-z_]\w*)+")
_DOTS = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)+")
_PART = re.compile(r"[A-Za-z_]\w*")
# After a chain: it is assigned (`self.x = ...`, `self.x: int = ...`), which creates the member.
_ASSIGNED = re.compile(r"[ \t]*(?:=(?!=)|:(?!=))")


@dataclass(frozen=True)
class _Syntax:
    comment: str  # starts a comment that runs to the end of the line
    quotes: str  # characters that open a string
    block: bool = True  # `/* ... */` comments
    chain: re.Pattern[str] = _DOTS  # a receiver and its members


_PYTHON = _Syntax("#", "\"'", block=False)
_SYNTAX = {  # by language family
    "python": _PYTHON,
    "js": _Syntax("//", "\"'`"),
    "go": _Syntax("//", "\"'`"),
    "rust": _Syntax("//", '"', chain=_CHAIN),
}


def _code_mask(text: str, syntax: _Syntax) -> list[bool]:
    """For each character of `text`, whether it is code (not inside a string or a comment)."""
    mask = [True] * len(text)
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote == "*/":
            end = text.find("*/", i)
            end = len(text) if end < 0 else end + 2
            mask[i:end] = [False] * (end - i)
            i, quote = end, ""
            continue
        if quote:
            mask[i] = False
            if ch == "\\":
                if i + 1 < len(text):
                    mask[i + 1] = False
                i += 2
                continue
            if text.startswith(quote, i):
                for j in range(i, i + len(quote)):
                    mask[j] = False
                i += len(quote)
                quote = ""
                continue
            if ch == "\n" and len(quote) == 1:
                quote = ""  # an unclosed one-line string ends with its line
        elif syntax.block and text.startswith("/*", i):
            quote = "*/"
            mask[i : i + 2] = [False, False]
            i += 2
            continue
        elif ch in syntax.quotes:
            quote = ch * 3 if syntax is _PYTHON and text.startswith(ch * 3, i) else ch
            for j in range(i, min(i + len(quote), len(text))):
                mask[j] = False
            i += len(quote)
            continue
        elif text.startswith(syntax.comment, i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            for j in range(i, end):
                mask[j] = False
            i = end
            continue
        i += 1
    return mask


def accesses(chain: str) -> Iterator[tuple[str, re.Match[str]]]:
    """The member accesses of one chain as written (`self.items.append`): each receiver as the
    monitor keys it (as written, spaces left out) with the match of its member in `chain`."""
    for before, name in itertools.pairwise(_PART.finditer(chain)):
        yield chain[: before.end()].replace(" ", "").replace("\t", ""), name


def first_made_up(
    text: str,
    before: str,
    after: str,
    members: Mapping[str, frozenset[str]],
    language: str = "python",
) -> int | None:
    """Where in `text` the first access to a member that does not exist starts (its receiver's
    first character), or None. `before`/`after`: the line around the suggestion."""
    if not members:
        return None
    syntax = _SYNTAX.get(languages.family(language), _PYTHON)
    full = before + text + after
    mask = _code_mask(full, syntax)
    start, end = len(before), len(before) + len(text)
    for chain in syntax.chain.finditer(full):
        if chain.start() >= end or not mask[chain.start()]:
            continue
        for receiver, name in accesses(chain.group()):
            known = members.get(receiver)
            if known is None:
                continue
            name_end = chain.start() + name.end()
            if name_end <= start or name.group() in known:
                continue  # the user's own text, or a real member
            if name_end >= len(full) and any(m.startswith(name.group()) for m in known):
                continue  # a name still being written
            if name.end() == len(chain.group()) and _ASSIGNED.match(full, chain.end()):
                continue  # an assignment creates the member
            return chain.start() - start
    return None


def check(
    text: str,
    before: str,
    after: str,
    members: Mapping[str, frozenset[str]],
    language: str = "python",
) -> str | None:
    """`text` cut before its first made-up member access; None when nothing useful is left."""
    cut = first_made_up(text, before, after, members, language)
    if cut is None:
        return text
    kept = text[: max(cut, 0)]
    if "\n" in kept:
        kept = kept[: kept.rfind("\n")]  # in a block, the lines before the one that errs
    kept = kept.rstrip()
    return kept if re.search(r"\w", kept) else None
