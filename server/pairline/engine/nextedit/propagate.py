"""Propagation: the user's last edit repeated at the other places that need it, without a model.

From the last edit's change (see `patterns`), the other occurrences of the old text in the
same buffer, nearest to the cursor first, then in the other buffers given, become proposals
when the syntax tree says they are the same kind of node (an identifier, not the same letters
in a string, a comment or a longer name) and applying them adds no parse error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import tree_sitter

from pairline.engine.core import languages
from pairline.engine.core.document import Document
from pairline.engine.core.languages import Language
from pairline.engine.core.types import Position, Range
from pairline.engine.nextedit import evidence
from pairline.engine.nextedit.history import Edit
from pairline.engine.nextedit.patterns import (
    ArgumentChange,
    Change,
    NodeChange,
    arguments,
    call_of,
    callee,
    derive,
    exact,
    is_scope,
    keyword,
    node_type,
    role,
    slot,
)
from pairline.engine.nextedit.trees import Parsed, TreeCache, encode

# Starting confidence per kind of change, then factors for a less certain place and for the
# evidence of the earlier edits (see `evidence`), calibrated with `pairline bench nextedit`
# (fitted on 4 of its 8 package pairs, checked on the other 4). A changed attribute
# (`t.Dict` → `t.Mapping`) is a change of one use, like `_USE_RENAME`: releases repeat it at
# few of its places (0.25 of those shown at 0.8).
_CONFIDENCE = {"rename": 0.9, "attribute": 0.45, "argument": 0.8, "expression": 0.7, "literal": 0.6}
_OTHER_SCOPE = 0.8  # outside the function of the edit
_OTHER_DOCUMENT = 0.75
_LOOSE_ARGUMENT = 0.75  # an argument appended to a call with another argument count
# A rename of one use of a name rather than where it is bound: in real releases (`bench
# nextedit`) such a change stays in one place (a type, a callee) as often as it spreads. Below
# the default level, so not shown unless the user asks for more.
_USE_RENAME = 0.45
# Occurrences looked at per request, whatever their outcome: bounds the time on common names.
_MAX_CANDIDATES = 200
_MAX_CONFIDENCE = 0.95


@dataclass(frozen=True)
class ProposedEdit:
    """Replace `range` (`start`..`end` in code points) of document `uri` by `text`."""

    uri: str
    version: int
    range: Range  # in the document's position encoding
    start: int
    end: int
    text: str
    kind: str  # "rename", "attribute", "argument", "literal", "expression" or "model"
    confidence: float

    @classmethod
    def replacing(
        cls, document: Document, start: int, end: int, text: str, kind: str, confidence: float
    ) -> ProposedEdit:
        """The edit replacing code points `start`..`end` of `document` by `text`."""
        return cls(
            uri=document.uri,
            version=document.version,
            range=Range(document.position_at(start), document.position_at(end)),
            start=start,
            end=end,
            text=text,
            kind=kind,
            confidence=confidence,
        )


@dataclass(frozen=True)
class _Candidate:
    start: int  # bytes
    end: int
    new: bytes
    node: tree_sitter.Node
    confidence: float


def _is_word(byte: int) -> bool:
    return byte >= 0x80 or byte in b"_$" or chr(byte).isalnum()


class Propagator:
    """Proposes the edits that repeat a document's last edit; keeps the parse trees it needs."""

    def __init__(self, trees: TreeCache | None = None) -> None:
        self._trees = trees if trees is not None else TreeCache()

    def forget(self, uri: str) -> None:
        self._trees.forget(uri)

    def propose(
        self,
        edit: Edit,
        document: Document,
        *,
        others: Sequence[Document] = (),
        cursor: Position | None = None,
        limit: int = 3,
        earlier: Sequence[Edit] = (),
    ) -> list[ProposedEdit]:
        """Up to `limit` edits that repeat `edit`, the last edit of `document`, best first.

        `document` must hold the text `edit` left; `others` are further buffers to look in;
        `earlier` are the document's edits before `edit`, oldest first (the evidence that the
        change is a refactoring under way, see `evidence`).
        """
        entry = languages.find(document.language)
        text = document.text
        if entry is None or edit.clipped or edit.uri != document.uri:
            return []
        if not entry.identifier_nodes:
            return []  # a language known by name only: no grammar, no node types
        if text[edit.start : edit.end] != edit.inserted:
            return []  # the document changed since: the edit's offsets are stale
        after = self._trees.parse(document.uri, document.language, text)
        if after is None:
            return []
        start = after.byte_offset(edit.start)
        inserted, removed = encode(edit.inserted), encode(edit.removed)
        before, _ = after.replaced_window(start, start + len(inserted), removed)
        end_after, end_before = start + len(inserted), start + len(removed)
        # Widen to whole words: "count" → "counter" inserts "er", but it renames the word.
        changed = inserted or removed
        if _is_word(changed[0]):
            while start > 0 and _is_word(after.data[start - 1]):
                start -= 1
        if _is_word(changed[-1]):
            while end_after < len(after.data) and _is_word(after.data[end_after]):
                end_after, end_before = end_after + 1, end_before + 1
        at = after.byte_offset(document.offset_at(cursor)) if cursor else end_after
        line = after.data.count(b"\n", 0, at)
        for change in derive(entry, after.root, before, start, end_after, end_before):
            weight = evidence.weigh(change, after, earlier)
            proposals = self._here(entry, change, document, after, (line, at), limit, weight)
            if len(proposals) < limit:
                proposals += self._elsewhere(
                    entry, change, document, others, limit - len(proposals), weight.factor
                )
            if proposals:
                return proposals
        return []

    def _here(
        self,
        entry: Language,
        change: Change,
        document: Document,
        parsed: Parsed,
        cursor: tuple[int, int],
        limit: int,
        weight: evidence.Weight,
    ) -> list[ProposedEdit]:
        """Proposals in the edited document: those in the function of the edit first, then
        the rest; on each side, those after `cursor` (line, byte offset) before those above it
        (the next edit is further on, where Tab goes; and where a renamed binding's uses are),
        nearest first."""
        site = parsed.root.named_descendant_for_byte_range(*change.site)
        scope = _scope(site, entry)
        low, high = (scope.start_byte, scope.end_byte) if scope else (0, len(parsed.data))
        line, at = cursor
        ranked = sorted(
            _occurrences(change, parsed),
            key=lambda o: (not low <= o[1] < high, o[1] < at, abs(o[0] - line), abs(o[1] - at)),
        )
        candidates = _checked(entry, change, parsed, [offset for _, offset in ranked], limit)
        return [
            _proposal(
                document,
                parsed,
                candidate,
                change.kind,
                weight.factor * (1.0 if low <= candidate.start < high else _OTHER_SCOPE),
            )
            for candidate in candidates
        ]

    def _elsewhere(
        self,
        entry: Language,
        change: Change,
        document: Document,
        others: Sequence[Document],
        limit: int,
        factor: float,
    ) -> list[ProposedEdit]:
        proposals: list[ProposedEdit] = []
        family = languages.family(document.language)
        needle = change.old if isinstance(change, NodeChange) else change.callee
        for other in others:
            if len(proposals) >= limit:
                break
            # A rename in a .ts file applies to a .tsx one: dialects of one language share it.
            if other.uri == document.uri or languages.family(other.language) != family:
                continue
            if needle.decode("utf-8", "surrogatepass") not in other.text:
                continue  # spare the parse
            parsed = self._trees.parse(other.uri, other.language, other.text)
            if parsed is None:
                continue
            change_there = _away(change)
            for candidate in _checked(
                entry,
                change_there,
                parsed,
                [offset for _, offset in _occurrences(change_there, parsed)],
                limit - len(proposals),
            ):
                proposals.append(
                    _proposal(other, parsed, candidate, change.kind, factor * _OTHER_DOCUMENT)
                )
        return proposals


def _away(change: Change) -> Change:
    """The change with no edited site: in another document, no occurrence is the edited one."""
    if isinstance(change, NodeChange):
        return dataclasses.replace(change, site=(0, 0))
    return ArgumentChange(
        change.callee,
        change.count,
        change.index,
        change.argument,
        change.keyword,
        change.added,
        (0, 0),
    )


def _scope(node: tree_sitter.Node | None, entry: Language) -> tree_sitter.Node | None:
    """The innermost function around `node`."""
    while node is not None:
        if is_scope(node, entry):
            return node
        node = node.parent
    return None


def _occurrences(change: Change, parsed: Parsed) -> Iterator[tuple[int, int]]:
    """(line, byte offset) of each occurrence of the changed text outside the edited site."""
    needle = change.old if isinstance(change, NodeChange) else change.callee
    low, high = change.site
    data = parsed.data
    line, last = 0, 0
    offset = data.find(needle)
    while offset >= 0:
        line += data.count(b"\n", last, offset)
        last = offset
        if offset + len(needle) <= low or offset >= high:
            yield line, offset
        offset = data.find(needle, offset + 1)


def _checked(
    entry: Language, change: Change, parsed: Parsed, offsets: list[int], limit: int
) -> list[_Candidate]:
    """The occurrences at `offsets` that qualify and parse, in order, at most `limit`."""
    errors: dict[tuple[int, int], int] = {}  # per window: candidates often share one
    found: list[_Candidate] = []
    for offset in offsets[:_MAX_CANDIDATES]:
        if isinstance(change, NodeChange):
            candidate = _node_candidate(entry, change, parsed, offset)
        else:
            candidate = _argument_candidate(entry, change, parsed, offset)
        if candidate is None:
            continue
        window = parsed.window(candidate.start, candidate.end)
        if window not in errors:
            errors[window] = parsed.window_errors(*window)
        _, added = parsed.replaced_window(candidate.start, candidate.end, candidate.new)
        if added <= errors[window]:
            found.append(candidate)
            if len(found) >= limit:
                break
    return found


def _node_candidate(
    entry: Language, change: NodeChange, parsed: Parsed, offset: int
) -> _Candidate | None:
    node = exact(parsed.root, offset, offset + len(change.old), node_type(change.role))
    if node is None or role(node, entry) != change.role:
        return None
    if change.slot and slot(node, entry) != change.slot:
        return None
    if change.kind == "rename" and evidence.assigned_in(entry, node, change.new):
        return None
    confidence = _CONFIDENCE[change.kind]
    if change.kind == "rename" and not change.binding:
        confidence = _USE_RENAME
    return _Candidate(node.start_byte, node.end_byte, change.new, node, confidence)


def _argument_candidate(
    entry: Language, change: ArgumentChange, parsed: Parsed, offset: int
) -> _Candidate | None:
    call = _call_at(entry, parsed, offset, offset + len(change.callee))
    listed = None if call is None else call.child_by_field_name("arguments")
    if call is None or listed is None or call_of(listed, entry) is None:
        return None
    args = arguments(listed)
    confidence = _CONFIDENCE["argument"]
    if change.added:
        if any(
            a.text == change.argument or (change.keyword and keyword(a, entry) == change.keyword)
            for a in args
        ):
            return None  # already there
        if len(args) == change.count:
            index = change.index
        elif change.index == change.count:  # appended: append to calls of any length
            index, confidence = len(args), confidence * _LOOSE_ARGUMENT
        else:
            return None
        if index < len(args):
            at, new = args[index].start_byte, change.argument + b", "
        elif args:
            at, new = args[-1].end_byte, b", " + change.argument
        else:
            at, new = listed.start_byte + 1, change.argument
        return _Candidate(at, at, new, call, confidence)
    if change.keyword:
        index = next((i for i, a in enumerate(args) if keyword(a, entry) == change.keyword), -1)
    else:
        index = change.index if len(args) == change.count else -1
    if index < 0:
        return None
    if index + 1 < len(args):
        start, end = args[index].start_byte, args[index + 1].start_byte
    elif index > 0:
        start, end = args[index - 1].end_byte, args[index].end_byte
    else:
        start, end = args[index].start_byte, args[index].end_byte
    return _Candidate(start, end, b"", call, confidence)


def _call_at(entry: Language, parsed: Parsed, start: int, end: int) -> tree_sitter.Node | None:
    """The call whose callee spans exactly `start`..`end`, if any."""
    node = parsed.root.named_descendant_for_byte_range(start, end)
    while node is not None and node.start_byte == start and node.end_byte == end:
        call = node.parent
        function = None if call is None else callee(call)
        if (
            call is not None
            and call.type in entry.call_nodes
            and function is not None
            and function.id == node.id
        ):
            return call
        node = call
    return None


def _proposal(
    document: Document, parsed: Parsed, candidate: _Candidate, kind: str, factor: float
) -> ProposedEdit:
    start, end = parsed.char_offset(candidate.start), parsed.char_offset(candidate.end)
    text = candidate.new.decode("utf-8", "surrogatepass")
    confidence = round(min(candidate.confidence * factor, _MAX_CONFIDENCE), 3)
    return ProposedEdit.replacing(document, start, end, text, kind, confidence)
