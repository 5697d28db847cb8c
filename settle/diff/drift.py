"""Signature drift: one side changes or removes a symbol; does code in the merged result still fit it?

Call sites come from two places: code the other side wrote, and (when the
other side is the target) existing code that neither side updated — found by a
byte search for the name across the merged tree, then parsing only the files
that mention it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from settle.diff.binding import Binding, bind, describe_call
from settle.diff.changes import SideChanges, SymbolChange, SymbolChangeKind
from settle.languages import LanguageProfile, profile_for_path
from settle.languages.resolve import module_names_file, qualifier_names_file
from settle.parse.cache import SymbolTables
from settle.parse.model import CALLABLE_KINDS, Definition, Reference, ReferenceKind, SymbolKind, SymbolTable
from settle.repo import EntryKind, Repository


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
    """The files of a merge of two sides, read lazily: each path at the version of the side that changed it."""

    def __init__(self, repository: Repository, tables: SymbolTables, base: str, first: SideChanges, second: SideChanges):
        self.repository = repository
        self.tables = tables
        self.base = base
        self.sides = (first, second)
        self._by_resolver: dict[str, list[tuple[str, str, bytes]]] = {}
        self._mentions: dict[tuple[str, str], list[SymbolTable]] = {}
        # (id of a table, name) → (the table, kept alive so the id stays its own; its references to name)
        self._named: dict[tuple[int, str], tuple[SymbolTable, tuple[Reference, ...]]] = {}
        self._packages: dict[str, list[tuple[str, str]]] = {}

    def package_files(self, profile: LanguageProfile) -> list[tuple[str, str]]:
        """(path, blob id) of the merged files that stand for their directory (`__init__.py`, `index.ts`, `mod.rs`)."""
        if profile.module_resolver not in self._packages:
            self._packages[profile.module_resolver] = [
                (path, blob_id) for path, blob_id in sorted(self.files.items())
                if posixpath.splitext(posixpath.basename(path))[0] in profile.package_stems
                and (other := profile_for_path(path)) is not None and other.module_resolver == profile.module_resolver
            ]
        return self._packages[profile.module_resolver]

    @cached_property
    def files(self) -> dict[str, str]:
        """path → blob id of the merged result (the first side wins where both changed a path)."""
        merged = {e.path: e.id for e in self.repository.files(self.base) if e.kind is EntryKind.FILE}
        for side in reversed(self.sides):
            for file in side.files:
                change = file.change
                if change.old_path and change.old_path != change.new_path:
                    merged.pop(change.old_path, None)
                if change.new_path and change.new_id and change.new_kind is EntryKind.FILE:
                    merged[change.new_path] = change.new_id
                elif change.new_path is None and change.old_path:
                    merged.pop(change.old_path, None)
        return merged

    def _sources(self, resolver: str) -> list[tuple[str, str]]:
        """(path, blob id) of the merged files whose language shares this resolver."""
        if resolver not in self._by_resolver:
            self._by_resolver[resolver] = [
                (path, blob_id) for path, blob_id in sorted(self.files.items())
                if (profile := profile_for_path(path)) is not None and profile.module_resolver == resolver
            ]
        return self._by_resolver[resolver]

    def tables_mentioning(self, name: str, resolver: str, references: bool = False) -> list[SymbolTable]:
        """Parsed tables of merged files that contain the name's bytes: a byte search first, then parse only those.
        With `references`, each table's references to the name are worked out too (see `references_in`)."""
        key = (name, resolver)
        if key not in self._mentions:
            found = []
            for path, blob_id in self.tables.mentioning(name, self._sources(resolver)):
                # With references, asked first: the table is built, then answers from the same tree.
                named = self.tables.references_to(path, blob_id, (name,)) if references else None
                table = self.tables.get(path, blob_id)
                if table is not None and table.parsed:
                    found.append(table)
                    if named is not None:
                        self._named[(id(table), name)] = (table, named)
            self._mentions[key] = found
        elif references:
            for table in self._mentions[key]:
                if (id(table), name) not in self._named:
                    self._named[(id(table), name)] = (table, self.tables.references_to(table.path, self.files.get(table.path), (name,)))
        return self._mentions[key]

    def references_in(self, table: SymbolTable, name: str) -> tuple[Reference, ...]:
        """The table's references named `name`: the targeted answer when `tables_mentioning` worked it out."""
        known = self._named.get((id(table), name))
        if known is not None:
            return known[1]
        return tuple(r for r in table.references if r.name == name)

    def definitions_named(self, name: str, resolver: str) -> list[Definition]:
        return [
            d for table in self.tables_mentioning(name, resolver) for d in table.definitions if d.name == name
        ]


def signature_drift(merged: MergedTree, changer: SideChanges, other: SideChanges, stale_callers: bool) -> Iterator[Drift]:
    """Findings for the symbols `changer` changed or removed, against `other`'s code (and stale callers)."""
    other_removed = {c.old.id for c in other.symbol_changes if c.old is not None and c.kind is SymbolChangeKind.REMOVED}
    gone = {c.old.qualname for c in _drifting(changer) if c.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED)}
    for change in _drifting(changer):
        if change.old.id not in other_removed and not _goes_with_its_class(change, gone):
            yield from _uses_of(merged, change, changer, other, stale_callers)


def _goes_with_its_class(change: SymbolChange, gone: set[str]) -> bool:
    """A constructor removed or renamed with its class: the class's finding says it, once."""
    definition = change.old
    if definition.parent is None or definition.parent not in gone or change.kind is SymbolChangeKind.SIGNATURE_CHANGED:
        return False
    profile = profile_for_path(definition.id.split("::", 1)[0])
    return profile is not None and _use_names(definition, profile)[1]


def drift_names(side: SideChanges) -> set[str]:
    """The names a use must spell to be stale after this side's changes (empty: nothing can drift)."""
    names: set[str] = set()
    for change in _drifting(side):
        profile = profile_for_path(change.old.id.split("::", 1)[0])
        if profile is not None:
            names |= _use_names(change.old, profile)[0]
    return names


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
    seen: set[tuple] = set()
    for side_name, table, reference in _candidate_references(merged, names, profile, changer, other, stale_callers):
        key = (table.path, reference.line, reference.text, reference.kind)
        if key in seen:
            continue
        seen.add(key)
        resolution = _resolve(merged, reference, table, definition, path, profile, constructor, change)
        if resolution is None:
            continue
        yield from _judge(merged, change, changer, side_name, table, reference, resolution, profile, constructor)


def _candidate_references(merged, names, profile, changer, other, stale_callers):
    """(side, table, reference) for uses of any of names: the other side's new code, then stale code."""
    for file in other.files:
        table = file.new_table
        if table is None or not table.parsed or not _same_resolver(table.path, profile) or not file.spells_any(names):
            continue
        local = _local_names(table, names)
        for reference in file.new_code_references():
            if reference.name in local:
                yield other.name, table, reference
    if not stale_callers:
        return
    for name in sorted(names):
        for table in merged.tables_mentioning(name, profile.module_resolver, references=True):
            owner = "base"
            for side in merged.sides:
                file = side.by_path.get(table.path)
                if file is not None and file.change.new_path == table.path:
                    owner = side.name
                    break
            for local in sorted(_local_names(table, {name})):
                for reference in merged.references_in(table, local):
                    yield owner, table, reference


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
            return _Resolution(True, True)
        same_named = merged.definitions_named(definition.name, profile.module_resolver)
        live = [d for d in same_named if d.id != definition.id]
        if change.kind is SymbolChangeKind.SIGNATURE_CHANGED:
            others = [d for d in live if d.id != (change.new.id if change.new else None)]
            return _Resolution(not others, True)
        return _Resolution(True, True) if not live else None
    target_name = definition.parent.rsplit(".", 1)[-1] if constructor else definition.name
    if definition.parent is not None and not constructor:
        return None  # a nested local function: only its parent can call it
    if rest is None:
        aliased = any(b.local == head and b.name == target_name for b in table.imports)
        if head != target_name and not aliased:
            return None
        if table.path == path and not aliased:
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
    site_user = f"{table.path}::{reference.scope}" if reference.scope else table.path
    base = dict(change=change, changer=changer.name, user_side=side_name, site_path=table.path,
                site_line=reference.line, user=site_user, call=describe_call(reference) if reference.kind is ReferenceKind.CALL else reference.text)
    if constructor and reference.kind is not ReferenceKind.CALL:
        return  # a type use (`Gson gson`, `config: Config`) calls no constructor
    removed = change.kind in (SymbolChangeKind.REMOVED, SymbolChangeKind.RENAMED)
    if removed:
        if reference.kind is not ReferenceKind.CALL and _called_there(table, reference):
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


def _called_there(table, reference) -> bool:
    return any(r.kind is ReferenceKind.CALL and r.text == reference.text and r.scope == reference.scope
               and r.line == reference.line for r in table.references)
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


__all__ = ["Drift", "MergedTree", "drift_names", "signature_drift"]
