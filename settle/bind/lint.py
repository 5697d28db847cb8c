"""`settle plan lint`: refute a plan before any agent starts.

Dependency cycles and unknown dependencies; edit/delete claims that name
nothing on the base (nor anything a task it depends on creates); tasks that can
run in parallel (no dependency path either way) and claim one symbol for
edit/delete, or where one edits what the other reads.

The result is a Verdict like `check`'s: the target is the base, the candidates
are the tasks (their branches where those exist, else their ids), the landing
order is the dependency order.
"""

from __future__ import annotations

from itertools import combinations

from settle.bind.patterns import Pattern
from settle.bind.plans import Plan, Task, ancestors, dependency_problems, hold_dependents, load_plan, topological_order
from settle.diff.pair import make_finding
from settle.document import CandidateRef, CandidateStats, Stats, TargetRef, Verdict
from settle.errors import SettleError
from settle.repo import EntryKind
from settle.settlement import Session
from settle.verdict import Policy, apply_policy, settle_order, severity_counts


def lint_plan(plan_path: str, repo: str = ".", base: str | None = None, branch_template: str = "{task}",
              session: Session | None = None) -> Verdict:
    session = session or Session.open(repo)
    repository = session.repository
    base_ref = base or repository.default_base()
    commit = repository.resolve(base_ref)
    plan = load_plan(plan_path, branch_template)
    names = {task_id: _name(repository, task) for task_id, task in plan.tasks.items()}
    resolver = _Resolver(session, commit)
    findings = list(_dependency_findings(plan, names))
    findings += _unresolved(plan, resolver, names)
    findings += _parallel(plan, resolver, names)
    policy = Policy()
    findings = apply_policy(list({f.id: f for f in findings}.values()), policy)
    order = [names[task_id] for task_id in topological_order(plan)]
    dependencies = {names[t.id]: tuple(names[d] for d in t.depends_on if d in names) for t in plan.tasks.values()}
    settlement = hold_dependents(settle_order(order, base_ref, findings, policy), dependencies)
    return Verdict(
        verdict="merge" if not settlement.held else "reject",
        target=TargetRef(ref=base_ref, commit=commit),
        candidates=[_candidate(repository, plan, task_id, names[task_id], commit) for task_id in topological_order(plan)],
        findings=findings,
        settlement=settlement,
        stats=Stats(findings=severity_counts(findings), pairs=len(plan.tasks) * (len(plan.tasks) - 1) // 2,
                    files_parsed=session.tables.parsed, candidates={name: CandidateStats() for name in order}),
    )


def _name(repository, task: Task) -> str:
    """The task's branch where it exists already, else its id."""
    try:
        repository.resolve(task.branch)
    except SettleError:
        return task.id
    return task.branch


def _candidate(repository, plan: Plan, task_id: str, name: str, base: str) -> CandidateRef:
    source = f"{plan.source}#{task_id}"
    try:
        commit = repository.resolve(name)
    except SettleError:
        return CandidateRef(ref=name, commit=base, merge_base=base, claims=source)  # not started: it would fork here
    return CandidateRef(ref=name, commit=commit, merge_base=repository.merge_base(commit, base), claims=source)


class _Resolver:
    """What a pattern names on the base: symbol ids, and paths for file-level patterns."""

    def __init__(self, session, commit: str):
        self.session = session
        self.files = [e for e in session.repository.files(commit) if e.kind is not EntryKind.MISSING]
        self._cache: dict[str, frozenset[str]] = {}

    def names(self, pattern: Pattern) -> frozenset[str]:
        if pattern.text not in self._cache:
            found: set[str] = set()
            for entry in self.files:
                if not pattern.matches_path(entry.path):
                    continue
                if pattern.is_file_level:
                    found.add(entry.path)
                table = self.session.tables.get(entry.path, entry.id) if entry.kind is EntryKind.FILE else None
                if table is not None and table.parsed:
                    found.update(d.id for d in table.definitions if pattern.covers_symbol(d.id))
            self._cache[pattern.text] = frozenset(found)
        return self._cache[pattern.text]

    def overlap(self, first: Pattern, second: Pattern) -> str | None:
        """One thing both patterns name on the base (a symbol rather than a path), or the text both give for something new."""
        shared = self.names(first) & self.names(second)
        symbols = sorted(name for name in shared if "::" in name)
        if symbols or shared:
            return (symbols or sorted(shared))[0]
        if first.text == second.text:
            return first.text  # the same not-yet-existing thing, claimed twice
        return None


def _dependency_findings(plan: Plan, names: dict[str, str]):
    unknown, cycles = dependency_problems(plan)
    for task_id, dependency in unknown:
        yield make_finding("plan_conflict", "unknown_dependency", [names[task_id]], extra=dependency,
                           fields={"a": task_id, "b": dependency})
    for cycle in cycles:
        members = sorted(set(cycle))
        yield make_finding("plan_conflict", "dependency_cycle", [names[m] for m in members], extra="→".join(members),
                           fields={"cycle": " → ".join(cycle)})


def _unresolved(plan: Plan, resolver: _Resolver, names: dict[str, str]):
    """edit/delete claims must name something on the base, or something a task this one depends on creates."""
    before = ancestors(plan)
    for task in plan.tasks.values():
        created = [p for dep in before[task.id] for p in plan.tasks[dep].claims.claims.patterns("create")]
        for operation in ("edit", "delete"):
            for pattern in task.claims.claims.patterns(operation):
                if resolver.names(pattern) or any(_created_by(pattern, p) for p in created):
                    continue
                yield make_finding("claim_violation", "unresolved_claim", [names[task.id]], [], None, [],
                                   extra=f"{operation}:{pattern.text}",
                                   fields={"pattern": pattern.text, "operation": operation, "side": task.id,
                                           "where": "on the base or among what its dependencies create",
                                           "hint": "fix the pattern"})


def _created_by(pattern: Pattern, created: Pattern) -> bool:
    """The claimed thing does not exist yet, and an earlier task claims to create it."""
    if pattern.text == created.text:
        return True
    if pattern.is_file_level:
        return created.is_file_level and pattern.is_exact and created.matches_path(pattern.path)
    return pattern.is_exact and created.covers_symbol(f"{pattern.path}::{pattern.qualname}")


def _parallel(plan: Plan, resolver: _Resolver, names: dict[str, str]):
    before = ancestors(plan)
    for first, second in combinations(plan.tasks.values(), 2):
        if first.id in before[second.id] or second.id in before[first.id]:
            continue
        yield from _writes_collide(first, second, resolver, names)
        yield from _write_read(first, second, resolver, names)
        yield from _write_read(second, first, resolver, names)


def _writes(task: Task):
    return [(op, p) for op in ("edit", "delete") for p in task.claims.claims.patterns(op)]


def _writes_collide(first: Task, second: Task, resolver: _Resolver, names: dict[str, str]):
    for operation, mine in _writes(first):
        for _, theirs in _writes(second):
            thing = resolver.overlap(mine, theirs)
            if thing is None:
                continue
            symbol = "::" in thing
            yield make_finding("plan_conflict", "parallel_edit", [names[first.id], names[second.id]], [thing] if symbol else [],
                               None if symbol else thing, extra=f"{mine.text}|{theirs.text}",
                               fields={"a": first.id, "b": second.id, "symbol": thing, "operation": operation})


def _write_read(writer: Task, reader: Task, resolver: _Resolver, names: dict[str, str]):
    for _, mine in _writes(writer):
        for theirs in reader.claims.claims.patterns("read"):
            thing = resolver.overlap(mine, theirs)
            if thing is None:
                continue
            symbol = "::" in thing
            yield make_finding("plan_conflict", "parallel_read", [names[writer.id], names[reader.id]], [thing] if symbol else [],
                               None if symbol else thing, extra=f"{writer.id}>{reader.id}:{mine.text}|{theirs.text}",
                               fields={"a": writer.id, "b": reader.id, "symbol": thing})
