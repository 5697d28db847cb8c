"""Work-tree candidates: the uncommitted state of a work tree, as a commit settle can settle.

`worktree:DIR` is the work tree's HEAD plus the files on disk — tracked ones, and
untracked ones git does not ignore; a tracked file gone from disk is deleted —
what `git add -A && git commit` would record. The blobs, trees and the commit
go to settle's scratch object store (see `Repository.scratch_objects`), never
to the repository's. The work tree is only read: the index is read as a file
(never refreshed, so not even its stat data is rewritten), ignore rules are
asked of libgit2 path by path, and every file's blob id is hashed here.

Contents are hashed as they are on disk: clean filters (`core.autocrlf`,
`filter=` attributes) are not applied.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, ObjectType

from settle.errors import NotARepositoryError, SettleError

_DIRECTORY, _REGULAR, _EXECUTABLE = 0o040000, 0o100644, 0o100755
# Files changed this recently may change again within the clock's resolution: not cached.
_RACY_SECONDS = 2.0
# A fixed identity and time, so that one work-tree state is always one commit id.
_SIGNATURE = b"settle <settle@work.tree> 0 +0000"


@dataclass(frozen=True)
class WorktreeState:
    name: str  # `worktree:<path from the main work tree>`
    directory: str  # the work tree's root, absolute
    head: str  # the commit HEAD points to
    branch: str | None  # the branch checked out there (None when HEAD is detached)
    commit: str  # HEAD plus the files on disk, in the scratch store


def worktree_name(repository, directory: str) -> str:
    handle, root = _open(repository, directory)
    return _name(repository, root)


def read_worktree(repository, directory: str, cache: dict) -> WorktreeState:
    """The work tree's state as a commit whose parent is its HEAD. `cache` remembers, between calls on
    one repository, blob ids by stat signature, the index by its file's, and trees by their entries."""
    handle, root = _open(repository, directory)
    name = _name(repository, root)
    if handle.head_is_unborn:
        raise SettleError(f"{name} has no commits yet: a work-tree candidate needs a HEAD to start from; commit something first")
    head = str(handle.head.target)
    branch = None if handle.head_is_detached else handle.head.shorthand
    store = repository.scratch_objects()
    entries = _entries(handle, root, cache, store)
    tree = _write_tree(store, entries, cache.setdefault(("trees", root), {}))
    commit = _write(store, ObjectType.COMMIT, b"tree %s\nparent %s\nauthor %s\ncommitter %s\n\n%s\n" % (
        tree.encode(), head.encode(), _SIGNATURE, _SIGNATURE, name.encode()))
    return WorktreeState(name, root, head, branch, commit)


def _open(repository, directory: str) -> tuple[pygit2.Repository, str]:
    """The work tree at (or containing) directory, which must belong to this repository."""
    if not directory:
        raise SettleError("worktree: names no directory; write worktree:. or worktree:PATH")
    if not os.path.isdir(directory):
        raise NotARepositoryError(f"worktree:{directory}: no such directory; give the path of a work tree of the repository")
    git_dir = pygit2.discover_repository(directory)
    if git_dir is None:
        raise NotARepositoryError(f"worktree:{directory} is not inside a git work tree")
    handle = pygit2.Repository(git_dir)
    if handle.is_bare or handle.workdir is None:
        raise NotARepositoryError(f"worktree:{directory} is a bare repository; a work-tree candidate needs a work tree")
    common = _common_dir(git_dir)
    if common != os.path.realpath(repository.common_dir):
        raise NotARepositoryError(
            f"worktree:{directory} is a work tree of another repository; pass --repo inside the repository it belongs to"
        )
    return handle, os.path.realpath(handle.workdir)


def _common_dir(git_dir: str) -> str:
    marker = Path(git_dir, "commondir")
    if marker.exists():
        return os.path.realpath(Path(git_dir) / marker.read_text().strip())
    return os.path.realpath(git_dir)


def _name(repository, root: str) -> str:
    # Relative, so that verdicts carry no absolute paths; from the main work tree, so that
    # every work tree of one repository names the same directory the same way.
    anchor = repository.main_worktree or os.path.realpath(repository.common_dir)
    return "worktree:" + Path(os.path.relpath(root, anchor)).as_posix()


# -- what is on disk ---------------------------------------------------------------------


def _entries(handle: pygit2.Repository, root: str, cache: dict, store: pygit2.Odb) -> dict[str, tuple[int, str]]:
    """path → (mode, blob id) of every file the work tree's state holds."""
    tracked, tracked_dirs = _tracked(handle, cache)
    hashes = cache.setdefault("files", {})
    honour_modes = _config_bool(handle, "core.filemode", True)
    entries: dict[str, tuple[int, str]] = {}
    for relative, full, status in _walk(handle, root, tracked, tracked_dirs):
        previous = tracked.get(relative)
        if previous is not None and previous[0] == FileMode.COMMIT:
            entries[relative] = previous  # a submodule: the commit the index records
            continue
        if stat.S_ISLNK(status.st_mode):
            entries[relative] = (int(FileMode.LINK), _blob(store, os.readlink(os.fsencode(full))))
            continue
        if not honour_modes and previous is not None:
            mode = previous[0]
        else:
            mode = _EXECUTABLE if status.st_mode & stat.S_IXUSR else _REGULAR
        blob = _file_blob(store, full, status, hashes)
        if blob is not None:
            entries[relative] = (mode, blob)
    return entries


def _tracked(handle: pygit2.Repository, cache: dict) -> tuple[dict[str, tuple[int, str]], set[str]]:
    """The index's paths with mode and blob id, and the directories holding them. Read only: nothing
    here refreshes the index. Read again only when its file changed."""
    index_path = os.path.join(handle.path, "index")
    try:
        status = os.stat(index_path)
        signature = (status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino)
    except OSError:
        signature = None
    known = cache.get(("index", index_path))
    if signature is not None and known is not None and known[0] == signature:
        return known[1], known[2]
    tracked: dict[str, tuple[int, str]] = {}
    for entry in handle.index:
        tracked.setdefault(entry.path, (int(entry.mode), str(entry.id)))  # a conflicted path has several stages
    tracked_dirs = {path[:index] for path in tracked for index in _slashes(path)}
    if signature is not None and time.time() - signature[0] / 1e9 > _RACY_SECONDS:
        cache[("index", index_path)] = (signature, tracked, tracked_dirs)
    return tracked, tracked_dirs


def _slashes(path: str):
    index = path.find("/")
    while index != -1:
        yield index
        index = path.find("/", index + 1)


def _walk(handle: pygit2.Repository, root: str, tracked: dict, tracked_dirs: set[str]):
    """(relative path, absolute path, lstat) of every file or symlink that counts: tracked, or
    untracked and not ignored. An ignored directory is entered only for the tracked files in it."""
    pending = [("", root, False)]
    while pending:
        prefix, directory, ignored = pending.pop()
        try:
            items = list(os.scandir(directory))
        except OSError:
            continue
        for item in items:
            if item.name == ".git":
                continue
            relative = prefix + item.name
            try:
                status = item.stat(follow_symlinks=False)
            except OSError:
                continue  # gone since the directory was listed
            if stat.S_ISDIR(status.st_mode):
                if tracked.get(relative, (0,))[0] == FileMode.COMMIT:
                    yield relative, item.path, status  # a submodule's directory
                    continue
                if relative in tracked_dirs:
                    # Untracked files in it are asked about one by one (the rules may ignore the directory).
                    pending.append((relative + "/", item.path, ignored))
                elif not ignored and not handle.path_is_ignored(relative + "/") and not _nested_repository(item.path):
                    pending.append((relative + "/", item.path, False))
            elif stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode):
                if relative in tracked or not ignored and not handle.path_is_ignored(relative):
                    yield relative, item.path, status


def _nested_repository(directory: str) -> bool:
    # Another repository inside the work tree is not part of it (git would add it as a gitlink).
    return os.path.exists(os.path.join(directory, ".git"))


def _file_blob(store: pygit2.Odb, full: str, status: os.stat_result, hashes: dict) -> str | None:
    signature = (status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino, status.st_mode)
    known = hashes.get(full)
    if known is not None and known[0] == signature:
        return known[1]  # written to the scratch store (or found in the repository) when first hashed
    try:
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError:
        return None  # vanished or unreadable since it was listed: as if it were not there
    blob = _blob(store, data)
    if time.time() - status.st_mtime_ns / 1e9 > _RACY_SECONDS:
        hashes[full] = (signature, blob)
    return blob


# -- objects -------------------------------------------------------------------------------


def _blob(store: pygit2.Odb, data: bytes) -> str:
    return _write(store, ObjectType.BLOB, data)


def _write(store: pygit2.Odb, kind: ObjectType, data: bytes) -> str:
    """Write an object to the scratch store unless it exists already (there or in the repository:
    writing an object the repository has would refresh the file holding it)."""
    header = {ObjectType.BLOB: b"blob", ObjectType.TREE: b"tree", ObjectType.COMMIT: b"commit"}[kind]
    object_id = hashlib.sha1(b"%s %d\0" % (header, len(data)) + data).hexdigest()
    if not store.exists(object_id):
        written = str(store.write(kind, data))
        if written != object_id:
            raise RuntimeError(f"the scratch store wrote {written} for an object that hashes to {object_id}")
    return object_id


def _write_tree(store: pygit2.Odb, entries: dict[str, tuple[int, str]], written: dict) -> str:
    """The root tree of the entries, and every tree below it. `written` maps a directory to the entries
    and id of its tree last time: a directory whose entries are the same is not serialized again."""
    children: dict[str, dict[str, tuple[int, str]]] = {"": {}}
    for path in sorted(entries, key=lambda p: p.count("/"), reverse=True):
        parent, _, name = path.rpartition("/")
        children.setdefault(parent, {})[name] = entries[path]
    # Deepest directories first, so that each tree's subtrees are written before it.
    for directory in sorted(_all_directories(children), key=lambda d: (d.count("/") if d else -1), reverse=True):
        content = children.get(directory, {})
        known = written.get(directory)
        if known is not None and known[0] == content:
            tree = known[1]
        else:
            tree = _write(store, ObjectType.TREE, _tree_bytes(content))
            written[directory] = (dict(content), tree)
        if directory:
            parent, _, name = directory.rpartition("/")
            children.setdefault(parent, {})[name] = (_DIRECTORY, tree)
        else:
            return tree
    raise AssertionError("the root tree is always written")


def _all_directories(children: dict[str, dict]) -> set[str]:
    found = set()
    for directory in children:
        while directory:
            found.add(directory)
            directory = directory.rpartition("/")[0]
    return found | {""}


def _tree_bytes(entries: dict[str, tuple[int, str]]) -> bytes:
    # git orders a tree's entries by name, a directory's name as if it ended in '/'.
    def order(name: str) -> bytes:
        return name.encode() + (b"/" if entries[name][0] == _DIRECTORY else b"")

    return b"".join(
        b"%o %s\0" % (entries[name][0], name.encode()) + bytes.fromhex(entries[name][1]) for name in sorted(entries, key=order)
    )


def _config_bool(handle: pygit2.Repository, key: str, default: bool) -> bool:
    try:
        return handle.config.get_bool(key)
    except (KeyError, pygit2.GitError, ValueError):
        return default
