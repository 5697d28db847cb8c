"""The repo layer: read-only access to a git repository through pygit2.

Nothing here checks out, writes a ref, or touches the index or work tree.
Three-way merges need somewhere to put the blobs libgit2 writes while merging;
they go to a throwaway object store that borrows the repository's objects as an
alternate, so even the object database of the repository is left as it was.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus, DiffOption, FileMode

from settle.errors import EmptyRepositoryError, NotARepositoryError, UnknownRefError


class ChangeStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    TYPE_CHANGED = "type_changed"


class EntryKind(StrEnum):
    FILE = "file"
    SYMLINK = "symlink"
    SUBMODULE = "submodule"
    MISSING = "missing"


_STATUSES = {
    DeltaStatus.ADDED: ChangeStatus.ADDED,
    DeltaStatus.MODIFIED: ChangeStatus.MODIFIED,
    DeltaStatus.DELETED: ChangeStatus.DELETED,
    DeltaStatus.RENAMED: ChangeStatus.RENAMED,
    DeltaStatus.COPIED: ChangeStatus.ADDED,
    DeltaStatus.TYPECHANGE: ChangeStatus.TYPE_CHANGED,
}
_NULL = "0" * 40
_BINARY_PROBE = 8000


def entry_kind(mode: int) -> EntryKind:
    if mode == 0:
        return EntryKind.MISSING
    if mode == FileMode.LINK:
        return EntryKind.SYMLINK
    if mode == FileMode.COMMIT:
        return EntryKind.SUBMODULE
    return EntryKind.FILE


@dataclass(frozen=True, slots=True)
class LineRange:
    start: int  # 1-based, inclusive
    end: int  # inclusive; end < start for a pure insertion point after start - 1

    @property
    def empty(self) -> bool:
        return self.end < self.start

    def overlaps(self, other: LineRange) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True, slots=True)
class Hunk:
    old: LineRange  # lines of the old side it replaces (empty for an insertion)
    new: LineRange  # lines of the new side it brings (empty for a deletion)


@dataclass(frozen=True, slots=True)
class PathChange:
    status: ChangeStatus
    old_path: str | None
    new_path: str | None
    old_id: str | None
    new_id: str | None
    old_kind: EntryKind
    new_kind: EntryKind
    similarity: int = 100  # for renames

    @property
    def path(self) -> str:
        """The path on the side that has it, the new one when both do."""
        return self.new_path or self.old_path or ""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str
    id: str
    kind: EntryKind


@dataclass(frozen=True, slots=True)
class MergeConflict:
    """One path git's three-way merge could not resolve; ids are None where a side lacks it."""

    ancestor_path: str | None
    ours_path: str | None
    theirs_path: str | None
    ancestor_id: str | None
    ours_id: str | None
    theirs_id: str | None
    ancestor_kind: EntryKind
    ours_kind: EntryKind
    theirs_kind: EntryKind


@dataclass(slots=True)
class _Merge:
    """An in-memory merge: libgit2's index of it, its conflicts, and its tree once listed."""

    index: pygit2.Index
    conflicts: tuple[MergeConflict, ...]
    files: dict[str, TreeEntry] | None = None


_BLOB_CACHE_BYTES = 64 * 1024 * 1024
_CACHED_DIFFS = 4096
_CACHED_MERGES = 4


class Repository:
    """A git repository opened for reading."""

    def __init__(self, handle: pygit2.Repository, location: str):
        self._repo = handle
        self.location = location
        self._shadow: pygit2.Repository | None = None
        # Recently read blobs: several stages read the same blob (prefilters, then the parser),
        # and neighbouring merges share most of theirs. Bounded by bytes, oldest dropped first.
        self._blobs: OrderedDict[str, tuple[bytes, pygit2.Blob]] = OrderedDict()  # the object too: diffs want it
        self._blob_bytes = 0
        self._hunks: dict[tuple[str | None, str | None], tuple[Hunk, ...]] = {}
        self._merges: dict[tuple[str, str], _Merge] = {}

    @classmethod
    def open(cls, path: str | os.PathLike = ".") -> Repository:
        path = os.fspath(path)
        if not os.path.exists(path):
            raise NotARepositoryError(f"{path}: no such directory; pass --repo with a path inside a git repository")
        git_dir = pygit2.discover_repository(path)
        if git_dir is None:
            raise NotARepositoryError(
                f"{path} is not inside a git repository; pass --repo with a work tree, a .git directory or a bare repository"
            )
        try:
            handle = pygit2.Repository(git_dir)
        except pygit2.GitError as error:
            raise NotARepositoryError(f"{path}: cannot open the git repository: {error}") from error
        return cls(handle, path)

    @property
    def git_dir(self) -> str:
        return self._repo.path

    @property
    def is_bare(self) -> bool:
        return self._repo.is_bare

    @cached_property
    def common_dir(self) -> str:
        """The directory holding objects/ and refs/ (differs from git_dir in linked worktrees)."""
        marker = Path(self._repo.path, "commondir")
        if marker.exists():
            return str((Path(self._repo.path) / marker.read_text().strip()).resolve())
        return self._repo.path

    # -- refs ----------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """The commit id a branch, tag, sha, HEAD or other revision names."""
        if self._repo.head_is_unborn and ref in ("HEAD", "@"):
            raise EmptyRepositoryError(f"{self.location}: the repository has no commits yet; commit something first")
        try:
            target = self._repo.revparse_single(ref)
            commit = target.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError) as error:
            if self._repo.is_empty:
                raise EmptyRepositoryError(
                    f"{self.location}: the repository has no commits yet, so '{ref}' names nothing"
                ) from error
            raise UnknownRefError(
                f"unknown ref '{ref}': no branch, tag or commit of that name (see `git branch -a`)"
            ) from error
        return str(commit.id)

    def default_base(self) -> str:
        """origin/HEAD's branch, else main, else master."""
        try:
            origin_head = self._repo.references["refs/remotes/origin/HEAD"]
            target = origin_head.target
            if isinstance(target, str) and target.startswith("refs/remotes/"):
                return target[len("refs/remotes/") :]
            return "origin/HEAD"
        except (KeyError, pygit2.GitError):
            pass
        for name in ("main", "master"):
            if self._repo.lookup_branch(name) is not None:
                return name
        if self._repo.is_empty:
            raise EmptyRepositoryError(f"{self.location}: the repository has no commits yet")
        raise UnknownRefError(
            "no default base: neither origin/HEAD, main nor master exists; pass --base REF"
        )

    def merge_base(self, first: str, second: str) -> str | None:
        found = self._repo.merge_base(pygit2.Oid(hex=first), pygit2.Oid(hex=second))
        return str(found) if found is not None else None

    def parents(self, commit: str) -> tuple[str, ...]:
        return tuple(str(parent) for parent in self._repo[commit].parent_ids)

    def walk(self, tip: str, hide: str | None = None, merges_only: bool = False):
        """Commits reachable from tip (and not from hide), oldest first; only merge commits when asked."""
        walker = self._repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
        if hide is not None:
            walker.hide(pygit2.Oid(hex=hide))
        for commit in walker:
            # The walked object knows its parents: looking each commit up again costs
            # more than the walk on a long history.
            if not merges_only or len(commit.parent_ids) > 1:
                yield str(commit.id)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor == descendant or self._repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor))

    # -- trees and blobs -------------------------------------------------------------

    def blob(self, blob_id: str) -> bytes:
        return self._blob(blob_id)[0]

    def _blob(self, blob_id: str) -> tuple[bytes, pygit2.Blob]:
        held = self._blobs.get(blob_id)
        if held is not None:
            self._blobs.move_to_end(blob_id)
            return held
        found = self._object(blob_id)
        held = self._blobs[blob_id] = (found.data, found)
        self._blob_bytes += 2 * len(held[0])  # the bytes, and the object's own copy
        while self._blob_bytes > _BLOB_CACHE_BYTES and len(self._blobs) > 1:
            _, (dropped, _) = self._blobs.popitem(last=False)
            self._blob_bytes -= 2 * len(dropped)
        return held

    def _object(self, object_id: str):
        """An object of the repository, or one a merge wrote to the scratch store (virtual ancestors)."""
        try:
            return self._repo[object_id]
        except KeyError:
            if self._shadow is None:
                raise
            return self._shadow[object_id]

    def entry(self, commit: str, path: str) -> TreeEntry | None:
        try:
            found = self._repo[commit].tree[path]
        except KeyError:
            return None
        if found.filemode == FileMode.TREE:
            return None
        return TreeEntry(path, str(found.id), entry_kind(found.filemode))

    def files(self, commit: str) -> list[TreeEntry]:
        """Every file of a commit's tree, depth first in git's order."""
        entries: list[TreeEntry] = []
        stack = [("", self._repo[commit].tree)]
        while stack:
            prefix, tree = stack.pop()
            for item in tree:
                if item.filemode == FileMode.TREE:
                    stack.append((prefix + item.name + "/", self._repo[item.id]))
                else:
                    entries.append(TreeEntry(prefix + item.name, str(item.id), entry_kind(item.filemode)))
        entries.sort(key=lambda e: e.path)
        return entries

    def is_binary(self, blob_id: str) -> bool:
        return b"\0" in self._object(blob_id).data[:_BINARY_PROBE]

    # -- changes ---------------------------------------------------------------------

    def changes(self, old_commit: str, new_commit: str) -> tuple[PathChange, ...]:
        """Changed paths between two commits, renames detected as git does by default."""
        # Without INCLUDE_TYPECHANGE a file that becomes a symlink shows as a delete plus an add.
        diff = self._repo.diff(self._repo[old_commit].tree, self._repo[new_commit].tree, flags=DiffOption.INCLUDE_TYPECHANGE)
        diff.find_similar()
        changes = []
        for delta in diff.deltas:
            status = _STATUSES.get(delta.status)
            if status is None:
                continue
            old, new = delta.old_file, delta.new_file
            old_id = str(old.id) if str(old.id) != _NULL else None
            new_id = str(new.id) if str(new.id) != _NULL else None
            changes.append(
                PathChange(
                    status=status,
                    old_path=old.path if status is not ChangeStatus.ADDED else None,
                    new_path=new.path if status is not ChangeStatus.DELETED else None,
                    old_id=old_id if status is not ChangeStatus.ADDED else None,
                    new_id=new_id if status is not ChangeStatus.DELETED else None,
                    old_kind=entry_kind(old.mode) if status is not ChangeStatus.ADDED else EntryKind.MISSING,
                    new_kind=entry_kind(new.mode) if status is not ChangeStatus.DELETED else EntryKind.MISSING,
                    similarity=delta.similarity if status is ChangeStatus.RENAMED else 100,
                )
            )
        changes.sort(key=lambda c: c.path)
        return tuple(changes)

    def hunks(self, old_id: str | None, new_id: str | None) -> tuple[Hunk, ...]:
        """Changed line ranges between two blobs (None for a side that lacks the file)."""
        key = (old_id, new_id)
        found = self._hunks.get(key)
        if found is None:
            found = self._hunks[key] = self._diff(old_id, new_id)
            if len(self._hunks) > _CACHED_DIFFS:
                self._hunks.pop(next(iter(self._hunks)))  # the oldest: a diff is asked for by neighbouring stages
        return found

    def _diff(self, old_id: str | None, new_id: str | None) -> tuple[Hunk, ...]:
        # Held blob objects: looking them up again would inflate them again, and libgit2
        # diffs two blob objects about twice as fast as two byte strings.
        if old_id is None or new_id is None:
            return line_hunks(self.blob(old_id) if old_id else None, self.blob(new_id) if new_id else None)
        return _hunks_of(self._blob(old_id)[1].diff(self._blob(new_id)[1], context_lines=0))

    # -- merges ----------------------------------------------------------------------

    def merge_conflicts(self, ours: str, theirs: str) -> tuple[MergeConflict, ...]:
        """The paths a three-way merge of two commits leaves conflicted, as libgit2 (and git) sees them."""
        return self._merge(ours, theirs).conflicts

    def merged_files(self, ours: str, theirs: str) -> dict[str, TreeEntry]:
        """The tree of the same in-memory merge: path → entry of every path it merged cleanly
        (conflicted paths are absent). Merged blobs live in the scratch store; `blob` reads them."""
        merge = self._merge(ours, theirs)
        if merge.files is None:
            conflicted = {p for c in merge.conflicts for p in (c.ancestor_path, c.ours_path, c.theirs_path) if p}
            merge.files = {entry.path: TreeEntry(entry.path, str(entry.id), entry_kind(entry.mode))
                           for entry in merge.index if entry.path not in conflicted}
        return merge.files

    def merged_entry(self, ours: str, theirs: str, path: str) -> TreeEntry | None:
        """One path of that merge's tree (None where it is absent or conflicted), without listing the tree."""
        merge = self._merge(ours, theirs)
        if merge.files is not None:
            return merge.files.get(path)
        try:
            entry = merge.index[path]
        except (KeyError, ValueError):
            return None
        if any(path in (c.ancestor_path, c.ours_path, c.theirs_path) for c in merge.conflicts):
            return None
        return TreeEntry(entry.path, str(entry.id), entry_kind(entry.mode))

    def _merge(self, ours: str, theirs: str) -> _Merge:
        """One merge per pair of tips, shared by the conflict scan and the merged result (the last few kept)."""
        key = (ours, theirs)
        found = self._merges.get(key)
        if found is None:
            found = self._merges[key] = self._merge_commits(ours, theirs)
            if len(self._merges) > _CACHED_MERGES:
                self._merges.pop(next(iter(self._merges)))
        return found

    def _merge_commits(self, ours: str, theirs: str) -> _Merge:
        index = self._shadow_repository().merge_commits(pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs))
        conflicts = []
        for ancestor, our, their in index.conflicts or ():
            conflicts.append(
                MergeConflict(
                    ancestor_path=ancestor.path if ancestor else None,
                    ours_path=our.path if our else None,
                    theirs_path=their.path if their else None,
                    ancestor_id=str(ancestor.id) if ancestor else None,
                    ours_id=str(our.id) if our else None,
                    theirs_id=str(their.id) if their else None,
                    ancestor_kind=entry_kind(ancestor.mode) if ancestor else EntryKind.MISSING,
                    ours_kind=entry_kind(our.mode) if our else EntryKind.MISSING,
                    theirs_kind=entry_kind(their.mode) if their else EntryKind.MISSING,
                )
            )
        conflicts.sort(key=lambda c: c.ours_path or c.theirs_path or c.ancestor_path or "")
        return _Merge(index, tuple(conflicts))

    def merge_file(self, conflict: MergeConflict) -> str:
        """The conflicted file's merged text with conflict markers, computed in memory."""
        ancestor = self._index_entry(conflict.ancestor_path, conflict.ancestor_id)
        ours = self._index_entry(conflict.ours_path, conflict.ours_id)
        theirs = self._index_entry(conflict.theirs_path, conflict.theirs_id)
        return self._shadow_repository().merge_file_from_index(ancestor, ours, theirs)

    @staticmethod
    def _index_entry(path, blob_id):
        if path is None or blob_id is None:
            return None
        return pygit2.IndexEntry(path, pygit2.Oid(hex=blob_id), FileMode.BLOB)

    # -- composed trees (evidence: `check --verify`) -----------------------------------

    def commit_tree(self, commit: str) -> str:
        return str(self._repo[commit].tree.id)

    def merged_commit_tree(self, ours: str, theirs: str) -> str | None:
        """The tree of the in-memory merge of two commits, written to the scratch store; None when it conflicts."""
        index = self._shadow_repository().merge_commits(pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs))
        return None if index.conflicts else str(index.write_tree(self._shadow_repository()))

    def merged_tree(self, ancestor: str, ours: str, theirs: str) -> str | None:
        """Three-way merge of trees (ids) in the scratch store; None when it conflicts."""
        shadow = self._shadow_repository()
        index = shadow.merge_trees(shadow[pygit2.Oid(hex=ancestor)], shadow[pygit2.Oid(hex=ours)], shadow[pygit2.Oid(hex=theirs)])
        return None if index.conflicts else str(index.write_tree(shadow))

    def write_tree(self, tree_id: str, directory: str) -> None:
        """Write a tree's files under an existing empty directory (modes kept; submodules as empty directories)."""
        shadow = self._shadow_repository()
        stack = [(directory, shadow[pygit2.Oid(hex=tree_id)])]
        while stack:
            folder, tree = stack.pop()
            for item in tree:
                target = os.path.join(folder, item.name)
                if item.filemode == FileMode.TREE:
                    os.mkdir(target)
                    stack.append((target, shadow[item.id]))
                elif item.filemode == FileMode.COMMIT:
                    os.mkdir(target)
                elif item.filemode == FileMode.LINK:
                    os.symlink(shadow[item.id].data.decode("utf-8", "surrogateescape"), target)
                else:
                    with open(target, "wb") as handle:
                        handle.write(shadow[item.id].data)
                    if item.filemode == FileMode.BLOB_EXECUTABLE:
                        os.chmod(target, 0o755)

    def _shadow_repository(self) -> pygit2.Repository:
        """A scratch bare repository whose object store falls back on ours; merges write there."""
        if self._shadow is None:
            scratch = tempfile.mkdtemp(prefix="settle-merge-")
            atexit.register(shutil.rmtree, scratch, True)
            pygit2.init_repository(scratch, bare=True)  # reopened below, once it knows its alternates
            alternates = Path(scratch, "objects", "info", "alternates")
            alternates.parent.mkdir(parents=True, exist_ok=True)
            alternates.write_text(str(Path(self.common_dir, "objects").resolve()) + "\n")
            self._shadow = pygit2.Repository(scratch)
        return self._shadow


def line_hunks(old: bytes | None, new: bytes | None) -> tuple[Hunk, ...]:
    """git's line diff of two texts (None for a side that lacks the file), without context lines."""
    if old is None and new is None:
        return ()
    if old is None:
        return (Hunk(LineRange(1, 0), LineRange(1, _line_count(new))),)
    if new is None:
        return (Hunk(LineRange(1, _line_count(old)), LineRange(1, 0)),)
    return _hunks_of(pygit2.Patch.create_from(old, new, context_lines=0))


def _hunks_of(patch: pygit2.Patch) -> tuple[Hunk, ...]:
    result = []
    for hunk in patch.hunks:
        old_range = LineRange(hunk.old_start, hunk.old_start + hunk.old_lines - 1) if hunk.old_lines else LineRange(hunk.old_start + 1, hunk.old_start)
        new_range = LineRange(hunk.new_start, hunk.new_start + hunk.new_lines - 1) if hunk.new_lines else LineRange(hunk.new_start + 1, hunk.new_start)
        result.append(Hunk(old_range, new_range))
    return tuple(result)


def _line_count(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
