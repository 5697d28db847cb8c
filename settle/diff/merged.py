"""The merged result of two sides, and which side each of its lines came from (provenance).

A finding about what one side's change does to the other side's code is only
true of code the merge will contain. This module answers, for a pair of sides:

- the merged text of a path: the tree of the in-memory three-way merge that the
  text-conflict scan already computes (`Repository.merged_entry` per path,
  `Repository.merged_files` for the whole tree; `MergedResult.blob(path)`);
- the origin of each line of it: `BASE` (neither side changed it), a side's name
  (that side wrote or changed it), or `BOTH` (both sides made the same change);
- the parts of the merged file a given side wrote: its references and imports.

Origins come from line diffs: a line the merge changed against the base came
from a side when that side's version has it at the same place (it is outside the
side→merged diff's hunks). For a file only one side changed the merged text is
that side's; for a file both changed, the two diffs against the merged text are
the diff3 alignment.

Where a path conflicts textually there is no merged text: settle judges each
side's own lines on that side's tip (`view(path, side)` returns the side's
table and the lines it changed), and `table(path)` falls back to the first
side's version, with origins against it.

Use:

    result = MergedResult(repository, tables, base, left, right)
    path = result.merged_path(file.change.new_path)     # where a side's path lands
    result.origin(path, line)                           # BASE | BOTH | side name
    for table, reference in result.references_from(path, right.name): ...
    for table, binding in result.imports_from(path, right.name): ...
    result.side_line(path, line, right.name)            # the line on that side's tip
    result.lines_from(path, right.name)                 # merged lines that side wrote

`pair_findings` builds one per pair (`MergedTree(...).result` in settle.diff.drift);
the merge itself is computed once per pair of tips and shared with the conflict scan.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from settle.diff.changes import FileChange, SideChanges
from settle.parse.cache import SymbolTables
from settle.parse.model import ImportBinding, Reference, SymbolTable
from settle.repo import EntryKind, Hunk, Repository

BASE = "base"
BOTH = "both"


@dataclass(frozen=True)
class View:
    """What to read of one path for one side: a table and the lines of it that side wrote."""

    table: SymbolTable
    lines: frozenset[int]
    merged: bool  # False: a conflicted path, read on the side's own tip


class MergedResult:
    """The merge of two sides that forked at base, read lazily path by path."""

    def __init__(self, repository: Repository, tables: SymbolTables, base: str, first: SideChanges, second: SideChanges):
        self.repository = repository
        self.tables = tables
        self.base = base
        self.sides = (first, second)
        self._origins: dict[str, dict[int, str]] = {}
        # (path, side) → its view, and the references on the lines it wrote: drift asks for each changed symbol
        self._views: dict[tuple[str, str], View | None] = {}
        self._written: dict[tuple[str, str], tuple[tuple[SymbolTable, Reference], ...]] = {}
        self._written_by_name: dict[tuple[str, str], dict[str, list[tuple[int, SymbolTable, Reference]]]] = {}

    # -- the merged tree -----------------------------------------------------------

    @cached_property
    def _conflicts(self):
        return self.repository.merge_conflicts(self.sides[0].tip, self.sides[1].tip)

    @cached_property
    def conflicted_paths(self) -> frozenset[str]:
        return frozenset(p for c in self._conflicts for p in (c.ancestor_path, c.ours_path, c.theirs_path) if p)

    @cached_property
    def files(self) -> dict[str, str]:
        """path → blob id of every file of the merged result; a conflicted path at the first side's
        version (the second's where the first lacks it), so a lookup by name still finds its symbols.
        Listing the tree costs milliseconds a merge: `blob` looks one path up instead."""
        listed = self.repository.merged_files(self.sides[0].tip, self.sides[1].tip)
        merged = {path: entry.id for path, entry in listed.items() if entry.kind is EntryKind.FILE}
        for path, blob_id in self._conflict_versions().items():
            merged.setdefault(path, blob_id)
        return merged

    def _conflict_versions(self) -> dict[str, str]:
        versions: dict[str, str] = {}
        for conflict in self._conflicts:
            for path, blob_id, kind in ((conflict.ours_path, conflict.ours_id, conflict.ours_kind),
                                        (conflict.theirs_path, conflict.theirs_id, conflict.theirs_kind)):
                if path and blob_id and kind is EntryKind.FILE:
                    versions.setdefault(path, blob_id)
        return versions

    def blob(self, path: str) -> str | None:
        """The merged file's blob id (a conflicted path: as in `files`), None where the merge has no such file."""
        if path in self.conflicted_paths:
            return self._conflict_versions().get(path)
        entry = self.repository.merged_entry(self.sides[0].tip, self.sides[1].tip, path)
        return entry.id if entry is not None and entry.kind is EntryKind.FILE else None

    def conflicted(self, path: str) -> bool:
        return path in self.conflicted_paths

    def merged_path(self, path: str | None) -> str | None:
        """Where a path of either side (or the base) lands in the merge: itself, or where a side moved it."""
        if path is None:
            return None
        if self.blob(path) is not None:
            return path
        for side in self.sides:
            file = side.by_path.get(path)
            if file is not None and file.change.old_path == path and file.change.new_path and self.blob(file.change.new_path):
                return file.change.new_path
        return None

    def table(self, path: str, references: bool = True) -> SymbolTable | None:
        blob_id = self.blob(path)
        table = self.tables.get(path, blob_id, references=references) if blob_id else None
        return table if table is not None and table.parsed else None

    # -- provenance ----------------------------------------------------------------

    def origin(self, path: str, line: int) -> str:
        """BASE, BOTH, or the name of the side that wrote this line of the merged file."""
        return self._line_origins(path).get(line, BASE)

    def lines_from(self, path: str, side: str) -> frozenset[int]:
        """Lines of the merged file that came from `side` alone."""
        return frozenset(line for line, origin in self._line_origins(path).items() if origin == side)

    def view(self, path: str, side: str) -> View | None:
        """The table to read for `side`'s code at this path, with the lines it wrote."""
        key = (path, side)
        if key not in self._views:
            self._views[key] = self._view(path, side)
        return self._views[key]

    def _view(self, path: str, side: str) -> View | None:
        if not self.conflicted(path):
            table = self.table(path)
            return View(table, self.lines_from(path, side), True) if table is not None else None
        file = self._file_of(self._side(side), path)
        if file is None or file.change.new_id is None or file.change.new_kind is not EntryKind.FILE:
            return None
        table = self.tables.get(path, file.change.new_id, references=True)
        if table is None or not table.parsed:
            return None
        return View(table, file.changed_new_lines, False)

    def references_from(self, path: str, side: str) -> tuple[tuple[SymbolTable, Reference], ...]:
        key = (path, side)
        if key not in self._written:
            view = self.view(path, side)
            self._written[key] = () if view is None else tuple(
                (view.table, r) for r in view.table.references if r.line in view.lines)
        return self._written[key]

    def references_from_named(self, path: str, side: str, names: set[str]) -> list[tuple[SymbolTable, Reference]]:
        """`references_from` whose references are named one of `names`, in its order (looked up by
        name: drift asks each file once per changed symbol)."""
        key = (path, side)
        index = self._written_by_name.get(key)
        if index is None:
            index = self._written_by_name[key] = {}
            for position, (table, reference) in enumerate(self.references_from(path, side)):
                index.setdefault(reference.name, []).append((position, table, reference))
        found = sorted(item for name in names for item in index.get(name, ()))
        return [(table, reference) for _, table, reference in found]

    def imports_from(self, path: str, side: str) -> list[tuple[SymbolTable, ImportBinding]]:
        view = self.view(path, side)
        if view is None:
            return []
        return [(view.table, b) for b in view.table.imports if b.line in view.lines]

    def side_line(self, path: str, line: int, side: str) -> int:
        """The line of `side`'s tip (or BASE's) that this merged line came from (itself where the texts agree)."""
        if self.conflicted(path):
            return line
        side_id = self._base_blob(path) if side == BASE else self._side_blob(self._side(side), path)
        merged_id = self.blob(path)
        if side_id is None or merged_id is None or side_id == merged_id:
            return line
        return _old_line(self.repository.hunks(side_id, merged_id), line)

    def _line_origins(self, path: str) -> dict[int, str]:
        if path not in self._origins:
            self._origins[path] = self._compute_origins(path)
        return self._origins[path]

    def _compute_origins(self, path: str) -> dict[int, str]:
        merged_id = self.blob(path)
        if merged_id is None:
            return {}
        base_id = self._base_blob(path)
        if base_id == merged_id:
            return {}
        changed = _new_lines(self.repository.hunks(base_id, merged_id))
        unlike: list[frozenset[int]] = []  # per side: merged lines its version does not have in place
        for side in self.sides:
            side_id = self._side_blob(side, path)
            if side_id == merged_id:
                unlike.append(frozenset())
            elif side_id == base_id:
                unlike.append(changed)
            else:
                unlike.append(_new_lines(self.repository.hunks(side_id, merged_id)))
        names = [side.name for side in self.sides]
        origins = {}
        for line in changed:
            having = [name for name, lines in zip(names, unlike) if line not in lines]
            origins[line] = having[0] if len(having) == 1 else BOTH
        return origins

    def _side(self, name: str) -> SideChanges:
        return next(side for side in self.sides if side.name == name)

    @staticmethod
    def _file_of(side: SideChanges, path: str) -> FileChange | None:
        file = side.by_path.get(path)
        return file if file is not None and file.change.new_path == path else None

    def _base_path(self, path: str) -> str | None:
        """The base's path of a merged path (None: added by a side)."""
        for side in self.sides:
            file = self._file_of(side, path)
            if file is not None:
                return file.change.old_path
        return path

    def _base_blob(self, path: str) -> str | None:
        base_path = self._base_path(path)
        if base_path is None:
            return None
        entry = self.repository.entry(self.base, base_path)
        return entry.id if entry is not None and entry.kind is EntryKind.FILE else None

    def _side_blob(self, side: SideChanges, path: str) -> str | None:
        """This side's version of a merged path: its own change there, else the base's (of the path it came from)."""
        file = self._file_of(side, path)
        if file is not None:
            return file.change.new_id if file.change.new_kind is EntryKind.FILE else None
        base_path = self._base_path(path)
        if base_path is not None and base_path != path:
            moved = self._file_of(side, base_path)
            if moved is not None:
                return moved.change.new_id
        return self._base_blob(path)


def _new_lines(hunks: tuple[Hunk, ...]) -> frozenset[int]:
    return frozenset(line for hunk in hunks for line in range(hunk.new.start, hunk.new.end + 1))


def _old_line(hunks: tuple[Hunk, ...], line: int) -> int:
    """The old side's line for a new side's line outside the hunks (the nearest one inside a hunk)."""
    starts = [hunk.new.start for hunk in hunks]
    before = bisect_right(starts, line)
    shift = 0
    for hunk in hunks[:before]:
        if hunk.new.start <= line <= hunk.new.end:
            return max(hunk.old.start, 1)
        shift += (hunk.new.end - hunk.new.start + 1) - (hunk.old.end - hunk.old.start + 1)
    return line - shift


__all__ = ["BASE", "BOTH", "MergedResult", "View"]
