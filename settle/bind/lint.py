"""`settle plan lint`: refute a plan before any agent starts.

Dependency cycles and unknown dependencies; edit/delete claims that name
nothing on the base; tasks that can run in parallel (no dependency path either
way) and claim one symbol for edit/delete, or where one edits what the other reads.
"""

from __future__ import annotations

from itertools import combinations

from settle.bind.claims import Pattern
from settle.bind.plans import Plan, Task, ancestors, dependency_problems, load_plan, topological_order
from settle.diff.pair import make_finding
from settle.models import CandidateRef, CandidateStats, Stats, TargetRef, Verdict
from settle.repo import EntryKind
from settle.settlement import Session
from settle.verdict import Policy, apply_policy, settle_order, severity_counts


def lint_plan(plan_path: str, repo: str = ".", base: str | None = None, branch_template: str = "{task}") -> Verdict:
    session = Session.open(repo)
    base_ref = base or session.repository.default_base()
    commit = session.repository.resolve(base_ref)
    plan = load_plan(plan_path, branch_template)
    files = [e for e in session.repository.files(commit) if e.kind is EntryKind.FILE]
    resolver = _Resolver(session, files)
    findings = list(_dependency_findings(plan))
    findings += _unresolved(plan, resolver)
    findings += _parallel(plan, resolver)
    policy = Policy()
    findings = apply_policy({f.id: f for f in findings}.values(), policy)
    unknown, cycles = dependency_problems(plan)
    order = list(plan.tasks) if cycles else topological_order(plan)
    settlement = settle_order(order, base_ref, findings, policy)
    return Verdict(
        verdict="merge" if not settlement.held else "reject",
        target=TargetRef(ref=base_ref, commit=commit),
        candidates=[CandidateRef(ref=task_id, commit=commit, merge_base=commit, claims=f"{plan_path}#{task_id}") for task_id in order],
        findings=findings,
        settlement=settlement,
        stats=Stats(findings=severity_counts(findings), pairs=len(plan.tasks) * (len(plan.tasks) - 1) // 2, files_parsed=session.tables.parsed,
                    candidates={task_id: CandidateStats() for task_id in order}),
    )


class _Resolver:
    """What a pattern names on the base: symbol ids, and paths for file-level patterns."""

    def __init__(self, session, files):
        self.session = session
        self.files = files
        self._cache: dict[str, frozenset[str]] = {}

    def names(self, pattern: Pattern) -> frozenset[str]:
        if pattern.text not in self._cache:
            found: set[str] = set()
            for entry in self.files:
                if not pattern.matches_path(entry.path):
                    continue
                found.add(entry.path)
                table = self.session.tables.get(entry.path, entry.id)
                if table is not None and table.parsed:
                    found.update(d.id for d in table.definitions if pattern.covers_symbol(d.id))
            if not pattern.is_file_level:
                found = {name for name in found if "::" in name}
            self._cache[pattern.text] = frozenset(found)
        return self._cache[pattern.text]

    def overlap(self, first: Pattern, second: Pattern) -> list[str]:
        shared = self.names(first) & self.names(second)
        if not shared and first.text == second.text:
            return [first.text]  # the same not-yet-existing thing, claimed twice
        symbols = sorted(name for name in shared if "::" in name)
        return symbols or sorted(shared)


def _dependency_findings(plan: Plan):
    unknown, cycles = dependency_problems(plan)
    for task_id, dependency in unknown:
        yield make_finding("plan_conflict", "unknown_dependency", [task_id], extra=dependency,
                           fields={"a": task_id, "b": dependency})
    for cycle in cycles:
        members = sorted(set(cycle))
        yield make_finding("plan_conflict", "dependency_cycle", members, extra="→".join(members),
                           fields={"cycle": " → ".join(cycle)})


def _unresolved(plan: Plan, resolver: _Resolver):
    for task in plan.tasks.values():
        for operation in ("edit", "delete"):
            for pattern in task.claims.claims.patterns(operation):
                if not resolver.names(pattern):
                    yield make_finding("claim_violation", "unresolved_claim", [task.id], [], None, [],
                                       extra=f"{operation}:{pattern.text}",
                                       fields={"pattern": pattern.text, "operation": operation, "side": task.id, "where": "on the base"})


def _parallel(plan: Plan, resolver: _Resolver):
    before = ancestors(plan)
    for first, second in combinations(plan.tasks.values(), 2):
        if first.id in before[second.id] or second.id in before[first.id]:
            continue
        yield from _writes_collide(first, second, resolver)
        yield from _write_read(first, second, resolver)
        yield from _write_read(second, first, resolver)


def _writes(task: Task):
    return [(op, p) for op in ("edit", "delete") for p in task.claims.claims.patterns(op)]


def _writes_collide(first: Task, second: Task, resolver: _Resolver):
    for operation, mine in _writes(first):
        for _, theirs in _writes(second):
            for symbol in resolver.overlap(mine, theirs)[:1]:
                yield make_finding("plan_conflict", "parallel_edit", [first.id, second.id], [symbol] if "::" in symbol else [],
                                   None if "::" in symbol else symbol, extra=f"{mine.text}|{theirs.text}",
                                   fields={"a": first.id, "b": second.id, "symbol": symbol, "operation": operation})


def _write_read(writer: Task, reader: Task, resolver: _Resolver):
    for _, mine in _writes(writer):
        for theirs in reader.claims.claims.patterns("read"):
            for symbol in resolver.overlap(mine, theirs)[:1]:
                yield make_finding("plan_conflict", "parallel_read", [writer.id, reader.id], [symbol] if "::" in symbol else [],
                                   None if "::" in symbol else symbol, extra=f"{writer.id}>{reader.id}:{mine.text}|{theirs.text}",
                                   fields={"a": writer.id, "b": reader.id, "symbol": symbol})
