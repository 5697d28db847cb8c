"""`settle replay`: a repository's merge commits re-settled, one verdict per merge.

Each merge's parents are the sides over their merge base: the first parent is
the target, the others are candidates (an octopus merge gives every pair).
Verdicts stream as JSON Lines in history order whatever --jobs is.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from settle.diff import reach
from settle.diff.drift import drift_names
from settle.diff.pair import pair_findings, side_findings
from settle.errors import SettleError
from settle.models import CandidateRef, CandidateStats, Stats, TargetRef, Verdict
from settle.repo import Repository
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


def settle_merge(session: Session, merge: str, syntax: bool = True) -> Verdict:
    """The verdict of one merge; syntax=False skips the syntax scan of files no finding needs parsed."""
    repository, tables = session.repository, session.tables
    parents = repository.parents(merge)
    names = [f"parent{index}" for index in range(1, len(parents) + 1)]
    findings = []
    forks: dict[str, str | None] = {}
    parsed: set[tuple[str, str]] = set()  # (blob id, path) of the tables this merge used
    for (first_name, first), (second_name, second) in combinations(zip(names, parents), 2):
        fork = repository.merge_base(first, second)
        if first_name == "parent1":
            forks[second_name] = fork
        if fork is None:
            continue
        left, right = _sides(session, fork, (first_name, first), (second_name, second), syntax)
        findings.extend(pair_findings(repository, tables, fork, left, right))
        # Counted per merge, not from the process-wide cache, so --jobs can't change the output.
        for file in (f for side in (left, right) for f in side.files):
            change = file.change
            parsed.update((blob, path) for table, blob, path in ((file.old_table, change.old_id, change.old_path),
                                                                  (file.new_table, change.new_id, change.new_path))
                          if table is not None and table.parsed)
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


def _sides(session: Session, fork: str, first: tuple[str, str], second: tuple[str, str], syntax: bool):
    """Both sides of a pair, each parsed only where the other can meet it.

    Replay has no stale-caller scan; the files it does not parse are checked
    for syntax errors only when `syntax` says so. First each side parses what
    `reach.meets` the other's changes; then, where that shows one side removing or
    re-shaping a symbol, the other side also parses the files whose changed code
    spells its name (`reach.mentions`: their uses may now be stale).
    """
    repository = session.repository
    changes = [repository.changes(fork, tip) for _, tip in (first, second)]
    meets = [reach.meets(changes[1], repository, session.tables), reach.meets(changes[0], repository, session.tables)]
    sides = [session.side(name, fork, tip, parse=meet, syntax_of_skipped=syntax, changes=found)
             for (name, tip), meet, found in zip((first, second), meets, changes)]
    names = [drift_names(sides[1]), drift_names(sides[0])]  # what each side's code may now use wrongly
    for index, (name, tip) in enumerate((first, second)):
        if names[index]:
            mention = reach.mentions(names[index], repository)
            meet = meets[index]
            sides[index] = session.side(name, fork, tip, parse=lambda change, meet=meet: meet(change) or mention(change),
                                        syntax_of_skipped=syntax, changes=changes[index])
    return sides


_WORKER: Session | None = None


_SYNTAX = True


def _start_worker(repo: str, max_file_size: int, syntax: bool) -> None:
    global _WORKER, _SYNTAX
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how to stop
    _WORKER = Session.open(repo, max_file_size)
    _SYNTAX = syntax


def _replay_one(merge: str) -> str:
    assert _WORKER is not None, "worker started without a session"
    return settle_merge(_WORKER, merge, _SYNTAX).to_json(compact=True)


def replay_lines(repo: str, merges: list[str], jobs: int, max_file_size: int, syntax: bool = True) -> Iterator[str]:
    """One JSON line per merge, in the order of merges."""
    if jobs <= 1:
        session = Session.open(repo, max_file_size)
        for merge in merges:
            yield settle_merge(session, merge, syntax).to_json(compact=True)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    pool = context.Pool(jobs, initializer=_start_worker, initargs=(repo, max_file_size, syntax))
    try:
        # Workers keep their caches, so neighbouring merges (which share blobs) go to one worker.
        yield from pool.imap(_replay_one, merges, chunksize=4)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
