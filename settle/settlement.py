"""Settling candidates against a target, end to end: the library behind `settle check`.

repo → parse → diff → bind → verdict; this module only wires the stages.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import combinations

from settle.diff.changes import SideChanges
from settle.diff.interference import Tally
from settle.diff.pair import pair_findings, side_findings
from settle.document import CandidateRef, CandidateStats, Finding, Stats, TargetRef, Verdict
from settle.errors import SettleError
from settle.parse.cache import SymbolTables
from settle.parse.extract import DEFAULT_MAX_BYTES
from settle.repo import EntryKind, Repository
from settle.verdict import Policy, apply_policy, load_policy, settle_order, severity_counts


@dataclass
class Candidate:
    ref: str
    commit: str
    fork: str | None = None
    claims_source: str | None = None
    claims: object | None = None  # a bound Claims document (settle.bind), when given


@dataclass
class Session:
    """One repository opened for one command: its tables and per-(base, tip) changes are shared."""

    repository: Repository
    tables: SymbolTables
    _sides: dict[tuple[str, str, str], SideChanges] = field(default_factory=dict)

    @classmethod
    def open(cls, repo_path: str, max_file_size: int = DEFAULT_MAX_BYTES, share_builds: bool = False) -> Session:
        """With `share_builds`, a batch of tables to build (the files a stale-caller scan found) may be
        shared with a forked helper process (settle.parse.helper): for a one-off command, not for a
        replay's workers, which already keep every CPU busy."""
        from settle.parse.store import DiskCache, repository_places

        repository = Repository.open(repo_path)
        disk = DiskCache.default(avoid=repository_places(repository))
        repository.remember_in(disk)
        return cls(repository, SymbolTables(repository.blob, max_file_size, incremental=True, disk=disk,
                                            share_builds=share_builds, blob_size=repository.blob_size,
                                            blob_held=repository.holds_blob))

    def side(self, name: str, base: str, tip: str, parse=None, syntax_of_skipped: bool = True, changes=None) -> SideChanges:
        """A side's changes, shared by every pair it is in. A side built with a `parse` filter
        is specific to the pair it was filtered for and is not shared."""
        if parse is not None:
            return SideChanges(name, base, tip, self.repository, self.tables, parse, syntax_of_skipped, changes)
        key = (name, base, tip)
        if key not in self._sides:
            self._sides[key] = SideChanges(name, base, tip, self.repository, self.tables)
        return self._sides[key]


def check(*arguments, **options):
    """`settle(...)`, its verdict as the pydantic model (`settle.models.Verdict`, validated): the
    Python API's `settle.check`. The commands print `settle`'s dataclass verdict and never import
    pydantic."""
    from settle.models import Verdict as VerdictModel

    return VerdictModel.of(settle(*arguments, **options))


def settle(
    repo: str = ".",
    candidates: Sequence[str] | str = (),
    base: str | None = None,
    *,
    policy: Policy | str | None = None,
    strict: bool = False,
    claims: str | None = None,
    plan: str | None = None,
    max_file_size: int = DEFAULT_MAX_BYTES,
    branch_template: str = "{task}",
    progress=None,
    session: Session | None = None,
    leases=None,
    verify=None,
) -> Verdict:
    """Settle candidates (default: HEAD) against base (default: origin/HEAD, main or master).
    A session (of repo, opened with max_file_size) brings tables already built: `settle serve`'s.
    leases: the live leases (settle.ledger.leases.Lease) a candidate's changes must keep out of.
    verify, a settle.evidence.VerifyOptions, runs a command on the composed trees (`--verify`).
    A single ref given as a string is one candidate (`check(repo, "agent/a")`)."""
    if isinstance(candidates, str):
        candidates = [candidates]
    session = session or Session.open(repo, max_file_size, share_builds=True)
    repository = session.repository
    if not isinstance(policy, Policy):
        policy = load_policy(policy, strict)
    elif strict and not policy.strict:
        policy = Policy(policy.overrides, True)
    target_ref = base or repository.default_base()
    target = repository.resolve(target_ref)
    chosen = _candidates(session, candidates, claims, plan, target, branch_template)
    tally = Tally()
    findings, stats = settle_findings(session, target_ref, target, chosen, progress, tally)
    if leases:
        findings += _lease_findings(session, chosen, leases)
    if verify is not None:
        findings += _verification(session, target_ref, target, chosen, findings, verify)
    findings = apply_policy(findings, policy)
    settlement = settle_order([c.ref for c in chosen], target_ref, findings, policy)
    if plan is not None:
        from settle.bind.plans import candidate_dependencies, hold_dependents

        settlement = hold_dependents(settlement, candidate_dependencies(chosen))
    return Verdict(
        verdict="merge" if not settlement.held else "reject",
        target=TargetRef(ref=target_ref, commit=target),
        candidates=[CandidateRef(ref=c.ref, commit=c.commit, merge_base=c.fork, claims=c.claims_source) for c in chosen],
        findings=findings,
        settlement=settlement,
        stats=Stats(findings=severity_counts(findings), pairs=len(chosen) + len(chosen) * (len(chosen) - 1) // 2,
                    files_parsed=session.tables.parsed, candidates=stats, interference_skipped_edges=tally.skipped_edges),
    )


check.__signature__ = inspect.signature(settle).replace(return_annotation="settle.models.Verdict")  # for help(check)


def _prepare_sides(session: Session, target: str, chosen: list[Candidate]) -> None:
    """The tables every candidate's side and the target's advance will ask for, made ahead:
    shared with a helper process when the session allows it and there are enough of them (a
    target that moved on by dozens of files). A path's base and tip go together, so that the
    tip is parsed from the base's tree wherever it would be without the helper."""
    if not session.tables.share_builds:
        return
    groups: dict[tuple[tuple[str, str], ...], None] = {}
    for candidate in chosen:
        for tip in (candidate.commit, target):
            for change in session.repository.changes(candidate.fork, tip):
                versions = tuple((path, blob_id) for path, blob_id, kind in (
                    (change.old_path, change.old_id, change.old_kind), (change.new_path, change.new_id, change.new_kind))
                    if path and blob_id and kind is EntryKind.FILE)
                if versions:
                    groups[versions] = None
    session.tables.prepare_versions(list(groups))


def _lease_findings(session: Session, chosen: list[Candidate], leases) -> list[Finding]:
    from settle.bind.leases import holder_names, leased_elsewhere

    found: list[Finding] = []
    for candidate in chosen:
        side = session.side(candidate.ref, candidate.fork, candidate.commit)
        found += leased_elsewhere(side, holder_names(session.repository, candidate), leases)
    return found


def _verification(session: Session, target_ref: str, target: str, chosen: list[Candidate], findings: list[Finding], verify) -> list[Finding]:
    from settle.evidence import Side, Verifier, verification_findings

    with Verifier(session.repository, target_ref, target, verify) as verifier:
        return verification_findings(verifier, [Side(c.ref, c.commit) for c in chosen], findings)


def _candidates(session: Session, refs: Sequence[str], claims: str | None, plan: str | None, target: str, branch_template: str) -> list[Candidate]:
    if plan is not None:
        if refs:
            raise SettleError("give either candidates or --plan, not both: the plan names its branches")
        from settle.bind.plans import plan_candidates

        chosen = plan_candidates(session.repository, plan, branch_template)
    else:
        chosen = [Candidate(session.repository.candidate_name(ref), session.repository.resolve(ref)) for ref in (refs or ("HEAD",))]
        if claims is not None:
            if len(chosen) != 1:
                raise SettleError("--claims binds one candidate; use --plan to give claims to several")
            from settle.bind.claims import load_claims

            document = load_claims(claims)
            if document.candidate is not None and not _names(session.repository, document.candidate, chosen[0]):
                raise SettleError(
                    f"claims file {claims} is for candidate '{document.candidate}', not '{chosen[0].ref}'; check the right branch or fix `candidate =`"
                )
            chosen[0].claims, chosen[0].claims_source = document, claims
    names = [c.ref for c in chosen]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SettleError(f"candidate {duplicates[0]} is given twice")
    for candidate in chosen:
        candidate.fork = session.repository.merge_base(candidate.commit, target)
        if candidate.fork is None:
            raise SettleError(f"candidate {candidate.ref} shares no history with the target; rebase it onto the target first")
    return chosen


def _names(repository: Repository, branch: str, candidate: Candidate) -> bool:
    """The claims' `candidate =` is the checked ref, or a branch at the same commit (`check` of HEAD in its worktree)."""
    if branch == candidate.ref:
        return True
    worktree = repository.worktree_state(candidate.commit)
    if worktree is not None:  # a work tree's claims are its branch's
        return branch == worktree.branch
    try:
        return repository.resolve(branch) == candidate.commit
    except SettleError:
        return False


PROGRESS_THRESHOLD = 10  # candidate pairs; fewer finish before a bar would be read


def settle_findings(session: Session, target_ref: str, target: str, chosen: list[Candidate],
                    progress=None, tally: Tally | None = None) -> tuple[list[Finding], dict[str, CandidateStats]]:
    """Every finding of every candidate: against the target's advance, on its own, and pairwise.

    progress, when given, wraps the candidate pairs: `progress(items, label)` → a context manager.
    tally, when given, counts the edges interference could not judge.
    """
    repository, tables = session.repository, session.tables
    findings: list[Finding] = []
    stats: dict[str, CandidateStats] = {}
    pairs = list(combinations(sorted(chosen, key=lambda c: c.ref), 2))
    # git's merges of the first pairs run beside the passes over the candidates before them.
    repository.start_merges([(c.commit, target) for c in chosen] + [(a.commit, b.commit) for a, b in pairs])
    _prepare_sides(session, target, chosen)
    for candidate in chosen:
        mine = session.side(candidate.ref, candidate.fork, candidate.commit)
        advance = session.side(target_ref, candidate.fork, target)
        findings.extend(pair_findings(repository, tables, candidate.fork, mine, advance, stale_callers_of=(candidate.ref,), tally=tally))
        findings.extend(side_findings(mine))
        untouched: list[str] = []
        if candidate.claims is not None:
            from settle.bind.binder import bind_claims

            bound = bind_claims(candidate.claims, mine, session, candidate.fork, target)
            findings.extend(bound.findings)
            untouched = bound.untouched
        stats[candidate.ref] = CandidateStats(
            changed_paths=len(mine.files), changed_symbols=len(mine.symbol_changes), claimed_untouched=untouched
        )
    bar = progress(pairs, "settling pairs") if progress and len(pairs) >= PROGRESS_THRESHOLD else nullcontext(pairs)
    with bar as items:
        for first, second in items:
            fork = repository.merge_base(first.commit, second.commit)
            if fork is None:
                continue
            left = session.side(first.ref, fork, first.commit)
            right = session.side(second.ref, fork, second.commit)
            findings.extend(pair_findings(repository, tables, fork, left, right, tally=tally))
    unique = {f.id: f for f in findings}
    return list(unique.values()), stats
