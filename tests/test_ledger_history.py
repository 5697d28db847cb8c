"""What the ledger reuses of a repository's history between commands (the root commits of its
identity, which commits a target holds) is what a whole walk finds now: after the target moves on,
gains a root, is rewritten, and in a shallow clone that is deepened."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES

ATTEMPTS = FIXTURES / "ledger" / "attempts.toml"
START = 1_700_000_000


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo: Path, name: str, text: str, *extra: str) -> str:
    (repo / name).write_text(text)
    _git(repo, "add", name)
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", name, *extra)
    return _git(repo, "rev-parse", "HEAD")


def _roots(repo: Path, rev: str = "main") -> list[str]:
    return sorted(_git(repo, "rev-list", "--max-parents=0", rev).split())


def _check(settle, repo: Path, ledger: Path, hour: int) -> dict:
    """`settle check agent/tax --ledger`: the event it appended."""
    result = settle("check", "agent/tax", "--ledger", str(ledger), repo=repo, env={"SETTLE_NOW": str(START + hour * 3600)})
    assert result.returncode in (0, 1), result.stderr
    events = settle("ledger", "log", "--ledger", str(ledger), "--format", "json").stdout.splitlines()
    assert len(events) == hour
    return json.loads(events[-1])


@pytest.fixture
def attempts(build):
    repo = build(ATTEMPTS)
    _git(repo, "update-ref", "refs/heads/agent/tax", "attempt/tax-1")
    _git(repo, "checkout", "-q", "main")
    return repo


def test_the_roots_of_a_target_that_moved_on_and_gained_a_root_are_those_of_a_whole_walk(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    first = _check(settle, attempts, ledger, 1)
    assert first["repository"]["roots"] == _roots(attempts)
    _commit(attempts, "NOTES.md", "one\n")
    second = _check(settle, attempts, ledger, 2)
    assert second["payload"]["target"]["commit"] != first["payload"]["target"]["commit"]
    assert second["repository"]["roots"] == _roots(attempts)
    # An unrelated history merged in: the target now starts from two roots.
    _git(attempts, "checkout", "-q", "--orphan", "vendored")
    _git(attempts, "rm", "-rq", "--cached", ".")
    _commit(attempts, "vendor.txt", "v\n")
    _git(attempts, "checkout", "-q", "-f", "main")
    _git(attempts, "-c", "user.name=t", "-c", "user.email=t@t", "merge", "-q", "--allow-unrelated-histories", "-m", "vendor", "vendored")
    third = _check(settle, attempts, ledger, 3)
    assert len(third["repository"]["roots"]) == 2 and third["repository"]["roots"] == _roots(attempts)


def test_a_rewritten_target_is_walked_again_not_taken_from_the_ledger(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    first = _check(settle, attempts, ledger, 1)
    old_root = _roots(attempts)
    # main is replaced by a history that shares nothing with the one the ledger saw (the old
    # commits are still in the object store).
    _git(attempts, "checkout", "-q", "--orphan", "rewritten")
    _commit(attempts, "README.md", "rewritten\n")
    _git(attempts, "branch", "-f", "main", "rewritten")
    _git(attempts, "checkout", "-q", "main")
    _commit(attempts, "NOTES.md", "on the new history\n")
    _git(attempts, "update-ref", "refs/heads/agent/tax", "HEAD")
    _git(attempts, "update-ref", "refs/heads/main", "HEAD~1")
    second = _check(settle, attempts, ledger, 2)
    assert second["repository"]["roots"] == _roots(attempts) != old_root
    assert first["repository"]["roots"] == old_root


def test_a_shallow_clone_that_is_deepened_gets_its_new_roots(settle, attempts, tmp_path):
    for index in range(3):
        _commit(attempts, f"step{index}.txt", f"{index}\n")
    clone = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "2", "--branch", "main", "--no-local", f"file://{attempts}", str(clone))
    _git(clone, "branch", "agent/tax", "main")
    ledger = tmp_path / "ledger.db"
    shallow = _check(settle, clone, ledger, 1)
    from settle.ledger.history import reachable, reusable
    from settle.parse.store import DiskCache
    from settle.repo import Repository

    repository = Repository.open(clone)
    assert shallow["repository"]["roots"] == list(repository.root_commits(_git(clone, "rev-parse", "main")))
    # Deepening gives the same ids more history: nothing about a shallow clone's history is kept.
    assert not reusable(repository)
    reachable(repository, _git(clone, "rev-parse", "main"), "main", DiskCache(tmp_path / "cache"))
    assert not (tmp_path / "cache").exists()
    _git(clone, "fetch", "-q", "--unshallow", "origin")
    deepened = _check(settle, clone, ledger, 2)
    assert deepened["payload"]["target"]["commit"] == shallow["payload"]["target"]["commit"]
    assert deepened["repository"]["roots"] == _roots(attempts) != shallow["repository"]["roots"]


def _outcomes(settle, repo: Path, ledger: Path) -> list[tuple[str, str | None]]:
    document = json.loads(settle("memory", "--symbol", "src/shop/pricing.py::price_of", "--ledger", str(ledger),
                                 "--format", "json", repo=repo).stdout)
    return [(o["outcome"], o["landed_commit"]) for o in document["subjects"][0]["findings"][0]["occurrences"]]


def test_landing_follows_the_target_forward_and_back(settle, attempts, tmp_path):
    """What memory keeps of the target's history (in the cache directory) never answers for
    another target: landing, un-landing and a rewound target are each seen as they are now."""
    ledger = tmp_path / "ledger.db"
    _check(settle, attempts, ledger, 1)
    _git(attempts, "update-ref", "refs/heads/agent/tax", "attempt/tax-1b")
    _check(settle, attempts, ledger, 2)
    before = _git(attempts, "rev-parse", "main")
    assert _outcomes(settle, attempts, ledger) == [("held_never_landed", None), ("superseded", None)]
    landed = _git(attempts, "rev-parse", "attempt/tax-1b")
    _git(attempts, "update-ref", "refs/heads/main", landed)  # the second attempt lands after all
    assert _outcomes(settle, attempts, ledger) == [("held_landed_later", landed), ("held_landed_later", landed)]
    _git(attempts, "update-ref", "refs/heads/main", before)  # and is taken back out
    assert _outcomes(settle, attempts, ledger) == [("held_never_landed", None), ("superseded", None)]
    without_cache = {"SETTLE_NO_CACHE": "1"}
    plain = settle("memory", "--symbol", "src/shop/pricing.py::price_of", "--ledger", str(ledger), repo=attempts, env=without_cache)
    cached = settle("memory", "--symbol", "src/shop/pricing.py::price_of", "--ledger", str(ledger), repo=attempts)
    assert plain.returncode == cached.returncode == 0 and plain.stdout == cached.stdout


def test_the_index_of_a_target_is_brought_up_to_date_not_rebuilt(attempts, tmp_path):
    from settle.ledger.history import Reachable, commits_between, reachable
    from settle.parse.store import DiskCache
    from settle.repo import Repository

    old = _git(attempts, "rev-parse", "main")
    new = _commit(attempts, "NOTES.md", "one\n")
    repository = Repository.open(attempts)
    assert [commit for commit, _ in commits_between(repository, old, new)] == [new]
    assert commits_between(repository, new, old) is None  # old does not contain new
    assert commits_between(repository, "0" * 40, new) is None  # nor does a commit this clone lacks
    cache = DiskCache(tmp_path / "cache")
    first = reachable(repository, old, "main", cache)
    assert old in first and new not in first and "f" * 40 not in first
    moved = reachable(repository, new, "main", cache)
    assert {old, new} <= set(moved.ids[i:i + 40] for i in range(0, len(moved.ids), 40))
    assert moved.ids == Reachable.of(new, repository.ancestors(new)).ids
    assert not any(path.is_relative_to(attempts) for path in (tmp_path / "cache").rglob("*"))
