"""Text conflicts: git's three-way merge of two sides, each conflict placed on the base's symbols."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from settle.diff.changes import SideChanges
from settle.parse.cache import SymbolTables
from settle.parse.model import SymbolTable
from settle.repo import EntryKind, Hunk, LineRange, MergeConflict, Repository


@dataclass(frozen=True)
class TextConflict:
    subkind: str
    path: str
    symbols: tuple[str, ...] = ()  # same_symbol: the shared symbol; distinct: left's then right's
    base_lines: LineRange | None = None
    left_lines: LineRange | None = None
    right_lines: LineRange | None = None
    deleted_by: str | None = None  # modify_delete: the side that deleted
    what: str = "the binary file"  # binary: what it is that both changed (a submodule, a symbolic link)
    added: frozenset[str] = frozenset()  # of symbols: those a side adds whole (not on the base)


def text_conflicts(repository: Repository, tables: SymbolTables, left: SideChanges, right: SideChanges) -> Iterator[TextConflict]:
    conflicts = repository.merge_conflicts(left.tip, right.tip)
    # libgit2 spells a rename/rename as three one-sided entries: the source with
    # only an ancestor, and each destination with only one side. One finding each source.
    lonely = [c for c in conflicts if sum(p is not None for p in (c.ancestor_path, c.ours_path, c.theirs_path)) == 1]
    sources = [c for c in lonely if c.ancestor_path is not None]
    for conflict in conflicts:
        if conflict in lonely:
            if conflict in sources or not sources:
                yield TextConflict("rename", conflict.ancestor_path or conflict.ours_path or conflict.theirs_path or "")
            continue
        yield from _classify(repository, tables, conflict, left, right)


def _classify(repository, tables, conflict: MergeConflict, left: SideChanges, right: SideChanges) -> Iterator[TextConflict]:
    path = conflict.ours_path or conflict.theirs_path or conflict.ancestor_path or ""
    kinds = (conflict.ancestor_kind, conflict.ours_kind, conflict.theirs_kind)
    present = [p for p in (conflict.ancestor_path, conflict.ours_path, conflict.theirs_path) if p]
    if conflict.ancestor_path is None and conflict.ours_path and conflict.theirs_path:
        subkind = "add_add"
    elif conflict.ancestor_path and (conflict.ours_path is None or conflict.theirs_path is None):
        subkind = "rename" if len(set(present)) > 1 else "modify_delete"
    elif len(set(present)) > 1:
        subkind = "rename"
    else:
        subkind = "content"
    non_text = any(kind in (EntryKind.SYMLINK, EntryKind.SUBMODULE) for kind in kinds) or any(
        blob is not None and repository.is_binary(blob) for blob in (conflict.ancestor_id, conflict.ours_id, conflict.theirs_id)
    )
    if non_text and subkind in ("content", "add_add"):
        what = ("the submodule" if EntryKind.SUBMODULE in kinds else "the symbolic link" if EntryKind.SYMLINK in kinds
                else "the binary file")
        yield TextConflict("binary", path, what=what)
        return
    if subkind == "modify_delete":
        deleter = left.name if conflict.ours_path is None else right.name
        yield TextConflict("modify_delete", path, deleted_by=deleter)
        return
    if subkind != "content":
        yield TextConflict(subkind, path)
        return
    yield from _content_conflicts(repository, tables, conflict, path, left, right)


def _content_conflicts(repository, tables, conflict, path, left, right) -> Iterator[TextConflict]:
    left_hunks = repository.hunks(conflict.ancestor_id, conflict.ours_id)
    right_hunks = repository.hunks(conflict.ancestor_id, conflict.theirs_id)
    base = tables.get(path, conflict.ancestor_id)
    owners = _LineOwners(base)
    left_new = _AddedSymbols(repository, tables.get(path, conflict.ours_id), base, conflict.ours_id)
    right_new = _AddedSymbols(repository, tables.get(path, conflict.theirs_id), base, conflict.theirs_id)
    regions = _overlapping(left_hunks, right_hunks) or [(list(left_hunks), list(right_hunks))]
    for left_part, right_part in regions:
        base_lines = _span([h.old for h in left_part + right_part])
        (left_added, left_touched), (right_added, right_touched) = (
            _placed(owners, left_new, left_part), _placed(owners, right_new, right_part))
        both_added = left_added & right_added
        if both_added:
            # One id added on both sides: one symbol whose lines git cannot merge (duplicate_definition
            # says it too: keep one definition).
            for symbol in sorted(both_added):
                yield TextConflict("same_symbol", path, (symbol,), base_lines, _span([h.new for h in left_part]),
                                   _span([h.new for h in right_part]), added=frozenset({symbol}))
            left_added, right_added = left_added - both_added, right_added - both_added
            if not (left_added or right_added or left_touched or right_touched):
                continue
        left_symbols = sorted(left_touched | left_added)
        right_symbols = sorted(right_touched | right_added)
        shared = sorted(set(left_symbols) & set(right_symbols))
        left_lines = _span([h.new for h in left_part])
        right_lines = _span([h.new for h in right_part])
        if shared:
            for symbol in shared:
                yield TextConflict("same_symbol", path, (symbol,), base_lines, left_lines, right_lines)
        elif left_symbols or right_symbols:
            symbols = tuple(sorted(left_symbols)[:1] + sorted(right_symbols)[:1])
            if not left_symbols or not right_symbols:
                # One side's part of the hunk is at module level: still two different places.
                symbols = tuple(sorted(left_symbols or right_symbols)[:1])
            yield TextConflict("distinct_symbols", path, symbols, base_lines, left_lines, right_lines,
                               added=frozenset(left_added | right_added))
        else:
            yield TextConflict("module_level", path, (), base_lines, left_lines, right_lines)


class _AddedSymbols:
    """Symbols a side adds (absent from the base), with the lines that bring them on the side's tip."""

    def __init__(self, repository: Repository, table: SymbolTable | None, base: SymbolTable | None, blob_id: str | None):
        self.spans: list[tuple[int, int, str]] = []
        self.blank: set[int] = set()
        if table is None or not table.parsed or blob_id is None:
            return
        existing = {d.id for d in base.definitions} if base is not None and base.parsed else set()
        added = {d.qualname for d in table.definitions if d.id not in existing}
        # The outermost new ones: a new class brings its methods with it.
        self.spans = [(d.span.start_line, d.span.end_line, d.id) for d in table.definitions
                      if d.qualname in added and d.parent not in added]
        if self.spans:
            lines = repository.blob(blob_id).split(b"\n")
            self.blank = {number for number, text in enumerate(lines, 1) if not text.strip()}

    def brought_by(self, hunk: Hunk) -> set[str]:
        """Ids of the whole new symbols the hunk brings, when that is all it brings (blank lines
        aside); empty otherwise, so a hunk that also edits other lines is placed on the base."""
        if hunk.new.empty:
            return set()
        inside = [(start, end, identifier) for start, end, identifier in self.spans
                  if start >= hunk.new.start and end <= hunk.new.end]
        covered = {line for start, end, _ in inside for line in range(start, end + 1)}
        if not inside or any(line not in covered and line not in self.blank for line in range(hunk.new.start, hunk.new.end + 1)):
            return set()
        return {identifier for _, _, identifier in inside}


def _placed(owners: _LineOwners, added: _AddedSymbols, hunks: list[Hunk]) -> tuple[set[str], set[str]]:
    """(whole new symbols the hunks bring, base symbols the other hunks touch)."""
    brought: set[str] = set()
    touched: set[str] = set()
    for hunk in hunks:
        new = added.brought_by(hunk)
        if new:
            brought |= new
        else:
            touched.update(owners.touched([hunk]))
    return brought, touched


def _overlapping(left: tuple[Hunk, ...], right: tuple[Hunk, ...]) -> list[tuple[list[Hunk], list[Hunk]]]:
    """Groups of hunks whose base ranges overlap or touch across the two sides, as git's merge sees them."""
    events = sorted([(h.old.start, h.old.end, 0, h) for h in left] + [(h.old.start, h.old.end, 1, h) for h in right],
                    key=lambda e: (e[0], e[1]))
    groups: list[tuple[list[Hunk], list[Hunk], int]] = []
    for start, end, side, hunk in events:
        if groups and start <= groups[-1][2] + 1:
            group = groups[-1]
            group[side].append(hunk)
            groups[-1] = (group[0], group[1], max(group[2], end))
        else:
            parts: tuple[list[Hunk], list[Hunk]] = ([], [])
            parts[side].append(hunk)
            groups.append((parts[0], parts[1], end))
    return [(l_part, r_part) for l_part, r_part, _ in groups if l_part and r_part]


def _span(ranges: list[LineRange]) -> LineRange | None:
    if not ranges:
        return None
    return LineRange(min(r.start for r in ranges), max(r.end for r in ranges))


class _LineOwners:
    """The innermost symbol at each line of a table."""

    def __init__(self, table: SymbolTable | None):
        self.owner: dict[int, str] = {}
        if table is None or not table.parsed:
            return
        # Outer definitions first, inner ones overwrite their lines.
        for definition in sorted(table.definitions, key=lambda d: (d.span.start_byte, -d.span.end_byte)):
            for line in range(definition.span.start_line, definition.span.end_line + 1):
                self.owner[line] = definition.id

    def touched(self, hunks: list[Hunk]) -> list[str]:
        found: set[str] = set()
        for hunk in hunks:
            if hunk.old.empty:
                # An insertion after line `end`: inside a symbol only if both neighbours are.
                before, after = self.owner.get(hunk.old.end), self.owner.get(hunk.old.end + 1)
                if before is not None and before == after:
                    found.add(before)
                continue
            for line in range(hunk.old.start, hunk.old.end + 1):
                if line in self.owner:
                    found.add(self.owner[line])
        return sorted(found)
