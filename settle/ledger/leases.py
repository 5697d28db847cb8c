"""Leases: a candidate's time-limited hold on the symbols (or paths) it is about to edit.

Leases are events of the ledger like verdicts ("lease" and "release", hash-chained,
append-only), so its history shows who held what and when. Who holds what now is
worked out by reading those events in chain order; the chain is the arbiter:

* a lease event grants its patterns to its holder unless one of them overlaps an
  unreleased lease of another holder — then the whole event is refused and
  changes nothing. A live lease (not yet expired) is never taken over. An
  expired one binds nobody in a check, but still marks someone's unfinished
  work: only a lease with `steal` takes it over (and the event says from whom);
* the same holder leasing a pattern again renews it: it expires at the later
  of the two expiry times;
* a release event ends the holder's leases on the patterns it names (all of
  them with `all`), or every holder's with `everyone`.

Two processes leasing at once both append; whichever event comes first in the
chain wins, and the other is read as refused, so a lease is granted only if it
still is after its event was appended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from settle.bind.patterns import parse_pattern
from settle.bind.overlap import patterns_overlap
from settle.ledger import clock
from settle.ledger.store import Event, Ledger

LEASE, RELEASE = "lease", "release"
DEFAULT_TTL = 1800
LEASE_SCHEMA, RELEASE_SCHEMA, LEASES_SCHEMA = "settle.lease/1", "settle.release/1", "settle.leases/1"
HOLDER = "holder:"  # event key prefix


@dataclass(frozen=True)
class Lease:
    holder: str
    pattern: str
    expires: float  # Unix seconds
    since: str  # when the holder first took it (ISO)
    seq: int  # the event that granted or last renewed it

    def live(self, moment: float) -> bool:
        return self.expires > moment

    @property
    def until(self) -> str:
        """The expiry as people read it (UTC, to the second)."""
        return clock.short(clock.iso(self.expires))

    def document(self) -> dict:
        return {"holder": self.holder, "pattern": self.pattern, "since": self.since, "expires": clock.iso(self.expires),
                "event": self.seq}


@dataclass(frozen=True)
class Conflict:
    pattern: str  # the pattern asked for
    held: Lease  # the other holder's lease it overlaps
    expired: bool

    def document(self) -> dict:
        return {"pattern": self.pattern, "holder": self.held.holder, "held_pattern": self.held.pattern,
                "expires": clock.iso(self.held.expires), "expired": self.expired}

    def message(self) -> str:
        until = self.held.until
        what = f"{self.pattern} is" if self.pattern == self.held.pattern else f"{self.pattern} overlaps {self.held.pattern}, which is"
        if self.expired:
            return f"{what} leased by {self.held.holder}, expired at {until} but not released; pass --steal to take it over"
        return (f"{what} leased by {self.held.holder} until {until}; ask {self.held.holder} to release it, "
                f"or lease it with --steal after {until}")


@dataclass
class Holdings:
    """The unreleased leases after some events, and what each event came to."""

    leases: dict[tuple[str, str], Lease] = field(default_factory=dict)
    refused: dict[int, list[Conflict]] = field(default_factory=dict)  # lease event seq → why
    stolen: dict[int, list[Lease]] = field(default_factory=dict)  # lease event seq → the expired leases it took over
    released: dict[int, list[Lease]] = field(default_factory=dict)

    def conflicts(self, holder: str, patterns: Sequence[str], moment: float) -> list[Conflict]:
        found = []
        for text in patterns:
            pattern = parse_pattern(text)
            for lease in self.leases.values():
                if lease.holder != holder and patterns_overlap(pattern, parse_pattern(lease.pattern)):
                    found.append(Conflict(text, lease, not lease.live(moment)))
        return sorted(found, key=lambda c: (c.pattern, c.held.holder, c.held.pattern))

    def live(self, moment: float) -> list[Lease]:
        return sorted((l for l in self.leases.values() if l.live(moment)), key=lambda l: (l.holder, l.pattern))

    def apply(self, event: Event) -> None:
        moment = clock.parse(event.time)
        payload = event.payload
        if event.event_type == LEASE:
            self._lease(event.seq, moment, event.time, payload["holder"], payload["patterns"], payload["ttl"],
                        bool(payload.get("steal")))
        elif event.event_type == RELEASE:
            self._release(event.seq, payload.get("holder"), payload.get("patterns", []), bool(payload.get("all")))

    def _lease(self, seq: int, moment: float, time: str, holder: str, patterns: list[str], ttl: float, steal: bool) -> None:
        conflicts = self.conflicts(holder, patterns, moment)
        blocking = [c for c in conflicts if not (steal and c.expired)]
        if blocking:
            self.refused[seq] = blocking
            return
        for conflict in conflicts:
            self.leases.pop((conflict.held.holder, conflict.held.pattern), None)
        if conflicts:
            self.stolen[seq] = sorted({c.held for c in conflicts}, key=lambda l: (l.holder, l.pattern))
        for pattern in patterns:
            held = self.leases.get((holder, pattern))
            renewed = held is not None and held.live(moment)
            self.leases[(holder, pattern)] = Lease(holder, pattern, max(moment + ttl, held.expires if renewed else 0),
                                                   held.since if renewed else time, seq)

    def _release(self, seq: int, holder: str | None, patterns: list[str], every: bool) -> None:
        ended = [lease for key, lease in self.leases.items()
                 if (holder is None or lease.holder == holder) and (every or lease.pattern in patterns)]
        for lease in ended:
            del self.leases[(lease.holder, lease.pattern)]
        self.released[seq] = sorted(ended, key=lambda l: (l.holder, l.pattern))


def holdings(ledger: Ledger) -> Holdings:
    """Every lease and release event, in chain order."""
    held = Holdings()
    for event in sorted(ledger.events(LEASE) + ledger.events(RELEASE), key=lambda e: e.seq):
        held.apply(event)
    return held


def live_leases(ledger: Ledger, moment: float | None = None) -> list[Lease]:
    return holdings(ledger).live(clock.now() if moment is None else moment)


@dataclass(frozen=True)
class LeaseOutcome:
    holder: str
    granted: bool
    leases: list[Lease]  # the holder's leases on the asked patterns, when granted
    conflicts: list[Conflict]  # why not, when refused
    stolen: list[Lease]

    def document(self) -> dict:
        return {"schema": LEASE_SCHEMA, "holder": self.holder, "granted": self.granted,
                "leases": [l.document() for l in self.leases], "conflicts": [c.document() for c in self.conflicts],
                "stolen": [l.document() for l in self.stolen]}


def lease(ledger: Ledger, holder: str, patterns: Sequence[str], ttl: float = DEFAULT_TTL, steal: bool = False,
          repository: dict | None = None) -> LeaseOutcome:
    """Ask for the patterns. Refused without an event when the ledger already says no."""
    patterns = _unique(patterns)
    before = holdings(ledger)
    conflicts = before.conflicts(holder, patterns, clock.now())
    blocking = [c for c in conflicts if not (steal and c.expired)]
    if blocking:
        return LeaseOutcome(holder, False, [], blocking, [])
    event = ledger.append(LEASE, {"holder": holder, "patterns": patterns, "ttl": ttl, "steal": steal},
                          repository=repository, keys=[HOLDER + holder])
    after = holdings(ledger)
    if event.seq in after.refused:  # someone else's lease came first in the chain
        return LeaseOutcome(holder, False, [], after.refused[event.seq], [])
    granted = [after.leases[(holder, p)] for p in patterns if (holder, p) in after.leases and after.leases[(holder, p)].seq == event.seq]
    return LeaseOutcome(holder, True, granted, [], after.stolen.get(event.seq, []))


def release(ledger: Ledger, holder: str | None, patterns: Sequence[str] = (), every: bool = False,
            repository: dict | None = None) -> list[Lease]:
    """End leases: the holder's on these patterns, all the holder's with `every`, everyone's with no holder."""
    payload = {"holder": holder, "patterns": _unique(patterns), "all": every}
    event = ledger.append(RELEASE, payload, repository=repository, keys=[HOLDER + holder] if holder else [])
    return holdings(ledger).released.get(event.seq, [])


def release_document(released: Iterable[Lease]) -> dict:
    return {"schema": RELEASE_SCHEMA, "released": [l.document() for l in released]}


def leases_document(leases: Iterable[Lease]) -> dict:
    return {"schema": LEASES_SCHEMA, "leases": [l.document() for l in leases]}


def _unique(patterns: Sequence[str]) -> list[str]:
    for text in patterns:
        parse_pattern(text)  # a malformed pattern is an input error, before anything is written
    return sorted(set(patterns))
