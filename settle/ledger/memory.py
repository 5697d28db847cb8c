"""Failure memory: what earlier verdicts in the ledger found on the symbols and paths a new attempt touches.

`remember` works on data only: the subjects (symbols, paths, and their one-step
call-graph neighbours, worked out by settle.ledger.subjects) and a way to ask
whether a commit is in the target now. The memory document is the JSON
contract of `settle memory --format json`; `settle schema --memory` prints its schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

from settle.bind.patterns import glob_to_regex
from settle.document import about
from settle.ledger.record import ATTEMPT, PATH, SEPARATOR, SYMBOL, VERDICT
from settle.ledger.store import Event, Ledger

SCHEMA = "settle.memory/1"

Relation = Literal["touched", "path", "calls", "called_by"]
Outcome = Literal["held_never_landed", "held_landed_later", "superseded", "landed", "not_landed"]


# The memory document. Plain frozen dataclasses: `settle memory` builds one per answer, and pydantic
# would cost it a tenth of a second to import and set up. settle.ledger.schema makes the pydantic
# models of the JSON Schema from these (settle.schema), descriptions included.
_document = dataclass(frozen=True, kw_only=True)


@_document
class Occurrence:
    """One attempt on which a finding was reported."""

    event: int = about("Ledger event (seq) of the verdict.")
    time: str = about("When the verdict was recorded (UTC, ISO-8601).")
    command: str
    candidate: str
    commit: str
    merge_commit: str | None = about("Replay: the merge commit the verdict re-settled.", default=None)
    held: bool = about("The attempt was held (by this finding or another).")
    holding: bool = about("This finding is one of the reasons it was held.")
    outcome: Outcome = about("held_never_landed, held_landed_later (see landed_commit), superseded (a later "
                             "attempt of the same ref replaced it, see superseded_by), landed (not held, and in "
                             "the target now), not_landed (not held, not in the target yet).")
    landed_commit: str | None = about("The attempt's commit, or a later one of the same ref, in the target now.", default=None)
    superseded_by: str | None = about("The latest later attempt of the same ref.", default=None)


@_document
class RememberedFinding:
    """One finding (kind, subkind, symbols, path) as it recurred across attempts."""

    kind: str
    subkind: str
    severity: Literal["error", "warning", "info"]
    message: str = about("The newest occurrence's message.")
    symbols: list[str]
    path: str | None = None
    attempts: int = about("Distinct attempts (candidate ref and commit) it was found on.")
    recurring: bool = about("Found on more than one attempt.")
    occurrences: list[Occurrence] = about("Newest first.")


@_document
class SubjectMemory:
    subject: str = about("A symbol id (PATH::QUALNAME) or a path.")
    relation: Relation = about("touched: the query names it; path: a queried path; calls / called_by: one "
                               "call-graph step from a queried symbol (see via).")
    via: list[str] = about("The queried symbols it calls or is called by.", default_factory=list)
    findings: list[RememberedFinding]


@_document
class MemoryQuery:
    candidate: str | None = None
    claims: str | None = None
    plan: str | None = None
    task: str | None = None
    symbols: list[str] = about("Symbols asked about (for a candidate: those it changed; for claims: what they name on the base).")
    paths: list[str] = about("Paths and path globs asked about.")


@_document
class MemoryTarget:
    ref: str
    commit: str


@_document
class MemoryDocument:
    schema: Literal["settle.memory/1"] = SCHEMA
    query: MemoryQuery
    target: MemoryTarget = about("Landing is judged against this commit.")
    verdicts: int = about("Verdict events in the ledger.")
    subjects: list[SubjectMemory] = about("Recurring findings' subjects first, then newest first.")
    omitted: int = about("Subjects left out by --limit (the lowest ranked).", default=0)

    def document(self) -> dict:
        """The `settle.memory/1` document as JSON data."""
        return asdict(self)

    def to_json(self) -> str:
        import json

        return json.dumps(self.document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def memory_schema() -> dict:
    from settle.ledger.schema import memory_schema as schema

    return schema()


@dataclass
class Subjects:
    """What the query is about: symbol ids, exact paths, path globs, and call-graph neighbours."""

    symbols: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    globs: list[str] = field(default_factory=list)
    neighbours: dict[str, tuple[Relation, set[str]]] = field(default_factory=dict)  # symbol → (relation, via)


@dataclass(frozen=True)
class Landing:
    """The repository as memory needs it: which of some commits are in the target now, where a ref points now."""

    in_target: Callable[[set[str]], set[str]]
    tip_of: Callable[[str], str | None]


Hit = tuple[dict, Event, dict]  # a finding, its verdict event, the candidate it was found on
AttemptKey = tuple[str, str, str | None]  # candidate ref, commit, merge commit (replay)


def remember(ledger: Ledger, query: MemoryQuery, target: MemoryTarget, subjects: Subjects, landing: Landing,
             limit: int | None = None) -> MemoryDocument:
    """The memory document; limit keeps the best-ranked subjects only (None: all)."""
    patterns = [_glob(g) for g in subjects.globs]
    events = ledger.events_by_seq(ledger.seqs_with_keys(_keys(ledger, subjects, patterns)))
    grouped: dict[tuple[str, str], dict[tuple, dict[AttemptKey, Hit]]] = {}
    for event in events:  # in chain order: a later verdict of the same attempt replaces an earlier one
        verdict = event.payload.get("verdict", {}) if event.event_type == VERDICT else {}
        sides = {c["ref"]: c for c in verdict.get("candidates", [])}
        for finding in verdict.get("findings", []):
            if finding.get("severity") == "info":
                continue  # files seen whole are context, not what went wrong
            subject = _subject_of(finding, subjects, patterns)
            if subject is None:
                continue
            identity = (finding["kind"], finding["subkind"], tuple(finding.get("symbols", [])), finding.get("path"))
            hits = grouped.setdefault(subject, {}).setdefault(identity, {})
            for ref in finding.get("candidates", []):
                if ref in sides:
                    hits[(ref, sides[ref]["commit"], verdict.get("merge_commit"))] = (finding, event, sides[ref])
    ranked = sorted(grouped.items(), key=lambda item: _rank(item[0], item[1]))
    kept = ranked if limit is None else ranked[:limit]
    attempts = _Attempts(ledger, landing, [hit for _, found in kept for hits in found.values() for hit in hits.values()])
    memories = [_subject_memory(subject, found, subjects, attempts) for subject, found in kept]
    return MemoryDocument(query=query, target=target, verdicts=ledger.count(VERDICT), subjects=memories,
                          omitted=len(ranked) - len(kept))


def _keys(ledger: Ledger, subjects: Subjects, patterns: list[re.Pattern[str]]) -> list[str]:
    keys = [SYMBOL + s for s in subjects.symbols | set(subjects.neighbours)] + [PATH + p for p in subjects.paths]
    if patterns:
        keys += [key for key in ledger.keys(PATH) if any(p.fullmatch(key[len(PATH):]) for p in patterns)]
    return keys


def _glob(text: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(text.strip("/")))


def _subject_of(finding: dict, subjects: Subjects, patterns: list[re.Pattern[str]]) -> tuple[str, str] | None:
    """The (relation, subject) a finding is remembered under: a queried symbol first, then a path, then a neighbour."""
    symbols = finding.get("symbols", [])
    touched = sorted(s for s in symbols if s in subjects.symbols)
    if touched:
        return ("touched", touched[0])
    paths = sorted({finding["path"]} if finding.get("path") else set()) + sorted({s.split("::", 1)[0] for s in symbols})
    for path in paths:
        if path in subjects.paths or any(p.fullmatch(path) for p in patterns):
            return ("path", path)
    near = sorted(s for s in symbols if s in subjects.neighbours)
    if near:
        return (subjects.neighbours[near[0]][0], near[0])
    return None


class _Attempts:
    """Every attempt the ledger recorded of a ref, to tell what became of an earlier one. The commits
    to look for in the target are asked about together: one history walk answers many."""

    def __init__(self, ledger: Ledger, landing: Landing, hits: list[Hit]):
        self._ledger = ledger
        self._landing = landing
        self._by_ref: dict[str, list[tuple[int, str]]] = {}
        wanted: set[str] = set()
        for finding, event, side in hits:
            merge = event.payload["verdict"].get("merge_commit")
            wanted.update([merge] if merge else [side["commit"], *self.later(side["ref"], event.seq)])
        self._in_target = landing.in_target(wanted) if wanted else set()

    def later(self, ref: str, seq: int) -> list[str]:
        """Commits of ref checked after event seq, oldest first, then its tip now (if it moved on from them)."""
        if ref not in self._by_ref:
            prefix = ATTEMPT + ref + SEPARATOR
            self._by_ref[ref] = [(s, key[len(prefix):]) for key, s in self._ledger.keyed(prefix)]
        commits = [commit for s, commit in self._by_ref[ref] if s > seq]
        tip = self._landing.tip_of(ref)
        if tip is not None and tip not in commits:
            commits.append(tip)
        return list(dict.fromkeys(commits))

    def contains(self, commit: str) -> bool:
        return commit in self._in_target


def _occurrence(finding: dict, event: Event, candidate: dict, attempts: _Attempts) -> Occurrence:
    verdict = event.payload["verdict"]
    held_by = verdict.get("settlement", {}).get("held", {}).get(candidate["ref"])
    held = held_by is not None
    merge = verdict.get("merge_commit")
    landed = superseded = None
    if merge:
        landed = merge if attempts.contains(merge) else None
    else:
        later = [c for c in attempts.later(candidate["ref"], event.seq) if c != candidate["commit"]]
        landed = next((c for c in [candidate["commit"], *later] if attempts.contains(c)), None)
        superseded = later[-1] if later and landed is None else None
    if held:
        outcome = "held_landed_later" if landed else ("superseded" if superseded else "held_never_landed")
    else:
        outcome = "landed" if landed else ("superseded" if superseded else "not_landed")
    return Occurrence(event=event.seq, time=event.time, command=event.payload.get("command", ""), candidate=candidate["ref"],
                      commit=candidate["commit"], merge_commit=merge, held=held, holding=finding["id"] in (held_by or ()),
                      outcome=outcome, landed_commit=landed, superseded_by=superseded)


def _subject_memory(subject: tuple[str, str], found: dict[tuple, dict[AttemptKey, Hit]], subjects: Subjects,
                    attempts: _Attempts) -> SubjectMemory:
    relation, name = subject
    remembered = []
    for (kind, subkind, symbols, path), hits in found.items():
        occurrences = sorted((_occurrence(finding, event, side, attempts) for finding, event, side in hits.values()),
                             key=lambda o: (-o.event, o.candidate))
        newest = max(hits.values(), key=lambda hit: hit[1].seq)[0]
        distinct = len({(o.candidate, o.commit) for o in occurrences})
        remembered.append(RememberedFinding(kind=kind, subkind=subkind, severity=newest["severity"], message=newest["message"],
                                            symbols=list(symbols), path=path, attempts=distinct, recurring=distinct > 1,
                                            occurrences=occurrences))
    remembered.sort(key=lambda r: (-r.attempts, -r.occurrences[0].event, r.kind, r.subkind))
    via = sorted(subjects.neighbours[name][1]) if relation in ("calls", "called_by") else []
    return SubjectMemory(subject=name, relation=relation, via=via, findings=remembered)


_RELATION_ORDER = {"touched": 0, "path": 1, "calls": 2, "called_by": 2}


def _rank(subject: tuple[str, str], found: dict[tuple, dict[AttemptKey, Hit]]) -> tuple:
    """What the query names before its neighbours; recurring findings first; then newest first."""
    relation, name = subject
    attempts = max(len({(ref, commit) for ref, commit, _ in hits}) for hits in found.values())
    newest = max(hit[1].seq for hits in found.values() for hit in hits.values())
    return (_RELATION_ORDER[relation], -min(attempts, 2), -newest, name)
