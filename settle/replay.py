"""`settle replay`: a repository's merge commits re-settled, one verdict per merge.

Each merge's parents are the sides over their merge base: the first parent is
the target, the others are candidates (an octopus merge gives every pair).
Verdicts stream as JSON Lines in history order whatever --jobs is.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from settle.diff.pair import pair_findings, side_findings
from settle.languages import profile_for_path
from settle.errors import SettleError
from settle.models import CandidateRef, CandidateStats, Stats, TargetRef, Verdict
from settle.repo import EntryKind, PathChange, Repository
from settle.settlement import Session
from settle.verdict import Policy, apply_policy, settle_order, severity_counts


def merge_commits(repository: Repository, last: int | None = None, revision_range: str | None = None) -> list[str]:
    """Merge commits of a range (`A..B`) or the last N reachable from HEAD, oldest first."""
    if revision_range is not None:
        start, separator, end = revision_range.partition("..")
        if not separator or not end:
            raise SettleError(f"--range {revision_range!r} is not A..B")
        commits = repository.walk(repository.resolve(end), repository.resolve(start) if start else None)
    else:
        commits = repository.walk(repository.resolve("HEAD"))
    merges = [commit for commit in commits if len(repository.parents(commit)) > 1]
    return merges[-last:] if last is not None else merges


def settle_merge(session: Session, merge: str) -> Verdict:
    repository, tables = session.repository, session.tables
    parents = repository.parents(merge)
    names = [f"parent{index}" for index in range(1, len(parents) + 1)]
    findings = []
    forks: dict[str, str | None] = {}
    parsed: set[int] = set()  # ids of the (cached, so unique per blob) tables this merge used
    for (first_name, first), (second_name, second) in combinations(zip(names, parents), 2):
        fork = repository.merge_base(first, second)
        if first_name == "parent1":
            forks[second_name] = fork
        if fork is None:
            continue
        # Replay has no stale-caller scan, so each side only needs what the other can meet.
        left_changes, right_changes = repository.changes(fork, first), repository.changes(fork, second)
        left = session.side(first_name, fork, first, parse=_meets(right_changes, repository))
        right = session.side(second_name, fork, second, parse=_meets(left_changes, repository))
        findings.extend(pair_findings(repository, tables, fork, left, right))
        # Counted per merge, not from the process-wide cache, so --jobs can't change the output.
        parsed.update(id(t) for side in (left, right) for f in side.files
                      for t in (f.old_table, f.new_table) if t is not None and t.parsed)
        if first_name == "parent1":
            findings.extend(side_findings(right))
    policy = Policy()
    findings = apply_policy({f.id: f for f in findings}.values(), policy)
    settlement = settle_order(names[1:], "parent1", findings, policy)
    return Verdict(
        verdict="merge" if not settlement.held else "reject",
        target=TargetRef(ref="parent1", commit=parents[0]),
        candidates=[CandidateRef(ref=name, commit=commit, merge_base=forks.get(name)) for name, commit in zip(names[1:], parents[1:])],
        findings=findings,
        settlement=settlement,
        stats=Stats(findings=severity_counts(findings), pairs=len(parents) * (len(parents) - 1) // 2, files_parsed=len(parsed),
                    candidates={name: CandidateStats() for name in names[1:]}),
        merge_commit=merge,
    )


def _meets(other: tuple[PathChange, ...], repository: Repository):
    """Paths of one side worth parsing against the other side's changes: those both changed
    (conflicts, concurrent edits, duplicates); modules the other's changed code mentions by
    name (this side changes what it calls); and files that mention a module the other side
    changed (this side calls what it changes). Files without a grammar are kept: they are
    never parsed anyway."""
    touched = {p for change in other for p in (change.old_path, change.new_path) if p}
    code = [change for change in other if profile_for_path(change.path) is not None]
    mentioned = b"\0".join(repository.blob(c.new_id) for c in code if c.new_id and c.new_kind is EntryKind.FILE)
    words = {_module_word(c.old_path or c.path).encode() for c in code}

    def parse(change: PathChange) -> bool:
        if change.old_path in touched or change.new_path in touched or profile_for_path(change.path) is None:
            return True
        if _module_word(change.old_path or change.path).encode() in mentioned:
            return True
        if change.new_id and change.new_kind is EntryKind.FILE:
            text = repository.blob(change.new_id)
            return any(word in text for word in words)
        return False

    return parse


def _module_word(path: str) -> str:
    """The word an importer would write: the file's stem, or its directory for a package file."""
    directory, _, filename = path.rpartition("/")
    stem = filename.rsplit(".", 1)[0]
    profile = profile_for_path(path)
    if profile is not None and stem in profile.package_stems and directory:
        return directory.rsplit("/", 1)[-1]
    return stem


_WORKER: Session | None = None


def _start_worker(repo: str, max_file_size: int) -> None:
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how to stop
    _WORKER = Session.open(repo, max_file_size)


def _replay_one(merge: str) -> str:
    assert _WORKER is not None, "worker started without a session"
    return settle_merge(_WORKER, merge).to_json(compact=True)


def replay_lines(repo: str, merges: list[str], jobs: int, max_file_size: int) -> Iterator[str]:
    """One JSON line per merge, in the order of merges."""
    if jobs <= 1:
        session = Session.open(repo, max_file_size)
        for merge in merges:
            yield settle_merge(session, merge).to_json(compact=True)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    pool = context.Pool(jobs, initializer=_start_worker, initargs=(repo, max_file_size))
    try:
        # Workers keep their caches, so neighbouring merges (which share blobs) go to one worker.
        yield from pool.imap(_replay_one, merges, chunksize=4)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
