"""Signature drift: one side changes or removes a symbol; does code in the merged result still fit it?

Uses are read on the merged result (settle.diff.merged) and come from two
places: lines of it the other side wrote, and (when the other side is the
target) base lines neither side changed — found by a byte search for the name
across the merged tree, then parsing only the files that mention it. A line the
changing side wrote itself never counts. Names a file stops importing are
removals of the file's binding (`removed_bindings`), judged the same way.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from settle.diff.binding import Binding, bind, describe_call
from settle.diff.changes import SideChanges, SymbolChange, SymbolChangeKind
from settle.diff.merged import BASE, MergedResult
from settle.diff.written import written_text
from settle.languages import LanguageProfile, profile_for_path
from settle.languages.resolve import module_names_file, qualifier_names_file
from settle.parse.cache import SymbolTables
from settle.parse.model import CALLABLE_KINDS, Definition, NameUses, Reference, ReferenceKind, Span, SymbolKind, SymbolTable
from settle.repo import Repository


@dataclass(frozen=True)
class Drift:
    subkind: str  # call_incompatible | removed_in_use | changed_in_use
    change: SymbolChange
    changer: str
    user_side: str
    site_path: str
    site_line: int
    user: str  # the symbol id (or path) holding the use
    call: str
    reason: str


class MergedTree:
    """The files of the merged result (see settle.diff.merged), with lookups by name across them."""

    def __init__(self, repository: Repository, tables: SymbolTables, base: str, first: SideChanges, second: SideChanges):
        self.repository = repository
        self.tables = tables
        self.base = base
        self.sides = (first, second)
        self.result = MergedResult(repository, tables, base, first, second)
        self._by_resolver: dict[str, list[tuple[str, str, bytes]]] = {}
        self._mentions: dict[tuple[str, str], list[NameUses]] = {}  # `uses_of`'s answers
        self._packages: dict[str, list[tuple[str, str]]] = {}
        self.reexports: dict[tuple, bool] = {}  # `_reexported`'s answers
        self._asked: dict[str, set[str]] = {}  # side name → `drift_names` of it
        self._same_named: dict[tuple[str, str], list[Definition]] = {}  # `definitions_named`'s answers
        # (side name, path, blob id) → (names asked, the last segments of the side's references on the lines it wrote)
        self._written: dict[tuple[str, str, str], tuple[frozenset[str], frozenset[str]]] = {}
        self._written_texts: dict[tuple, str] = {}  # `written_text`'s answers

    def drift_names(self, changer: SideChanges) -> set[str]:
        """The last segments drift looks for in the other side's code, for all of `changer`'s changes
        at once: a file is asked for their references together, and each change's question is then
        a subset of one answer (asked one change at a time, every question cost a traversal). A
        dropped import's uses are spelled by their first segment and read from the whole table."""
        if changer.name not in self._asked:
            self._asked[changer.name] = drift_names(changer)
        return self._asked[changer.name]

    def package_files(self, profile: LanguageProfile) -> list[tuple[str, str]]:
        """(path, blob id) of the merged files that stand for their directory (`__init__.py`, `index.ts`, `mod.rs`)."""
        if profile.module_resolver not in self._packages:
            self._packages[profile.module_resolver] = [
                (path, blob_id) for path, blob_id in sorted(self.files.items())
                if posixpath.splitext(posixpath.basename(path))[0] in profile.package_stems
                and (other := profile_for_path(path)) is not None and other.module_resolver == profile.module_resolver
            ]
        return self._packages[profile.module_resolver]

    @property
    def files(self) -> dict[str, str]:
        """path → blob id of the merged result."""
        return self.result.files

    def _sources(self, resolver: str) -> list[tuple[str, str]]:
        """(path, blob id) of the merged files whose language shares this resolver."""
        if resolver not in self._by_resolver:
            self._by_resolver[resolver] = [
                (path, blob_id) for path, blob_id in sorted(self.files.items())
                if (profile := profile_for_path(path)) is not None and profile.module_resolver == resolver
            ]
        return self._by_resolver[resolver]

    def uses_of(self, name: str, resolver: str) -> list[NameUses]:
        """What the merged files that contain the name's bytes say about it: a byte search first,
        then only those files are read, for their imports and their references to the name."""
        key = (name, resolver)
        if key not in self._mentions:
            self._mentions[key] = self.tables.mentioning_uses(name, self._sources(resolver))
        return self._mentions[key]

    def references_in(self, table: SymbolTable | NameUses, name: str) -> tuple[Reference, ...]:
        """The references named `name` of a merged file's table, or of its uses (which are asked
        again for a name they were not asked for: an import's alias)."""
        if not isinstance(table, NameUses):
            return tuple(r for r in table.references if r.name == name)
        known = table.references_to(name)
        if known is None:
            uses = self.tables.uses(table.path, self.files.get(table.path), (name,))
            known = uses.references_to(name) if uses is not None else ()
        return known

    def definitions_named(self, name: str, resolver: str) -> list[Definition]:
        """Every definition of that name in the merged files (asked again for each use of a member)."""
        key = (name, resolver)
        if key not in self._same_named:
            # Only the files whose definitions capture the name are built: most files that spell
            # a method's name call it (pytest's `parametrize`, in 74 files, is defined in one).
            tables = [table for path, blob_id in self.tables.mentioning(name, self._sources(resolver))
                      if self.tables.defines(path, blob_id, name)
                      and (table := self.tables.get(path, blob_id)) is not None and table.parsed]
            self._same_named[key] = [d for table in tables for d in table.definitions if d.name == name]
        return self._same_named[key]

    def written_names(self, changer: SideChanges, file, local: set[str]) -> frozenset[str]:
        """The last segments of the references on the lines `file`'s side wrote that spell one of
        `local` or of every name `changer`'s changes look for (`drift_names`, with their import
        aliases): the targeted answer for all of them at once, since each change asks again."""
        key = (changer.name, file.change.new_path, file.change.new_id)
        asked, found = self._written.get(key, (None, frozenset()))
        if asked is None or not local <= asked:
            asked = frozenset(local | (asked or _local_names(file.new_table, self.drift_names(changer))))
            lines, written = file.changed_new_lines, self.written_text(file)
            spelled = [name for name in asked if name in written]
            references = self.tables.references_to(file.change.new_path, file.change.new_id, spelled) if spelled else ()
            found = frozenset(r.name for r in references if r.line in lines)
            self._written[key] = (asked, found)
        return found

    def written_text(self, file) -> str:
        """The text of the lines a side's file changed, carried on where their expressions run on
        (`written_text`), whitespace taken out as it is of a reference's text: the name and the
        first segment of every reference on those lines are in it (a property test over every
        fixture), so a name it lacks has no reference there, and no extraction is asked."""
        key = (file.change.old_id, file.change.new_path, file.change.new_id)
        if key not in self._written_texts:
            profile = profile_for_path(file.change.new_path)
            text = written_text(self.repository.blob(file.change.new_id), file.changed_new_lines, profile.reference_separators)
            self._written_texts[key] = "".join(text.decode("utf-8", "replace").split())
        return self._written_texts[key]


def signature_drift(merged: MergedTree, changer: SideChanges, other: SideChanges, stale_callers: bool) -> Iterator[Drift]:
    """Findings for the symbols `changer` changed or removed (and the imports it dropped), against the uses
    of them in the merged result that `other` wrote (and, with stale_callers, that neither side touched)."""
    other_removed = {c.old.id for c in other.symbol_changes if c.old is not None and c.kind is SymbolChangeKind.REMOVED}
    gone = {c.old.qualname for c in _drifting(changer) if c.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED)}
    for change in (*_drifting(changer), *removed_bindings(changer)):
        if change.old.id not in other_removed and not _goes_with_its_class(change, gone) and not _still_in_its_namespace(merged, change):
            yield from _uses_of(merged, change, changer, other, stale_callers)


def _still_in_its_namespace(merged: MergedTree, change: SymbolChange) -> bool:
    """A symbol removed from one file of a directory that is a namespace (a Go package) but defined,
    under the same qualified name, in another file of it in the merged result: moved, not gone.
    Its users name the package, not the file."""
    if change.kind not in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED) or change.old.header_hash == _IMPORTED:
        return False
    definition = change.old
    path = definition.id.split("::", 1)[0]
    profile = profile_for_path(path)
    if profile is None or not profile.directory_is_namespace:
        return False
    return any(other.qualname == definition.qualname and other.id != definition.id
               and _same_directory(other.id.split("::", 1)[0], path)
               for other in merged.definitions_named(definition.name, profile.module_resolver))


def _goes_with_its_class(change: SymbolChange, gone: set[str]) -> bool:
    """A constructor removed or renamed with its class: the class's finding says it, once."""
    definition = change.old
    if definition.parent is None or definition.parent not in gone or change.kind is SymbolChangeKind.SIGNATURE_CHANGED:
        return False
    profile = profile_for_path(definition.id.split("::", 1)[0])
    return profile is not None and _use_names(definition, profile)[1]


def drift_names(side: SideChanges) -> set[str]:
    """The names a use must spell to be stale after this side's changes (empty: nothing can drift).
    A dropped import is left out: its uses are in its own file, which `reach.meets` already keeps."""
    names: set[str] = set()
    for change in _drifting(side):
        profile = profile_for_path(change.old.id.split("::", 1)[0])
        if profile is not None:
            names |= _use_names(change.old, profile)[0]
    return names


def removed_bindings(side: SideChanges) -> Iterator[SymbolChange]:
    """Names a file of this side stops importing (and does not define instead), as removals of the
    file's own binding: imported names are bindings of the module, and a use of one the merged file
    no longer binds fails like a use of a removed definition."""
    for file in side.files:
        old, new = file.old_table, file.new_table
        if old is None or new is None or not old.parsed or not new.parsed or not old.imports:
            continue
        if file.change.old_path != file.change.new_path:
            continue
        if not _module_level_edit(file):
            continue
        if any(b.name == "*" or b.local in ("*", ".") for b in new.imports):
            continue  # a wildcard import may bind any name
        kept = {b.local for b in new.imports} | {d.name for d in new.definitions if d.parent is None}
        for binding in old.imports:
            if binding.local in kept or binding.name == "*" or binding.local == "_" or not binding.local.isidentifier():
                continue
            kept.add(binding.local)
            yield SymbolChange(SymbolChangeKind.REMOVED, _binding_definition(old.path, binding), None)


def _module_level_edit(file) -> bool:
    old, new = file.old_table, file.new_table
    return old.module_hash != new.module_hash or old.imports != new.imports


def _binding_definition(path: str, binding) -> Definition:
    """An import's binding as a module-level definition of the file, located at the import."""
    span = Span(0, 0, binding.line, binding.line)
    return Definition(id=f"{path}::{binding.local}", qualname=binding.local, name=binding.local, kind=SymbolKind.VARIABLE,
                      span=span, header=span, signature=None, header_hash=_IMPORTED, body_hash=_IMPORTED)


_IMPORTED = "import"  # the hashes of an import's binding: no definition text to hash


def _drifting(side: SideChanges) -> Iterator[SymbolChange]:
    """Changes that can leave a use behind: removals, renames to another id, binding changes."""
    for change in side.symbol_changes:
        if change.old is None or change.still_bound:
            continue
        if change.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED) and change.old.id != (change.new.id if change.new else None):
            yield change
        elif change.binding_changed:
            yield change


def _use_names(definition: Definition, profile: LanguageProfile) -> tuple[set[str], bool]:
    """(names a use of the definition spells, whether it is a constructor: used by its class's name)."""
    constructor = definition.name in profile.constructor_names or (
        profile.constructors_named_after_class and definition.parent is not None
        and definition.name == definition.parent.rsplit(".", 1)[-1]
    )
    if constructor and definition.parent:
        return {definition.parent.rsplit(".", 1)[-1]}, True
    return {definition.name}, constructor


def _uses_of(merged: MergedTree, change: SymbolChange, changer: SideChanges, other: SideChanges, stale_callers: bool) -> Iterator[Drift]:
    definition = change.old
    assert definition is not None
    path = definition.id.split("::", 1)[0]
    profile = profile_for_path(path)
    if profile is None:
        return
    names, constructor = _use_names(definition, profile)
    imported = definition.header_hash == _IMPORTED
    if imported and _still_bound(merged, path, definition.name, imported=True):
        return  # the merged file binds the name again: every use of it there resolves
    spelled = _spelling(definition, profile)
    only = path if imported else None  # an import binds in its own file only
    candidates = list({(table.path, reference.line, reference.text, reference.kind): (side, table, reference)
                       for side, table, reference in _candidate_references(merged, names, spelled, profile, changer,
                                                                           other, stale_callers, only)}.values())
    # One use site (a line), one finding: a call and the name it calls sit at one place, and the
    # call says more; the type and the constructor call of `let m: Map = Map::new()` are one use.
    candidates.sort(key=lambda found: found[2].kind is not ReferenceKind.CALL)
    reported: set[tuple[str, int]] = set()
    used_in: set[str] = set()
    for side_name, table, reference in candidates:
        site = (table.path, reference.line)
        if site in reported:
            continue
        resolution = _resolve(merged, reference, table, definition, path, profile, constructor, change)
        if resolution is None:
            continue
        for drift in _judge(merged, change, changer, side_name, table, reference, resolution, profile, constructor):
            reported.add(site)
            used_in.add(table.path)
            yield drift
    if change.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED) and definition.parent is None and (
            definition.header_hash != _IMPORTED):
        yield from _imports_of(merged, change, changer, other, path, profile, used_in)


def _spelling(definition: Definition, profile: LanguageProfile):
    """What part of a reference names the definition: its last segment, or for an import's
    binding its first (`strings.ToUpper` uses the import of `strings`)."""
    if definition.header_hash == _IMPORTED:
        return lambda reference: _split_head(reference.text, profile.reference_separators)[0]
    return _last_segment


def _last_segment(reference: Reference) -> str:
    return reference.name


def _candidate_references(merged, names, spelled, profile, changer, other, stale_callers, only: str | None = None):
    """(side, table, reference) for uses of any of names in the merged result: those `other` wrote,
    then (stale callers) those on lines neither side changed; `only` keeps one merged path."""
    result = merged.result
    for file in other.files_spelling(names):
        if only is not None and result.merged_path(file.change.new_path) != only:
            continue
        if not _same_resolver(file.change.new_path, profile):
            continue
        local = _local_names(file.new_table, names)
        if not _writes_any(merged, changer, file, local, spelled):
            continue  # nothing it wrote uses them: no need to read (or parse) the merged file
        site = result.merged_path(file.change.new_path)
        if spelled is _last_segment:
            for table, reference in result.references_from_named(site, other.name, local):
                yield other.name, table, reference
            continue
        for table, reference in result.references_from(site, other.name):
            if spelled(reference) in local:
                yield other.name, table, reference
    if not stale_callers:
        return
    for name in sorted(names):
        tables = [result.table(only)] if only is not None else merged.uses_of(name, profile.module_resolver)
        for table in tables:
            if table is None or result.conflicted(table.path):
                continue  # no merged text: only each side's own lines are judged there
            for reference in _references_spelling(merged, table, name, spelled):
                if result.origin(table.path, reference.line) == BASE:
                    yield BASE, table, reference


def _references_spelling(merged: MergedTree, table: SymbolTable | NameUses, name: str, spelled) -> Iterator[Reference]:
    """The references that spell the name (or a local alias of it): by name, from the file's uses
    (or its table); through an import's first segment, from its whole table (only an import's own
    file, whose table is read)."""
    if spelled is not _last_segment:
        return (r for r in table.references if spelled(r) == name)
    return (r for local in sorted(_local_names(table, {name})) for r in merged.references_in(table, local))


def _writes_any(merged: MergedTree, changer: SideChanges, file, local: set[str], spelled) -> bool:
    """Do the references of a side's tip on the lines it changed (the merged lines it wrote are
    among them) spell one of `local`? By the last segment, from the targeted answer for every
    name `changer`'s changes look for (`MergedTree.drift_names`); through an import's first
    segment, from the whole table."""
    if spelled is _last_segment:
        return not merged.written_names(changer, file, local).isdisjoint(local)
    written = merged.written_text(file)
    if not any(name in written for name in local):
        return False  # replay met twenty such dropped imports in pytest's 300 merges
    lines = file.changed_new_lines
    return any(spelled(r) in local for r in file.new_table.references if r.line in lines)


def _imports_of(merged, change, changer, other, path, profile, used_in: set[str]) -> Iterator[Drift]:
    """An import of the removed name that `other` wrote is a use of it too (it fails at import time);
    reported only where no other use in that file already is: one finding per use."""
    definition = change.old
    result = merged.result
    if _still_bound(merged, path, definition.name):
        return
    for file in other.files_spelling({definition.name}):
        lines = file.changed_new_lines
        if not any(b.name == definition.name and b.line in lines for b in file.new_table.imports):
            continue  # it wrote no such import: no need to read (or parse) the merged file
        site = result.merged_path(file.change.new_path)
        for table, binding in result.imports_from(site, other.name):
            if table.path in used_in or binding.name != definition.name:
                continue
            if module_names_file(profile.module_resolver, binding.module, binding.name, table.path, path):
                used_in.add(table.path)
                yield Drift("removed_in_use", change=change, changer=changer.name, user_side=other.name,
                            site_path=table.path, site_line=_site_line(merged, table, binding.line, other.name),
                            user=table.path, call=binding.local, reason="")


def _still_bound(merged: MergedTree, path: str, name: str, imported: bool = False) -> bool:
    """Does the merged file still bind the name (defined again, or imported in its place)?
    Where the file conflicts there is no merged text to ask: a definition is taken as gone, an
    import (which either side's resolution may keep) as kept."""
    if merged.result.conflicted(path):
        return imported
    table = merged.result.table(path, references=False)
    if table is None:
        return False
    return any(b.local in (name, "*", ".") or b.name == "*" for b in table.imports) or any(
        d.name == name and d.parent is None for d in table.definitions)


def _site_line(merged: MergedTree, table: SymbolTable, line: int, side: str) -> int:
    """A merged line as the line of the side named in the finding's location."""
    return merged.result.side_line(table.path, line, side) if merged.result.blob(table.path) is not None else line


def _same_resolver(path: str, profile: LanguageProfile) -> bool:
    """Code in another language cannot use the symbol (a Python `store.greet` is not Java's)."""
    other = profile_for_path(path)
    return other is not None and other.module_resolver == profile.module_resolver


def _local_names(table: SymbolTable, names: set[str]) -> set[str]:
    """The names plus the local names imports give them (`import { greet as hello }`)."""
    return names | {binding.local for binding in table.imports if binding.name in names}


@dataclass(frozen=True)
class _Resolution:
    certain: bool  # False: bound by name only, and the name is not unique
    through_instance: bool


def _resolve(merged, reference: Reference, table: SymbolTable, definition: Definition, path: str,
             profile: LanguageProfile, constructor: bool, change: SymbolChange) -> _Resolution | None:
    """Does this reference (probably) mean the changed definition?"""
    text = reference.text
    separators = profile.reference_separators
    head, rest = _split_head(text, separators)
    if definition.header_hash == _IMPORTED:
        # An import binds its name in its own file only; a use there fails once nothing binds it.
        if table.path != path or head != definition.name or _still_bound(merged, path, head, imported=True):
            return None
        return _Resolution(True, False)
    is_member = definition.parent is not None and not constructor and _is_member(definition)
    if is_member:
        inside = table.path == path and _within_scope(reference.scope, definition.parent)
        if rest is None:
            # A bare name reaches a method through an implicit receiver, from inside its class,
            # or through an import of the member itself (Java's `import static a.B.m`).
            if profile.implicit_self and inside:
                return _Resolution(True, True)
            return _Resolution(True, False) if _member_imported(table, head, definition, path, profile) else None
        class_name = definition.parent.rsplit(".", 1)[-1]
        qualifier = text[: len(text) - len(definition.name)].rstrip("".join(separators) + "?")
        if inside and qualifier in profile.self_names:
            return _Resolution(True, True)
        if qualifier.rsplit(".", 1)[-1].rsplit("::", 1)[-1] == class_name and (
                _module_visible(table, class_name, path, profile)
                or qualifier_names_file(profile.module_resolver, qualifier[: -len(class_name)].rstrip("".join(separators)), table.path, path)):
            if change.kind is not SymbolChangeKind.SIGNATURE_CHANGED and _has_twin(merged, definition, class_name, (table.path, path)):
                return None  # the class moved with its members (a local class of a renamed function)
            return _Resolution(True, True)
        # The receiver is unknown: bound by the method's name alone. Certain only where the name is
        # unique in the merged tree and the using file can see the class's module at all
        # (`recorder.unregister()` in a file that never reaches PluginManager is someone else's);
        # a changed signature is otherwise at most a warning, a removal nothing.
        # Only a file that sees the module needs the repository-wide search (its tables are built).
        sees = _sees_module(table, path, profile)
        same_named = merged.definitions_named(definition.name, profile.module_resolver) if sees else ()
        others = [d for d in same_named if d.id not in (definition.id, change.new.id if change.new else None)]
        certain = sees and not others
        if change.kind is SymbolChangeKind.SIGNATURE_CHANGED:
            return _Resolution(certain, True)
        return _Resolution(True, True) if certain and not [d for d in same_named if d.id != definition.id] else None
    target_name = definition.parent.rsplit(".", 1)[-1] if constructor else definition.name
    if definition.parent is not None and not constructor:
        return None  # a nested local function: only its parent can call it
    if rest is None:
        aliased = any(b.local == head and b.name == target_name for b in table.imports)
        if head != target_name and not aliased:
            return None
        if table.path == path and not aliased:
            # A removed name the merged file binds again is not gone; a changed one is bound by definition.
            removed = change.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED)
            if removed and not constructor and _still_bound(merged, path, target_name, definition.header_hash == _IMPORTED):
                return None
            return _Resolution(True, constructor)
        for binding in table.imports:
            if binding.local == head or binding.name == "*":
                name = binding.name if binding.name not in (None, "*") else None
                name = None if name == target_name else name
                if module_names_file(profile.module_resolver, binding.module, name, table.path, path) or \
                        _reexported(merged, profile, binding.module, name, table.path, path, target_name):
                    return _Resolution(True, constructor)
        if profile.directory_is_namespace and _same_directory(table.path, path):
            return _Resolution(True, constructor)
        return None
    if not text.endswith(target_name):
        return None
    prefix = text[: len(text) - len(target_name)]
    for binding in table.imports:
        if any(prefix == binding.local + separator for separator in separators):
            if module_names_file(profile.module_resolver, binding.module, binding.name, table.path, path):
                return _Resolution(True, constructor)
    if any(prefix.endswith(s) and qualifier_names_file(profile.module_resolver, prefix[: -len(s)], table.path, path) for s in separators):
        return _Resolution(True, constructor)
    return None


def _member_imported(table: SymbolTable, head: str, definition: Definition, path: str, profile: LanguageProfile) -> bool:
    class_name = definition.parent.rsplit(".", 1)[-1]
    for binding in table.imports:
        if (binding.local == head and binding.name == definition.name) or binding.name == "*":
            _, last = binding.module.rsplit(".", 1) if "." in binding.module else ("", binding.module)
            if last == class_name and module_names_file(profile.module_resolver, binding.module, binding.name, table.path, path):
                return True
    return False


def _reexported(merged, profile: LanguageProfile, module: str, name: str | None, importer: str, path: str, target_name: str) -> bool:
    """An import of a package file (`from pkg import f`, `from '../lib'`) that passes on the name
    from the file defining it (`from .store import f` in pkg/__init__.py, `export { f } from './f'`)."""
    # Asked again for every use in the importing file, and each answer walks every package file.
    key = (profile.module_resolver, module, name, importer, path, target_name)
    known = merged.reexports.get(key)
    if known is None:
        known = merged.reexports[key] = _passes_on(merged, profile, module, name, importer, path, target_name)
    return known


def _passes_on(merged, profile: LanguageProfile, module: str, name: str | None, importer: str, path: str, target_name: str) -> bool:
    for package_path, blob_id in merged.package_files(profile):
        if package_path == path or not module_names_file(profile.module_resolver, module, name, importer, package_path):
            continue
        package = merged.tables.get(package_path, blob_id)
        if package is None or not package.parsed:
            continue
        for binding in package.imports:
            if binding.local == (name or target_name) or binding.name == "*":
                passed = None if binding.name in (None, "*", target_name) else binding.name
                if module_names_file(profile.module_resolver, binding.module, passed, package_path, path):
                    return True
    return False


def _has_twin(merged, definition: Definition, class_name: str, paths) -> bool:
    """Another member of that name in a class of that name, in the using or the defining file."""
    return any(d.id != definition.id and d.parent is not None and d.parent.rsplit(".", 1)[-1] == class_name
               and d.id.split("::", 1)[0] in paths
               for d in merged.definitions_named(definition.name, profile_for_path(definition.id.split("::", 1)[0]).module_resolver))


def _sees_module(table: SymbolTable, path: str, profile: LanguageProfile) -> bool:
    """The using file is the defining file, imports from it, or shares its namespace directory."""
    if table.path == path or (profile.directory_is_namespace and _same_directory(table.path, path)):
        return True
    return any(module_names_file(profile.module_resolver, b.module, b.name if b.name != "*" else None, table.path, path)
               or module_names_file(profile.module_resolver, b.module, None, table.path, path)
               for b in table.imports)


def _within_scope(scope: str | None, container: str) -> bool:
    return scope is not None and (scope == container or scope.startswith(container + "."))


def _is_member(definition: Definition) -> bool:
    return definition.kind in (SymbolKind.METHOD, SymbolKind.FIELD) or (
        definition.kind not in CALLABLE_KINDS and definition.parent is not None
    )


def _split_head(text: str, separators: tuple[str, ...]) -> tuple[str, str | None]:
    best = None
    for separator in separators:
        index = text.find(separator)
        if index > 0 and (best is None or index < best[0]):
            best = (index, separator)
    if best is None:
        return text, None
    return text[: best[0]], text[best[0] + len(best[1]) :]


def _module_visible(table: SymbolTable, class_name: str, path: str, profile: LanguageProfile) -> bool:
    if table.path == path:
        return True
    for binding in table.imports:
        if binding.local == class_name or binding.name == "*":
            if module_names_file(profile.module_resolver, binding.module, None if binding.name == class_name else binding.name, table.path, path):
                return True
    return profile.directory_is_namespace and _same_directory(table.path, path)


def _same_directory(first: str, second: str) -> bool:
    return posixpath.dirname(first) == posixpath.dirname(second)


def _judge(merged, change, changer, side_name, table, reference, resolution: _Resolution, profile, constructor) -> Iterator[Drift]:
    if constructor and reference.kind is not ReferenceKind.CALL:
        # The class's name that is not called is the class itself (`config: Config`, isinstance,
        # a base class): it calls no constructor, so a constructor's change cannot break it.
        return
    site_user = f"{table.path}::{reference.scope}" if reference.scope else table.path
    base = dict(change=change, changer=changer.name, user_side=side_name, site_path=table.path,
                site_line=_site_line(merged, table, reference.line, side_name), user=site_user, call=describe_call(reference) if reference.kind is ReferenceKind.CALL else reference.text)
    removed = change.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED)
    if removed:
        if reference.kind is not ReferenceKind.CALL and _called_there(merged, table, reference):
            return  # the call at this very spot says it
        if reference.kind is ReferenceKind.CALL:
            overloads = _remaining_overloads(merged, change, changer, profile)
            if overloads:
                verdicts = [bind(d.signature, reference, profile.binding, resolution.through_instance) for d in overloads if d.signature]
                if any(v is Binding.BINDS for v, _ in verdicts):
                    return
                if verdicts and all(v is Binding.INCOMPATIBLE for v, _ in verdicts):
                    yield Drift("call_incompatible", reason="no remaining overload accepts it", **base)
                    return
        if resolution.certain:
            yield Drift("removed_in_use", reason="", **base)
        return
    new_signature = change.new.signature if change.new is not None else None
    if new_signature is None:
        return
    if reference.kind is not ReferenceKind.CALL:
        if any(r.kind is ReferenceKind.CALL and r.text == reference.text and r.scope == reference.scope
               for r in merged.references_in(table, reference.name)):
            return  # the same name is called right there; the call is judged on its own
        yield Drift("changed_in_use", reason="it is used as a value, not called", **base)
        return
    outcome, reason = bind(new_signature, reference, profile.binding, resolution.through_instance)
    if outcome is Binding.BINDS or _another_overload_binds(merged, change, changer, profile, reference, resolution):
        return
    if outcome is Binding.UNDECIDABLE or not resolution.certain:
        if not resolution.certain:
            reason = f"{reason}; the method name is defined more than once, so the callee is uncertain"
        yield Drift("changed_in_use", reason=reason, **base)
        return
    yield Drift("call_incompatible", reason=reason, **base)


def _called_there(merged: MergedTree, table, reference) -> bool:
    # A call of the same text has the same name: its last segment.
    return any(r.kind is ReferenceKind.CALL and r.text == reference.text and r.scope == reference.scope
               and r.line == reference.line for r in merged.references_in(table, reference.name))


def _another_overload_binds(merged, change, changer, profile, reference, resolution) -> bool:
    """A call the changed overload no longer takes may be (or become) a call of a sibling overload."""
    overloads = [d for d in _remaining_overloads(merged, change, changer, profile) if d.id != change.new.id]
    return any(bind(d.signature, reference, profile.binding, resolution.through_instance)[0] is Binding.BINDS for d in overloads)


def _remaining_overloads(merged, change, changer, profile) -> list[Definition]:
    """Same-named callables left in the removed symbol's container on the changer's side."""
    definition = change.old
    path = definition.id.split("::", 1)[0]
    file = changer.by_path.get(path)
    table = file.new_table if file is not None else None
    if table is None or not table.parsed:
        return []
    return [d for d in table.definitions if d.name == definition.name and d.parent == definition.parent and d.signature is not None]


__all__ = ["Drift", "MergedTree", "drift_names", "removed_bindings", "signature_drift"]
