"""Work-tree candidates: `worktree:DIR` is HEAD plus the files on disk, and the work tree is only read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BASE = {
    "base": {"files": {
        "app.py": "def total(items):\n    return sum(items)\n\n\ndef report(items):\n    return total(items)\n",
        "old.py": "def legacy():\n    return 1\n",
        "docs/notes.md": "notes\n",
        ".gitignore": "build/\n*.log\n",
    }},
    "branches": {"agent/a": {"files": {"docs/notes.md": "notes, agent a\n"}}},
}


def git(*args: str, cwd: Path) -> str:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                   "GIT_COMMITTER_EMAIL": "t@t", "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=environment).stdout


def linked_worktree(repo: Path, branch: str = "agent/a") -> Path:
    place = repo.parent / "agent-a"
    git("worktree", "add", "-q", str(place), branch, cwd=repo)
    return place


def edit_everything(tree: Path) -> None:
    """A modified, an added, a deleted and an untracked file, and ignored ones that must not count."""
    (tree / "app.py").write_text("def total(items, tax):\n    return sum(items) * tax\n\n\ndef report(items):\n    return total(items)\n")
    (tree / "staged.py").write_text("def staged():\n    return 2\n")
    git("add", "staged.py", cwd=tree)
    (tree / "old.py").unlink()
    (tree / "fresh.py").write_text("def fresh():\n    return 3\n")
    (tree / "debug.log").write_text("def not_code(:\n")
    (tree / "build").mkdir()
    (tree / "build" / "generated.py").write_text("def broken(:\n")


def index_file(tree: Path) -> Path:
    dot_git = tree / ".git"
    if dot_git.is_file():
        return Path(dot_git.read_text().split(":", 1)[1].strip()) / "index"
    return dot_git / "index"


def snapshot(tree: Path) -> dict[str, tuple[int, str]]:
    """Every file of the work tree, and its index: mtime and content."""
    files = [item for item in tree.rglob("*") if item.is_file() and item.name != ".git"] + [index_file(tree)]
    return {str(item): (item.stat().st_mtime_ns, hashlib.blake2b(item.read_bytes(), digest_size=8).hexdigest())
            for item in sorted(files)}


def findings(document: dict) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f["kind"], f["subkind"], tuple(f["symbols"])) for f in document["findings"]}


def test_linked_worktree_is_checked_from_inside_with_its_uncommitted_changes(build, settle):
    repo = build(BASE)
    tree = linked_worktree(repo)
    edit_everything(tree)
    before = snapshot(tree)
    result = settle("check", "worktree:.", "--base", "main", "--format", "json", repo=tree)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["candidates"][0]["ref"] == "worktree:../agent-a"
    assert document["candidates"][0]["commit"] != git("rev-parse", "agent/a", cwd=repo).strip()
    assert ("signature_drift", "call_incompatible", ("app.py::total",)) in findings(document)
    stats = document["stats"]["candidates"]["worktree:../agent-a"]
    # app.py modified, staged.py added, old.py deleted, fresh.py untracked, docs/notes.md from the branch.
    assert stats["changed_paths"] == 5
    assert not any("generated.py" in json.dumps(f) or "debug.log" in json.dumps(f) for f in document["findings"])
    assert snapshot(tree) == before
    assert git("status", "--porcelain", cwd=tree)  # still uncommitted


def test_the_work_tree_state_is_what_git_add_all_would_commit(build, settle, tmp_path):
    repo = build(BASE)
    edit_everything(repo)
    os.symlink("app.py", repo / "link.py")
    (repo / "tool.sh").write_text("#!/bin/sh\n")
    (repo / "tool.sh").chmod(0o755)
    result = settle("check", "worktree:.", "--format", "json", "--base", "main", repo=repo)
    commit = json.loads(result.stdout)["candidates"][0]["commit"]
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    git("add", "-A", cwd=copy)
    tree = git("write-tree", cwd=copy).strip()
    head = git("rev-parse", "HEAD", cwd=copy).strip()
    signature = "settle <settle@work.tree> 0 +0000"
    body = f"tree {tree}\nparent {head}\nauthor {signature}\ncommitter {signature}\n\nworktree:.\n".encode()
    assert commit == hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()


def test_a_clean_work_tree_settles_like_its_head(build, settle):
    repo = build(BASE)
    tree = linked_worktree(repo)
    of_tree = json.loads(settle("check", "worktree:.", "--base", "main", "--format", "json", repo=tree).stdout)
    of_branch = json.loads(settle("check", "agent/a", "--base", "main", "--format", "json", repo=tree).stdout)
    assert of_tree["verdict"] == of_branch["verdict"] == "merge"
    assert findings(of_tree) == findings(of_branch)
    assert of_tree["stats"]["candidates"]["worktree:../agent-a"] == of_branch["stats"]["candidates"]["agent/a"]


def test_a_worktree_named_from_the_main_repository_gets_the_same_name(build, settle):
    repo = build(BASE)
    tree = linked_worktree(repo)
    edit_everything(tree)
    from_inside = settle("check", "worktree:.", "--base", "main", "--format", "json", repo=tree)
    from_main = settle("check", "--repo", str(repo), f"worktree:{tree}", "--base", "main", "--format", "json", repo=repo)
    assert from_main.stdout == from_inside.stdout


def test_claims_infer_of_a_work_tree_names_its_branch_and_binds_cleanly(build, settle, tmp_path):
    repo = build(BASE)
    tree = linked_worktree(repo)
    edit_everything(tree)
    inferred = settle("claims", "infer", "worktree:.", "--base", "main", repo=tree)
    assert inferred.returncode == 0, inferred.stderr
    assert inferred.stdout.startswith('candidate = "agent/a"\n')
    assert '"fresh.py::fresh"' in inferred.stdout and '"old.py::legacy"' in inferred.stdout
    claims = tmp_path / "claims.toml"
    claims.write_text(inferred.stdout)
    checked = settle("check", "worktree:.", "--base", "main", "--claims", str(claims), "--format", "json", repo=tree,
)
    assert not [f for f in json.loads(checked.stdout)["findings"] if f["kind"] == "claim_violation"]


def test_the_python_api_takes_work_tree_candidates(build):
    from settle import check

    repo = build(BASE)
    (repo / "fresh.py").write_text("def fresh():\n    return 3\n")
    verdict = check(str(repo), ["worktree:" + str(repo)], "main")
    assert [c.ref for c in verdict.candidates] == ["worktree:."]
    assert verdict.stats.candidates["worktree:."].changed_symbols == 1


@pytest.mark.parametrize("spec, message", [
    ("worktree:", "names no directory"),
    ("worktree:nowhere", "no such directory"),
])
def test_a_bad_work_tree_is_an_input_error(build, settle, spec, message):
    repo = build(BASE)
    result = settle("check", spec, "--base", "main", repo=repo)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_work_tree_of_another_repository_is_an_input_error(build, settle):
    repo, other = build(BASE), build(BASE)
    result = settle("check", f"worktree:{other}", "--base", "main", repo=repo)
    assert result.returncode == 2
    assert "another repository" in result.stderr


def test_memory_answers_for_a_work_tree(build, settle, tmp_path):
    repo = build(BASE)
    tree = linked_worktree(repo)
    edit_everything(tree)
    ledger = str(tmp_path / "ledger.db")
    held = settle("check", "worktree:.", "--base", "main", "--ledger", ledger, repo=tree)
    assert held.returncode == 1
    remembered = settle("memory", "worktree:.", "--base", "main", "--ledger", ledger, "--format", "json", repo=tree)
    assert remembered.returncode == 0, remembered.stderr
    assert "app.py::total" in remembered.stdout


NAMES = ["a", "a.b", "a-b", "a0", "b", "ab"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(st.tuples(st.sampled_from(["write", "delete", "ignored", "executable"]),
                                     st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join),
                                     st.integers(0, 3)), max_size=8))
def test_any_work_tree_state_is_the_tree_git_add_all_writes(build, tmp_path_factory, operations):
    """Tree order ("a.b" before "a/" before "a0"), modes, nesting, deletions and ignore rules, against git."""
    from settle.repo import Repository

    repo = build({"base": {"files": {"a/a.b": "1\n", "a.b": "2\n", "a0/b": "3\n", ".gitignore": "*.log\nab/\n"}}})
    for operation, path, content in operations:
        target = repo / path
        if operation == "delete":
            if target.is_file():
                target.unlink()
            continue
        if operation == "ignored":
            target = target.with_name(target.name + ".log")
        if any(parent.is_file() for parent in [target, *target.parents] if parent != target and repo in parent.parents):
            continue  # a file stands where a directory would go
        if target.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"{content}\n")
        if operation == "executable":
            target.chmod(0o755)
    first = Repository.open(repo).worktree(f"worktree:{repo}")
    copy = tmp_path_factory.mktemp("copy") / "repo"
    shutil.copytree(repo, copy, symlinks=True)
    git("add", "-A", cwd=copy)
    expected = git("write-tree", cwd=copy).strip()
    repository = Repository.open(repo)
    state = repository.worktree(f"worktree:{repo}")
    assert state.commit == first.commit  # the same state is the same commit, from any process
    assert str(repository._shadow_repository()[state.commit].tree_id) == expected
