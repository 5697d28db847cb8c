"""What one side did, symbol by symbol: base commit → tip commit.

A side is a candidate branch or the target's advance since a fork point. Its
changes are computed once and shared by every pair it takes part in.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache

from settle.languages import profile_for_path
from settle.parse.cache import SymbolTables
from settle.parse.mentions import WORD_RUN
from settle.parse.model import Definition, ReferenceKind, SymbolTable
from settle.repo import ChangeStatus, EntryKind, Hunk, PathChange, Repository


class SymbolChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    SIGNATURE_CHANGED = "signature_changed"
    BODY_CHANGED = "body_changed"


@dataclass(frozen=True, slots=True)
class SymbolChange:
    kind: SymbolChangeKind
    old: Definition | None  # on the base (None when added)
    new: Definition | None  # on the tip (None when removed)
    # A removal (or a move to another module) whose name the old module still binds,
    # by an import: its users there still find it, so nothing is removed for them.
    still_bound: bool = False

    @property
    def symbol(self) -> str:
        """The id a claim must cover: the new id, or the old one for a removal."""
        return (self.new or self.old).id  # type: ignore[union-attr]

    @property
    def edits_existing(self) -> bool:
        return self.kind in (SymbolChangeKind.SIGNATURE_CHANGED, SymbolChangeKind.BODY_CHANGED)

    def only_documentation(self, hunks: tuple[Hunk, ...]) -> bool:
        """An edit whose every changed line inside the symbol lies in its docstring, on both ends:
        what the symbol says changed, not what it does. hunks: its file's line diff."""
        if self.kind is not SymbolChangeKind.BODY_CHANGED or self.old.docstring is None or self.new.docstring is None:
            return False
        old_span = self.old.span
        touched = False
        for hunk in hunks:
            if hunk.old.end < old_span.start_line or hunk.old.start > old_span.end_line:
                continue
            touched = True
            if not (_inside(hunk.old, self.old.docstring) and _inside(hunk.new, self.new.docstring)):
                return False
        return touched

    @property
    def binding_changed(self) -> bool:
        """The callable's parameters changed in a way call sites can notice."""
        return (
            self.kind is SymbolChangeKind.SIGNATURE_CHANGED
            and self.old is not None
            and self.new is not None
            and self.old.signature is not None
            and self.new.signature is not None
            and self.old.signature.binding_shape != self.new.signature.binding_shape
        )


class FileChange:
    """One changed path of a side, with its symbol tables on both ends."""

    def __init__(self, change: PathChange, old_table: SymbolTable | None, new_table: SymbolTable | None, repository: Repository):
        self.change = change
        self.old_table = old_table
        self.new_table = new_table
        self._repository = repository
        self.symbols: tuple[SymbolChange, ...] = ()
        self.skipped = False  # not parsed: nothing the other side does can make it matter
        self.syntax_check = None  # for skipped files: (path, blob id) → syntax error lines
        self._new_code_references: tuple | None = None
        self._spell_asks = 0  # `spells_any` calls; past a few, the new text's words are collected once
        self._words: frozenset[bytes] | None = None
        self.tip: str | None = None  # the side's tip commit (its manifests say the language's edition)
        self.base: str | None = None  # the side's base commit (a new file's neighbours there)

    def introduced_syntax_errors(self) -> tuple[int, ...]:
        """Lines of syntax errors the tip has where the base (if the file existed) had none.

        The base is looked at only when the tip has errors: most tips have none, and for
        a skipped file each look is a parse."""
        new = self._syntax_errors(self.new_table, self.change.new_path, self.change.new_id, self.change.new_kind)
        if not new:
            return ()
        from settle.diff.syntax import introduced_errors  # rare: most tips have no errors

        old_id = self.change.old_id if self.change.old_kind is EntryKind.FILE else None
        return introduced_errors(self._repository, self.base, self.tip, self.change.new_path, self.change.new_id, old_id)

    def _syntax_errors(self, table, path, blob_id, kind) -> tuple[int, ...] | None:
        """A version's syntax error lines; None where it is missing or not parseable text."""
        if not self.skipped:
            return table.syntax_errors if table is not None and table.parsed else None
        if self.syntax_check is None or kind is not EntryKind.FILE:
            return None
        return self.syntax_check(path, blob_id)

    @property
    def path(self) -> str:
        return self.change.path

    @property
    def has_symbols(self) -> bool:
        """Both ends (where present) were parsed into symbols."""
        return all(t is None or t.parsed for t in (self.old_table, self.new_table)) and (
            self.old_table is not None or self.new_table is not None
        )

    @cached_property
    def hunks(self) -> tuple[Hunk, ...]:
        ids = (self.change.old_id, self.change.new_id)
        kinds = (self.change.old_kind, self.change.new_kind)
        if any(kind not in (EntryKind.FILE, EntryKind.MISSING) for kind in kinds):
            return ()
        return self._repository.hunks(*ids)

    @cached_property
    def changed_new_lines(self) -> frozenset[int]:
        lines: set[int] = set()
        for hunk in self.hunks:
            lines.update(range(hunk.new.start, hunk.new.end + 1))
        return frozenset(lines)

    @cached_property
    def module_level_changed(self) -> bool:
        """A hunk touches lines outside every definition (imports, top-level statements)."""
        for table, side in ((self.old_table, "old"), (self.new_table, "new")):
            if table is None or not table.parsed:
                continue
            covered = [(d.span.start_line, d.span.end_line) for d in table.definitions]
            for hunk in self.hunks:
                lines = range(getattr(hunk, side).start, getattr(hunk, side).end + 1)
                if any(not any(start <= line <= end for start, end in covered) for line in lines):
                    return True
        return False

    def spells_any(self, names) -> bool:
        """Does the new text spell one of the names as a word? (Bytes: cheaper than its references.)
        Interference asks this of a file once per changed symbol: past a few asks, the text's
        words are collected once, and a name made of word bytes only is looked up among them."""
        blob_id = self._new_blob
        if blob_id is None:
            return False
        self._spell_asks += 1
        if self._spell_asks <= _ASKS_BEFORE_WORDS:  # asked a few times (most files): a byte search is cheaper
            return self.spells_bytes([name.encode() for name in names])
        return spelled_among(names, self.words(), lambda: self._repository.blob(blob_id))

    def spells_bytes(self, names: list[bytes]) -> bool:
        """`spells` of the names in the new text (False where there is no new file)."""
        blob_id = self._new_blob
        return blob_id is not None and spells(names, self._repository.blob(blob_id))

    def words(self) -> frozenset[bytes]:
        """The new text's words (its maximal runs of word bytes), collected once; none where there is no new file."""
        if self._words is None:
            blob_id = self._new_blob
            self._words = frozenset(WORD_RUN.findall(self._repository.blob(blob_id))) if blob_id is not None else frozenset()
        return self._words

    @property
    def _new_blob(self) -> str | None:
        """The new file's blob id; None where the tip has no file here (deleted, a link, a submodule)."""
        return self.change.new_id if self.change.new_kind is EntryKind.FILE else None

    def new_code_references(self) -> tuple:
        """References on the tip that this side wrote: inside symbols it added or changed, or on changed lines.
        (Worked out once: every changed symbol whose name the file spells asks again.)"""
        if self._new_code_references is None:
            self._new_code_references = self._written_references()
        return self._new_code_references

    def _written_references(self) -> tuple:
        if self.new_table is None or not self.new_table.parsed:
            return ()
        touched = {c.new.qualname for c in self.symbols if c.new is not None}
        return tuple(reference for reference in self.new_table.references
                     if (reference.scope is not None and _within(reference.scope, touched))
                     or reference.line in self.changed_new_lines)


def _inside(lines, span: tuple[int, int]) -> bool:
    """A hunk's range lies within the lines (an empty range: between two of them)."""
    if lines.empty:
        return span[0] < lines.start <= span[1]
    return span[0] <= lines.start and lines.end <= span[1]


_WORD_BYTE = [(byte < 128 and chr(byte).isalnum()) or chr(byte) in "_$" for byte in range(256)]  # as the regexes' [\\w$]
_ASKS_BEFORE_WORDS = 4
_PLACES_LOOKED_AT = 32  # substring places of one name checked one by one; past them, the regex


def spelled_among(names: Iterable[str], words: frozenset[bytes], data: Callable[[], bytes]) -> bool:
    """`spells` of the names, given the text's words (its maximal runs of word bytes): a name made of
    word bytes only is spelled as a whole word exactly when it is one of them; any other name is
    looked for in data() itself."""
    whole, odd = split_names(names)
    return not words.isdisjoint(whole) or (bool(odd) and spells(odd, data()))


def split_names(names: Iterable[str]) -> tuple[list[bytes], list[bytes]]:
    """The names, encoded, as (those made of word bytes only, the others): a word-bytes name is
    in a text exactly where one of the text's words holds it; for the others, the bytes decide."""
    whole, odd = [], []
    for name in names:
        encoded = name.encode()
        (whole if WORD_RUN.fullmatch(encoded) is not None else odd).append(encoded)
    return whole, odd


def spells(names: Iterable[bytes], data: bytes) -> bool:
    """Does data spell one of the names as a whole word (no letter, digit, `_` or `$` on either side)?

    Each name's substring places are found at memchr speed and their neighbours looked at:
    the regex with look-arounds is tried at every position of data, ten times slower on
    replay's texts of hundreds of kilobytes. A name found inside words more than
    _PLACES_LOOKED_AT times goes to the regex after all."""
    crowded = []
    for name in names:
        place, width, looked = data.find(name), len(name), 0
        while place != -1:
            end = place + width
            if (place == 0 or not _WORD_BYTE[data[place - 1]]) and (end == len(data) or not _WORD_BYTE[data[end]]):
                return True
            looked += 1
            if looked == _PLACES_LOOKED_AT:
                crowded.append(name)
                break
            place = data.find(name, place + 1)
    return bool(crowded) and _whole_words(tuple(sorted(crowded))).search(data) is not None


@lru_cache(maxsize=4096)
def _whole_words(names: tuple[bytes, ...]) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![\w$])(?:" + b"|".join(re.escape(name) for name in names) + rb")(?![\w$])")


def _within(scope: str, qualnames: set[str]) -> bool:
    while True:
        if scope in qualnames:
            return True
        if "." not in scope:
            return False
        scope = scope.rsplit(".", 1)[0]


class SideChanges:
    """Everything one side changed between base and tip."""

    def __init__(self, name: str, base: str, tip: str, repository: Repository, tables: SymbolTables,
                 parse: Callable[[PathChange], bool] | None = None, syntax_of_skipped: bool = True,
                 changes: tuple[PathChange, ...] | None = None):
        """parse, when given, says which changed paths are worth parsing; the others are kept
        as paths only (`FileChange.skipped`) and can produce no symbol-level finding. Their
        syntax is still checked (a parse without extraction) unless syntax_of_skipped is False.
        changes, when given, are `repository.changes(base, tip)` already computed."""
        self.name = name
        self.base = base
        self.tip = tip
        files = []
        for change in changes if changes is not None else repository.changes(base, tip):
            if parse is not None and not parse(change):
                file = FileChange(change, None, None, repository)
                file.skipped = True
                file.syntax_check = tables.syntax_errors if syntax_of_skipped else None
            else:
                file = FileChange(change, _table(tables, change.old_path, change.old_id, change.old_kind),
                                  _table(tables, change.new_path, change.new_id, change.new_kind), repository)
            file.tip, file.base = tip, base
            files.append(file)
        self.files: tuple[FileChange, ...] = tuple(files)
        _assign_symbol_changes(self.files)
        self._spelling_asks = 0  # `files_spelling` calls; past a few, the files are indexed by word once

    def files_spelling(self, names) -> list[FileChange]:
        """The parsed files whose new text spells one of the names as a word (`FileChange.spells_any`),
        in order. Drift asks this once per changed symbol of the other side, of every file: past a
        few asks, the files are indexed by their words once, and a name made of word bytes only
        is one lookup (zod's fast-parse branch, 2,265 changed symbols, asked it 1.5 M times)."""
        self._spelling_asks += 1
        if self._spelling_asks <= _ASKS_BEFORE_WORDS:
            return [file for file in self._parsed_files if file.spells_any(names)]
        index = self._word_index
        whole, odd = split_names(names)
        found = {position for word in whole for position in index.get(word, ())}
        parsed = self._parsed_files
        if odd:
            found.update(position for position, file in enumerate(parsed)
                         if position not in found and file.spells_bytes(odd))
        return [parsed[position] for position in sorted(found)]

    @cached_property
    def _parsed_files(self) -> tuple[FileChange, ...]:
        return tuple(file for file in self.files if file.new_table is not None and file.new_table.parsed)

    @cached_property
    def _word_index(self) -> dict[bytes, list[int]]:
        """Word → the positions (in `_parsed_files`) of the files whose new text has it."""
        index: dict[bytes, list[int]] = {}
        for position, file in enumerate(self._parsed_files):
            for word in file.words():
                index.setdefault(word, []).append(position)
        return index

    @cached_property
    def by_path(self) -> dict[str, FileChange]:
        paths: dict[str, FileChange] = {}
        for file in self.files:
            for path in (file.change.old_path, file.change.new_path):
                if path:
                    paths.setdefault(path, file)
        return paths

    @cached_property
    def symbol_changes(self) -> tuple[SymbolChange, ...]:
        return tuple(change for file in self.files for change in file.symbols)

    @cached_property
    def changed_old_ids(self) -> dict[str, SymbolChange]:
        """Base symbol id → how this side changed it (edits, removals, renames)."""
        return {c.old.id: c for c in self.symbol_changes if c.old is not None}

    @cached_property
    def added_ids(self) -> dict[str, SymbolChange]:
        return {c.new.id: c for c in self.symbol_changes if c.kind is SymbolChangeKind.ADDED}


def _table(tables: SymbolTables, path: str | None, blob_id: str | None, kind: EntryKind) -> SymbolTable | None:
    if path is None or blob_id is None or kind is not EntryKind.FILE:
        return None
    return tables.get(path, blob_id)


def _assign_symbol_changes(files: tuple[FileChange, ...]) -> None:
    """Compare definitions by id; then pair removals with additions of the same body as renames."""
    removed: list[tuple[FileChange, Definition]] = []
    added: list[tuple[FileChange, Definition]] = []
    per_file: dict[int, list[SymbolChange]] = {id(f): [] for f in files}
    for file in files:
        old = {d.id: d for d in file.old_table.definitions} if file.old_table is not None and file.old_table.parsed else {}
        new = {d.id: d for d in file.new_table.definitions} if file.new_table is not None and file.new_table.parsed else {}
        if file.change.status is ChangeStatus.RENAMED:
            # A moved file keeps its symbols' qualified names: compare them by qualname. A move
            # that keeps the module's import name (`a/json.py` → `a/json/__init__.py`) moves
            # nothing for its users: its symbols are the same ones, not renamed.
            same_module = _module_key(file.change.old_path) == _module_key(file.change.new_path)
            old_by_qualname = {d.qualname: d for d in old.values()}
            for definition in new.values():
                before = old_by_qualname.pop(definition.qualname, None)
                if before is None:
                    added.append((file, definition))
                else:
                    change = _compare(before, definition, renamed=not same_module)
                    if change is not None:
                        per_file[id(file)].append(change)
            removed.extend((file, d) for d in old_by_qualname.values())
            continue
        # One id of two kinds (a type `Schema` gone, a function `Schema` whose id lost its
        # overload suffix) is two symbols: a removal and an addition, paired below.
        for symbol, definition in old.items():
            if symbol not in new or new[symbol].kind != definition.kind:
                removed.append((file, definition))
            else:
                change = _compare(definition, new[symbol], renamed=False)
                if change is not None:
                    per_file[id(file)].append(change)
        added.extend((file, d) for symbol, d in new.items() if symbol not in old or old[symbol].kind != d.kind)
    removed, added = _same_module_moves(removed, added, per_file)
    # Renames: one removal and one addition of the same kind with the same body.
    by_body: dict[tuple, list[tuple[FileChange, Definition]]] = {}
    for file, definition in added:
        by_body.setdefault((definition.kind, definition.body_hash), []).append((file, definition))
    for file, definition in removed:
        matches = by_body.get((definition.kind, definition.body_hash))
        bound = _still_bound(file, definition)
        if matches and len(matches) == 1 and _renamable(definition):
            new_file, new_definition = matches.pop()
            per_file[id(new_file)].append(SymbolChange(SymbolChangeKind.RENAMED, definition, new_definition, bound))
        else:
            per_file[id(file)].append(SymbolChange(SymbolChangeKind.REMOVED, definition, None, bound))
    for matches in by_body.values():
        for file, definition in matches:
            per_file[id(file)].append(SymbolChange(SymbolChangeKind.ADDED, None, definition))
    for file in files:
        file.symbols = tuple(sorted(per_file[id(file)], key=lambda c: (c.symbol, c.kind)))


RENAMABLE_BODY_BYTES = 16
def _module_key(path: str | None) -> str:
    """The module a path is imported as, spelled as a path: a package's stem file is its directory."""
    stem = posixpath.splitext(path or "")[0]
    profile = profile_for_path(path or "")
    if profile is not None and posixpath.basename(stem) in profile.package_stems:
        return posixpath.dirname(stem)
    return stem


def _same_module_moves(removed, added, per_file):
    """Definitions removed and added in one module that are the same symbol under another id.

    By qualname across files of one module (a module turned into a package, when git saw
    no rename); then, within the module, by container, name and kind when that pairs one
    removal with one addition: an overload suffix that came or went because a same-named
    sibling did (`Schema(string)` → `Schema` once a type `Schema` is gone), or an
    overload's parameter list that changed (`Gson(int)` → `Gson(int,String)`), is one
    symbol's change, not a removal.
    """
    for key in (_by_qualname, _by_name):
        arrivals: dict[tuple, list] = {}
        for file, definition in added:
            arrivals.setdefault(key(file.change.new_path, definition), []).append((file, definition))
        departures: dict[tuple, list] = {}
        for file, definition in removed:
            departures.setdefault(key(file.change.old_path, definition), []).append((file, definition))
        still_removed = []
        for group, leaving in departures.items():
            matches = arrivals.get(group)
            if len(leaving) != 1 or not matches or len(matches) != 1:
                still_removed.extend(leaving)
                continue
            (file, definition), (new_file, new_definition) = leaving[0], matches.pop()
            change = _compare(definition, new_definition, renamed=False)
            if change is not None:
                per_file[id(new_file)].append(change)
        removed, added = still_removed, [pair for pairs in arrivals.values() for pair in pairs]
    return removed, added


def _by_qualname(path, definition) -> tuple:
    return (_module_key(path), definition.qualname, definition.kind)


def _by_name(path, definition) -> tuple:
    return (_module_key(path), definition.parent, definition.name, definition.kind)


def _still_bound(file: FileChange, definition: Definition) -> bool:
    """Its module still binds the name on the tip: imported there (`from x import name`), or,
    for a TypeScript-style type/value pair, still defined there as the other kind (the value
    `Schema` stays when the type `Schema` goes). Same-kind siblings (overloads) don't count:
    whether a call still binds to one of them is for the drift pass to judge."""
    table = file.new_table
    if table is None or not table.parsed:
        return False
    if any(d.name == definition.name and d.parent == definition.parent and d.kind != definition.kind for d in table.definitions):
        return True
    return "." not in definition.qualname and any(binding.local == definition.name for binding in table.imports)


def _renamable(definition: Definition) -> bool:
    # Tiny bodies (`pass`, `{}`, `return 0`) match too many things to call them renames. Line
    # counts alone do not say it: a Python body starts on its first statement's line, so a
    # one-statement method (`return self.data[key]`) has no line past its header.
    body_bytes = definition.span.end_byte - definition.header.end_byte
    return (definition.signature is None or definition.span.end_line > definition.header.end_line
            or body_bytes >= RENAMABLE_BODY_BYTES)


def _compare(old: Definition, new: Definition, renamed: bool) -> SymbolChange | None:
    if old.header_hash != new.header_hash:
        kind = SymbolChangeKind.SIGNATURE_CHANGED
    elif old.body_hash != new.body_hash:
        kind = SymbolChangeKind.BODY_CHANGED
    elif renamed and old.id != new.id:
        kind = SymbolChangeKind.RENAMED
    else:
        return None
    return SymbolChange(kind, old, new)


__all__ = ["FileChange", "ReferenceKind", "SideChanges", "SymbolChange", "SymbolChangeKind", "spells"]
