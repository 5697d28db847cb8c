"""Parse trees of recent file versions, so the next version of a file is parsed incrementally.

Two versions of one file usually differ in a few places. Given the old tree and
those edits, tree-sitter re-parses only what the edits touched and reuses the
rest — a fraction of a fresh parse, if the edits are tight: one edit spanning two
changes far apart has tree-sitter re-lex everything between them (Python's
trees, built with many ambiguous states, reuse little inside an edit's reach).
The edits come from the bytes alone (`edits_between`), exact by construction.
Where the re-parsed tree has an error (where error recovery may not be
repeatable), the version is parsed afresh.
"""

from __future__ import annotations

from collections import OrderedDict

# A tree takes about 25 bytes of memory per byte of source: this keeps the
# trees of a few dozen recent files, around 100 MiB.
TREE_SOURCE_BYTES = 4 * 1024 * 1024
_VERSIONS_PER_PATH = 3  # a file's base and the tips of two sides
_NEAR_ENOUGH = 10  # a version that differs by at most 1/10 of the file is parsed from without looking further
# An edit is split around a stretch of the new text that both sides' edited parts hold once:
_ANCHOR_BYTES = 48  # long enough that it is found once, short enough to fit between changes
_SMALLEST_SPLIT = 256  # bytes of both sides below which an edit stays whole: more edits cost tree-sitter too
_DEEPEST_SPLIT = 16


class Trees:
    """Recent trees by path. Unless `hold`, nothing is held: every parse is fresh
    (`settle symbols` reads each blob once)."""

    def __init__(self, hold: bool = True, budget: int = TREE_SOURCE_BYTES):
        self._holds = hold
        self._budget = budget
        self._held = 0
        self._recent: OrderedDict[tuple[str, str], tuple[bytes, object]] = OrderedDict()  # (path, blob) → (source, tree)
        self._versions: dict[str, list[str]] = {}  # path → its held blobs, oldest first
        # The held versions that are not their path's latest, least recently used first: the first
        # to go over the budget (the next version of a file is nearly always parsed from its
        # latest, and a path with none held is parsed afresh; plain least-recent eviction left
        # pytest's replay parsing half its seen paths afresh).
        self._older: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._parsers: dict[int, object] = {}
        self.fresh = 0
        self.incremental = 0

    def parse(self, grammar, source: bytes, path: str | None = None, blob_id: str | None = None):
        """The tree of source; from an earlier version of path when one is held."""
        parser = self._parsers.get(id(grammar))
        if parser is None:
            parser = self._parsers[id(grammar)] = grammar.parser()
        if path is None or blob_id is None or not self._holds:
            self.fresh += 1
            return parser.parse(source)
        held = self._recent.get((path, blob_id))
        if held is not None:
            self._recent.move_to_end((path, blob_id))
            if (path, blob_id) in self._older:
                self._older.move_to_end((path, blob_id))
            return held[1]
        tree = self._incremental(parser, source, path)
        if tree is None:
            self.fresh += 1
            tree = parser.parse(source)
        else:
            self.incremental += 1
        self._hold(path, blob_id, source, tree)
        return tree

    def _incremental(self, parser, source: bytes, path: str):
        best = None
        # The latest version first: in a replay it is nearly always the nearest. The others are
        # looked at when it differs by more than a tenth.
        for held_blob in reversed(self._versions.get(path, ())):
            old_source, old_tree = self._recent[(path, held_blob)]
            edits = edits_between(old_source, source)
            edited = _edited_bytes(edits)
            if best is None or edited < best[2]:
                best = (old_tree, edits, edited)
            if best[2] * _NEAR_ENOUGH <= len(source):
                break
        if best is None:
            return None
        tree = best[0].copy()  # held trees stay as they are: others may start from them
        for edit in reversed(best[1]):  # from the end: each edit's offsets are still the old ones
            tree.edit(*edit)
        tree = parser.parse(source, tree)
        return None if tree.root_node.has_error else tree

    def _hold(self, path: str, blob_id: str, source: bytes, tree) -> None:
        versions = self._versions.setdefault(path, [])
        if len(versions) >= _VERSIONS_PER_PATH:
            self._drop(path, versions[0])
        if versions:
            self._older[(path, versions[-1])] = None  # just parsed from, as likely as not
        self._recent[(path, blob_id)] = (source, tree)
        versions.append(blob_id)
        self._held += len(source)
        while self._held > self._budget and len(self._recent) > 1:
            self._drop(*(next(iter(self._older), None) or next(iter(self._recent))))

    def _drop(self, path: str, blob_id: str) -> None:
        self._held -= len(self._recent.pop((path, blob_id))[0])
        self._older.pop((path, blob_id), None)
        versions = self._versions[path]
        versions.remove(blob_id)
        if versions:
            self._older.pop((path, versions[-1]), None)  # the latest now
        else:
            del self._versions[path]


def edits_between(old: bytes, new: bytes) -> list[tuple]:
    """tree-sitter edits (start, old end, new end bytes; the same as points) that turn old
    into new, in order. The stretch between the texts' common start and common end is split
    around a piece of its new text found once in it on both sides, and each part trimmed
    again (a patience diff's idea at the cost of a few C searches): git's line diff gave edits
    as tight at six times the cost, and one edit from start to end parsed twice as slowly."""
    parts = []
    pending = [(0, len(old), 0, len(new), 0)]  # the left part on top: parts come out in order
    while pending:
        old_start, old_end, new_start, new_end, depth = pending.pop()
        alike = _common_length(old, new, old_start, new_start, min(old_end - old_start, new_end - new_start), 1)
        old_start, new_start = old_start + alike, new_start + alike
        alike = _common_length(old, new, old_end, new_end, min(old_end - old_start, new_end - new_start), -1)
        old_end, new_end = old_end - alike, new_end - alike
        if old_start == old_end and new_start == new_end:
            continue
        anchor = None
        if (depth < _DEEPEST_SPLIT and old_start < old_end and new_start < new_end
                and old_end - old_start + new_end - new_start > _SMALLEST_SPLIT):
            anchor = _anchor(old, new, old_start, old_end, new_start, new_end)
        if anchor is None:
            parts.append((old_start, old_end, new_start, new_end))
            continue
        old_at, new_at = anchor
        pending.append((old_at, old_end, new_at, new_end, depth + 1))
        pending.append((old_start, old_at, new_start, new_at, depth + 1))
    edits = []
    # Points found in one pass through the old text, not from its start per point (a minified
    # file of one long line would be searched back to its start for every edit).
    row = counted = line_start = 0

    def point(offset: int) -> tuple[int, int]:
        nonlocal row, counted, line_start
        row += old.count(b"\n", counted, offset)
        last = old.rfind(b"\n", counted, offset)
        if last >= 0:
            line_start = last + 1
        counted = offset
        return row, offset - line_start

    for old_start, old_end, new_start, new_end in parts:
        start_point = point(old_start)
        edits.append((old_start, old_end, old_start + new_end - new_start,
                      start_point, point(old_end), _shifted(start_point, new[new_start:new_end])))
    return edits


def _anchor(old: bytes, new: bytes, old_start: int, old_end: int, new_start: int, new_end: int) -> tuple[int, int] | None:
    """Where a line-started piece of new[new_start:new_end] (from its middle, else a quarter
    in, else three quarters) lies in old[old_start:old_end], found once in each; None if none is."""
    for quarters in (2, 1, 3):
        start = new.rfind(b"\n", new_start, new_start + (new_end - new_start) * quarters // 4) + 1 or new_start
        end = start + _ANCHOR_BYTES
        if end > new_end:
            continue
        piece = new[start:end]
        found = old.find(piece, old_start, old_end)
        if (found >= 0 and old.find(piece, found + 1, old_end) < 0
                and new.find(piece, new_start, new_end) == start and new.find(piece, start + 1, new_end) < 0):
            return found, start
    return None


def _common_length(old: bytes, new: bytes, old_at: int, new_at: int, limit: int, direction: int) -> int:
    """How many bytes (at most limit) old and new have alike going forward (direction 1) from
    old_at and new_at, or backward (-1) to them: slices compared in C, growing while alike,
    then halved down to the first difference."""

    def alike(low: int, high: int) -> bool:
        if direction > 0:
            return old[old_at + low : old_at + high] == new[new_at + low : new_at + high]
        return old[old_at - high : old_at - low] == new[new_at - high : new_at - low]

    low, step = 0, 256
    while low < limit:
        high = min(limit, low + step)
        if alike(low, high):
            low, step = high, step * 2
            continue
        while high - low > 1:  # alike up to low, not up to high
            middle = (low + high) // 2
            if alike(low, middle):
                low = middle
            else:
                high = middle
        return low
    return low


def _shifted(point: tuple[int, int], text: bytes) -> tuple[int, int]:
    """The point after text inserted at point."""
    newlines = text.count(b"\n")
    if not newlines:
        return point[0], point[1] + len(text)
    return point[0] + newlines, len(text) - text.rfind(b"\n") - 1


def _edited_bytes(edits: list[tuple]) -> int:
    return sum(max(old_end, new_end) - start for start, old_end, new_end, *_ in edits)
