"""Git's answers kept in the disk cache (`Repository.remember_in`): a pair's merge base, two commits'
changes, two blobs' hunks, a tip's merges. A warm run reads them instead of asking git; they must be
git's answers still, whatever the cache holds, and answers about history are kept only where it is
fixed."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES
from settle.parse.store import FORMAT, DiskCache
from settle.repo import Repository

HISTORY = FIXTURES / "replay" / "history.toml"
_ENVIRONMENT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
                "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def _git(repo: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True, text=True,
                          env=_ENVIRONMENT).stdout.strip()


def _answers(repository: Repository) -> dict:
    """Everything the facts cover, asked of every merge of the history (and the hunks of its changes)."""
    merges = repository.merges(repository.resolve("HEAD"))
    answers = {"merges": merges}
    for merge in merges:
        first, *others = repository.parents(merge)
        for other in others:
            base = repository.merge_base(first, other)
            answers[f"base {merge} {other}"] = base
            answers[f"trivial {merge} {other}"] = repository.merged_files(first, other)
            for tip in (first, other):
                changes = repository.changes(base, tip)
                answers[f"changes {base} {tip}"] = changes
                for change in changes:
                    answers[f"hunks {change.old_id} {change.new_id}"] = repository.hunks(change.old_id, change.new_id)
    return answers


def _opened(repo: Path, disk: DiskCache | None) -> Repository:
    repository = Repository.open(repo)
    repository.remember_in(disk)
    return repository


def _rows(cache: Path) -> dict[str, list]:
    """The git facts in the cache, by key: (kind, stored value); none before anything is written."""
    database = next(cache.glob("*.sqlite"), None)
    if database is None:
        return {}
    with sqlite3.connect(database) as database:
        rows = database.execute("SELECT value FROM entries WHERE kind = 'git'").fetchall()
    return {entry[1]: entry[2] for entry in (json.loads(raw) for (raw,) in rows)}


def _fact_name(key: str) -> str:
    return key.split("|")[1]


def test_warm_answers_are_gits_and_come_from_the_cache(build, tmp_path):
    repo = build(HISTORY)
    expected = _answers(_opened(repo, None))
    cold = _opened(repo, DiskCache(tmp_path / "cache"))
    assert _answers(cold) == expected
    cold._disk.flush()
    stored = _rows(tmp_path / "cache")
    assert {_fact_name(key) for key in stored} == {"merges", "merge-base", "only-base", "changes", "hunks"}
    warm = _opened(repo, DiskCache(tmp_path / "cache"))
    asked = []
    warm._tree_changes = lambda *pair: asked.append(pair)  # a warm run does not diff trees again
    warm._diff = lambda *pair: asked.append(pair)
    assert _answers(warm) == expected and not asked


@pytest.mark.parametrize("bad", ["not json", "cut short", "another format", "wrong shape", "wrong types", "null"])
def test_a_bad_fact_is_ignored_and_rewritten(build, tmp_path, bad):
    repo = build(HISTORY)
    expected = _answers(_opened(repo, None))
    first = _opened(repo, DiskCache(tmp_path / "cache"))
    _answers(first)
    first._disk.flush()
    database = next((tmp_path / "cache").glob("*.sqlite"))
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT digest, value FROM entries WHERE kind = 'git'").fetchall()
        for digest, raw in rows:
            _, key, value = json.loads(raw)
            spoiled = {
                "not json": b"\x00\xff{",
                "cut short": raw[: len(raw) // 2],
                "another format": json.dumps(["settle-cache/0", key, value]),
                "wrong shape": json.dumps([FORMAT, key, {"a": 1}]),
                "wrong types": json.dumps([FORMAT, key, [["x"] * 8] if value and isinstance(value[0], list) else ["x"] * 4]),
                "null": json.dumps([FORMAT, key, None]),
            }[bad]
            connection.execute("UPDATE entries SET value = ? WHERE digest = ?", (spoiled, digest))
    again = _opened(repo, DiskCache(tmp_path / "cache"))
    assert _answers(again) == expected
    again._disk.flush()
    assert _answers(_opened(repo, DiskCache(tmp_path / "cache"))) == expected
    rewritten = _rows(tmp_path / "cache")
    assert len(rewritten) == len(rows)


def test_a_shallow_clone_keeps_no_answer_about_history(build, tmp_path):
    repo = build(HISTORY)
    clone = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "3", "--no-local", f"file://{repo}", str(clone))
    repository = _opened(clone, DiskCache(tmp_path / "cache"))
    assert not repository.history_is_fixed
    head = repository.resolve("HEAD")
    repository.merges(head)
    parent = repository.parents(head)[0]
    repository.merge_base(head, parent)
    repository.changes(parent, head)
    repository._disk.flush()
    assert {_fact_name(key) for key in _rows(tmp_path / "cache")} == {"changes"}


def test_the_rename_setting_a_tree_diff_obeys_keys_its_answer(tmp_path):
    repo = tmp_path / "renames"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "old.py").write_text("".join(f"def f{i}():\n    return {i}\n\n" for i in range(20)))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    _git(repo, "mv", "old.py", "new.py")
    _git(repo, "commit", "-q", "-m", "two")
    one, two = _git(repo, "rev-parse", "HEAD~1"), _git(repo, "rev-parse", "HEAD")
    disk = DiskCache(tmp_path / "cache")
    assert [c.status for c in _opened(repo, disk).changes(one, two)] == ["renamed"]
    disk.flush()
    _git(repo, "config", "diff.renames", "false")
    unrenamed = Repository.open(repo).changes(one, two)
    assert sorted(c.status for c in unrenamed) == ["added", "deleted"]
    assert _opened(repo, DiskCache(tmp_path / "cache")).changes(one, two) == unrenamed


def test_replay_keeps_gits_answers_and_reads_them_warm(settle, build, tmp_path):
    history = build(HISTORY)
    environment = {"SETTLE_CACHE_DIR": str(tmp_path / "cache")}
    cold = settle("replay", "--jobs", "2", repo=history, env=environment)
    stored = _rows(tmp_path / "cache")
    warm = settle("replay", repo=history, env=environment)
    assert cold.returncode == warm.returncode == 0 and cold.stdout == warm.stdout
    assert {_fact_name(key) for key in stored} >= {"merges", "merge-base", "changes", "hunks"}
    assert _rows(tmp_path / "cache").keys() == stored.keys(), "warm, nothing new to keep"
