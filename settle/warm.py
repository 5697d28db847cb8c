"""Warm sessions for a long-lived process (`settle serve`): one repository handle and one symbol-table
cache per repository, kept across calls, so that a repeated check parses only what changed.

Everything cached is keyed by content (blob and commit ids), so nothing goes stale when branches
move or work trees change; refs and work trees are read afresh on every call.
"""

from __future__ import annotations

import os
from collections import OrderedDict

from settle.parse.cache import SymbolTables
from settle.parse.model import TableStatus
from settle.repo import Repository
from settle.settlement import Session

WARM_REPOSITORIES = 4  # each holds at most the tables' and blobs' byte bounds (settle.parse.cache, settle.repo)


class CallTables:
    """One call's view of the warm tables. It counts as parsed every code file the call used, which
    is what a fresh process parses for the same call: the verdict's `stats.files_parsed` does not
    depend on what earlier calls left warm."""

    def __init__(self, shared: SymbolTables):
        self._shared = shared
        self._parsed: set[tuple[str, str]] = set()

    def get(self, path: str, blob_id: str | None, references: bool = False):
        table = self._shared.get(path, blob_id, references)
        if table is not None and table.status is TableStatus.PARSED:
            self._parsed.add((blob_id, path))
        return table

    @property
    def parsed(self) -> int:
        return len(self._parsed)

    def __getattr__(self, name: str):
        return getattr(self._shared, name)


_REMEMBERED = 1024  # answers per question kept by a warm repository


class WarmRepository(Repository):
    """A repository handle for many calls: the answers that depend only on commit ids (merge bases,
    changed paths, three-way merge conflicts) are remembered, so a repeated check does not redo them."""

    def merge_base(self, first: str, second: str) -> str | None:
        return self._remembered("merge_base", (first, second), super().merge_base)

    def changes(self, old_commit: str, new_commit: str):
        return self._remembered("changes", (old_commit, new_commit), super().changes)

    def merge_conflicts(self, ours: str, theirs: str):
        return self._remembered("merge_conflicts", (ours, theirs), super().merge_conflicts)

    def _remembered(self, question: str, key: tuple, answer):
        answers = self.__dict__.setdefault("_answers", {}).setdefault(question, OrderedDict())
        if key in answers:
            answers.move_to_end(key)
            return answers[key]
        found = answers[key] = answer(*key)
        if len(answers) > _REMEMBERED:
            answers.popitem(last=False)
        return found


class WarmRepositories:
    """The repositories a process has worked on, the least recently used dropped past `capacity`."""

    def __init__(self, capacity: int = WARM_REPOSITORIES):
        self.capacity = capacity
        self._held: OrderedDict[tuple[str, int], Session] = OrderedDict()

    def session(self, repo_path: str, max_file_size: int) -> Session:
        """A fresh session (its own per-call state) over the repository's warm handle and tables."""
        key = (self._git_dir(repo_path), max_file_size)
        warm = self._held.get(key)
        if warm is None:
            repository = WarmRepository.open(repo_path)
            tables = SymbolTables(repository.blob, max_file_size, incremental=True)
            warm = self._held[key] = Session(repository, tables)
            while len(self._held) > self.capacity:
                self._held.popitem(last=False)
        else:
            self._held.move_to_end(key)
        warm.repository.location = repo_path  # error messages name the path this call gave
        return Session(warm.repository, CallTables(warm.tables))

    @staticmethod
    def _git_dir(repo_path: str) -> str:
        import pygit2

        found = pygit2.discover_repository(repo_path) if os.path.exists(repo_path) else None
        if found is None:
            Repository.open(repo_path)  # raises the input error a fresh process would
        return os.path.realpath(found)

    def __len__(self) -> int:
        return len(self._held)
