"""What the ledger needs of a repository's history, without walking all of it each time: the root
commits a target's history starts from (the repository's identity).

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


def reusable(repository) -> bool:
    """Whether a commit's history is fixed here: not a shallow clone, no grafts."""
    common = repository.common_dir
    return not (os.path.exists(os.path.join(common, "shallow")) or os.path.exists(os.path.join(common, "info", "grafts")))


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
