"""Text conflicts are git's: settle's merge against the `git` binary over generated histories.

Each history is built straight into a bare repository (two sides over a base, or a
criss-cross with two merge bases); git's answer is `git merge-tree --write-tree` run
on a copy, so the repository settle reads is never written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygit2.enums import FileMode

from settle.repo import Repository

# Few distinct lines, repeated: where diff algorithms choose different alignments
# (changelog bullets, blank lines, closing braces), and so where merges disagree.
LINES = ["*\n", "\n", "}\n", "return x\n", "x += 1\n", "log(x)\n"]
SIGNATURE = pygit2.Signature("t", "t@t", 1_700_000_000, 0)


def _edit(draw, lines: list[str]) -> list[str]:
    lines = list(lines)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            lines[at:at] = draw(st.lists(st.sampled_from(LINES + ["new\n", "added(1)\n"]), min_size=1, max_size=3))
        elif lines and action == "delete":
            del lines[at:at + draw(st.integers(1, 2))]
        elif lines:
            lines[min(at, len(lines) - 1)] = draw(st.sampled_from(["changed\n", "other\n", "x -= 1\n"]))
    return lines


@st.composite
def side_files(draw, base: dict[str, list[str]]) -> dict[str, list[str]]:
    """One side's files: some edited, maybe one renamed (with or without edits) or deleted."""
    files = {path: (_edit(draw, lines) if draw(st.booleans()) else list(lines)) for path, lines in base.items()}
    fate = draw(st.sampled_from(["keep", "keep", "rename", "delete"]))
    victim = draw(st.sampled_from(sorted(files)))
    if fate == "rename":
        files[draw(st.sampled_from(["moved.txt", "renamed.txt"]))] = files.pop(victim)
    elif fate == "delete":
        del files[victim]
    return files


@st.composite
def histories(draw):
    base = {path: draw(st.lists(st.sampled_from(LINES), min_size=4, max_size=16)) for path in ("a.txt", "b.txt")}
    return base, draw(side_files(base)), draw(side_files(base)), draw(st.booleans())


def _commit(repository: pygit2.Repository, files: dict[str, list[str]], parents: list) -> pygit2.Oid:
    return repository.create_commit(None, SIGNATURE, SIGNATURE, "m", _tree(repository, files), parents)


def _tree(repository: pygit2.Repository, files: dict[str, list[str]]) -> pygit2.Oid:
    builder = repository.TreeBuilder()
    folders: dict[str, dict[str, list[str]]] = {}
    for path, lines in sorted(files.items()):
        folder, slash, rest = path.partition("/")
        if slash:
            folders.setdefault(folder, {})[rest] = lines
        else:
            builder.insert(path, repository.create_blob("".join(lines).encode()), FileMode.BLOB)
    for folder, inside in folders.items():
        builder.insert(folder, _tree(repository, inside), FileMode.TREE)
    return builder.write()


def _build(where: Path, base, left, right, criss_cross: bool) -> tuple[str, str]:
    repository = pygit2.init_repository(str(where), bare=True)
    root = _commit(repository, base, [])
    ours, theirs = _commit(repository, left, [root]), _commit(repository, right, [root])
    if criss_cross:
        # Each side merges the other and moves on: two merge bases, so git merges them
        # first into a virtual one (the recursive strategy), with its own conflicts.
        first = _commit(repository, {**left, "a.txt": left.get("a.txt", []) + ["left\n"]}, [ours, theirs])
        second = _commit(repository, {**right, "b.txt": right.get("b.txt", []) + ["right\n"]}, [theirs, ours])
        ours, theirs = first, second
    return str(ours), str(theirs)


def _settle_conflicted_paths(repo: Path, ours: str, theirs: str) -> set[str]:
    """The paths git would list: a side's path, or the base's where neither side has one (a rename's source).

    A rename/delete also carries its source as the ancestor path (for its subkind), which git does not list."""
    paths = set()
    for conflict in Repository.open(repo).merge_conflicts(ours, theirs):
        sides = {path for path in (conflict.ours_path, conflict.theirs_path) if path}
        paths |= sides or {conflict.ancestor_path}
    return paths


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_settle_conflicts_on_the_paths_git_conflicts_on(history):
    _agrees_with_git(history)


@st.composite
def spread_histories(draw):
    """Sides that mostly touch different files, and add files, some where the other side adds a folder:
    the shapes settle merges without asking git (disjoint changes, nothing deleted), and their near misses."""
    base = {path: draw(st.lists(st.sampled_from(LINES), min_size=2, max_size=8)) for path in ("a.txt", "b.txt", "dir/c.txt", "dir/d.txt")}
    sides = []
    for _ in range(2):
        files = {path: (_edit(draw, lines) if draw(st.integers(0, 3)) == 0 else list(lines)) for path, lines in base.items()}
        for added in draw(st.lists(st.sampled_from(["new.txt", "x", "x/y.txt", "dir/e.txt", "dir/sub/f.txt"]), max_size=2, unique=True)):
            if not any(other.startswith(added + "/") or added.startswith(other + "/") for other in files):
                files[added] = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=3))
        if draw(st.integers(0, 5)) == 0:
            files[draw(st.sampled_from(["moved.txt", "dir/moved.txt"]))] = files.pop(draw(st.sampled_from(sorted(base))))
        sides.append(files)
    return base, sides[0], sides[1], draw(st.integers(0, 3)) == 0


def _git_merge(repo: Path, ours: str, theirs: str) -> tuple[set[str], dict[str, str] | None]:
    """git's conflicted paths, and its merged tree (path -> blob id) when nothing conflicts."""
    scratch = Path(tempfile.mkdtemp(prefix="settle-test-git-"))
    try:
        copy = scratch / "copy.git"
        shutil.copytree(repo, copy)
        result = subprocess.run(["git", "merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs],
                                cwd=copy, capture_output=True, text=True)
        assert result.returncode in (0, 1), result.stderr
        lines = result.stdout.splitlines()
        conflicted = set(lines[1:]) - {""}
        if conflicted:
            return conflicted, None
        listing = subprocess.run(["git", "ls-tree", "-r", lines[0]], cwd=copy, capture_output=True, text=True, check=True)
        return set(), {line.split("\t", 1)[1]: line.split()[2] for line in listing.stdout.splitlines()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spread_histories())
def test_the_merged_tree_is_gits_where_the_sides_touch_different_files(history):
    _agrees_with_git(history)


def _agrees_with_git(history) -> None:
    """settle's conflicted paths are git's; where nothing conflicts, so is every path of the merged
    tree (listed whole, and asked one at a time); the repository's objects are left as they were."""
    with tempfile.TemporaryDirectory(prefix="settle-test-history-") as where:
        repo = Path(where) / "repo.git"
        ours, theirs = _build(repo, *history)
        objects = sorted(p.relative_to(repo).as_posix() for p in (repo / "objects").rglob("*"))
        conflicted, tree = _git_merge(repo, ours, theirs)
        assert _settle_conflicted_paths(repo, ours, theirs) == conflicted
        if tree is not None:
            repository = Repository.open(repo)
            assert {path: entry.id for path, entry in repository.merged_files(ours, theirs).items()} == tree
            fresh = Repository.open(repo)  # one path at a time, before any listing
            assert all(fresh.merged_entry(ours, theirs, path).id == blob for path, blob in tree.items())
            # Directories, paths under a file and paths nowhere are no entry (their directories are read once).
            directories = {path.rsplit("/", 1)[0] for path in tree if "/" in path}
            for missing in (*directories, *(f"{path}/below" for path in tree), "no/such/file", "nothing"):
                assert fresh.merged_entry(ours, theirs, missing) is None, missing
        assert sorted(p.relative_to(repo).as_posix() for p in (repo / "objects").rglob("*")) == objects


def test_disjoint_additions_and_edits_are_merged_without_git(tmp_path):
    base = {"a.txt": ["a\n"], "dir/b.txt": ["b\n"]}
    ours, theirs = _build(tmp_path / "repo.git", base, {**base, "a.txt": ["a2\n"], "x": ["file\n"]},
                          {**base, "dir/b.txt": ["b2\n"], "dir/new.txt": ["n\n"]}, False)
    repository = Repository.open(tmp_path / "repo.git")
    assert repository._trivial_merge(ours, theirs) is not None
    _, tree = _git_merge(tmp_path / "repo.git", ours, theirs)
    assert {path: entry.id for path, entry in repository.merged_files(ours, theirs).items()} == tree
    clash, _ = _build(tmp_path / "clash.git", base, {**base, "x": ["file\n"]}, {**base, "x/y.txt": ["under\n"]}, False)
    assert Repository.open(tmp_path / "clash.git")._trivial_merge(clash, _) is None  # a file where a folder is added
    assert _settle_conflicted_paths(tmp_path / "clash.git", clash, _) == _git_merge(tmp_path / "clash.git", clash, _)[0]


@pytest.mark.parametrize("shape", ["renamed_and_deleted", "renamed_apart"])
def test_rename_conflicts_keep_their_subkind(build, settle, shape):
    """git lists a rename/delete's stages at the new path only; settle still calls it a rename."""
    base = {"base": {"files": {"notes.txt": "".join(f"line {n}\n" for n in range(12))}}}
    sides = {
        "renamed_and_deleted": ({"rename": {"notes.txt": "kept.txt"}}, {"delete": ["notes.txt"]}),
        "renamed_apart": ({"rename": {"notes.txt": "left.txt"}}, {"rename": {"notes.txt": "right.txt"}}),
    }
    left, right = sides[shape]
    repo = build({**base, "branches": {"a": left, "b": right}})
    result = settle("check", "--repo", str(repo), "--base", "main", "--format", "json", "a", "b", repo=repo)
    found = [f["subkind"] for f in json.loads(result.stdout)["findings"] if f["kind"] == "text_conflict"]
    assert found == ["rename"]


def test_merges_started_ahead_are_the_merges_asked_for(tmp_path):
    """Replay has git merge the next merge's parents while it judges the current one: a merge
    collected from such a start (or settled early, past the few kept running) is the one asked
    for directly, pairs without a merge base are left alone, and the repository is not written."""
    where = tmp_path / "repo.git"
    repository = pygit2.init_repository(str(where), bare=True)
    lines = [f"line {n}\n" for n in range(12)]
    root = _commit(repository, {"a.txt": lines, "b.txt": ["b\n"]}, [])
    sides = []
    for n in range(7):
        edited = list(lines)
        edited[(n * 5) % 12] = f"side {n}\n"  # some pairs edit the same line: conflicts
        sides.append(str(_commit(repository, {"a.txt": edited, "b.txt": ["b\n"]}, [root])))
    lonely = str(_commit(repository, {"c.txt": ["c\n"]}, []))  # no merge base with any side
    pairs = [(sides[i], sides[j]) for i in range(7) for j in range(i + 1, 7)][:10] + [(sides[0], lonely)]
    objects = sorted(p.relative_to(where).as_posix() for p in (where / "objects").rglob("*"))
    ahead = Repository.open(where)
    ahead.start_merges(pairs)
    assert 0 < len(ahead._started) <= 4 and (sides[0], lonely) not in ahead._started
    direct = Repository.open(where)
    for ours, theirs in pairs[:-1]:
        assert ahead.merge_conflicts(ours, theirs) == direct.merge_conflicts(ours, theirs)
        if not direct.merge_conflicts(ours, theirs):
            assert ahead.merged_files(ours, theirs) == direct.merged_files(ours, theirs)
    assert any(direct.merge_conflicts(*pair) for pair in pairs[:-1]) and not ahead._started
    assert sorted(p.relative_to(where).as_posix() for p in (where / "objects").rglob("*")) == objects
