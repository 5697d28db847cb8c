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
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from settle.diff.changes import SideChanges, SymbolChange, SymbolChangeKind, spells
from settle.diff.drift import MergedTree, _is_member, _resolve, _split_head, _use_names
from settle.languages import LanguageProfile, profile_for_path
from settle.languages.resolve import module_names_file
from settle.parse.model import Definition, ParameterKind, Reference, ReferenceKind, SymbolKind, SymbolTable

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

def written_references(merged: MergedTree, side: SideChanges, wanted=None) -> Iterator[tuple[SymbolTable, Reference]]:
    """Calls and uses in the merged result that came from this side (its lines of the merged text),
    in its code files that `wanted(file)` accepts (all by default: a byte test there saves a parse)."""
    for table, lines in _written_views(merged, side, wanted):
        for reference in table.references:
            if reference.line in lines:
                yield table, reference


def written_state(merged: MergedTree, side: SideChanges, kind: ReferenceKind, wanted=None) -> Iterator[tuple[SymbolTable, Reference]]:
    """Writes (or reads through the receiver) of state in the merged result that came from this side."""
    for table, lines in _written_views(merged, side, wanted):
        for reference in table.state:
            if reference.kind is kind and reference.line in lines:
                yield table, reference


def written_reads(merged: MergedTree, side: SideChanges, wanted=None) -> Iterator[tuple[SymbolTable, Reference]]:
    """Reads of state this side wrote: through the receiver, or names (module variables, implicit fields)."""
    yield from written_state(merged, side, ReferenceKind.READ, wanted)
    for table, lines in _written_views(merged, side, wanted):
        for reference in table.references:
            if reference.kind in _READS and reference.line in lines:
                yield table, reference


def _written_views(merged: MergedTree, side: SideChanges, wanted=None) -> Iterator[tuple[SymbolTable, frozenset[int]]]:
    """(merged table, lines this side wrote there) of the side's code files."""
    result = merged.result
    for file in side.files:
        if file.new_table is None or not file.new_table.parsed or profile_for_path(file.change.new_path) is None:
            continue
        if wanted is not None and not wanted(file):
            continue
        path = result.merged_path(file.change.new_path)
        view = result.view(path, side.name) if path is not None else None
        if view is not None and view.lines:
            yield view.table, view.lines


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
    for changer, user in ((first, second), (second, first)):
        yield from _calls(merged, changer, user, changed[changer.name], changed[user.name], both, tally)
    shared = _shared_paths(first, second)
    if shared:
        for writer, reader in ((first, second), (second, first)):
            yield from _shared_state(merged, writer, reader, shared, tally)


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
    owner = _method_owner(table, reference.scope, profile)
    if rest == definition.name and owner is not None and head in owner[1] and _is_member(definition):
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


def _calls(merged, changer, user, changes, user_changes, both, tally) -> Iterator[Interference]:
    """Calls `user` wrote in the merged result that reach a symbol `changer` changed: new calls (new_call),
    and calls a symbol `user` changed already made (call_path), directly or through one unchanged callable."""
    callees = _callees(changes)
    if not callees:
        return
    middles = _Intermediates(merged, changes.keys() | user_changes.keys() | both, callees) if user_changes else None
    changed_scopes = {c.new.id for c in user_changes.values()}
    # A call of interest spells a changed name, or sits in a symbol `user` changed (it may reach one through a middle).
    holders = {c.new.id.split("::", 1)[0] for c in user_changes.values()}
    found: dict[tuple, Interference] = {}
    names = set(callees)
    wanted = lambda file: file.change.new_path in holders or file.spells_any(names)  # noqa: E731
    for table, reference in written_references(merged, user, wanted):
        if reference.kind is not ReferenceKind.CALL:
            continue
        caller = _user_id(table, reference)
        holder = _changed_holder(table, reference.scope, changed_scopes)
        for change in _direct(merged, table, reference, callees, tally):
            if caller == change.new.id:
                continue
            if not _existed_on_base(user, table.path, reference):
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


def _existed_on_base(side: SideChanges, path: str, reference: Reference) -> bool:
    """Did the base version of the code holding this call already make it (same text, same scope)?"""
    file = _file_at(side, path)
    old = file.old_table if file is not None else None
    if old is None or not old.parsed:
        return file is None  # no change of this side at the path: the merged line is not its own
    return any(r.kind is ReferenceKind.CALL and r.text == reference.text and r.scope == reference.scope
               for r in old.references)


def _file_at(side: SideChanges, path: str):
    for file in side.files:
        if file.change.new_path == path:
            return file
    return None


def _direct(merged, table, reference, callees, tally) -> Iterator[SymbolChange]:
    for change, constructor, profile in callees.get(reference.name, ()):
        if _bind(merged, reference, table, change, constructor, profile, tally):
            yield change


def _calls_in(table: SymbolTable, definition: Definition) -> Iterator[Reference]:
    prefix = definition.qualname + "."
    for reference in table.references:
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

    def __init__(self, merged: MergedTree, changed_ids, callees):
        self.merged = merged
        self.changed = set(changed_ids)
        self.callees = callees
        self._by_name: dict[str, list[tuple[SymbolTable, Definition]]] | None = None
        self._targets: dict[str, list[SymbolChange]] = {}

    def names(self) -> set[str]:
        return set(self._index())

    def _index(self) -> dict[str, list[tuple[SymbolTable, Definition]]]:
        if self._by_name is None:
            self._by_name = {}
            result = self.merged.result
            spelled = {name.encode() for name in self.callees}
            paths = sorted({f.change.new_path for side in self.merged.sides for f in side.files
                            if f.change.new_path and f.new_table is not None and f.new_table.parsed
                            and profile_for_path(f.change.new_path) is not None and f.spells_any(self.callees)})
            for path in paths:
                table = result.table(path, references=False) if not result.conflicted(path) else None
                if table is None:
                    continue
                data = self.merged.repository.blob(result.files[path])
                for definition in table.definitions:
                    if (definition.is_callable and definition.id not in self.changed
                            and spells(spelled, data[definition.span.start_byte:definition.span.end_byte])):
                        self._by_name.setdefault(definition.name, []).append((table, definition))
        return self._by_name

    def reached(self, reference: Reference, table: SymbolTable, tally: Tally) -> Iterator[tuple[Definition, SymbolChange]]:
        for middle_table, middle in self._index().get(reference.name, ()):
            profile = profile_for_path(middle_table.path)
            names, constructor = _use_names(middle, profile)
            if reference.name not in names or not _bind_without_search(self.merged, reference, table, middle, constructor, profile):
                continue
            if middle.id not in self._targets:
                self._targets[middle.id] = [
                    change for inner in _calls_in(self.merged.result.table(middle_table.path), middle)
                    for change, constructor, profile in self.callees.get(inner.name, ())
                    if _bind_without_search(self.merged, inner, middle_table, change.new, constructor, profile)]
            for target in self._targets[middle.id]:
                yield middle, target


# -- shared state ---------------------------------------------------------------------

def _among(paths: set[str]):
    return lambda file: file.change.new_path in paths


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


def _shared_state(merged, writer: SideChanges, reader: SideChanges, paths: set[str], tally: Tally) -> Iterator[Interference]:
    writes: dict[tuple, tuple[SymbolTable, Reference]] = {}
    unbound_names: set[str] = set()
    for table, reference in written_state(merged, writer, ReferenceKind.WRITE, _among(paths)):
        key = _state_key(table, reference)
        if key is None:
            if _split_head(reference.text, _profile(table).reference_separators)[1] is not None:
                unbound_names.add(reference.name)
            continue
        writes.setdefault(key, (table, reference))
    if not writes and not unbound_names:
        return
    own_writes = {(table.path, r.line, r.text) for table, r in written_state(merged, reader, ReferenceKind.WRITE, _among(paths))}
    found: dict[tuple, Interference] = {}
    for table, reference in written_reads(merged, reader, _among(paths)):
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
    if rest is not None:
        if owner is None or head not in owner[1]:
            return None
        field, _ = _split_head(rest, profile.reference_separators)
        return namespace, owner[0], field
    if owner is not None and profile.implicit_self and any(
            d.name == head and d.parent == owner[0] and d.kind is SymbolKind.FIELD for d in table.definitions):
        return namespace, owner[0], head
    if any(d.name == head and d.parent is None and d.kind in _MODULE_STATE for d in table.definitions):
        return namespace, "", head
    return None


_QUALNAMES: dict[int, tuple[SymbolTable, dict[str, Definition]]] = {}  # the table is held: its id stays its own


def _qualnames(table: SymbolTable) -> dict[str, Definition]:
    held = _QUALNAMES.get(id(table))
    if held is None:
        if len(_QUALNAMES) > 512:
            _QUALNAMES.clear()
        held = _QUALNAMES[id(table)] = (table, {d.qualname: d for d in table.definitions})
    return held[1]


def _method_owner(table: SymbolTable, scope: str | None, profile: LanguageProfile) -> tuple[str, frozenset[str]] | None:
    """(class qualname, names of the receiver) of the method enclosing a scope (through nested functions)."""
    by_qualname = _qualnames(table)
    definition = by_qualname.get(scope) if scope else None
    while definition is not None:
        if definition.kind is SymbolKind.METHOD and definition.parent is not None:
            receivers = set(profile.self_names)
            if definition.signature is not None:
                receivers.update(p.name for p in definition.signature.parameters if p.kind is ParameterKind.RECEIVER)
            receivers.update(r.text for r in table.state if r.kind is ReferenceKind.RECEIVER and r.scope == definition.qualname)
            return definition.parent, frozenset(receivers)
        definition = by_qualname.get(definition.parent) if definition.parent else None
    return None

__all__ = ["Interference", "Tally", "behaviour_changes", "interference", "written_reads", "written_references", "written_state"]
