"""What a memory query is about, read from the repository: the symbols a candidate changed, what claims
name on the base, and the symbols one call away. Then `recall` asks the ledger about them.

The repository is read through the session's library functions (its sides and
symbol tables); nothing here decides anything about a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from settle.errors import SettleError
from settle.ledger.history import Reachable, reachable
from settle.ledger.memory import Landing, MemoryDocument, MemoryQuery, MemoryTarget, Subjects, remember
from settle.ledger.record import SYMBOL
from settle.ledger.store import Ledger


def recall(ledger_path: str, repo: str = ".", base: str | None = None, *, candidate: str | None = None,
           claims: str | None = None, plan: str | None = None, task: str | None = None,
           symbols: Sequence[str] = (), paths: Sequence[str] = (), branch_template: str = "{task}",
           session=None, limit: int | None = None) -> MemoryDocument:
    """`settle memory`: earlier findings on what the query touches, from the ledger at ledger_path.
    session: a Session of repo kept between calls (a server's), whose symbol tables stay warm.
    limit: keep only the best-ranked subjects (None: all)."""
    _one_query(candidate, claims, plan, task, symbols, paths)
    with Ledger.open(ledger_path, create=False, readonly=True) as ledger:
        if session is None and not paths:  # only symbols need the parser (and the diff, for a candidate)
            session = _session(repo) if candidate is not None else _Reader.open(repo)
        repository = session.repository if session is not None else _repository(repo)
        target_ref = base or repository.default_base()
        target = repository.resolve(target_ref)
        known = [key[len(SYMBOL):] for key in ledger.keys(SYMBOL)]
        subjects = Subjects(symbols=set(symbols), globs=[p.strip("/") for p in paths])
        graph_at = target
        if candidate is not None:
            graph_at = _candidate_subjects(session, candidate, target, subjects)
        elif claims is not None or plan is not None:
            _claim_subjects(session, _claim_set(claims, plan, task, branch_template), target, known, subjects)
        if session is not None:
            _add_neighbours(session, graph_at, known, subjects)
        query = MemoryQuery(candidate=candidate, claims=claims, plan=plan, task=task, symbols=sorted(subjects.symbols),
                            paths=sorted(subjects.paths | set(subjects.globs)))
        return remember(ledger, query, MemoryTarget(ref=target_ref, commit=target), subjects,
                        _landing(repository, target, target_ref), limit)


def _repository(repo: str):
    from settle.repo import Repository

    return Repository.open(repo)


def _session(repo: str):
    from settle.settlement import Session

    return Session.open(repo)


@dataclass
class _Reader:
    """The part of a Session a query without a candidate reads: the repository and its symbol
    tables, opened as Session.open opens them. The session's diff stage is not needed, and
    importing it costs more than the rest of the answer."""

    repository: object
    tables: object

    @classmethod
    def open(cls, repo: str) -> _Reader:
        from settle.parse.cache import SymbolTables
        from settle.parse.extract import DEFAULT_MAX_BYTES
        from settle.parse.store import DiskCache, repository_places

        repository = _repository(repo)
        disk = DiskCache.default(avoid=repository_places(repository))
        repository.remember_in(disk)
        return cls(repository, SymbolTables(repository.blob, DEFAULT_MAX_BYTES, incremental=True, disk=disk))


def _one_query(candidate, claims, plan, task, symbols, paths) -> None:
    given = [name for name, value in (("CANDIDATE", candidate), ("--claims", claims), ("--plan", plan),
                                      ("--symbol", symbols), ("--path", paths)) if value]
    if len(given) != 1:
        raise SettleError("give one of CANDIDATE, --claims FILE, --plan FILE --task ID, --symbol ID…, --path GLOB…"
                          + (f" (not {' and '.join(given)})" if given else ""))
    if (plan is None) != (task is None):
        raise SettleError("--plan and --task go together: the task whose claims to remember for")


def _candidate_subjects(session, ref: str, target: str, subjects: Subjects) -> str:
    """The symbols the candidate changed since its fork point, and its changed files settle sees whole."""
    repository = session.repository
    tip = repository.resolve(ref)
    fork = repository.merge_base(tip, target)
    if fork is None:
        raise SettleError(f"candidate {ref} shares no history with the target")
    side = session.side(ref, fork, tip)
    for change in side.symbol_changes:
        subjects.symbols.add(change.symbol)
        if change.old is not None:
            subjects.symbols.add(change.old.id)
    for file in side.files:
        if not file.has_symbols:
            subjects.paths.update(p for p in (file.change.old_path, file.change.new_path) if p)
    return tip


def _claim_set(claims: str | None, plan: str | None, task: str | None, branch_template: str):
    if claims is not None:
        from settle.bind.patterns import plain_claims

        found = plain_claims(claims)
        if found is not None:
            return found
        from settle.bind.claims import load_claims  # validates, and says what is wrong

        return load_claims(claims).claims
    from settle.bind.plans import load_plan

    tasks = load_plan(plan, branch_template).tasks
    if task not in tasks:
        known = ", ".join(sorted(tasks)[:8])
        raise SettleError(f"plan {plan} has no task '{task}' (its tasks: {known})")
    return tasks[task].claims.claims


def _claim_subjects(session, claim_set, commit: str, known: list[str], subjects: Subjects) -> None:
    """What the claims' create, edit and delete patterns name on the base, or in the ledger (symbols gone since)."""
    from settle.repo import EntryKind

    files = [e for e in session.repository.files(commit) if e.kind is EntryKind.FILE]
    for operation in ("create", "edit", "delete"):
        for pattern in claim_set.patterns(operation):
            matching = [e for e in files if pattern.matches_path(e.path)]
            if pattern.is_file_level:
                subjects.paths.update(e.path for e in matching)
                (subjects.paths.add if pattern.is_exact else subjects.globs.append)(pattern.path)
                continue
            for entry in matching:
                table = session.tables.get(entry.path, entry.id)
                if table is not None and table.parsed:
                    subjects.symbols.update(d.id for d in table.definitions if pattern.covers_symbol(d.id))
            subjects.symbols.update(symbol for symbol in known if pattern.covers_symbol(symbol))
            if pattern.is_exact:
                subjects.symbols.add(f"{pattern.path}::{pattern.qualname}")


def _name(symbol: str) -> str:
    """What calls spell: the last segment of the qualified name, without overload parameters."""
    return symbol.split("::", 1)[-1].split("(", 1)[0].rsplit(".", 1)[-1]


def _add_neighbours(session, commit: str, known: list[str], subjects: Subjects) -> None:
    """Ledger symbols one call from a queried symbol, at commit: those it calls, and those that call it.

    Only symbols the ledger has findings on can matter, so only their files are read for callers,
    and only the ones that spell a queried name are parsed. Calls are matched by name."""
    queried = {s for s in subjects.symbols if "::" in s}
    others = [s for s in known if s not in queried]
    if not queried or not others:
        return
    by_name: dict[str, set[str]] = {}
    for symbol in others:
        by_name.setdefault(_name(symbol), set()).add(symbol)
    # A name several symbols share (`__init__`, `run`) says nothing about which one a call means:
    # such calls are not matched at all, rather than matched to all of them.
    shared = {name for name, owners in by_name.items() if len(owners) > 1}
    shared |= {name for name in map(_name, queried) if name in by_name or sum(_name(q) == name for q in queried) > 1}
    _callees(session, commit, queried, {n: o for n, o in by_name.items() if n not in shared}, subjects)
    names: dict[str, set[str]] = {}
    for symbol in queried:
        if _name(symbol) not in shared:
            names.setdefault(_name(symbol), set()).add(symbol)
    if names:
        _callers(session, commit, names, set(others), subjects)


def _callees(session, commit: str, queried: set[str], by_name: dict[str, set[str]], subjects: Subjects) -> None:
    for path in sorted({q.split("::", 1)[0] for q in queried}):
        table = _table(session, commit, path)
        if table is None:
            continue
        owners = {q.split("::", 1)[1]: q for q in queried if q.startswith(path + "::")}
        for reference in table.references:
            owner = _owner(reference.scope, owners)
            for callee in by_name.get(reference.name, ()) if owner else ():
                _mark(subjects, callee, "called_by", owner)


def _callers(session, commit: str, names: dict[str, set[str]], candidates: set[str], subjects: Subjects) -> None:
    needles = [name.encode() for name in names]
    files = [(path, entry.id) for path in sorted({s.split("::", 1)[0] for s in candidates})
             if (entry := _file(session.repository, commit, path)) is not None]
    # Which blobs spell a name is kept in the disk cache: most of these files are not read at all.
    spelled = {path for name in names for path, _ in session.tables.mentioning(name, files)}
    for path in sorted(spelled):
        table = _table(session, commit, path, needles, within=candidates)
        for reference in table.references if table is not None else ():
            if reference.name not in names or reference.scope is None:
                continue
            scopes = reference.scope.split(".")
            for depth in range(len(scopes), 0, -1):  # the innermost enclosing definition the ledger knows
                caller = f"{path}::{'.'.join(scopes[:depth])}"
                if caller in candidates:
                    for callee in names[reference.name]:
                        _mark(subjects, caller, "calls", callee)
                    break


def _owner(scope: str | None, owners: dict[str, str]) -> str | None:
    while scope:
        if scope in owners:
            return owners[scope]
        scope = scope.rpartition(".")[0]
    return None


def _mark(subjects: Subjects, symbol: str, relation: str, via: str) -> None:
    if symbol in subjects.symbols:
        return
    existing = subjects.neighbours.setdefault(symbol, (relation, set()))
    existing[1].add(via)


def _table(session, commit: str, path: str, needles: list[bytes] | None = None, within: set[str] | None = None):
    """The file's table with its calls, at commit; None when it is gone or not code, or when none of
    needles is spelled in it (inside the definitions `within` names, when given: a definitions-only
    table finds them, and calls are worked out only for a file that has a hit)."""
    repository = session.repository
    entry = _file(repository, commit, path)
    if entry is None:
        return None
    data = repository.blob(entry.id) if needles is not None else b""
    if needles is not None and not any(needle in data for needle in needles):
        return None
    table = session.tables.get(path, entry.id, references=needles is None)
    if table is None or not table.parsed:
        return None
    if within is not None:
        spans = [d.span for d in table.definitions if d.id in within]
        if not any(needle in data[span.start_byte:span.end_byte] for span in spans for needle in needles):
            return None
    return table


def _file(repository, commit: str, path: str):
    """The tree entry of a file at commit; None when it is gone or not a file."""
    from settle.repo import EntryKind

    entry = repository.entry(commit, path)
    return entry if entry is not None and entry.kind is EntryKind.FILE else None


# Asking git whether a commit is in the target reads the target's history back to that commit's
# date, all of it for a commit that isn't (pygit2's descendant_of: 0.15 s on pytest). Which commits a
# target holds is kept in the disk cache instead, per target ref, and brought up to date by walking
# only what the ref gained since (settle.ledger.history); in the process too, for `settle serve`.
# Without the disk cache, a few commits are asked about one by one, more with one whole walk.
_WALK_ABOVE = 6
_REACHABLE: dict[tuple[str, str], Reachable] = {}  # (common git dir, target ref) → commits reachable from it


def _landing(repository, target: str, target_ref: str) -> Landing:
    def in_target(commits: set[str]) -> set[str]:
        key = (repository.common_dir, target_ref)
        index = _REACHABLE.get(key)
        if index is None or index.tip != target:
            cache = _disk_cache(repository)
            if cache is None and index is None and len(commits) <= _WALK_ABOVE:
                return {commit for commit in commits if _is_ancestor(repository, commit, target)}
            index = _REACHABLE[key] = reachable(repository, target, target_ref, cache, index)
        return {commit for commit in commits if commit in index}

    def tip_of(ref: str) -> str | None:
        try:
            return repository.resolve(ref)
        except SettleError:
            return None

    return Landing(in_target=in_target, tip_of=tip_of)


def _disk_cache(repository):
    from settle.parse.store import DiskCache, repository_places

    return DiskCache.default(avoid=repository_places(repository))


def _is_ancestor(repository, commit: str, target: str) -> bool:
    try:
        return repository.is_ancestor(commit, target)
    except Exception:  # noqa: BLE001 - a commit this clone doesn't have is not in its target
        return False
