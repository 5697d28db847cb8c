"""Parse trees of recent file versions, so the next version of a file is parsed incrementally.

Two versions of one file usually differ by a few hunks. Given the old tree and
those edits, tree-sitter re-parses only what the edits touched and reuses the
rest — a fraction of a fresh parse. The edit is the stretch between the two
texts' common start and common end; where that is most of the file (changes
far apart), the edits come from git's line diff of the two blobs, checked
against the bytes before they are used. Where the re-parsed tree has an error
(where error recovery may not be repeatable), the version is parsed afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import accumulate

# A tree takes about 25 bytes of memory per byte of source: this keeps the
# trees of a few dozen recent files, around 100 MiB.
TREE_SOURCE_BYTES = 4 * 1024 * 1024
_VERSIONS_PER_PATH = 3  # a file's base and the tips of two sides
_NEAR_ENOUGH = 10  # a version that differs by at most 1/10 of the file is parsed from without looking further


class Trees:
    """Recent trees by path; `hunks(old_blob, new_blob)` gives the line edits between two blobs
    (objects with `.old` and `.new` line ranges, 1-based inclusive, as `Repository.hunks`).
    Without it nothing is held: every parse is fresh (`settle symbols` reads each blob once)."""

    def __init__(self, hunks: Callable[[str, str], Sequence] | None = None, budget: int = TREE_SOURCE_BYTES):
        self._hunks = hunks
        self._budget = budget
        self._held = 0
        # (path, blob) → (source, its line starts, tree)
        self._recent: OrderedDict[tuple[str, str], tuple[bytes, _Lines, object]] = OrderedDict()
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
        """The tree of source; from an earlier version of path when one is held and the edits check out."""
        parser = self._parsers.get(id(grammar))
        if parser is None:
            parser = self._parsers[id(grammar)] = grammar.parser()
        if path is None or blob_id is None or self._hunks is None:
            self.fresh += 1
            return parser.parse(source)
        held = self._recent.get((path, blob_id))
        if held is not None:
            self._recent.move_to_end((path, blob_id))
            if (path, blob_id) in self._older:
                self._older.move_to_end((path, blob_id))
            return held[2]
        lines = _Lines(source)  # kept for the edits to later versions
        tree = self._incremental(parser, source, lines, path, blob_id)
        if tree is None:
            self.fresh += 1
            tree = parser.parse(source)
        else:
            self.incremental += 1
        self._hold(path, blob_id, source, lines, tree)
        return tree

    def _incremental(self, parser, source: bytes, lines: _Lines, path: str, blob_id: str):
        best = None
        # The latest version first: in a replay it is nearly always the nearest. The others are
        # looked at when it differs by more than a tenth.
        for held_blob in reversed(self._versions.get(path, ())):
            old_source, old_lines, old_tree = self._recent[(path, held_blob)]
            # One edit between the common start and end of the two texts, found with a few slice
            # comparisons, where git's line diff costs ten times more and the line offsets
            # besides; the diff only where changes far apart make that edit most of the file.
            edits = [trimmed_edit(old_source, source)]
            edited = _edited_bytes(edits)
            if edited * _NEAR_ENOUGH > len(source):
                by_lines = edits_between(old_source, source, self._hunks(held_blob, blob_id), old_lines, lines)
                if by_lines is not None and _edited_bytes(by_lines) < edited:
                    edits, edited = by_lines, _edited_bytes(by_lines)
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

    def _hold(self, path: str, blob_id: str, source: bytes, lines: _Lines, tree) -> None:
        versions = self._versions.setdefault(path, [])
        if len(versions) >= _VERSIONS_PER_PATH:
            self._drop(path, versions[0])
        if versions:
            self._older[(path, versions[-1])] = None  # just parsed from, as likely as not
        self._recent[(path, blob_id)] = (source, lines, tree)
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


def trimmed_edit(old: bytes, new: bytes) -> tuple:
    """The tree-sitter edit (start, old end, new end bytes; the same as points) that replaces
    what lies between old's and new's common prefix and common suffix."""
    shorter = min(len(old), len(new))
    start = _common_length(old, new, shorter, from_end=False)
    tail = _common_length(old, new, shorter - start, from_end=True)
    old_end, new_end = len(old) - tail, len(new) - tail
    return start, old_end, new_end, _point(old, start), _point(old, old_end), _point(new, new_end)


def _common_length(old: bytes, new: bytes, limit: int, from_end: bool) -> int:
    """How many bytes (at most limit) old and new have alike at their start, or their end:
    slices compared in C, growing while alike, then halved down to the first difference."""
    old_size, new_size = len(old), len(new)

    def alike(low: int, high: int) -> bool:
        if from_end:
            return old[old_size - high : old_size - low] == new[new_size - high : new_size - low]
        return old[low:high] == new[low:high]

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


def _point(text: bytes, offset: int) -> tuple[int, int]:
    return text.count(b"\n", 0, offset), offset - text.rfind(b"\n", 0, offset) - 1


def edits_between(old: bytes, new: bytes, hunks: Sequence, old_lines: _Lines | None = None,
                  new_lines: _Lines | None = None) -> list[tuple] | None:
    """tree-sitter edits (start, old end, new end bytes; the same as points) that turn old into
    new, in order; None unless the text outside the hunks is the same on both sides."""
    old_lines, new_lines = old_lines or _Lines(old), new_lines or _Lines(new)
    edits = []
    old_cursor = new_cursor = 0
    for hunk in hunks:
        (old_start, start_point), (old_end, old_end_point) = old_lines.span(hunk.old.start, hunk.old.end)
        (new_start, _), (new_end, _) = new_lines.span(hunk.new.start, hunk.new.end)
        if not _same_span(old, old_cursor, old_start, new, new_cursor, new_start):
            return None
        edits.append((old_start, old_end, old_start + new_end - new_start,
                      start_point, old_end_point, _shifted(start_point, new[new_start:new_end])))
        old_cursor, new_cursor = old_end, new_end
    if not _same_span(old, old_cursor, len(old), new, new_cursor, len(new)):
        return None
    return edits


def _same_span(old: bytes, old_start: int, old_end: int, new: bytes, new_start: int, new_end: int) -> bool:
    # One slice, not two: copying both sides of a large file's unchanged stretch cost ten
    # times the comparison.
    return old_end - old_start == new_end - new_start and old.startswith(new[new_start:new_end], old_start)


class _Lines:
    """Where a text's lines start, from the cumulative lengths of its lines (built in C, not per line),
    worked out when first asked: most versions held for an edit are never edited from."""

    def __init__(self, data: bytes):
        self._data = data

    @cached_property
    def lengths(self) -> list[int]:
        return list(accumulate(map(len, self._data.split(b"\n"))))

    def start(self, index: int) -> tuple[int, tuple[int, int]]:
        """Offset and point where 0-based line index starts; past the last line, the end of the text."""
        lengths = self.lengths
        if index <= 0:
            return 0, (0, 0)
        if index < len(lengths):
            return lengths[index - 1] + index, (index, 0)
        last = len(lengths) - 1
        return lengths[-1] + last, (last, lengths[-1] - (lengths[-2] if last else 0))

    def span(self, first: int, last: int) -> tuple[tuple[int, tuple[int, int]], tuple[int, tuple[int, int]]]:
        """Start and end of 1-based lines first..last (empty, at line first's start, when last < first)."""
        begin = self.start(first - 1)
        return begin, max(begin, self.start(last))


def _shifted(point: tuple[int, int], text: bytes) -> tuple[int, int]:
    """The point after text inserted at point."""
    newlines = text.count(b"\n")
    if not newlines:
        return point[0], point[1] + len(text)
    return point[0] + newlines, len(text) - text.rfind(b"\n") - 1


def _edited_bytes(edits: list[tuple]) -> int:
    return sum(max(old_end, new_end) - start for start, old_end, new_end, *_ in edits)
