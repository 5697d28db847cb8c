"""`settle replay`: a repository's merge commits re-settled, one verdict per merge.

Each merge's parents are the sides over their merge base: the first parent is
the target, the others are candidates (an octopus merge gives every pair).
Verdicts stream as JSON Lines in history order whatever --jobs is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from settle.diff import reach
from settle.diff.drift import drift_names
from settle.diff.interference import Tally
from settle.diff.pair import pair_findings, side_findings
from settle.document import CandidateRef, CandidateStats, ReplaySource, Stats, TargetRef, Verdict
from settle.errors import SettleError
from settle.languages import profile_for_path
from settle.repo import Repository
from settle.settlement import Session
from settle.verdict import Policy, apply_policy, settle_order, severity_counts


INTERFERENCE_MODES = ("off", "parsed", "wide")


def merge_commits(repository: Repository, last: int | None = None, revision_range: str | None = None) -> list[str]:
    """Merge commits of a range (`A..B`) or the last N reachable from HEAD, oldest first."""
    if revision_range is not None:
        start, separator, end = revision_range.partition("..")
        if not separator or not end:
            raise SettleError(f"--range {revision_range!r} is not A..B")
        merges = repository.merges(repository.resolve(end), repository.resolve(start) if start else None)
    else:
        merges = repository.merges(repository.resolve("HEAD"))
    return merges[-last:] if last is not None else merges


@dataclass(frozen=True)
class Selection:
    """Which merges of which repository a replay takes: recorded in every line it writes, so a
    report of the lines can say what it covers. Names and commits only, no paths and no clock:
    the same replay writes the same bytes."""

    repository: str
    range: str | None
    last: int | None
    tip: str

    @classmethod
    def of(cls, repository: Repository, last: int | None = None, revision_range: str | None = None) -> Selection:
        end = revision_range.partition("..")[2] if revision_range is not None else "HEAD"
        return cls(repository.name, revision_range, last, repository.resolve(end or "HEAD"))

    def source(self, repository: Repository, merge: str) -> ReplaySource:
        from settle import __version__

        return ReplaySource(repository=self.repository, range=self.range, last=self.last, tip=self.tip,
                            subject=repository.subject(merge), settle=__version__)


def settle_merge(session: Session, merge: str, syntax: bool = True, interference: str = "parsed",
                 selection: Selection | None = None) -> Verdict:
    """The verdict of one merge; syntax=False skips the syntax scan of files no finding needs parsed.
    interference: INTERFERENCE_MODES — "off" leaves the pass out, "parsed" runs it on the files the
    other passes parse anyway, "wide" also parses the files interference alone can need (`reach.interferes`).
    A selection adds the `replay` block (repository, range, subject) to it."""
    repository, tables = session.repository, session.tables
    parents = repository.parents(merge)
    names = [f"parent{index}" for index in range(1, len(parents) + 1)]
    findings = []
    forks: dict[str, str | None] = {}
    parsed: set[tuple[str, str]] = set()  # (blob id, path) of the tables this merge used
    tally = Tally() if interference != "off" else None
    for (first_name, first), (second_name, second) in combinations(zip(names, parents), 2):
        fork = repository.merge_base(first, second)
        if first_name == "parent1":
            forks[second_name] = fork
        if fork is None:
            continue
        # A candidate's own findings are reported against the target, so only then does a
        # file settle can't parse need reading, to say why it sees the file whole.
        left, right = _sides(session, fork, (first_name, first), (second_name, second), syntax,
                             whole_files=(False, first_name == "parent1"), interference=interference)
        findings.extend(pair_findings(repository, tables, fork, left, right, tally=tally))
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
                    candidates={name: CandidateStats() for name in names[1:]},
                    interference_skipped_edges=tally.skipped_edges if tally is not None else 0),
        merge_commit=merge,
        replay=selection.source(repository, merge) if selection is not None else None,
    )


def _sides(session: Session, fork: str, first: tuple[str, str], second: tuple[str, str], syntax: bool,
           whole_files: tuple[bool, bool], interference: str = "parsed"):
    """Both sides of a pair, each parsed only where the other can meet it.

    Replay has no stale-caller scan; the files it does not parse are checked
    for syntax errors only when `syntax` says so. First each side parses what
    `reach.meets` the other's changes; then, where that shows one side removing or
    re-shaping a symbol, the other side also parses the files whose changed code
    spells its name (`reach.mentions`: their uses may now be stale). Files without
    a grammar are kept (read, to tell binary from text) only on the sides that
    `whole_files` names: elsewhere nothing reads what such a file's table says.
    """
    repository = session.repository
    changes = [repository.changes(fork, tip) for _, tip in (first, second)]
    meets = [reach.meets(changes[1], repository, session.tables), reach.meets(changes[0], repository, session.tables)]
    if interference == "wide":
        meets = [_or(meet, reach.interferes(theirs, repository, session.tables)) for meet, theirs in zip(meets, (changes[1], changes[0]))]
    meets = [meet if whole else _code_only(meet) for meet, whole in zip(meets, whole_files)]
    sides = [session.side(name, fork, tip, parse=meet, syntax_of_skipped=syntax, changes=found)
             for (name, tip), meet, found in zip((first, second), meets, changes)]
    names = [drift_names(sides[1]), drift_names(sides[0])]  # what each side's code may now use wrongly
    for index, (name, tip) in enumerate((first, second)):
        if names[index]:
            mention = reach.mentions(names[index], repository)
            if not whole_files[index]:
                mention = _code_only(mention)
            meet = meets[index]
            sides[index] = session.side(name, fork, tip, parse=lambda change, meet=meet: meet(change) or mention(change),
                                        syntax_of_skipped=syntax, changes=changes[index])
    return sides


def _start_merging(repository: Repository, merge: str) -> None:
    """Have git merge a merge's parents while the one before it is judged. Only a head start: a
    merge that can't be started now (a missing commit) is asked for again in its turn and fails
    there, after every line before it."""
    try:
        repository.start_merges(combinations(repository.parents(merge), 2))
    except Exception:  # noqa: BLE001 - the same calls run again in the merge's turn, and raise there
        return


def _or(first, second):
    return lambda change: first(change) or second(change)


def _code_only(decide):
    return lambda change: profile_for_path(change.path) is not None and decide(change)


def replay_lines(repo: str, merges: list[str], jobs: int, max_file_size: int, syntax: bool = True,
                 interference: str = "parsed", selection: Selection | None = None) -> Iterator[str]:
    """One JSON line per merge, in the order of merges."""
    if jobs <= 1 or len(merges) <= 1:
        session = Session.open(repo, max_file_size)
        repository = session.repository
        # Entries are written a batch at a time (`DiskCache.store`), not per merge: a transaction
        # costs about as much as its rows, and a merge makes only a few.
        for index, merge in enumerate(merges):
            if index + 1 < len(merges):
                _start_merging(repository, merges[index + 1])
            yield settle_merge(session, merge, syntax, interference, selection).to_json(compact=True)
        session.tables.flush()
        return
    yield from _parallel(repo, merges, min(jobs, len(merges)), max_file_size, (syntax, interference), selection)


class Segments:
    """Which merge each worker replays next. History is cut into blocks of at most
    `longest_block` merges, and a block is replayed from both ends at once: one worker goes
    forward from its first merge, another back from its last, until they meet. Neighbouring
    merges share most blobs, so a worker that moves one merge at a time finds them in its
    caches (handing out merges round-robin costs a third more work in all), while each place a
    worker starts at costs it a cold start: its first merges read and parse afresh what they
    need. Two ends per block make two cold starts a block, and the two workers finish it
    together instead of one waiting on the other's last stretch. A free worker takes the free
    end of the earliest block that has one; when every block left has both taken, it takes the
    back half of the block with the most merges left, going forward from its middle. Blocks are
    bounded so that lines, which come out in history order, keep flowing on long replays."""

    longest_block = 500
    least_taken = 8  # a worker starting cold on fewer merges than this costs more than it saves

    def __init__(self, count: int):
        size = max(1, min(count, self.longest_block))
        self._blocks = [_Block(start, min(start + size, count)) for start in range(0, count, size)]
        self._place: dict[int, tuple[_Block, bool]] = {}  # worker -> (its block, whether it goes forward)

    def next_for(self, worker: int) -> int | None:
        place = self._place.get(worker)
        if place is None or not place[0].left:
            if place is not None:
                place[0].let_go(place[1])
            place = self._place[worker] = self._start(worker)
            if place is None:
                del self._place[worker]
                return None
        block, forward = place
        if forward:
            block.front += 1
            return block.front - 1
        block.back -= 1
        return block.back

    def _start(self, worker: int) -> tuple[_Block, bool] | None:
        open_blocks = [block for block in self._blocks if block.left]
        for block in open_blocks:  # the earliest first: lines come out in history order
            if block.forward is None:
                block.forward = worker
                return block, True
            if block.backward is None:
                block.backward = worker
                return block, False
        if not open_blocks:
            return None
        longest = max(open_blocks, key=lambda block: block.left)
        if longest.left < 2 * self.least_taken:
            return None
        middle = (longest.front + longest.back + 1) // 2
        back_half = _Block(middle, longest.back, forward=worker, backward=longest.backward)
        self._blocks.insert(self._blocks.index(longest) + 1, back_half)
        self._place[longest.backward] = (back_half, False)
        longest.back, longest.backward = middle, None
        return back_half, True


@dataclass(eq=False)
class _Block:
    """Merges [front, back) still to hand out, and the workers at each end (None: a free end)."""

    front: int
    back: int
    forward: int | None = None
    backward: int | None = None

    @property
    def left(self) -> int:
        return self.back - self.front

    def let_go(self, forward: bool) -> None:
        if forward:
            self.forward = None
        else:
            self.backward = None


def _parallel(repo: str, merges: list[str], jobs: int, max_file_size: int, options: tuple[bool, str],
              selection: Selection | None) -> Iterator[str]:
    """options: (syntax, interference) of settle_merge."""
    import multiprocessing
    import queue

    context = multiprocessing.get_context("fork")  # workers inherit the merge list instead of receiving it
    results = context.Queue()
    workers = []
    for worker in range(jobs):
        tasks = context.SimpleQueue()
        process = context.Process(target=_work, args=(worker, repo, merges, max_file_size, options, selection, tasks, results), daemon=True)
        process.start()
        workers.append((process, tasks))
    segments = Segments(len(merges))
    busy: set[int] = set()  # workers with a merge in hand

    finished: dict[int, str] = {}
    # A merge that failed: its error is raised once every merge before it is out, as a
    # serial replay would, whichever worker failed first.
    failed: dict[int, Exception] = {}

    def hand_out(worker: int) -> None:
        index = segments.next_for(worker)
        if index is not None and failed and index > min(failed):
            index = None  # past a failure: never needed
        workers[worker][1].put(index)
        if index is not None:
            busy.add(worker)

    try:
        for worker in range(jobs):
            hand_out(worker)
        following = 0
        while following < len(merges):
            try:
                worker, index, line, error = results.get(timeout=1)
            except queue.Empty:
                if any(not workers[worker][0].is_alive() for worker in busy):
                    raise RuntimeError("a replay worker stopped unexpectedly (out of memory?); try --jobs 1") from None
                if not busy:  # nobody has a merge in hand: nothing more is coming
                    raise failed[min(failed)] if failed else RuntimeError("replay workers stopped with merges left")
                continue
            busy.discard(worker)
            if error is not None:
                failed[index] = error
            else:
                finished[index] = line
            hand_out(worker)
            while following in finished or following in failed:
                if following in failed:
                    raise failed[following]
                yield finished.pop(following)
                following += 1
    finally:
        for process, _ in workers:
            process.terminate()
        for process, _ in workers:
            process.join()


def _work(worker: int, repo: str, merges: list[str], max_file_size: int, options: tuple[bool, str],
          selection: Selection | None, tasks, results) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how to stop
    session = Session.open(repo, max_file_size)
    while (index := tasks.get()) is not None:
        try:
            line = settle_merge(session, merges[index], *options, selection).to_json(compact=True)
            session.tables.flush()  # before the line: once the last one is out, the worker is stopped
            results.put((worker, index, line, None))
        except Exception as error:  # noqa: BLE001 - the parent raises it, as a serial replay would
            # Keep going: the merges before this one, which a serial run would finish first,
            # may still come this way.
            results.put((worker, index, None, _portable(error)))


def _portable(error: Exception) -> Exception:
    """The error itself where it survives pickling (input errors stay input errors), else its description."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any failure means it can't cross the process boundary
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
