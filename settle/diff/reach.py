"""How far one side's changes reach into the other's: which changed files are worth parsing.

Byte-level prefilters over blobs and line hunks, each a superset of what the
full parser would find (tests/test_replay_prefilters.py checks them against it
on every fixture file). Replay uses them to parse, of hundreds of merges, only
what can produce a finding.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter, OrderedDict
from functools import lru_cache, wraps
from pathlib import Path

from settle.diff.changes import spells
from settle.languages import profile_for_path
from settle.parse.cache import SymbolTables
from settle.repo import EntryKind, PathChange, Repository


_BLOB_FACTS_KEPT = 8192  # blobs recur across neighbouring merges; bounded for long histories


def _by_blob(function):
    """Keep a fact about a blob's bytes, `function(tables, path, blob_id)`, in this process, keyed
    by the path (its profile) and the blob id alone: they name the bytes in any repository, so
    the memo keeps no session's tables alive."""
    kept: OrderedDict[tuple[str, str], object] = OrderedDict()

    @wraps(function)
    def remembered(tables: SymbolTables, path: str, blob_id: str):
        key = (path, blob_id)
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
        value = kept[key] = function(tables, path, blob_id)
        if len(kept) > _BLOB_FACTS_KEPT:
            kept.popitem(last=False)
        return value

    return remembered


def mentions(names: set[str], repository: Repository):
    """A change whose new code spells one of the names as a whole word: around its hunks
    (`_added_text`), where every use the change wrote lies."""
    spelled = frozenset(name.encode() for name in names)

    def spells_one(change: PathChange) -> bool:
        return bool(change.new_id and change.new_kind is EntryKind.FILE and spells(spelled, _added_text(repository, change)))

    return spells_one


def meets(other: tuple[PathChange, ...], repository: Repository, tables: SymbolTables):
    """Paths of one side worth parsing against the other side's changes: those both changed
    where the two sides' edits meet in one symbol (conflicts, concurrent edits, duplicates —
    see `edits_meet`); files whose module the other side's changed code imports, when this
    side may have removed or re-shaped a symbol there (`stranded_names`); and, where a
    directory is a namespace, files beside the other side's. Files without a grammar are
    kept: they are never parsed anyway. "Imports" is a byte-level reading of import lines
    (the profile's `import_lines`), so a change to a module the other side reaches without
    naming it (an instance's method, a plugin hook) is not looked at.
    """
    touched = {p: change for change in other for p in (change.old_path, change.new_path) if p}
    code = [change for change in other if profile_for_path(change.path) is not None]
    imported_by_other: set[bytes] = set()
    for change in code:
        if change.new_id and change.new_kind is EntryKind.FILE:
            imported_by_other |= _imported_words(tables, change.new_path, change.new_id)
    namespaces = {posixpath.dirname(c.path) for c in code if profile_for_path(c.path).directory_is_namespace}

    written: list[bytes] = []  # the lines the other side's code changes added, read when first needed

    def strands_their_uses(change: PathChange) -> bool:
        """Does this change remove or re-shape a symbol whose name the other side's changed code spells?"""
        names = stranded_names(tables, change)
        if names is None:
            return True
        if not names:
            return False
        if not written:
            written.append(b"\0".join(_added_text(repository, c) for c in code if c.new_id and c.new_kind is EntryKind.FILE))
        return spells(names, written[0])

    decided: dict[PathChange, bool] = {}  # a side rebuilt for a second pass asks again

    def decide(change: PathChange) -> bool:
        profile = profile_for_path(change.path)
        if profile is None:
            return True
        theirs = touched.get(change.old_path) or touched.get(change.new_path)
        if theirs is not None:
            return (edits_meet(repository, tables, change, theirs) or strands_their_uses(change)
                    or drops_what_the_other_uses(repository, tables, change, theirs)
                    or drops_what_the_other_uses(repository, tables, theirs, change))
        if _module_word(change.old_path or change.path) in imported_by_other and strands_their_uses(change):
            return True
        return profile.directory_is_namespace and posixpath.dirname(change.path) in namespaces

    def parse(change: PathChange) -> bool:
        if change not in decided:
            decided[change] = decide(change)
        return decided[change]

    return parse


_IDENTIFIER = re.compile(rb"[A-Za-z_$][\w$]*")
# The newline before a line that can start a top-level statement: one not empty, and not
# starting with a blank or by closing a bracket (that continues a statement). The newline is a
# literal the regex engine skips to; `^` in multiline mode was tried at every byte, four times slower.
_BEFORE_TOP_LEVEL_LINE = re.compile(rb"\n[^ \t)\]}\n]")


@_by_blob
def _imported_words(tables: SymbolTables, path: str, blob_id: str) -> frozenset[bytes]:
    """The words on a blob's import lines (the profile's `import_lines`), kept in the disk cache
    like its table: a warm replay reads them instead of the blob."""
    profile = profile_for_path(path)
    if profile is None or not profile.import_lines:
        return frozenset()

    def words(data: bytes) -> list[str]:
        return sorted({word.decode("latin-1") for word in _IDENTIFIER.findall(b"\n".join(line_matches(profile.import_lines, data)))})

    return frozenset(word.encode("latin-1") for word in tables.blob_fact(_fact_kind("imported-words"), path, blob_id, words, _strings))


@lru_cache(maxsize=None)
def _fact_kind(name: str) -> str:
    """A blob fact's kind with a digest of this module, which works it out: the table keys' code
    digest covers the parse layer and the profiles only, and a development checkout must not
    read words an earlier edit of the reading stored."""
    return f"{name}/{hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()}"


def _strings(value: list) -> bool:
    return all(isinstance(item, str) for item in value)


def _added_text(repository: Repository, change: PathChange) -> bytes:
    """Text around what a change added: each hunk widened to the top-level block holding it
    (from the unindented line before it to the next one; a line that starts by closing a
    bracket continues a statement), since a use anywhere inside a symbol the change
    touched counts as its code (all of a new file)."""
    if change.old_id is None or change.old_kind is not EntryKind.FILE:
        return repository.blob(change.new_id)
    return _widened(repository, change.old_id, change.new_id)


@lru_cache(maxsize=64)  # replay asks again for the changes that recur in neighbouring merges
def _widened(repository: Repository, old_id: str, new_id: str) -> bytes:
    return widened_hunks(repository.blob(new_id), repository.hunks(old_id, new_id))


def widened_hunks(data: bytes, hunks) -> bytes:
    """`_added_text` of data and the hunks that made it, worked out on byte offsets: the
    top-level lines around each hunk are looked for near it, not all over the file (replay
    widens thousands of hunks, and a test module has a top-level line every few lines)."""
    start_of = _LineStarts(data)
    pieces = []
    for hunk in hunks:
        low, high = hunk.new.start - 1, hunk.new.end - 1  # 0-based lines
        if high < low:  # lines only removed: the lines on both sides of the gap
            low, high = high, low
        before = _top_line_at_or_before(data, start_of(max(low, 0)))
        after = _BEFORE_TOP_LEVEL_LINE.search(data, start_of(max(high, low, 0)))
        pieces.append(data[before : after.start() if after else len(data)])
    return b"\n".join(pieces)


class _LineStarts:
    """Where each line of data starts, asked for in (mostly) rising order: newlines are counted a
    stretch at a time in C from the line asked for last, not split off the whole file (the
    lines of 28 MB of blobs were a fifth of widening pytest's hunks). Past the last line: one
    byte past the end, as if the data ended in one more newline."""

    def __init__(self, data: bytes):
        self._data = data
        self._line, self._start = 0, 0

    def __call__(self, line: int) -> int:
        if line < self._line:
            self._line, self._start = 0, 0
        data, position, left = self._data, self._start, line - self._line
        stretch = 1024
        while left:
            if left <= 4:  # the last few one by one
                at = data.find(b"\n", position)
                if at < 0:
                    return len(data) + 1  # not remembered: every line past the end starts there
                position, left = at + 1, left - 1
                continue
            end = position + stretch
            found = data.count(b"\n", position, end)
            if found < left:
                if end >= len(data):
                    return len(data) + 1
                position, left, stretch = end, left - found, stretch * 2
            else:
                stretch = max(1, stretch // (found // left + 1))
        self._line, self._start = line, position
        return position


def _top_line_at_or_before(data: bytes, position: int, window: int = 4096) -> int:
    """Where the last top-level line starting at or before position starts (0 when none does):
    looked for in a window of bytes before it, widened until one holds a top-level line."""
    while True:
        start = max(0, position - window)
        last = None
        for last in _BEFORE_TOP_LEVEL_LINE.finditer(data, max(0, start - 1), position + 1):
            pass
        if last is not None:
            return last.end() - 1
        if start == 0:
            return 0
        window *= 8


def edits_meet(repository: Repository, tables: SymbolTables, mine: PathChange, theirs: PathChange) -> bool:
    """Do two sides' edits of one file touch a common symbol's own text (or add one name)?

    Only then can they conflict inside a symbol, edit one symbol twice or add one twice.
    Decided on the base's definition spans (a definitions-only parse) and the two sides'
    line hunks — and, where the profile has `header_lines`, on the names each side's new
    headers carry instead of the module level; anything but an in-place edit of a file on
    both sides is assumed to meet.
    """
    if not (mine.old_path == mine.new_path == theirs.old_path == theirs.new_path and mine.old_id == theirs.old_id
            and all(kind is EntryKind.FILE for kind in (mine.old_kind, mine.new_kind, theirs.old_kind, theirs.new_kind))):
        return True
    if mine.new_id == theirs.new_id:
        return False  # the same change on both sides: nothing collides
    spans = tables.spans(mine.path, mine.old_id)
    if spans is None:
        return True
    # A decorated definition and its inner node end on one line: one symbol, one span.
    outermost: dict[int, tuple[int, int]] = {}
    for start, end in spans:
        if end not in outermost or start < outermost[end][0]:
            outermost[end] = (start, end)
    spans = sorted(outermost.values())
    touched = [_touched_spans(spans, repository.hunks(change.old_id, change.new_id)) for change in (mine, theirs)]
    profile = profile_for_path(mine.path)
    if profile is not None and profile.header_lines is not None:
        # At the module level only two additions of one name can collide (a duplicate
        # definition); the headers tell what each side added, so edits of imports and
        # other top-level statements on both sides need no parse.
        touched = [found - {None} for found in touched]
        added = [_added_names(tables, change) for change in (mine, theirs)]
        if not added[0].isdisjoint(added[1]):
            return True
    return not touched[0].isdisjoint(touched[1])


def _added_names(tables: SymbolTables, change: PathChange) -> set[bytes]:
    return set(_header_changes(tables, change.path, change.old_id, change.new_id)[1].values())


def _touched_spans(spans: list[tuple[int, int]], hunks) -> set:
    """The spans whose own text (children excluded) the hunks touch; None stands for the module level."""
    touched: set = set()
    for hunk in hunks:
        low, high = hunk.old.start, hunk.old.end
        if high < low:  # an insertion after line `high`: it touches both neighbours
            low, high = high, low
        containing = [span for span in spans if span[0] <= low and high <= span[1]]
        innermost = min(containing, key=lambda span: span[1] - span[0]) if containing else None
        for span in spans:
            if span[0] <= high and low <= span[1] and not (
                innermost is not None and span != innermost and span[0] <= innermost[0] and innermost[1] <= span[1]
            ):
                touched.add(span)
        if not containing and any(
            not any(start <= line <= end for start, end in spans) for line in range(max(low, 1), high + 1)
        ):
            touched.add(None)
    return touched


def drops_what_the_other_uses(repository: Repository, tables: SymbolTables, mine: PathChange, theirs: PathChange) -> bool:
    """Does one side's change of a file drop an import whose name the other side's change of
    that file spells around its hunks? (An imported name binds in its own file only: see
    drift.removed_bindings.) Words gone from the import lines stand for the names."""
    if not (mine.old_id and mine.new_id and theirs.new_id) or mine.old_kind is not EntryKind.FILE or mine.new_kind is not EntryKind.FILE or theirs.new_kind is not EntryKind.FILE:
        return False
    gone = _imported_words(tables, mine.path, mine.old_id) - _imported_words(tables, mine.path, mine.new_id)
    return bool(gone) and spells(gone, _added_text(repository, theirs))


def stranded_names(tables: SymbolTables, change: PathChange) -> frozenset[bytes] | None:
    """Names of the symbols this change may have removed or re-shaped, read off the file's
    definition headers (the profile's `header_lines`): a header that is gone was removed or
    re-shaped, added ones only add symbols. None when any symbol may be: a deletion, a move,
    or a language without the pattern."""
    if change.old_id is None or change.old_kind is not EntryKind.FILE:
        return frozenset()  # an added file only adds symbols
    if change.new_id is None or change.new_kind is not EntryKind.FILE or change.old_path != change.new_path:
        return None
    profile = profile_for_path(change.path)
    if profile is None or profile.header_lines is None:
        return None
    names = frozenset(_header_changes(tables, change.path, change.old_id, change.new_id)[0].values())
    if any(name.decode() in profile.constructor_names for name in names):
        return None  # a constructor is used by its class's name, which its header does not spell
    return names


@_by_blob
def _raw_headers(tables: SymbolTables, path: str, blob_id: str) -> Counter[tuple[bytes, ...]]:
    """A blob's definition headers as matched (the profile's `header_lines`), (text, *groups),
    counted: all in C, where a Python step per header (most lines of a file) cost more than the
    regex. Not kept on disk: they are most of a file's definition lines, and writing them cost a
    cold replay more than reading them saved a warm one."""
    return Counter(line_matches(profile_for_path(path).header_lines, tables.blob(blob_id), groups=True))


def _header_changes(tables: SymbolTables, path: str, old_id: str, new_id: str) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    """(gone, added): the headers, whitespace removed, that one version has more of than the
    other, each with its name. Headers matched alike on both sides cancel before any is
    normalized: a header only re-spaced is in both raw differences, and cancels after."""
    old, new = _raw_headers(tables, path, old_id), _raw_headers(tables, path, new_id)
    # The headers whose counts differ, from the (header, count) pairs as sets: hashed in C, where
    # `old - new` steps through every header of the file in Python, seven times slower.
    differing = {header for header, _ in old.items() ^ new.items()}
    (gone, gone_names), (added, added_names) = (
        _normalized(Counter({header: more[header] - fewer[header] for header in differing if more[header] > fewer[header]}))
        for more, fewer in ((old, new), (new, old)))
    return ({header: gone_names[header] for header in gone - added},
            {header: added_names[header] for header in added - gone})


def _normalized(raw: Counter[tuple[bytes, ...]]) -> tuple[Counter[bytes], dict[bytes, bytes]]:
    """Headers whitespace removed, counted, and each one's name (its participating group)."""
    headers: Counter[bytes] = Counter()
    names: dict[bytes, bytes] = {}
    for (text, *groups), count in raw.items():
        header = b"".join(text.split())
        headers[header] += count
        names[header] = next((group for group in groups if group), header)
    return headers, names


def line_matches(source: str, data: bytes, groups: bool = False) -> list:
    """`findall` of a profile's multiline pattern over data; with groups, each match as (text, *groups).

    Where every alternative of the pattern starts at a line start (`^…|^…`), each `^` becomes a
    newline to match and data gets one in front: a literal first byte, which the regex engine
    skips to at memchr speed instead of trying the pattern at every position (three times faster
    on Python files). A match's text then starts with that newline, which the callers' word
    scans and whitespace-free headers ignore. It holds while no match can end just after a
    newline (the next match's newline would be taken): none of the profiles' patterns can, and a
    test holds both forms equal on them.
    """
    pattern, prefixed = _line_pattern(source, groups)
    return pattern.findall(b"\n" + data if prefixed else data)


@lru_cache(maxsize=None)
def _line_pattern(source: str, groups: bool) -> tuple[re.Pattern[bytes], bool]:
    alternatives = _top_level_alternatives(source)
    prefixed = all(alternative.startswith("^") for alternative in alternatives)
    if prefixed:
        source = "|".join("\\n" + alternative[1:] for alternative in alternatives)
    return re.compile((f"({source})" if groups else source).encode(), re.MULTILINE), prefixed


def _top_level_alternatives(source: str) -> list[str]:
    """The pattern split at each `|` outside groups and character classes."""
    alternatives, depth, start, index, in_class = [], 0, 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source[index + 1 : index + 2] == "^":
                index += 1
            if source[index + 1 : index + 2] == "]":  # a leading `]` is a member, not the end
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            alternatives.append(source[start:index])
            start = index + 1
        index += 1
    alternatives.append(source[start:])
    return alternatives


def _module_word(path: str) -> bytes:
    """The word an importer would write: the file's stem, its directory for a package file,
    or the directory where a directory is the namespace (a package of files)."""
    directory, _, filename = path.rpartition("/")
    stem = filename.rsplit(".", 1)[0]
    profile = profile_for_path(path)
    if profile is not None and directory and (stem in profile.package_stems or profile.directory_is_namespace):
        return directory.rsplit("/", 1)[-1].encode()
    return stem.encode()


def interferes(other: tuple[PathChange, ...], repository: Repository, tables: SymbolTables):
    """Paths of one side worth parsing for interference with the other side's changes.

    Interference needs a call on one side's lines to a symbol defined in a file the
    other side changed, or state both sides touch in one file (or namespace
    directory). So a code file is parsed when the other side changed a file in the
    same place, when it defines a name the other side's added text calls, or when
    its added text calls a name the other side's changed files define. Definition
    names come from the profile's `header_lines`; without it, a file that merely
    spells a called name counts (coarser: more parsing, never less).
    """
    code = [c for c in other if profile_for_path(c.path) is not None and c.new_id and c.new_kind is EntryKind.FILE]
    resolvers = {profile_for_path(c.path).module_resolver for c in code}
    places = {_place(c.new_path) for c in code}
    known: dict[str, object] = {}

    def their_calls() -> frozenset[bytes]:
        if "calls" not in known:
            known["calls"] = frozenset(w for c in code for w in _CALL_WORD.findall(_hunk_text(repository, c)))
        return known["calls"]

    def their_names():
        if "names" not in known:
            names = [_definition_names(tables, c.new_path, c.new_id) for c in code]
            known["names"] = None if any(n is None for n in names) else frozenset().union(*names)
        return known["names"]

    def parse(change: PathChange) -> bool:
        profile = profile_for_path(change.path)
        if profile is None or profile.module_resolver not in resolvers or not change.new_id or change.new_kind is not EntryKind.FILE:
            return False
        if _place(change.new_path) in places:
            return True
        mine = _definition_names(tables, change.new_path, change.new_id)
        if mine is None:
            if spells(their_calls(), repository.blob(change.new_id)):
                return True
        elif not mine.isdisjoint(their_calls()):
            return True
        calls = frozenset(_CALL_WORD.findall(_hunk_text(repository, change)))
        theirs = their_names()
        if theirs is None:
            return any(spells(calls, repository.blob(c.new_id)) for c in code)
        return not calls.isdisjoint(theirs)

    return parse


# A word followed by an opening parenthesis: what a call spells in every supported language.
_CALL_WORD = re.compile(rb"([A-Za-z_$][\w$]*)\s*\(")


def _place(path: str) -> str:
    profile = profile_for_path(path)
    return posixpath.dirname(path) if profile is not None and profile.directory_is_namespace else path


@_by_blob
def _definition_names(tables: SymbolTables, path: str, blob_id: str) -> frozenset[bytes] | None:
    """The names of a blob's callable definitions: headers (the profile's `header_lines`) that spell
    their name with parameters. None without the pattern."""
    profile = profile_for_path(path)
    if profile is None or profile.header_lines is None:
        return None
    return frozenset(name for header, name in _normalized(_raw_headers(tables, path, blob_id))[1].items()
                     if name + b"(" in header or name + b"<" in header)


def _hunk_text(repository: Repository, change: PathChange) -> bytes:
    """The lines a change added or changed (all of a new file): where every call it wrote is."""
    data = repository.blob(change.new_id)
    if change.old_id is None or change.old_kind is not EntryKind.FILE:
        return data
    lines = data.split(b"\n")
    return b"\n".join(b"\n".join(lines[hunk.new.start - 1 : hunk.new.end])
                      for hunk in repository.hunks(change.old_id, change.new_id) if hunk.new.end >= hunk.new.start)

