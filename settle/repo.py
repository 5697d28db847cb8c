"""The repo layer: read-only access to a git repository through pygit2.

Nothing here checks out, writes a ref, or touches the index or work tree.
Three-way merges need somewhere to put the blobs libgit2 writes while merging;
they go to a throwaway object store that borrows the repository's objects as an
alternate, so even the object database of the repository is left as it was.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import shutil
import subprocess
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus, DiffOption, FileMode

from settle.errors import EmptyRepositoryError, NotARepositoryError, UnknownRefError
from settle.scratch import directory as scratch_directory


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
WORKTREE_PREFIX = "worktree:"
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
    """An in-memory merge: its conflicts, and its merged tree (git's tree, or libgit2's index), listed once asked."""

    conflicts: tuple[MergeConflict, ...]
    index: pygit2.Index | None = None  # libgit2's merge
    tree: str | None = None  # git merge-tree's merged tree, in the scratch store; or ours, under `overlay`
    files: dict[str, TreeEntry] | None = None
    overlay: dict[str, TreeEntry] | None = None  # a trivial merge: their changed files, laid over ours' tree
    # The tree's directories looked into, read once: libgit2 keeps no tree over 4 KiB in its
    # object cache, so each path looked up in a directory of 2,000 files parsed it anew.
    directories: dict[str, pygit2.Tree | None] = field(default_factory=dict)


# A blob read again costs about 0.1 ms; 64 MiB of them took pytest's replay to a 299 MiB
# peak against 266 MiB at 32, in the same time.
_BLOB_CACHE_BYTES = 32 * 1024 * 1024
_CACHED_DIFFS = 4096
_CACHED_MERGES = 16  # git's merges are a tree id each; libgit2's hold an index
_CACHED_CHANGES = 64  # tree diffs and merge bases: a side's are read by its pass and by the merge of its pair
_STARTED_MERGES = 4  # git merges running ahead at once (`Repository.start_merges`)
_NEAR_ANCESTORS = 64  # commits walked from each tip for a merge base that is one of them, before libgit2's
_TRIVIAL_WALK = 2000  # commits per side looked at to prove one merge base; past that, git decides
_TRIVIAL = frozenset({ChangeStatus.ADDED, ChangeStatus.MODIFIED, ChangeStatus.TYPE_CHANGED})


def read_objects_as_git_does() -> None:
    """Turn off libgit2's check that each object read hashes to its id (git does not check on
    reading; `git fsck` does). For a command's own process (settle.cli), never the library's host."""
    pygit2.option(pygit2.enums.Option.ENABLE_STRICT_HASH_VERIFICATION, False)  # pygit2 1.15 has no `settings` method for it


class Repository:
    """A git repository opened for reading."""

    def __init__(self, handle: pygit2.Repository, location: str):
        self._repo = handle
        self.location = location
        self._shadow: pygit2.Repository | None = None
        # Recently read blobs: several stages read the same blob (prefilters, then the parser),
        # and neighbouring merges share most of theirs. Bounded by bytes, oldest dropped first.
        # The object too, once a diff asked for it: libgit2 diffs two blob objects faster than two
        # byte strings, but reading the bytes alone (most reads) is faster than making the object.
        self._blobs: OrderedDict[str, tuple[bytes, pygit2.Blob | None]] = OrderedDict()
        self._blob_bytes = 0
        self._hunks: dict[tuple[str | None, str | None], tuple[Hunk, ...]] = {}
        self._merges: dict[tuple[str, str], _Merge] = {}
        self._started: dict[tuple[str, str], subprocess.Popen] = {}  # git merges running ahead (`start_merges`)
        self._changes: OrderedDict[tuple[str, str], tuple[PathChange, ...]] = OrderedDict()
        self._bases: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._disk = None  # where git's answers are kept between processes (`remember_in`)
        self._facts = ""  # their keys' prefix
        self._history_facts = False

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

    def remember_in(self, disk) -> None:
        """Keep git's answers about objects (a pair's merge base, two commits' changes, two blobs'
        hunks, a tip's merges) in the disk cache (settle.parse.store.DiskCache), which a warm
        replay or check then reads instead of asking git again. An id names its object's content,
        so an answer never goes stale; the keys carry what else decides it: libgit2's version,
        this module's code and the rename setting a tree diff obeys (`diff.renames`). Answers
        about history are kept only where it is fixed (`history_is_fixed`)."""
        if disk is None:
            return
        try:
            renames = self._repo.config["diff.renames"]
        except (KeyError, pygit2.GitError):
            renames = ""
        self._disk = disk
        self._facts = f"{pygit2.LIBGIT2_VERSION}+{_code_digest()}+{renames}"
        self._history_facts = self.history_is_fixed

    def _from_disk(self, name: str, key: str, compute, dump, load, history: bool = False):
        """compute(), or its answer as the disk cache keeps it: dump(value) is JSON data, load(data)
        gives the value back or raises on data of another shape (worked out again and rewritten)."""
        disk = self._disk
        if disk is None or (history and not self._history_facts):
            return compute()
        entry = f"{self._facts}|{name}|{key}"
        stored = disk.load("git", entry)
        if stored is not None:
            try:
                return load(stored)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                pass
        value = compute()
        disk.store("git", entry, dump(value))
        return value

    @property
    def history_is_fixed(self) -> bool:
        """Whether a commit's history is fixed here: not a shallow clone, no grafts (where a fetch
        can give the same ids another history)."""
        common = self.common_dir
        return not (os.path.exists(os.path.join(common, "shallow")) or os.path.exists(os.path.join(common, "info", "grafts")))

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

    @cached_property
    def name(self) -> str:
        """What people call the repository, never where it is: origin's URL without host and
        `.git` (`pytest-dev/pytest`), else the work tree's directory name, else the bare
        repository's (`pytest.git` -> `pytest`)."""
        try:
            url = self._repo.remotes["origin"].url or ""
        except (KeyError, ValueError, pygit2.GitError):
            url = ""
        if url:
            return _name_from_url(url)
        place = self._repo.workdir or self.common_dir
        return _without_git_suffix(Path(place.rstrip("/")).name) or "repository"

    def commit_time(self, commit: str) -> int:
        """When a commit was made: its committer's time, in seconds since the epoch."""
        return self._object(commit).commit_time

    def subject(self, commit: str) -> str:
        """A commit's subject line (the first line of its message)."""
        message = self._object(commit).message
        return message.strip().splitlines()[0].strip() if message.strip() else ""

    # -- refs ----------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """The commit id a branch, tag, sha, HEAD or other revision names."""
        if ref.startswith(WORKTREE_PREFIX):
            return self.worktree(ref).commit
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
            near = self._nearest_ref(ref)
            hint = f"; did you mean '{near}'?" if near else " (see `git branch -a`)"
            raise UnknownRefError(f"unknown ref '{ref}': no branch, tag or commit of that name{hint}") from error
        return str(commit.id)

    def _nearest_ref(self, ref: str) -> str | None:
        """The branch or tag whose name is closest to a mistyped one (`sgi` → `sig`)."""
        import difflib

        names = []
        for name in self._repo.references:
            for prefix in ("refs/heads/", "refs/tags/", "refs/remotes/"):
                if name.startswith(prefix) and not name.endswith("/HEAD"):
                    names.append(name[len(prefix):])
        best, best_score = None, 0.6
        for name in sorted(set(names)):
            # Under one directory (`agent/…`) only the last part counts: `agent/nope` is not `agent/tax`.
            same_directory = name.rpartition("/")[0] == ref.rpartition("/")[0]
            first, second = (name.rpartition("/")[2], ref.rpartition("/")[2]) if same_directory else (name, ref)
            score = difflib.SequenceMatcher(None, first, second).ratio()
            if score > best_score:
                best, best_score = name, score
        return best

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
        key = (first, second)
        if key not in self._bases:  # a pair's base is asked for by its pass and by its merge
            self._bases[key] = self._from_disk("merge-base", f"{first}|{second}", lambda: self._git_merge_base(first, second),
                                                lambda base: [base], _one_id, history=True)
            if len(self._bases) > _CACHED_CHANGES:
                self._bases.popitem(last=False)
        return self._bases[key]

    def _git_merge_base(self, first: str, second: str) -> str | None:
        # A candidate made on top of its target is the usual case, and libgit2's merge base costs
        # tens of milliseconds on a long history even then (16 ms on mypy's): a commit that is an
        # ancestor of the other is their merge base, and a few parents show it.
        for tip, other in ((first, second), (second, first)):
            if self._near_ancestor(tip, other):
                return other
        found = self._repo.merge_base(pygit2.Oid(hex=first), pygit2.Oid(hex=second))
        return str(found) if found is not None else None

    def _near_ancestor(self, tip: str, ancestor: str) -> bool:
        """Is `ancestor` among the first `_NEAR_ANCESTORS` commits reachable from tip (itself included)?"""
        wanted = pygit2.Oid(hex=ancestor)
        queue, seen = deque([pygit2.Oid(hex=tip)]), set()
        while queue and len(seen) < _NEAR_ANCESTORS:
            commit_id = queue.popleft()
            if commit_id == wanted:
                return True
            if commit_id in seen:
                continue
            seen.add(commit_id)
            try:
                queue.extend(self._repo[commit_id].parent_ids)
            except KeyError:  # a parent missing from a shallow or partial clone: libgit2 decides
                return False
        return False

    def parents(self, commit: str) -> tuple[str, ...]:
        return tuple(str(parent) for parent in self._repo[commit].parent_ids)

    def merges(self, tip: str, hide: str | None = None) -> list[str]:
        """The merge commits reachable from tip (and not from hide), oldest first."""
        return self._from_disk("merges", f"{tip}|{hide}", lambda: list(self.walk(tip, hide, merges_only=True)),
                                list, _ids, history=True)

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

    def ancestors(self, tip: str) -> frozenset[str]:
        """Every commit reachable from tip, itself included (one walk, in no particular order)."""
        return frozenset(str(commit.id) for commit in self._repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.NONE))

    def root_commits(self, tip: str) -> tuple[str, ...]:
        """The parentless commits tip's history starts from: what identifies a repository across clones."""
        walker = self._repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.NONE)
        return tuple(sorted(str(commit.id) for commit in walker if not commit.parent_ids))

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor == descendant or self._repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor))

    # -- trees and blobs -------------------------------------------------------------

    def blob(self, blob_id: str) -> bytes:
        return self._blob(blob_id)[0]

    def _blob(self, blob_id: str) -> tuple[bytes, pygit2.Blob | None]:
        held = self._blobs.get(blob_id)
        if held is not None:
            self._blobs.move_to_end(blob_id)
            return held
        held = self._blobs[blob_id] = (self._blob_bytes_of(blob_id), None)
        self._blob_bytes += len(held[0])
        self._trim_blobs()
        return held

    def holds_blob(self, blob_id: str) -> bool:
        """Whether the blob's bytes are held in memory (reading it is a lookup, not an inflate)."""
        return blob_id in self._blobs

    def blob_size(self, blob_id: str) -> int | None:
        """A blob's size in bytes, from its header (nothing is inflated); None where the header
        can't be read: a size is only an estimate, and reading the blob itself says what is wrong."""
        held = self._blobs.get(blob_id)
        if held is not None:
            return len(held[0])
        for store in (self._repo, self._shadow):
            if store is not None:
                try:
                    return store.odb.read_header(blob_id)[1]
                except (KeyError, ValueError, pygit2.GitError):
                    continue
        return None

    def _blob_object(self, blob_id: str) -> pygit2.Blob:
        held = self._blobs.get(blob_id)
        if held is not None and held[1] is not None:
            self._blobs.move_to_end(blob_id)
            return held[1]
        found = self._object(blob_id)
        if held is None:
            self._blobs[blob_id] = (found.data, found)
            self._blob_bytes += 2 * found.size  # the bytes, and the object's own copy
        else:
            self._blobs[blob_id] = (held[0], found)
            self._blobs.move_to_end(blob_id)
            self._blob_bytes += found.size
        self._trim_blobs()
        return found

    def _trim_blobs(self) -> None:
        while self._blob_bytes > _BLOB_CACHE_BYTES and len(self._blobs) > 1:
            _, (dropped, found) = self._blobs.popitem(last=False)
            self._blob_bytes -= len(dropped) * (1 if found is None else 2)

    def _blob_bytes_of(self, blob_id: str) -> bytes:
        """A blob's bytes straight from the object database (no object made), the scratch store's too."""
        try:
            return self._repo.odb.read(blob_id)[1]
        except KeyError:
            if self._shadow is None:
                raise
            return self._shadow.odb.read(blob_id)[1]

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

    def files_in(self, commit: str, directory: str) -> list[TreeEntry]:
        """The files directly in a directory of a commit's tree (none when it is not there), by name."""
        try:
            tree = self._repo[commit].tree
            tree = tree[directory] if directory else tree
        except KeyError:
            return []
        if not isinstance(tree, pygit2.Tree):
            return []
        prefix = directory + "/" if directory else ""
        return sorted((TreeEntry(prefix + item.name, str(item.id), entry_kind(item.filemode))
                       for item in tree if item.filemode != FileMode.TREE), key=lambda e: e.path)

    def files(self, commit: str) -> list[TreeEntry]:
        """Every file of a commit's tree, depth first in git's order."""
        return self._tree_files(self._repo[commit].tree)

    def _tree_files(self, root) -> list[TreeEntry]:
        entries: list[TreeEntry] = []
        stack = [("", root)]
        while stack:
            prefix, tree = stack.pop()
            for item in tree:
                if item.filemode == FileMode.TREE:
                    stack.append((prefix + item.name + "/", self._object(str(item.id))))
                else:
                    entries.append(TreeEntry(prefix + item.name, str(item.id), entry_kind(item.filemode)))
        entries.sort(key=lambda e: e.path)
        return entries

    def is_binary(self, blob_id: str) -> bool:
        return b"\0" in self.blob(blob_id)[:_BINARY_PROBE]

    # -- changes ---------------------------------------------------------------------

    def changes(self, old_commit: str, new_commit: str) -> tuple[PathChange, ...]:
        """Changed paths between two commits, renames detected as git does by default."""
        key = (old_commit, new_commit)
        found = self._changes.get(key)
        if found is None:
            found = self._changes[key] = self._from_disk(
                "changes", f"{old_commit}|{new_commit}", lambda: self._tree_changes(old_commit, new_commit),
                _dump_changes, _load_changes)
            if len(self._changes) > _CACHED_CHANGES:
                self._changes.popitem(last=False)
        return found

    def _tree_changes(self, old_commit: str, new_commit: str) -> tuple[PathChange, ...]:
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
            found = self._hunks[key] = self._from_disk("hunks", f"{old_id}|{new_id}", lambda: self._diff(old_id, new_id),
                                                       _dump_hunks, _load_hunks)
            if len(self._hunks) > _CACHED_DIFFS:
                del self._hunks[next(iter(self._hunks))]  # a diff is asked for by neighbouring stages
        return found

    def _diff(self, old_id: str | None, new_id: str | None) -> tuple[Hunk, ...]:
        # Held blob objects: looking them up again would inflate them again, and libgit2
        # diffs two blob objects about twice as fast as two byte strings.
        if old_id is None or new_id is None:
            return line_hunks(self.blob(old_id) if old_id else None, self.blob(new_id) if new_id else None)
        return _hunks_of(self._blob_object(old_id).diff(self._blob_object(new_id), context_lines=0))

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
            if merge.index is not None:
                listed = [TreeEntry(e.path, str(e.id), entry_kind(e.mode)) for e in merge.index]
            else:
                listed = self._tree_files(self._object(merge.tree))
            if merge.overlay is not None:
                listed = sorted({**{e.path: e for e in listed}, **merge.overlay}.values(), key=lambda e: e.path)
            merge.files = {entry.path: entry for entry in listed if entry.path not in conflicted}
        return merge.files

    def merged_entry(self, ours: str, theirs: str, path: str) -> TreeEntry | None:
        """One path of that merge's tree (None where it is absent or conflicted), without listing the tree."""
        if path is None:  # a side's path that the merge deleted
            return None
        merge = self._merge(ours, theirs)
        if merge.files is not None:
            return merge.files.get(path)
        if merge.overlay is not None and path in merge.overlay:
            return merge.overlay[path]
        if any(path in (c.ancestor_path, c.ours_path, c.theirs_path) for c in merge.conflicts):
            return None
        directory, _, name = path.rpartition("/")
        try:
            if merge.index is not None:
                entry = merge.index[path]
                return TreeEntry(entry.path, str(entry.id), entry_kind(entry.mode))
            tree = self._merged_directory(merge, directory)
            item = tree[name] if tree is not None else None
        except (KeyError, ValueError):
            return None
        if item is None or item.filemode == FileMode.TREE:
            return None
        return TreeEntry(path, str(item.id), entry_kind(item.filemode))

    def _merged_directory(self, merge: _Merge, directory: str) -> pygit2.Tree | None:
        """A directory of the merge's tree ("" for its root), or None where there is none."""
        if directory in merge.directories:
            return merge.directories[directory]
        if not directory:
            tree = self._object(merge.tree)
        else:
            parent_path, _, name = directory.rpartition("/")
            parent = self._merged_directory(merge, parent_path)
            try:
                item = parent[name] if parent is not None else None
            except (KeyError, ValueError):
                item = None
            tree = self._object(str(item.id)) if item is not None and item.filemode == FileMode.TREE else None
        merge.directories[directory] = tree
        return tree

    def _merge(self, ours: str, theirs: str) -> _Merge:
        """One merge per pair of tips, shared by the conflict scan and the merged result (the last few kept)."""
        key = (ours, theirs)
        found = self._merges.get(key)
        if found is None:
            found = self._merge_commits(ours, theirs)
            self._keep_merge(key, found)
        return found

    def start_merges(self, pairs) -> None:
        """Start git's merge of each (ours, theirs) pair now, in its own process, for the conflict
        scan or the merged result to collect later: its few milliseconds of start-up and merging
        then run beside the caller's work (replay starts the next merge's pairs before it judges
        this one). Pairs without a merge base, trivial ones and libgit2's are left to be asked for."""
        git = git_merge_program()
        if git is None:
            return
        for ours, theirs in pairs:
            key = (ours, theirs)
            if key in self._merges or key in self._started or self.merge_base(ours, theirs) is None:
                continue
            trivial = self._trivial_merge(ours, theirs)
            if trivial is not None:
                self._keep_merge(key, trivial)
                continue
            if len(self._started) >= _STARTED_MERGES and not self._collect_finished():
                return  # enough running: the rest are merged when asked for
            self._started[key] = self._spawn_git_merge(git, ours, theirs)

    def _collect_finished(self) -> bool:
        """Keep the oldest started merge if git is done with it (one nobody asked for yet frees its place)."""
        key, process = next(iter(self._started.items()))
        if process.poll() is None:
            return False
        self._keep_merge(key, self._merge_commits(*key))
        return True

    def _keep_merge(self, key: tuple[str, str], merge: _Merge) -> None:
        self._merges[key] = merge
        if len(self._merges) > _CACHED_MERGES:
            self._merges.pop(next(iter(self._merges)))

    def _merge_commits(self, ours: str, theirs: str) -> _Merge:
        started = self._started.pop((ours, theirs), None)
        if started is not None:
            return self._finish_git_merge(started, ours, theirs)
        trivial = self._trivial_merge(ours, theirs)
        if trivial is not None:
            return trivial
        git = git_merge_program()
        return self._git_merge(git, ours, theirs) if git else self._libgit2_merge(ours, theirs)

    def _trivial_merge(self, ours: str, theirs: str) -> _Merge | None:
        """The merge of two sides that changed disjoint paths from their one merge base, adding or
        modifying files but deleting (or renaming) none: every engine answers the same there (each
        path is taken from the side that changed it, nothing conflicts, no rename can be found), so
        neither git nor libgit2 is asked. Most merges of real history are this shape; a `git
        merge-tree` process costs about 5 ms a merge. None when the shape is not met."""
        base = self.merge_base(ours, theirs)
        if base is None or not self._from_disk("only-base", f"{base}|{ours}|{theirs}",
                                                lambda: self._only_merge_base(base, ours, theirs),
                                                lambda only: [only], _one_bool, history=True):
            return None
        sides = [self.changes(base, tip) for tip in (ours, theirs)]
        if any(change.status not in _TRIVIAL for changes in sides for change in changes):
            return None
        paths = [{change.path for change in changes} for changes in sides]
        if paths[0] & paths[1]:
            return None
        for mine, other in ((paths[0], paths[1]), (paths[1], paths[0])):
            # A file one side adds where the other adds a file under it (`x` and `x/y`) conflicts.
            if any(path[:cut] in other for path in mine for cut in _slashes(path)):
                return None
        overlay = {c.path: TreeEntry(c.path, c.new_id, c.new_kind) for c in sides[1]}
        return _Merge((), tree=str(self._repo[ours].tree_id), overlay=overlay)

    def _only_merge_base(self, base: str, ours: str, theirs: str) -> bool:
        """Whether `base` is the pair's only merge base: no commit reachable from both tips lies
        outside base's history (criss-cross merges have several, and git merges them first)."""
        if base in (ours, theirs):  # a tip that is the base holds every commit both reach
            return True
        mine = set()
        for tip, seen in ((ours, None), (theirs, mine)):
            walker = self._repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.NONE)
            walker.hide(pygit2.Oid(hex=base))
            for count, commit in enumerate(walker):
                if count >= _TRIVIAL_WALK:
                    return False
                if seen is None:
                    mine.add(commit.id)
                elif commit.id in seen:
                    return False
        return True

    def _git_merge(self, git: str, ours: str, theirs: str) -> _Merge:
        return self._finish_git_merge(self._spawn_git_merge(git, ours, theirs), ours, theirs)

    def _spawn_git_merge(self, git: str, ours: str, theirs: str) -> subprocess.Popen:
        # libgit2's merge is not merge-ort: it has no histogram diff and detects renames
        # differently, and on real histories the two disagree (see README, "Text
        # conflicts are git's"). So git itself merges, writing its blobs and trees to
        # the scratch object store, which borrows ours as an alternate.
        scratch = self._shadow_repository().path
        process = subprocess.Popen(
            [git, "merge-tree", "--write-tree", "-z", "--allow-unrelated-histories", ours, theirs],
            env=_git_environment(self._repo.path, str(Path(scratch, "objects"))),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        _RUNNING.add(process)
        _reap_at_exit()
        return process

    def _finish_git_merge(self, process: subprocess.Popen, ours: str, theirs: str) -> _Merge:
        try:
            stdout, stderr = process.communicate()
        finally:
            _RUNNING.discard(process)
        if process.returncode not in (0, 1):
            raise RuntimeError(f"git merge-tree failed on {ours[:12]} and {theirs[:12]}: {stderr.decode(errors='replace')[:300]}")
        output = stdout.decode("utf-8", errors="surrogateescape")
        return _Merge(_merge_tree_conflicts(output), tree=output.split("\0", 1)[0].strip())

    def _libgit2_merge(self, ours: str, theirs: str) -> _Merge:
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
        return _Merge(_sorted_conflicts(conflicts), index=index)

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
            scratch = str(scratch_directory("settle-merge-"))
            pygit2.init_repository(scratch, bare=True)  # reopened below, once it knows its alternates
            alternates = Path(scratch, "objects", "info", "alternates")
            alternates.parent.mkdir(parents=True, exist_ok=True)
            alternates.write_text(str(Path(self.common_dir, "objects").resolve()) + "\n")
            self._shadow = pygit2.Repository(scratch)
        return self._shadow

    # -- work-tree candidates ---------------------------------------------------------

    def worktree(self, ref: str):
        """The uncommitted state of a work tree (`worktree:DIR`) as a commit in the scratch store:
        a `settle.worktree.WorktreeState`. Read from disk each time: the files may have changed."""
        from settle.worktree import read_worktree

        state = read_worktree(self, ref[len(WORKTREE_PREFIX):], self._worktree_hashes)
        self._worktree_states[state.commit] = state
        return state

    def worktree_state(self, commit: str):
        """The work tree a commit of `worktree()` was read from, or None for any other commit."""
        return self._worktree_states.get(commit)

    def candidate_name(self, ref: str) -> str:
        """How a candidate is named in verdicts: a work tree by its path from the main work tree."""
        if ref.startswith(WORKTREE_PREFIX):
            from settle.worktree import worktree_name

            return worktree_name(self, ref[len(WORKTREE_PREFIX):])
        return ref

    @cached_property
    def _worktree_states(self) -> dict:
        return {}

    @cached_property
    def _worktree_hashes(self) -> dict:
        # Blob ids by stat signature, indexes, trees: a warm server hashes only the files that changed.
        return {}

    def scratch_objects(self) -> pygit2.Odb:
        """The scratch object store, for objects settle makes up (a work tree's blobs and trees);
        whatever is written there is readable through this repository too, and the repository's
        own object store is never written."""
        shadow = self._shadow_repository()
        if not self._reads_scratch:
            # In memory only: libgit2 reads the scratch store as one more alternate of this handle.
            self._repo.odb.add_disk_alternate(str(Path(shadow.path, "objects")))
            self._reads_scratch = True
        return shadow.odb

    _reads_scratch = False

    @cached_property
    def main_worktree(self) -> str | None:
        """The main work tree of the repository (None when it is bare)."""
        common = pygit2.Repository(self.common_dir)
        return None if common.is_bare else os.path.realpath(common.workdir)


def _name_from_url(url: str) -> str:
    """`https://host/owner/name.git` and `git@host:owner/name` -> `owner/name`; a local path or
    `file://` URL -> its last part (the rest of a path is where it is, not what it is)."""
    if "://" in url and not url.startswith("file://"):
        remainder = url.split("://", 1)[1]
        path, keep = (remainder.split("/", 1)[1] if "/" in remainder else ""), 2
    elif ":" in url and not url.startswith(("/", ".", "file://")) and "/" not in url.split(":", 1)[0]:
        path, keep = url.split(":", 1)[1], 2  # scp-like: [user@]host:owner/name
    else:
        path, keep = url.removeprefix("file://"), 1
    parts = [_without_git_suffix(part) for part in path.split("/") if part not in ("", ".")]
    return "/".join(parts[-keep:]) or "repository"


def _without_git_suffix(name: str) -> str:
    return name[:-4] if name.endswith(".git") and len(name) > 4 else name


@functools.cache
def _code_digest() -> str:
    return hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()


def _one_id(value: list) -> str | None:
    (found,) = value
    if found is not None and not _is_id(found):
        raise ValueError("not an object id")
    return found


def _one_bool(value: list) -> bool:
    (found,) = value
    if not isinstance(found, bool):
        raise ValueError("not a truth value")
    return found


def _ids(value: list) -> list[str]:
    if not isinstance(value, list) or not all(_is_id(found) for found in value):
        raise ValueError("not a list of object ids")
    return value


def _is_id(value) -> bool:
    return isinstance(value, str) and len(value) in (40, 64)


def _dump_changes(changes: tuple[PathChange, ...]) -> list:
    return [[c.status.value, c.old_path, c.new_path, c.old_id, c.new_id, c.old_kind.value, c.new_kind.value, c.similarity]
            for c in changes]


def _load_changes(value: list) -> tuple[PathChange, ...]:
    changes = []
    for status, old_path, new_path, old_id, new_id, old_kind, new_kind, similarity in value:
        if not (all(item is None or isinstance(item, str) for item in (old_path, new_path))
                and all(item is None or _is_id(item) for item in (old_id, new_id))
                and type(similarity) is int):
            raise ValueError("not a path change")
        changes.append(PathChange(ChangeStatus(status), old_path, new_path, old_id, new_id, EntryKind(old_kind),
                                  EntryKind(new_kind), similarity))
    return tuple(changes)


def _dump_hunks(hunks: tuple[Hunk, ...]) -> list[int]:
    return [number for hunk in hunks for number in (hunk.old.start, hunk.old.end, hunk.new.start, hunk.new.end)]


def _load_hunks(value: list) -> tuple[Hunk, ...]:
    if len(value) % 4 or not all(type(number) is int for number in value):
        raise ValueError("not hunks")
    return tuple(Hunk(LineRange(value[i], value[i + 1]), LineRange(value[i + 2], value[i + 3])) for i in range(0, len(value), 4))


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


def _slashes(path: str):
    """Where `path`'s parent folders end: path[:cut] is each of them."""
    cut = path.find("/")
    while cut != -1:
        yield cut
        cut = path.find("/", cut + 1)


def _line_count(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


# -- git's own merge ------------------------------------------------------------------

_MERGE_TREE_VERSION = (2, 38)  # `git merge-tree --write-tree` first shipped in git 2.38


_RUNNING: set[subprocess.Popen] = set()  # git merges started and not yet collected


@functools.cache
def _reap_at_exit() -> None:
    # Registered after the scratch store's removal (its first git merge comes after the store is
    # made), so it runs before it: a git still writing there would make its directories anew.
    atexit.register(_reap)


def _reap() -> None:
    for process in list(_RUNNING):
        if process.poll() is None:
            process.kill()
        process.wait()
        _RUNNING.discard(process)


def git_merge_program() -> str | None:
    """The git binary that runs merges, or None to merge with libgit2 (no git, or one older than 2.38).

    SETTLE_GIT names the binary (default `git` on PATH); SETTLE_GIT=libgit2 forces libgit2's merge.
    """
    chosen = os.environ.get("SETTLE_GIT", "git")
    if chosen == "libgit2":
        return None
    return _usable_git(chosen)


@functools.cache
def _usable_git(chosen: str) -> str | None:
    program = shutil.which(chosen)
    if program is None:
        return None
    try:
        answer = subprocess.run([program, "version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    numbers = re.match(r"git version (\d+)\.(\d+)", answer)
    if numbers is None or (int(numbers[1]), int(numbers[2])) < _MERGE_TREE_VERSION:
        return None
    return program


def _git_environment(git_dir: str, object_directory: str) -> dict[str, str]:
    """git pointed at the repository for reading and at the scratch store for writing.

    Only the repository's own config is read (not the user's or the system's), so the
    answer depends on the repository state alone; replace refs are ignored as libgit2
    (and so the rest of settle) ignores them.
    """
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(
        GIT_DIR=git_dir,
        GIT_OBJECT_DIRECTORY=object_directory,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_OPTIONAL_LOCKS="0",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return environment


def _merge_tree_conflicts(output: str) -> tuple[MergeConflict, ...]:
    """git merge-tree -z's conflicted-file stages, one MergeConflict per path, in libgit2's shapes.

    git lists stage 1/2/3 entries per path; a rename conflict lists its source
    path among the message's paths. A rename/delete has stages only at the new
    path, so the message's source becomes that entry's ancestor path: the same
    shape libgit2 gives (and the classifier reads as a rename).
    """
    fields = output.split("\0")
    stages: dict[str, dict[int, tuple[int, str]]] = {}
    position = 1
    while position < len(fields) and fields[position]:
        header, path = fields[position].split("\t", 1)
        mode, object_id, stage = header.split(" ")
        stages.setdefault(path, {})[int(stage)] = (int(mode, 8), object_id)
        position += 1
    sources = _rename_sources(fields[position + 1 :], stages)
    conflicts = []
    for path, entries in stages.items():
        ancestor, ours, theirs = entries.get(1), entries.get(2), entries.get(3)
        ancestor_path = sources.get(path, path) if ancestor else None
        conflicts.append(
            MergeConflict(
                ancestor_path=ancestor_path,
                ours_path=path if ours else None,
                theirs_path=path if theirs else None,
                ancestor_id=ancestor[1] if ancestor else None,
                ours_id=ours[1] if ours else None,
                theirs_id=theirs[1] if theirs else None,
                ancestor_kind=entry_kind(ancestor[0]) if ancestor else EntryKind.MISSING,
                ours_kind=entry_kind(ours[0]) if ours else EntryKind.MISSING,
                theirs_kind=entry_kind(theirs[0]) if theirs else EntryKind.MISSING,
            )
        )
    return _sorted_conflicts(conflicts)


def _rename_sources(messages: list[str], stages: dict[str, dict]) -> dict[str, str]:
    """For a rename/delete's new path (stages 1 and one side only), the path it was renamed from."""
    sources: dict[str, str] = {}
    position = 0
    # Each message is its count of paths, the paths, a kind and a text; a submodule conflict
    # ends the list with free text (git's advice on merging submodules by hand), no count.
    while position < len(messages) and messages[position].isdigit():
        count = int(messages[position])
        paths = messages[position + 1 : position + 1 + count]
        kind = messages[position + 1 + count]
        position += count + 3
        if "rename/delete" not in kind or len(paths) != 2:
            continue
        staged = [path for path in paths if path in stages]
        if len(staged) == 1:  # git lists the new path first; don't depend on it
            sources[staged[0]] = next(path for path in paths if path != staged[0])
    return sources


def _sorted_conflicts(conflicts: list[MergeConflict]) -> tuple[MergeConflict, ...]:
    return tuple(sorted(conflicts, key=lambda c: c.ours_path or c.theirs_path or c.ancestor_path or ""))
