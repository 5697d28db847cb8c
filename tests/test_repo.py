"""The repo layer: opening repositories every way, resolving every ref form, and classifying changed paths."""

from __future__ import annotations

import json
import subprocess

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settle.errors import NotARepositoryError, UnknownRefError
from settle.repo import ChangeStatus, EntryKind, LineRange, Repository

BASE = {
    "base": {"files": {
        "pkg/a.py": "def a():\n    return 1\n",
        "pkg/b.py": "def b():\n    x = 1\n    y = 2\n    z = 3\n    return x + y + z\n",
        "pkg/c.py": "def c():\n    return 3\n",
        "pkg/moved.py": "def moved(value):\n    total = value * 2\n    total += 1\n    return total\n",
        "pkg/kind.py": "def kind():\n    return 0\n",
        "data.bin": {"hex": "00010203"},
    }},
    "branches": {"feature": {
        "files": {
            "pkg/b.py": "def b():\n    x = 10\n    y = 2\n    z = 3\n    return x + y + z\n",
            "pkg/new.py": "def new():\n    return 4\n",
            "pkg/kind.py": {"symlink": "a.py"},
            "data.bin": {"hex": "00010204"},
            "vendor/dep": {"submodule": "2222222222222222222222222222222222222222"},
        },
        "delete": ["pkg/c.py"],
        "rename": {"pkg/moved.py": "pkg/renamed.py"},
    }},
}


@pytest.fixture
def repo_path(build):
    path = build(BASE)
    handle = pygit2.Repository(str(path))
    main = handle.branches["main"].target
    signature = pygit2.Signature("t", "t@t", 1_700_000_000, 0)
    handle.create_tag("v1", main, pygit2.enums.ObjectType.COMMIT, signature, "annotated")
    handle.references.create("refs/tags/light", main)
    handle.references.create("refs/remotes/origin/trunk", main)
    handle.references.create("refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    return path


def test_opens_from_work_tree_subdirectory_git_dir_and_bare_clone(repo_path, tmp_path):
    for where in (repo_path, repo_path / "pkg", repo_path / ".git"):
        assert Repository.open(where).resolve("main") == Repository.open(repo_path).resolve("main")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo_path), str(bare)], check=True)
    assert Repository.open(bare).is_bare
    assert Repository.open(bare).resolve("feature") == Repository.open(repo_path).resolve("feature")


def test_not_a_repository_names_the_path(tmp_path):
    with pytest.raises(NotARepositoryError, match=str(tmp_path)):
        Repository.open(tmp_path)


@pytest.mark.parametrize("ref", ["main", "feature", "v1", "light", "HEAD", "origin/HEAD", "origin/trunk", "refs/heads/main"])
def test_resolves_every_ref_form_through_the_command(settle, repo_path, ref):
    result = settle("symbols", "--rev", ref, "--format", "json", "pkg/a.py", repo=repo_path)
    assert result.returncode == 0, result.stderr


def test_resolves_full_and_abbreviated_shas(settle, repo_path):
    sha = Repository.open(repo_path).resolve("feature")
    for form in (sha, sha[:8]):
        result = settle("symbols", "--rev", form, "pkg/new.py", repo=repo_path)
        assert result.returncode == 0 and "pkg/new.py::new  ()" in result.stdout


def test_annotated_tags_peel_to_their_commit(repo_path):
    repository = Repository.open(repo_path)
    assert repository.resolve("v1") == repository.resolve("main")


def test_unknown_ref_says_what_to_do(repo_path):
    with pytest.raises(UnknownRefError, match="git branch -a"):
        Repository.open(repo_path).resolve("nope")


def test_default_base_prefers_origin_head_then_main_then_master(repo_path, build):
    assert Repository.open(repo_path).default_base() == "origin/trunk"
    plain = build({"base": {"files": {"a.py": "x = 1\n"}}})
    assert Repository.open(plain).default_base() == "main"
    handle = pygit2.Repository(str(plain))
    handle.branches.local.create("master", handle[handle.branches["main"].target])
    handle.references.create("refs/heads/trunk", handle.branches["main"].target)
    handle.set_head("refs/heads/trunk")
    handle.branches.delete("main")
    assert Repository.open(plain).default_base() == "master"
    handle.branches.delete("master")
    with pytest.raises(UnknownRefError, match="pass --base"):
        Repository.open(plain).default_base()


def test_changed_paths_carry_every_status(repo_path):
    repository = Repository.open(repo_path)
    changes = {c.path: c for c in repository.changes(repository.resolve("main"), repository.resolve("feature"))}
    assert changes["pkg/b.py"].status is ChangeStatus.MODIFIED
    assert changes["pkg/new.py"].status is ChangeStatus.ADDED and changes["pkg/new.py"].old_id is None
    assert changes["pkg/c.py"].status is ChangeStatus.DELETED and changes["pkg/c.py"].new_path is None
    renamed = changes["pkg/renamed.py"]
    assert renamed.status is ChangeStatus.RENAMED and renamed.old_path == "pkg/moved.py" and renamed.similarity == 100
    assert changes["pkg/kind.py"].status is ChangeStatus.TYPE_CHANGED
    assert (changes["pkg/kind.py"].old_kind, changes["pkg/kind.py"].new_kind) == (EntryKind.FILE, EntryKind.SYMLINK)
    assert changes["data.bin"].status is ChangeStatus.MODIFIED and repository.is_binary(changes["data.bin"].new_id)
    assert changes["vendor/dep"].new_kind is EntryKind.SUBMODULE


def test_changed_line_ranges_per_path(repo_path):
    repository = Repository.open(repo_path)
    change = next(c for c in repository.changes(repository.resolve("main"), repository.resolve("feature")) if c.path == "pkg/b.py")
    hunks = repository.hunks(change.old_id, change.new_id)
    assert [(h.old, h.new) for h in hunks] == [(LineRange(2, 2), LineRange(2, 2))]
    added = repository.hunks(None, change.new_id)
    assert added[0].new == LineRange(1, 5) and added[0].old.empty



def test_blob_bytes_and_diffs_do_not_depend_on_what_was_read_first(repo_path):
    """Bytes are read without making a blob object, and the object is made when a diff wants it:
    whichever comes first, the bytes are git's and the hunks are the same."""
    main, feature = (Repository.open(repo_path).resolve(ref) for ref in ("main", "feature"))
    changed = [c for c in Repository.open(repo_path).changes(main, feature)
               if c.old_id and c.new_id and c.old_kind is EntryKind.FILE and c.new_kind is EntryKind.FILE]
    assert {c.path for c in changed} >= {"pkg/b.py", "data.bin"}
    bytes_first, diff_first = Repository.open(repo_path), Repository.open(repo_path)
    for change in changed:
        for blob_id in (change.old_id, change.new_id):
            git = subprocess.run(["git", "-C", str(repo_path), "cat-file", "blob", blob_id], capture_output=True, check=True).stdout
            assert bytes_first.blob(blob_id) == git
        assert bytes_first.hunks(change.old_id, change.new_id) == diff_first.hunks(change.old_id, change.new_id)
        for blob_id in (change.old_id, change.new_id):
            assert diff_first.blob(blob_id) == bytes_first.blob(blob_id)
    assert bytes_first.is_binary(next(c.new_id for c in changed if c.path == "data.bin"))
    with pytest.raises(KeyError):
        bytes_first.blob("0" * 40)

def test_merge_bases_and_history(repo_path):
    repository = Repository.open(repo_path)
    main, feature = repository.resolve("main"), repository.resolve("feature")
    assert repository.merge_base(main, feature) == main
    assert repository.is_ancestor(main, feature)
    assert list(repository.walk(feature, hide=main)) == [feature]


def test_in_memory_merges_leave_the_object_database_alone(repo_path, build):
    repo = build({
        "base": {"files": {"f.py": "a = 1\nb = 2\nc = 3\n"}},
        "branches": {"x": {"files": {"f.py": "a = 10\nb = 2\nc = 3\n"}}, "y": {"files": {"f.py": "a = 1\nb = 2\nc = 30\n"}}},
    })
    objects = sorted(p.name for p in (repo / ".git" / "objects").rglob("*"))
    repository = Repository.open(repo)
    assert repository.merge_conflicts(repository.resolve("x"), repository.resolve("y")) == ()
    assert sorted(p.name for p in (repo / ".git" / "objects").rglob("*")) == objects


def test_a_submodule_both_sides_moved_is_a_conflict_not_a_crash(settle, build):
    """git merge-tree ends its messages with free advice on merging submodules by hand (no path
    count before it): express's history has such a merge, which once stopped replay with exit 3."""
    repo = build({
        "base": {"files": {"app.py": "x = 1\n", "vendor/dep": {"submodule": "1111111111111111111111111111111111111111"}}},
        "branches": {
            "a": {"files": {"vendor/dep": {"submodule": "2222222222222222222222222222222222222222"}}},
            "b": {"files": {"vendor/dep": {"submodule": "3333333333333333333333333333333333333333"}, "app.py": "x = 2\n"}},
        },
    })
    result = settle("check", "--base", "main", "--format", "json", "a", "b", repo=repo)
    assert result.returncode == 1, result.stderr
    conflicts = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "text_conflict"]
    assert [f["path"] for f in conflicts] == ["vendor/dep"]
    assert conflicts[0]["message"] == "a and b both change the submodule vendor/dep; pick one version"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.booleans()), min_size=1, max_size=90),
       pairs=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=12))
def test_merge_bases_are_libgit2s_on_any_history(tmp_path_factory, shape, pairs):
    """The shortcut for a commit that is the other's ancestor (a few parents away) answers what
    libgit2 answers, on histories with merges, criss-crosses and chains longer than it walks."""
    path = tmp_path_factory.mktemp("dag")
    handle = pygit2.init_repository(str(path), bare=True)
    tree = handle.TreeBuilder().write()
    signature = pygit2.Signature("t", "t@t", 1_700_000_000, 0)
    commits = [handle.create_commit(None, signature, signature, "root", tree, [])]
    chain = [commits[0]]
    for index, (first, second, merge) in enumerate(shape):
        parents = [commits[first % len(commits)]]
        if merge and len(commits) > 1:
            parents.append(commits[second % len(commits)])
        commits.append(handle.create_commit(None, signature, signature, f"c{index}", tree, list(dict.fromkeys(parents))))
    for _ in range(70):  # past the walk: libgit2 decides
        chain.append(handle.create_commit(None, signature, signature, "chain", tree, [chain[-1]]))
    commits += chain[1:]
    repository = Repository.open(path)
    for first, second in [*pairs, (len(commits) - 1, 0), (0, len(commits) - 1)]:
        a, b = commits[first % len(commits)], commits[second % len(commits)]
        expected = handle.merge_base(a, b)
        assert repository.merge_base(str(a), str(b)) == (str(expected) if expected is not None else None)
