"""Behavioural interference: where one side's change of behaviour meets code the other side wrote.

Shapes (DESIGN §3, `interference`):

- new_call: one side changes the body of S; code the other side wrote in the
  merged result calls S where the base version of that code did not.
- call_path: in the merged result a symbol one side changed calls a symbol the
  other side changed, directly or through one unchanged intermediate.
- shared_state: one side's code writes a field or module variable that the
  other side's code reads, in the same class or module.

Only behaviour counts: a change whose body hash is unchanged (comments,
formatting, a rename) is none. A call binds to a definition the way drift binds
uses (imports, receivers, unique method names: `settle.diff.drift`); a call or
a write that cannot be bound to one definition is not judged and is counted in
`Tally.skipped_edges`. What a field write looks like in a language comes from
its `state.scm` query (`SymbolTable.state`); how a method names its receiver
from the profile (`self_names`), receiver parameters and Go's named receivers.

Cost: a side's code is read as text before any table (`Written`): the merged
lines it wrote, carried on over the lines their expressions continue on
(`written_text`). A call of interest spells a changed name there, so only where
it does are the table's references read, and only those to the names it spells
(`SymbolTables.references_to`); state is read only where one side's assignment
targets name what the other side's lines may read (`_written_words`, `_may_read`).
Each test is a superset of what the full extraction finds
(tests/test_interference_prefilters.py), so the findings are those of reading
every table whole.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from settle.diff.changes import _WORD_BYTE, FileChange, SideChanges, SymbolChange, SymbolChangeKind, _whole_words, spells
from settle.diff.drift import MergedTree, _is_member, _resolve, _split_head, _use_names
from settle.diff.written import NOT_BRACKETS, OPERATORS, written_text
from settle.languages import LanguageProfile, profile_for_path
from settle.languages.resolve import module_names_file
from settle.parse.grammar import query_source
from settle.parse.model import Definition, ParameterKind, Reference, ReferenceKind, SymbolKind, SymbolTable
from settle.repo import EntryKind

_MODULE_STATE = frozenset({SymbolKind.VARIABLE, SymbolKind.CONSTANT})
_READS = (ReferenceKind.NAME, ReferenceKind.ATTRIBUTE)


@dataclass
class Tally:
    """What interference could not judge, for `stats` (precision is audited by it): each call or read
    site once, however many candidate definitions or passes met it."""

    skipped: set = field(default_factory=set)

    @property
    def skipped_edges(self) -> int:
        return len(self.skipped)

    def skip(self, table: SymbolTable, reference: Reference) -> None:
        self.skipped.add((table.path, reference.line, reference.text))


@dataclass(frozen=True)
class Interference:
    subkind: str  # new_call | call_path | shared_state
    changer: str  # the side whose change is met: changed the callee, or wrote the state
    user_side: str  # the side whose code calls it or reads the state
    symbol: str  # the callee, or the symbol holding the write (merged id)
    user: str  # the symbol holding the call or the read (merged id, or the path at module level)
    site_path: str  # the call or the read, in the merged result
    site_line: int
    via: str | None = None  # call_path through an intermediate
    state: str | None = None  # shared_state: the field or variable as written
    write_path: str | None = None
    write_line: int | None = None
    symbol_lines: tuple[int, int] | None = None  # the callee's lines on the changer's tip


# -- what a side wrote, in the merged result ------------------------------------------

class Written:
    """One code file of a side as the merged result has it: the merged lines the side wrote, their
    text, and the file's table, each worked out only when asked for. The text comes first: a
    byte test of it decides, for most files, that nothing there can matter, before any table
    (and its references, the costly part) is read. Where the path conflicts, the side's own
    tip and the lines it changed stand in for the merged text (as `MergedResult.view` says)."""

    def __init__(self, merged: MergedTree, side: SideChanges, file: FileChange, path: str):
        self.merged = merged
        self.side = side
        self.file = file
        self.path = path
        self.conflicted = merged.result.conflicted(path)
        self.profile = profile_for_path(path)

    @cached_property
    def blob(self) -> str | None:
        if not self.conflicted:
            return self.merged.result.blob(self.path)
        change = self.file.change
        return change.new_id if change.new_path == self.path and change.new_kind is EntryKind.FILE else None

    @cached_property
    def lines(self) -> frozenset[int]:
        if self.blob is None:
            return frozenset()
        if self.conflicted or self._alone():
            return self.file.changed_new_lines
        return self.merged.result.lines_from(self.path, self.side.name)

    def _alone(self) -> bool:
        """Is the merged file this side's own version, the other side's being the base's? Then the lines
        it wrote there are the lines it changed (what `lines_from` works out, without the diffs)."""
        change = self.file.change
        other = next(side for side in self.merged.sides if side is not self.side)
        return (self.blob == change.new_id and self.path == change.new_path
                and not any(path in other.by_path for path in (change.new_path, change.old_path) if path))

    @cached_property
    def text(self) -> bytes:
        """The bytes of the lines, carried on where an expression on them runs on (`written_text`)."""
        if not self.lines:
            return b""
        return written_text(self.merged.repository.blob(self.blob), self.lines, self.profile.reference_separators)

    def table(self, references: bool = False) -> SymbolTable | None:
        """The table to read: the merged file's, or on a conflicted path the side's tip's. `references`
        says its references will all be read (else only those of a few names are asked for)."""
        if self.blob is None:
            return None
        if self.conflicted:
            table = self.merged.tables.get(self.path, self.blob, references=True)
        else:
            table = self.merged.result.table(self.path, references=references)
        return table if table is not None and table.parsed else None

    def calls_named(self, names) -> Iterator[tuple[SymbolTable, Reference]]:
        """The side's calls (on its lines) whose name is one of `names`: a targeted query of the
        table, the same references as its full list has, without working the others out."""
        table = self.table()
        if table is None:
            return
        for reference in self.merged.tables.references_to(self.path, self.blob, names):
            if reference.kind is ReferenceKind.CALL and reference.line in self.lines:
                yield table, reference

    def state(self, kind: ReferenceKind) -> Iterator[tuple[SymbolTable, Reference]]:
        table = self.table(references=True)
        if table is None:
            return
        for reference in table.state:
            if reference.kind is kind and reference.line in self.lines:
                yield table, reference

    @cached_property
    def written_words(self) -> frozenset[str]:
        """Names the state this file's lines write may have (see `_written_words`)."""
        return _written_words(self.text, self.profile, self.state_names) if self.text else frozenset()

    def may_read(self, words: frozenset[str]) -> bool:
        """May this file's lines read state named one of `words` (see `_may_read`)?"""
        return bool(words) and bool(self.text) and _may_read(self.text, words, self.profile, self.state_names)

    @cached_property
    def state_names(self) -> frozenset[str]:
        return _state_names(self)

    def reads(self) -> Iterator[tuple[SymbolTable, Reference]]:
        """Reads of state: through the receiver, or names (module variables, implicit fields)."""
        yield from self.state(ReferenceKind.READ)
        table = self.table(references=True)
        if table is None:
            return
        for reference in table.references:
            if reference.kind in _READS and reference.line in self.lines:
                yield table, reference


def written_files(merged: MergedTree, side: SideChanges) -> list[Written]:
    """The side's parsed code files, each where it lands in the merged result."""
    found = []
    for file in side.files:
        if file.new_table is None or not file.new_table.parsed or profile_for_path(file.change.new_path) is None:
            continue
        path = merged.result.merged_path(file.change.new_path)
        if path is not None:
            found.append(Written(merged, side, file, path))
    return found


def _word_places(data: bytes, names: tuple[bytes, ...]) -> list[int]:
    """Sorted starts of the names in data as whole words (bytes.find: memchr speed, not a regex scan)."""
    places = []
    for name in names:
        position = data.find(name)
        while position >= 0:
            end = position + len(name)
            if (position == 0 or not _WORD_BYTE[data[position - 1]]) and (end == len(data) or not _WORD_BYTE[data[end]]):
                places.append(position)
            position = data.find(name, position + 1)
    places.sort()
    return places



def _spelled(names: Iterable[str], data: bytes) -> frozenset[str]:
    """The names that data spells as whole words."""
    present = [name for name in names if name.encode() in data]
    if not present:
        return frozenset()
    encoded = tuple(sorted(name.encode() for name in present))
    return frozenset(word.decode() for word in _whole_words(encoded).findall(data))


def behaviour_changes(side: SideChanges) -> dict[str, SymbolChange]:
    """Callables whose body this side changed, by base id. A new binding shape is drift's business:
    every use of it is judged there, so interference would only say it twice; an edit of the
    docstring alone changes what the symbol says, not what it does."""
    return {
        change.old.id: change
        for file in side.files
        for change in file.symbols
        if change.edits_existing and change.old.is_callable and change.new is not None and not change.binding_changed
        and change.old.body_hash != change.new.body_hash and not change.only_documentation(file.hunks)
    }


# -- the pass -------------------------------------------------------------------------

def interference(merged: MergedTree, first: SideChanges, second: SideChanges, tally: Tally) -> Iterator[Interference]:
    changed = {first.name: behaviour_changes(first), second.name: behaviour_changes(second)}
    # Changed by both: concurrent_edit says so; the combination is one symbol, not an edge.
    both = changed[first.name].keys() & changed[second.name].keys()
    for side in (first, second):
        changed[side.name] = {k: v for k, v in changed[side.name].items() if k not in both}
    shared = _shared_paths(first, second)
    if not changed[first.name] and not changed[second.name] and not shared:
        return  # no behaviour changed and no place both wrote: no edge can exist
    written = {side.name: written_files(merged, side) for side in (first, second)}
    for changer, user in ((first, second), (second, first)):
        yield from _calls(merged, written[user.name], changer, user, changed[changer.name], changed[user.name], both, tally)
    if shared:
        for writer, reader in ((first, second), (second, first)):
            yield from _shared_state(written[writer.name], written[reader.name], writer, reader, shared, tally)


def _callees(changes: dict[str, SymbolChange]) -> dict[str, list[tuple[SymbolChange, bool, LanguageProfile]]]:
    """Name a call would spell → (change, is it a constructor, profile)."""
    by_name: dict[str, list] = {}
    for change in changes.values():
        profile = profile_for_path(change.new.id.split("::", 1)[0])
        if profile is None:
            continue
        names, constructor = _use_names(change.new, profile)
        for name in names:
            by_name.setdefault(name, []).append((change, constructor, profile))
    return by_name


def _bind(merged: MergedTree, reference: Reference, table: SymbolTable, change: SymbolChange, constructor: bool,
          profile: LanguageProfile, tally: Tally) -> bool:
    """Does this call mean the changed definition, certainly? Uncertain candidates are counted, not judged."""
    reference_profile = profile_for_path(table.path)
    if reference_profile is None or reference_profile.module_resolver != profile.module_resolver:
        return False
    definition = change.new
    path = definition.id.split("::", 1)[0]
    head, rest = _split_head(reference.text, profile.reference_separators)
    if rest is None and definition.parent is None and not constructor and table.path == path:
        return head == definition.name  # a top-level function called in its own module
    owner = _method_owner(table, reference.scope, profile) if rest == definition.name and _is_member(definition) else None
    if owner is not None and head in owner[1]:
        # Through the method's own receiver (`self.m()`, `this.m()`, Go's `s.m()`): its class's method, no other.
        return owner[0] == definition.parent and _namespace(table.path, profile) == _namespace(path, profile)
    if _is_member(definition) and rest is not None and _through_other_module(table, head, path, profile):
        return False  # `pytest.mark.parametrize(...)`: a chain from an imported module, not an instance of the class
    resolution = _resolve(merged, reference, table, definition, path, profile, constructor, change)
    if resolution is not None and resolution.certain:
        return True
    if resolution is not None or (_is_member(definition) and rest is not None and not _through_receiver(reference, profile)):
        tally.skip(table, reference)  # a method name defined more than once, called through an unknown object
    return False


def _through_other_module(table: SymbolTable, head: str, path: str, profile: LanguageProfile) -> bool:
    """Does the chain start at a name the file imports from a module other than the definition's?"""
    for binding in table.imports:
        if binding.local == head:
            return not module_names_file(profile.module_resolver, binding.module, binding.name, table.path, path)
    return False


def _bind_without_search(merged: MergedTree, reference: Reference, table: SymbolTable, definition: Definition,
                         constructor: bool, profile: LanguageProfile) -> bool:
    """Does the call certainly mean this unchanged definition, by a binding that needs no repository-wide search?"""
    head, rest = _split_head(reference.text, profile.reference_separators)
    path = definition.id.split("::", 1)[0]
    if _is_member(definition) and not constructor:
        owner = _method_owner(table, reference.scope, profile)
        if owner is None or owner[0] != definition.parent or _namespace(table.path, profile) != _namespace(path, profile):
            return False
        if rest is None:  # Java's implicit `this`
            return profile.implicit_self and head == definition.name
        return rest == definition.name and head in owner[1]
    if rest is None and definition.parent is None and not constructor and table.path == path:
        return head == definition.name
    change = SymbolChange(SymbolChangeKind.BODY_CHANGED, definition, definition)
    resolution = _resolve(merged, reference, table, definition, path, profile, constructor, change)
    return resolution is not None and resolution.certain


def _through_receiver(reference: Reference, profile: LanguageProfile) -> bool:
    head, _ = _split_head(reference.text, profile.reference_separators)
    return head in profile.self_names


def _namespace(path: str, profile: LanguageProfile) -> str:
    """Where a class's members live: its file, or (Go, Java) its directory."""
    return posixpath.dirname(path) if profile.directory_is_namespace else path


def _user_id(table: SymbolTable, reference: Reference) -> str:
    return f"{table.path}::{reference.scope}" if reference.scope else table.path


def _calls(merged, written: list[Written], changer, user, changes, user_changes, both, tally) -> Iterator[Interference]:
    """Calls `user` wrote in the merged result that reach a symbol `changer` changed: new calls (new_call),
    and calls a symbol `user` changed already made (call_path), directly or through one unchanged callable.

    Only calls that spell a changed name (or, inside a symbol `user` changed, a middle's name) can
    be edges, so a file is read only where the text `user` wrote spells one: its table's references
    to those names, nothing else of it."""
    callees = _callees(changes)
    if not callees:
        return
    changed_scopes = {c.new.id for c in user_changes.values()}
    # A call of interest spells a changed name, or sits in a symbol `user` changed (it may reach one through a middle).
    holders = {c.new.id.split("::", 1)[0] for c in user_changes.values()}
    holding = [part for part in written if part.file.change.new_path in holders and part.lines]
    middles = _Intermediates(merged, changes.keys() | user_changes.keys() | both, callees, holding) if holding else None
    found: dict[tuple, Interference] = {}
    names = frozenset(callees)
    for part in written:
        in_holder = middles is not None and part.file.change.new_path in holders
        if not in_holder and not part.file.spells_any(names):
            continue
        if not part.lines:
            continue
        spelled = _spelled(names, part.text)
        if in_holder:
            spelled |= _spelled(middles.names(), part.text)
        if not spelled:
            continue
        for table, reference in part.calls_named(spelled):
            caller = _user_id(table, reference)
            holder = _changed_holder(table, reference.scope, changed_scopes)
            for change in _direct(merged, table, reference, callees, tally):
                if caller == change.new.id:
                    continue
                if not _existed_on_base(merged, user, table.path, reference):
                    found.setdefault(("new_call", table.path, reference.line, change.new.id), Interference(
                        "new_call", changer.name, user.name, change.new.id, caller, table.path, reference.line,
                        symbol_lines=_lines(change.new)))
                elif holder is not None and holder != change.new.id:
                    found.setdefault(("call_path", holder, change.new.id), Interference(
                        "call_path", changer.name, user.name, change.new.id, holder, table.path, reference.line,
                        symbol_lines=_lines(change.new)))
            if holder is None or middles is None:
                continue
            for middle, target in middles.reached(reference, table, tally):
                if target.new.id != holder and middle.id != holder:
                    found.setdefault(("call_path", holder, target.new.id), Interference(
                        "call_path", changer.name, user.name, target.new.id, holder, table.path, reference.line,
                        via=middle.id, symbol_lines=_lines(target.new)))
    yield from found.values()


def _changed_holder(table: SymbolTable, scope: str | None, changed_ids: set[str]) -> str | None:
    """The innermost symbol around a scope that this side changed in behaviour (its merged id), if any."""
    while scope:
        symbol = f"{table.path}::{scope}"
        if symbol in changed_ids:
            return symbol
        definition = _qualnames(table).get(scope)
        scope = definition.parent if definition is not None else None
    return None


def _lines(definition: Definition) -> tuple[int, int]:
    return definition.span.start_line, definition.span.end_line


def _existed_on_base(merged: MergedTree, side: SideChanges, path: str, reference: Reference) -> bool:
    """Did the base version of the code holding this call already make it (same text, same scope)?"""
    file = _file_at(side, path)
    old = file.old_table if file is not None else None
    if old is None or not old.parsed:
        return file is None  # no change of this side at the path: the merged line is not its own
    if not _base_text_spells(merged.repository.blob(file.change.old_id), old, reference):
        return False  # the base's code in that scope never spells the name: no call of it there to read
    base = merged.tables.references_to(file.change.old_path, file.change.old_id, (reference.name,))
    return any(r.kind is ReferenceKind.CALL and r.text == reference.text and r.scope == reference.scope for r in base)


def _base_text_spells(data: bytes, old: SymbolTable, reference: Reference) -> bool:
    """Does the base's text of the call's scope (the definitions of that qualname; the file at module
    level) spell the called name? A call in that scope is inside one of them, and spells its name."""
    if reference.scope is None:
        spans = [(0, None)]
    else:
        spans = [(d.span.start_byte, d.span.end_byte) for d in old.definitions if d.qualname == reference.scope]
        if not spans:
            return False
    needle = reference.name.encode()
    return any(spells((needle,), data[start:end]) for start, end in spans)


def _file_at(side: SideChanges, path: str):
    for file in side.files:
        if file.change.new_path == path:
            return file
    return None


def _direct(merged, table, reference, callees, tally) -> Iterator[SymbolChange]:
    for change, constructor, profile in callees.get(reference.name, ()):
        if _bind(merged, reference, table, change, constructor, profile, tally):
            yield change


def _calls_in(merged: MergedTree, table: SymbolTable, definition: Definition, names) -> Iterator[Reference]:
    """Calls of one of `names` inside the definition (its nested functions too), in the merged file."""
    prefix = definition.qualname + "."
    for reference in merged.tables.references_to(table.path, merged.result.blob(table.path), names):
        if reference.kind is ReferenceKind.CALL and reference.scope is not None and (
                reference.scope == definition.qualname or reference.scope.startswith(prefix)):
            yield reference


class _Intermediates:
    """Unchanged callables of the files either side changed that call a changed symbol: the M of T → M → S.

    Only those files: a middle anywhere in the repository would mean parsing it all
    for every pair, and the edges through the files the sides touched are the ones
    a reviewer of either side could have seen. A call reaches a middle only through
    a binding that needs no search of the repository (its own module, an import, the
    method's receiver), and so do a middle's calls: a second hop must not cost a parse
    of every file that spells a method's name."""

    def __init__(self, merged: MergedTree, changed_ids, callees, holding: list[Written]):
        """holding: the files whose lines hold the calls that may reach a middle (in symbols the side changed)."""
        self.merged = merged
        self.changed = set(changed_ids)
        self.callees = callees
        self.holding = holding
        self._names = tuple(sorted(name.encode() for name in callees))
        self._places: dict[str, list[int]] = {}  # blob id → where it spells a changed name
        self._by_name: dict[str, list[tuple[SymbolTable, Definition]]] | None = None
        self._targets: dict[str, list[SymbolChange]] = {}

    def names(self) -> set[str]:
        return set(self._index())

    def _qualifies(self, definition: Definition, blob_id: str) -> bool:
        """A callable neither side changed whose text spells a changed name."""
        if not definition.is_callable or definition.id in self.changed:
            return False
        places = self._places_of(blob_id)
        first = bisect_left(places, definition.span.start_byte)
        return first < len(places) and places[first] < definition.span.end_byte

    def _index(self) -> dict[str, list[tuple[SymbolTable, Definition]]]:
        if self._by_name is None:
            self._by_name = {}
            result = self.merged.result
            paths = sorted({f.change.new_path for side in self.merged.sides for f in side.files
                            if f.change.new_path and f.new_table is not None and f.new_table.parsed
                            and profile_for_path(f.change.new_path) is not None and not result.conflicted(f.change.new_path)})
            versions = {path: self._versions(path) for path in paths}
            # Only files that spell a changed name can hold a middle (most do not: no words to read then).
            paths = [path for path in paths if any(self._places_of(file.change.new_id) for file in versions[path][1])]
            if not paths:
                return self._by_name
            # What a call reaching a middle can name: a word of the text that wrote it.
            words = frozenset(w.decode() for w in {w for part in self.holding for w in _WORD.findall(part.text)})
            for path in paths:
                every, parsed = versions[path]
                if every and not any(d.name in words and self._qualifies(d, file.change.new_id)
                                     for file in parsed for d in file.new_table.definitions):
                    continue
                table = result.table(path, references=False)
                if table is None:
                    continue
                blob_id = result.blob(path)
                for definition in table.definitions:
                    if definition.name in words and self._qualifies(definition, blob_id):
                        self._by_name.setdefault(definition.name, []).append((table, definition))
        return self._by_name

    def _versions(self, path: str) -> tuple[bool, list[FileChange]]:
        """(is every side's version of the path parsed, the parsed ones). Each definition of the merged
        file stands on lines of the version of a side that changed the path, so where all of those are
        parsed, a middle of the merged file is a middle of one of them too: their tables, at hand, are
        asked first, and the merged file's is read only where one holds a candidate."""
        changed = [file for side in self.merged.sides if (file := side.by_path.get(path)) is not None
                   and file.change.new_path == path]
        parsed = [file for file in changed if file.new_table is not None and file.new_table.parsed]
        return len(parsed) == len(changed), parsed

    def _places_of(self, blob_id: str) -> list[int]:
        places = self._places.get(blob_id)
        if places is None:
            places = self._places[blob_id] = _word_places(self.merged.repository.blob(blob_id), self._names)
        return places

    def reached(self, reference: Reference, table: SymbolTable, tally: Tally) -> Iterator[tuple[Definition, SymbolChange]]:
        for middle_table, middle in self._index().get(reference.name, ()):
            profile = profile_for_path(middle_table.path)
            names, constructor = _use_names(middle, profile)
            if reference.name not in names or not _bind_without_search(self.merged, reference, table, middle, constructor, profile):
                continue
            if middle.id not in self._targets:
                self._targets[middle.id] = [
                    change for inner in _calls_in(self.merged, middle_table, middle, self.callees)
                    for change, constructor, profile in self.callees.get(inner.name, ())
                    if _bind_without_search(self.merged, inner, middle_table, change.new, constructor, profile)]
            for target in self._targets[middle.id]:
                yield middle, target


# -- shared state ---------------------------------------------------------------------

def _shared_paths(first: SideChanges, second: SideChanges) -> set[str]:
    """Code paths where both sides wrote: a class's fields and a module's variables live in one file
    (or, where a directory is a namespace, one directory), so state is shared only there."""
    def places(side):
        found = {}
        for file in side.files:
            path = file.change.new_path
            profile = profile_for_path(path) if path else None
            if profile is not None and file.new_table is not None and file.new_table.parsed:
                found.setdefault(_namespace(path, profile), set()).add(path)
        return found

    mine, theirs = places(first), places(second)
    return {path for place in mine.keys() & theirs.keys() for path in mine[place] | theirs[place]}


def _shared_state(writer_files: list[Written], reader_files: list[Written], writer: SideChanges, reader: SideChanges,
                  paths: set[str], tally: Tally) -> Iterator[Interference]:
    # Only files whose lines may write a name the reader's lines may read, and only files that may
    # read one of those, are read: a write's key (or an unbound write's name) and the read matching it
    # (or counted as skipped for it) name the same field or variable. None: no table need be read.
    mine = [part for part in writer_files if part.file.change.new_path in paths and part.written_words]
    if not mine:
        return
    written = frozenset().union(*(part.written_words for part in mine))
    theirs = [part for part in reader_files if part.file.change.new_path in paths and part.may_read(written)]
    if not theirs:
        return
    mine = [part for part in mine if any(other.may_read(part.written_words) for other in theirs)]
    written = frozenset().union(*(part.written_words for part in mine))
    theirs = [part for part in theirs if part.may_read(written)]
    writes: dict[tuple, tuple[SymbolTable, Reference]] = {}
    unbound_names: set[str] = set()
    for table, reference in (found for part in mine for found in part.state(ReferenceKind.WRITE)):
        key = _state_key(table, reference)
        if key is None:
            if _split_head(reference.text, _profile(table).reference_separators)[1] is not None:
                unbound_names.add(reference.name)
            continue
        writes.setdefault(key, (table, reference))
    if not writes and not unbound_names:
        return
    own_writes = {(table.path, r.line, r.text) for part in theirs for table, r in part.state(ReferenceKind.WRITE)}
    found: dict[tuple, Interference] = {}
    for table, reference in (read for part in theirs for read in part.reads()):
        if (table.path, reference.line, _field_text(reference, table)) in own_writes:
            continue
        key = _state_key(table, reference)
        if key is None:
            continue
        if key not in writes:
            if key[2] in unbound_names:
                tally.skip(table, reference)  # written through an object settle cannot bind to this class
            continue
        write_table, write = writes[key]
        symbol, user = _user_id(write_table, write), _user_id(table, reference)
        if symbol == user or (symbol, user, key) in found:
            continue
        found[(symbol, user, key)] = Interference(
            "shared_state", writer.name, reader.name, symbol, user, table.path, reference.line,
            state=_field_text(write, write_table), write_path=write_table.path, write_line=write.line)
    yield from found.values()


def _written_words(text: bytes, profile: LanguageProfile, state_names: frozenset[str]) -> frozenset[str]:
    """A superset of the names `_state_key` gives the writes on the lines of the text: words after a
    separator (the field of `self.x = …`, `this.x.y = …`, Go's `s.X++`; and the last name of a write
    through another object, `other.x.y = …`, which is not judged but has the reads of that name
    counted as skipped) and words naming one of the file's module variables or fields, in the
    assignment targets `_targets` keeps. Writes are placed exactly (their node's line)."""
    stretches = _targets(text, profile)
    if not stretches:
        return frozenset()
    joined = b"\n".join(stretches)
    words = {word.decode() for word in _after_separator(profile.reference_separators).findall(joined)}
    if state_names:
        words.update(word for word in (w.decode() for w in set(_WORD.findall(joined))) if word in state_names)
    return frozenset(words)


def _may_read(text: bytes, words: frozenset[str], profile: LanguageProfile, state_names: frozenset[str]) -> bool:
    """May the text hold a read of state named one of `words`: `self.x`, `this.x`, Go's `s.x` (a field
    through the receiver), or a module variable's or field's bare name? A read is placed where the
    extraction first finds its text in the scope, which may be inside a longer word (`self.x` in
    `self.xs`): so the test is of bytes, not of whole words."""
    if _reading(profile.reference_separators, _read_heads(profile), tuple(sorted(words))).search(text) is not None:
        return True
    return any(word.encode() in text for word in words & state_names)


def _read_heads(profile: LanguageProfile) -> tuple[str, ...] | None:
    """How a read through the receiver starts: the profile's words for it, or any name where a
    method names its receiver (Python's first parameter, Go's named receiver)."""
    return None if profile.first_parameter_is_receiver or _names_receivers(profile) else profile.self_names


@lru_cache(maxsize=1024)
def _reading(separators: tuple[str, ...], heads: tuple[str, ...] | None, words: tuple[str, ...]) -> re.Pattern[bytes]:
    joiner = b"|".join(re.escape(separator.encode()) for separator in separators)
    before = b"(?:" + b"|".join(re.escape(head.encode()) for head in heads) + rb")\s*" if heads else b""
    return re.compile(before + rb"(?:" + joiner + rb")\s*(?:" + b"|".join(re.escape(word.encode()) for word in words) + b")")


_ASSIGNMENT = re.compile(rb"(?<![=!<>:])=(?![=>])|<<=|>>=")  # not ==, !=, <=, >=, =>, nor := (a declaration)
_BEFORE_LAST_ASSIGNMENT = re.compile(rb"(.*)(?:(?<![=!<>:])=(?![=>])|<<=|>>=)")  # greedy: up to the line's last one
_UPDATE = re.compile(rb"\+\+|--")
_DOUBLE_QUOTED = rb'"(?:[^"\\\n]|\\.)*"'
_QUOTED = {'"': _DOUBLE_QUOTED, "'": rb"'(?:[^'\\\n]|\\.)*'", "`": rb"`[^`\n]*`"}
_DIRECTIVE = re.compile(r"^;\s*prefilter\s+([\w-]+):(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class _Lexicon:
    """How a language's text shows what is no assignment, for the byte prefilter of shared state: read
    from the `; prefilter …:` lines of its state query (grammars/<language>/state.scm), beside the
    patterns that say what a write is. An `=` or `--` in a one-line string literal (`"--flag=value"`)
    or a line comment is none, nor is a declaration's (`const x = …`)."""

    strings: re.Pattern[bytes] | None  # one-line string literals of the language's quotes
    plain_strings: re.Pattern[bytes] | None  # the same but for templates, on a line with `${` (code)
    comment: re.Pattern[bytes] | None  # a line comment, at the line's start or after a space
    comment_starts: tuple[bytes, ...]  # what a line comment starts with
    declaration: re.Pattern[bytes] | None  # a stretch that declares (its names are no write)
    names_written: re.Pattern[bytes] | None  # a statement whose names are all writes (`global`)
    writing_words: tuple[bytes, ...]  # its keywords
    continues: tuple[bytes, ...]  # a target list runs on to the next line after these (Go's `,`)

    @classmethod
    def of(cls, profile: LanguageProfile) -> _Lexicon:
        known = _LEXICONS.get(profile.name)
        if known is None:
            said: dict[str, list[str]] = {}
            for key, value in _DIRECTIVE.findall(query_source(profile)):
                said.setdefault(key, []).extend(value.split())
            quotes = [_QUOTED[quote] for quote in said.get("quotes", ())]
            plain = [_QUOTED[quote] for quote in said.get("quotes", ()) if quote != "`"]
            comment = said.get("line-comment")
            declares, global_ = said.get("declares"), said.get("writes-names")
            known = _LEXICONS[profile.name] = cls(
                re.compile(b"|".join(quotes)) if quotes else None,
                re.compile(b"|".join(plain)) if plain else None,
                re.compile(rb"(?:^|(?<=\s))(?:" + b"|".join(re.escape(c.encode()) for c in comment) + rb").*") if comment else None,
                tuple(c.encode() for c in comment or ()),
                re.compile(rb"^\s*(?:export\s+)?(?:declare\s+)?(?:" + b"|".join(re.escape(w.encode()) for w in declares) + rb")\b")
                if declares else None,
                re.compile(rb"(?<![\w$])(?:" + b"|".join(re.escape(w.encode()) for w in global_) + rb")(?![\w$])") if global_ else None,
                tuple(w.encode() for w in global_ or ()),
                tuple(token.encode() for token in said.get("targets-continue", ())),
            )
        return known

    def code(self, line: bytes) -> bytes:
        """The line with its one-line string literals emptied and its line comment cut."""
        strings = self.plain_strings if b"${" in line else self.strings
        if strings is not None and (b'"' in line or b"'" in line or b"`" in line):
            line = strings.sub(b'""', line)
        if self.comment is not None and any(start in line for start in self.comment_starts):
            line = self.comment.sub(b"", line)
        return line


_LEXICONS: dict[str, _Lexicon] = {}
_WORD = re.compile(rb"(?<![\w$])[A-Za-z_$][\w$]*")


@lru_cache(maxsize=None)
def _after_separator(separators: tuple[str, ...]) -> re.Pattern[bytes]:
    """The word after a separator."""
    joiner = b"|".join(re.escape(separator.encode()) for separator in separators)
    return re.compile(rb"(?:" + joiner + rb")\s*([A-Za-z_$][\w$]*)")


def _targets(text: bytes, profile: LanguageProfile) -> list[bytes]:
    """The stretches of text that may hold an assignment's target, strings emptied and comments cut
    (`_Lexicon`): each line's text before its last `=` (and the lines before it, while the target runs
    on from them: a bracket the stretch closes is open there, the stretch starts with a separator or
    an operator, or the line before ends in a separator, `\\` or what the language continues a target
    list after), and whole lines that update (`++`, `--`) or write names (Python's `global`)."""
    lexicon = _Lexicon.of(profile)
    separators = profile.reference_separators
    starts = tuple(separator.encode() for separator in separators) + OPERATORS
    ends = tuple(separator.encode() for separator in separators) + (b"\\",) + lexicon.continues
    raw = text.split(b"\n")
    codes: dict[int, bytes] = {}

    def code(index: int) -> bytes:
        found = codes.get(index)
        if found is None:
            found = codes[index] = lexicon.code(raw[index])
        return found

    writing = lexicon.writing_words
    stretches = []
    for index, whole in enumerate(raw):
        named = bool(writing) and any(word in whole for word in writing)
        if b"=" not in whole and b"++" not in whole and b"--" not in whole and not named:
            continue
        line = code(index)
        if ((b"++" in line or b"--" in line) and _UPDATE.search(line) is not None) or (
                named and lexicon.names_written.search(line) is not None):
            stretches.append(line)
        if b"=" not in line:
            continue
        last = _BEFORE_LAST_ASSIGNMENT.match(line)
        if last is None:
            continue
        stretch = last.group(1)
        stretches.append(_declared_cut(stretch, lexicon.declaration))
        balance, back = _closing(stretch), index
        while back > 0 and (balance > 0 or stretch.lstrip().startswith(starts) or code(back - 1).rstrip().endswith(ends)):
            back -= 1
            stretch = code(back)
            stretches.append(stretch)
            balance += _closing(stretch)
    return stretches


def _declared_cut(stretch: bytes, declaration: re.Pattern[bytes] | None) -> bytes:
    """A declaration's stretch from its first `=` on (what it declares is no write, `const x = …`;
    a chained assignment after it may be one), any other stretch whole."""
    if declaration is None or declaration.match(stretch) is None:
        return stretch
    first = _ASSIGNMENT.search(stretch)
    return stretch[first.end():] if first is not None else b""


def _closing(text: bytes) -> int:
    """Closing brackets less opening ones: above zero, the text closes what opened before it."""
    brackets = text.translate(None, NOT_BRACKETS)
    return brackets.count(b")") + brackets.count(b"]") + brackets.count(b"}") - (
        brackets.count(b"(") + brackets.count(b"[") + brackets.count(b"{"))


def _state_names(part: Written) -> frozenset[str]:
    """Names of the module variables (and, where a bare name reaches the instance, the fields) the
    merged file defines: every line of it is on the version of a side that changed the path, so
    their own tables name them all; the merged table only where such a side's is not parsed."""
    if part.conflicted:
        tables = [part.table()]
    else:
        tables = []
        for side in part.merged.sides:
            file = side.by_path.get(part.path)
            if file is None or file.change.new_path != part.path:
                continue
            if file.new_table is None or not file.new_table.parsed:
                tables = [part.table()]
                break
            tables.append(file.new_table)
    names: set[str] = set()
    for table in tables:
        if table is not None:
            facts = _facts(table)
            names |= facts.module_state
            if part.profile.implicit_self:
                names |= facts.field_names
    return frozenset(names)


def _profile(table: SymbolTable) -> LanguageProfile:
    return profile_for_path(table.path)


def _field_text(reference: Reference, table: SymbolTable) -> str:
    """The state a reference names: `self.x` of `self.x.append`, or the bare name."""
    separators = _profile(table).reference_separators
    head, rest = _split_head(reference.text, separators)
    if rest is None:
        return head
    field, _ = _split_head(rest, separators)
    separator = reference.text[len(head): len(reference.text) - len(rest)]
    return f"{head}{separator}{field}"


def _state_key(table: SymbolTable, reference: Reference) -> tuple[str, str, str] | None:
    """(namespace, class qualname or "" for a module, name) of the state a reference writes or reads; None: unbound."""
    profile = _profile(table)
    namespace = _namespace(table.path, profile)
    head, rest = _split_head(reference.text, profile.reference_separators)
    owner = _method_owner(table, reference.scope, profile)
    facts = _facts(table)
    if rest is not None:
        if owner is None or head not in owner[1]:
            return None
        field, _ = _split_head(rest, profile.reference_separators)
        return namespace, owner[0], field
    if owner is not None and profile.implicit_self and (owner[0], head) in facts.fields:
        return namespace, owner[0], head
    if head in facts.module_state:
        return namespace, "", head
    return None


class _Facts:
    """What interference asks of a table again and again, indexed once."""

    def __init__(self, table: SymbolTable):
        self.table = table  # held: its id stays its own while this is cached
        self._receivers: dict[str, frozenset[str]] | None = None

    @cached_property
    def qualnames(self) -> dict[str, Definition]:
        return {d.qualname: d for d in self.table.definitions}

    @cached_property
    def fields(self) -> set[tuple[str | None, str]]:
        return {(d.parent, d.name) for d in self.table.definitions if d.kind is SymbolKind.FIELD}

    @cached_property
    def field_names(self) -> set[str]:
        return {name for _, name in self.fields}

    @cached_property
    def module_state(self) -> set[str]:
        return {d.name for d in self.table.definitions if d.parent is None and d.kind in _MODULE_STATE}

    def named_receivers(self, qualname: str) -> frozenset[str]:
        """Receiver names the state query found for the method (Go's `func (s *T)`)."""
        if self._receivers is None:
            found: dict[str, set[str]] = {}
            for scope, name in self.table.receivers:
                found.setdefault(scope, set()).add(name)
            self._receivers = {scope: frozenset(names) for scope, names in found.items()}
        return self._receivers.get(qualname, frozenset())


_FACTS: dict[int, _Facts] = {}


def _facts(table: SymbolTable) -> _Facts:
    facts = _FACTS.get(id(table))
    if facts is None or facts.table is not table:
        if len(_FACTS) > 512:
            _FACTS.clear()
        facts = _FACTS[id(table)] = _Facts(table)
    return facts


def _names_receivers(profile: LanguageProfile) -> bool:
    """Does the language's state query name receivers per method (`@receiver`: Go)? Elsewhere the
    receiver is the profile's own word or a parameter."""
    known = _NAMES_RECEIVERS.get(profile.name)
    if known is None:
        text = re.sub(r';[^\n]*|"(?:[^"\\]|\\.)*"', "", query_source(profile))  # comments and strings of queries
        known = _NAMES_RECEIVERS[profile.name] = re.search(r"@receiver\b", text) is not None
    return known


_NAMES_RECEIVERS: dict[str, bool] = {}


def _qualnames(table: SymbolTable) -> dict[str, Definition]:
    return _facts(table).qualnames


def _method_owner(table: SymbolTable, scope: str | None, profile: LanguageProfile) -> tuple[str, _Receivers] | None:
    """(class qualname, names of the receiver) of the method enclosing a scope (through nested functions)."""
    facts = _facts(table)
    definition = facts.qualnames.get(scope) if scope else None
    while definition is not None:
        if definition.kind is SymbolKind.METHOD and definition.parent is not None:
            return definition.parent, _Receivers(facts, definition, profile)
        definition = facts.qualnames.get(definition.parent) if definition.parent else None
    return None


class _Receivers:
    """The names a method's receiver goes by: the profile's (`self`, `this`), a receiver parameter,
    and Go's named receiver, which the table lists (`SymbolTable.receivers`)."""

    def __init__(self, facts: _Facts, method: Definition, profile: LanguageProfile):
        self.facts, self.method, self.profile = facts, method, profile

    def __contains__(self, name: str) -> bool:
        if name in self.profile.self_names:
            return True
        signature = self.method.signature
        if signature is not None and any(p.name == name for p in signature.parameters if p.kind is ParameterKind.RECEIVER):
            return True
        return name in self.facts.named_receivers(self.method.qualname)


__all__ = ["Interference", "Tally", "Written", "behaviour_changes", "interference", "written_files"]
