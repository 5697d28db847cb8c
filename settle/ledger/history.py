"""What the ledger needs of a repository's history, without walking all of it each time: the root
commits a target's history starts from (the repository's identity), and which commits a target
contains (whether an attempt landed).

Both are facts about a commit id: its history never changes. So what was worked out for an earlier
tip serves a later tip that contains it, plus a walk of the commits in between. The exception is a
shallow or grafted repository, where a fetch can give the same ids another history: there, nothing
is reused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

# Past this many commits between the earlier tip and the new one, walking all of the history costs
# about as much as walking the difference, so the difference is not walked any further.
MOST_BETWEEN = 2000
# A target with more commits than this keeps no index in the cache (40 bytes a commit).
MOST_INDEXED = 250_000
_HEX = 40


def reusable(repository) -> bool:
    """Whether a commit's history is fixed here: not a shallow clone, no grafts."""
    return repository.history_is_fixed


def commits_between(repository, earlier: str, tip: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """(commit, parents) of every commit reachable from tip and not from earlier, when earlier is in
    tip's history; None when it is not, is unknown to this clone, or is more than MOST_BETWEEN back."""
    if earlier == tip:
        return []
    walked = []
    try:
        repository.parents(earlier)  # a commit this clone doesn't have (rewritten, never fetched)
        for commit in repository.walk(tip, hide=earlier):
            walked.append((commit, repository.parents(commit)))
            if len(walked) > MOST_BETWEEN:
                return None
    except (KeyError, ValueError):  # pygit2's "not found" and "invalid id"
        return None
    # The walk leaves out earlier's history whether or not tip contains earlier; tip contains it
    # exactly when a walked commit has it as a parent.
    if not any(earlier in parents for _, parents in walked):
        return None
    return walked


def root_commits(repository, tip: str, known: tuple[str, Sequence[str]] | None = None) -> list[str]:
    """The parentless commits tip's history starts from, sorted. known: an earlier tip and its roots
    (from the ledger): when tip contains that tip, only the commits in between are walked."""
    if known is not None and reusable(repository):
        earlier, roots = known
        between = commits_between(repository, earlier, tip) if _parentless(repository, roots) else None
        if between is not None:
            return sorted(set(roots) | {commit for commit, parents in between if not parents})
    return list(repository.root_commits(tip))


def _parentless(repository, roots: Iterable[str]) -> bool:
    """The recorded roots are commits this clone has, without parents (a check on what the ledger says)."""
    try:
        return all(isinstance(root, str) and repository.parents(root) == () for root in roots)
    except (KeyError, ValueError):
        return False


class Reachable:
    """The commits reachable from one tip, as one sorted run of ids: loaded from the cache in one
    piece (no set of thousands of strings to build) and searched by halving."""

    def __init__(self, tip: str, ids: str):
        self.tip = tip
        self.ids = ids

    @classmethod
    def of(cls, tip: str, commits: Iterable[str]) -> Reachable:
        return cls(tip, "".join(sorted(set(commits))))

    def __len__(self) -> int:
        return len(self.ids) // _HEX

    def __contains__(self, commit: str) -> bool:
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            probe = self.ids[middle * _HEX:(middle + 1) * _HEX]
            if probe < commit:
                low = middle + 1
            elif probe > commit:
                high = middle
            else:
                return True
        return False

    def moved_to(self, repository, tip: str) -> Reachable | None:
        """The same for a later tip that contains this one; None when it doesn't (or is far ahead)."""
        between = commits_between(repository, self.tip, tip)
        if between is None:
            return None
        if not between:
            return self
        ids = self.ids
        return Reachable.of(tip, [ids[i:i + _HEX] for i in range(0, len(ids), _HEX)] + [commit for commit, _ in between])


def reachable(repository, tip: str, ref: str, cache=None, known: Reachable | None = None) -> Reachable:
    """Every commit reachable from tip, ref's commit now. known: what the process worked out for
    ref before; cache (a settle.parse.store.DiskCache, or None): keeps the answer for the ref between
    processes. Either way, what was known for an earlier tip is brought up to date by walking only
    the commits the ref gained since."""
    if not reusable(repository):
        return Reachable.of(tip, repository.ancestors(tip))
    key = f"reachable/1\x1f{os.path.realpath(repository.common_dir)}\x1f{ref}"
    if known is None and cache is not None:
        stored = cache.load("history", key)
        if isinstance(stored, dict) and isinstance(stored.get("tip"), str) and isinstance(stored.get("ids"), str) \
                and len(stored["ids"]) % _HEX == 0:
            known = Reachable(stored["tip"], stored["ids"])
    if known is not None and known.tip == tip:
        return known
    found = known.moved_to(repository, tip) if known is not None else None
    if found is None:
        found = Reachable.of(tip, repository.ancestors(tip))
    if cache is not None and len(found) <= MOST_INDEXED:
        cache.store("history", key, {"tip": found.tip, "ids": found.ids})
    return found
