"""What the user's earlier edits and the document say about how far the last change spreads.

Propagation's confidence rests on these (measured with `pairline bench nextedit` on the edits
between releases of real packages):

- *repeats*: the earlier edits of the document that already made the same change. A change
  made once is as often a change of that one place as of every place (precision 0.44 where
  shown); made a second time, it is a refactoring under way (0.68), a third time and more,
  all the more (0.85).
- *common*: a change of text that occurs many times in the document (`str`, `t.Any`, `value`)
  made once says little about the other places: most of them stay.
- *own value*: a rename never puts the new name in the value of an assignment to it
  (`value_str = str(value)` binds a new name made from the old one, which stays there).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from pairline.engine.core.languages import Language
from pairline.engine.nextedit.history import Edit
from pairline.engine.nextedit.patterns import Change, NodeChange, is_scope
from pairline.engine.nextedit.trees import Parsed

# Factors on a change's confidence for the earlier edits that made it: none, one, two or more.
# Fitted on 4 of the bench's 8 package pairs, checked on the other 4 (see the README).
REPEATED = (0.75, 1.0, 1.15)
# A change made once, of text that occurs more than this many times in the document.
COMMON = 20
COMMON_ONCE = 0.75
# Word characters of identifiers in the languages served (`$` in JavaScript).
_WORD = r"[\w$]"


@dataclass(frozen=True)
class Weight:
    """What the evidence says about one change."""

    factor: float  # on the confidence of every proposal of the change


@functools.lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    """`text` where it is a whole token: not the middle of a longer name."""
    head = rf"(?<!{_WORD})" if re.match(_WORD, text[:1]) else ""
    tail = rf"(?!{_WORD})" if re.match(_WORD, text[-1:]) else ""
    return re.compile(head + re.escape(text) + tail)


def count(needle: str, text: str, *, inside: str = "", most: int | None = None) -> int:
    """Occurrences of `needle` in `text` as whole tokens, not counting those within `inside`;
    counting stops at `most`."""
    if not needle:
        return 0
    if inside and needle in inside:
        text = text.replace(inside, "\0")  # `t.IO` inside `t.IO[t.Any]` is not an old `t.IO`
    return sum(1 for _ in itertools.islice(_pattern(needle).finditer(text), most))


def makes(old: str, new: str, before: str, after: str) -> bool:
    """Whether going from `before` to `after` changes some `old` into `new`.

    Either may be empty (an argument added or removed): then only the other must change.
    Counted as whole tokens, and `old` not where it is part of `new` (or the reverse), so that
    "t.IO" → "t.IO[t.Any]" is told from an unrelated edit near a `t.IO`.
    """
    if (not old and not new) or (new and new not in after) or (old and old not in before):
        return False  # the common case, spared the token counts
    gained = count(new, after, inside=old) > count(new, before, inside=old) if new else True
    lost = count(old, before, inside=new) > count(old, after, inside=new) if old else True
    return gained and lost


def repeats(old: str, new: str, earlier: Sequence[Edit]) -> int:
    """How many of the `earlier` edits already changed `old` into `new`."""
    return sum(
        not edit.clipped
        and makes(old, new, "\n".join(edit.hunk.removed), "\n".join(edit.hunk.added))
        for edit in earlier
    )


def _texts(change: Change) -> tuple[str, str]:
    """The change as old → new text ("" for the missing side of an argument change)."""
    if isinstance(change, NodeChange):
        old, new = change.old, change.new
    elif change.added:
        old, new = b"", change.argument
    else:
        old, new = change.argument, b""
    return old.decode("utf-8", "replace"), new.decode("utf-8", "replace")


def weigh(change: Change, parsed: Parsed, earlier: Sequence[Edit]) -> Weight:
    """The evidence on `change`, made in the text of `parsed`, after the `earlier` edits."""
    old, new = _texts(change)
    done = repeats(old, new, earlier)
    factor = REPEATED[min(done, len(REPEATED) - 1)]
    # str.count first: it is a bound on the token count, and far quicker.
    text = parsed.text
    if not done and old and text.count(old) > COMMON and count(old, text, most=COMMON + 1) > COMMON:
        factor *= COMMON_ONCE
    return Weight(factor)


def assigned_in(entry: Language, node: tree_sitter.Node, name: bytes) -> bool:
    """Whether `node` is in the value of an assignment to `name`: renaming it to `name` would
    read the name in its own definition (`value_str = str(value_str)`, `real_fp = real_fp`)."""
    child, parent = node, node.parent
    while parent is not None:
        if is_scope(parent, entry) or parent.type.endswith(("statement", "block", "module")):
            return False
        # Python's `assignment`, JavaScript's `variable_declarator` and kin.
        if "assignment" in parent.type or "declarator" in parent.type:
            target = parent.child_by_field_name("left") or parent.child_by_field_name("name")
            return target is not None and target.id != child.id and target.text == name
        child, parent = parent, parent.parent
    return False
