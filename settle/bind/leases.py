"""`claim_violation/leased_elsewhere`: a candidate changed what another live candidate holds a lease on.

Leases come in as data (holder, pattern, expiry: settle.ledger.leases); this is only the
judgement of a side's changes against them. A candidate is the holder of the leases taken
in its own name, and a work tree (`worktree:DIR`) also of those of the branch checked out
in it, so an agent's own leases never hold its work back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from settle.bind.binder import needs_file_claim
from settle.bind.patterns import parse_pattern
from settle.diff.changes import FileChange, SideChanges
from settle.diff.pair import make_finding
from settle.document import Finding, Location


def holder_names(repository, candidate) -> set[str]:
    """The holder names a candidate answers to."""
    names = {candidate.ref}
    worktree = repository.worktree_state(candidate.commit)
    if worktree is not None:
        names |= {worktree.name} | ({worktree.branch} if worktree.branch else set())
    return names


def leased_elsewhere(side: SideChanges, holders: set[str], leases: Sequence) -> list[Finding]:
    """Findings for the side's changes covered by a live lease (holder, pattern, until) of another holder."""
    others = [(lease, parse_pattern(lease.pattern)) for lease in leases if lease.holder not in holders]
    if not others:
        return []
    findings: dict[str, Finding] = {}  # one per symbol and holder, however many of its leases cover it
    for file in side.files:
        for symbol, path, lines, on_base, lease in _leased(file, others):
            location = Location(side="base" if on_base else side.name, path=path, symbol=symbol,
                                start_line=lines[0] if lines else None, end_line=lines[1] if lines else None)
            finding = make_finding(
                "claim_violation", "leased_elsewhere", [side.name], [symbol] if symbol else [], path, [location],
                extra=lease.holder,
                fields={"side": side.name, "symbol": symbol or path, "holder": lease.holder, "pattern": lease.pattern,
                        "expires": lease.until})
            findings.setdefault(finding.id, finding)
    return list(findings.values())


def _leased(file: FileChange, others: list) -> Iterable[tuple]:
    paths = [p for p in (file.change.old_path, file.change.new_path) if p]
    if not file.has_symbols:
        # A file settle sees whole: any lease on its path holds it.
        for lease, pattern in others:
            if any(pattern.matches_path(p) for p in paths):
                yield None, file.path, None, False, lease
        return
    for change in file.symbols:
        definitions = [d for d in (change.old, change.new) if d is not None]
        for lease, pattern in others:
            if any(pattern.covers_symbol(d.id) for d in definitions):
                shown = change.new or change.old
                yield (change.symbol, change.symbol.split("::", 1)[0], (shown.span.start_line, shown.span.end_line),
                       change.new is None, lease)
    if needs_file_claim(file):
        # Imports and top-level statements belong to no symbol: only a lease on the whole file holds them.
        for lease, pattern in others:
            if pattern.is_file_level and any(pattern.matches_path(p) for p in paths):
                yield None, file.path, None, False, lease
