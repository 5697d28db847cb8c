"""The binder: what a candidate touched, symbol by symbol, against what its claims allow."""

from __future__ import annotations

from dataclasses import dataclass, field

from settle.bind.claims import ClaimsDocument, Pattern
from settle.diff.changes import FileChange, SideChanges, SymbolChange, SymbolChangeKind
from settle.diff.pair import make_finding
from settle.languages import profile_for_path
from settle.languages.resolve import module_names_file
from settle.models import Finding, Location
from settle.repo import EntryKind


@dataclass
class Bound:
    findings: list[Finding] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)


class _Claims:
    def __init__(self, document: ClaimsDocument):
        self.by_operation = {op: document.claims.patterns(op) for op in ("create", "edit", "delete")}
        self.read = document.claims.patterns("read") if document.claims.read is not None else None

    def covers(self, operations: tuple[str, ...], symbol: str) -> bool:
        return any(p.covers_symbol(symbol) for op in operations for p in self.by_operation[op])

    def covers_path(self, operations: tuple[str, ...], path: str, file_level_only: bool = True) -> bool:
        return any(
            p.matches_path(path) and (p.is_file_level or not file_level_only)
            for op in operations for p in self.by_operation[op]
        )

    def all(self) -> list[tuple[str, Pattern]]:
        return [(op, p) for op, patterns in self.by_operation.items() for p in patterns]


def bind_claims(document: ClaimsDocument, side: SideChanges, session, fork: str, target: str) -> Bound:
    claims = _Claims(document)
    bound = Bound()
    for file in side.files:
        bound.findings.extend(_file_findings(file, side, claims))
    bound.findings.extend(_unresolved(claims, side, session, fork))
    if claims.read is not None:
        bound.findings.extend(_reads(claims, side, session, fork))
    bound.untouched = _untouched(claims, side)
    return bound


def _violation(subkind: str, side: SideChanges, symbol: str | None, path: str, lines=None, **fields) -> Finding:
    location = Location(side=side.name, path=path, symbol=symbol,
                        start_line=lines[0] if lines else None, end_line=lines[1] if lines else None)
    return make_finding("claim_violation", subkind, [side.name], [symbol] if symbol else [], path, [location],
                        fields={"side": side.name, "symbol": symbol, **fields})


def _file_findings(file: FileChange, side: SideChanges, claims: _Claims):
    if not file.has_symbols:
        # Whole-file changes (documents, binaries, other languages) need a file-level claim.
        operations = {"added": ("create", "edit"), "deleted": ("delete",)}.get(file.change.status.value, ("edit", "create", "delete"))
        paths = [p for p in (file.change.new_path, file.change.old_path) if p]
        if not any(claims.covers_path(operations, path) for path in paths):
            yield _violation("unclaimed_path", side, None, file.path)
        return
    for change in file.symbols:
        subkind = _uncovered(change, claims)
        if subkind:
            definition = change.new or change.old
            lines = (definition.span.start_line, definition.span.end_line)
            yield _violation(subkind, side, change.symbol, change.symbol.split("::", 1)[0], lines)
    if file.module_level_changed and not claims.covers_path(("edit", "create"), file.path, file_level_only=False):
        yield _violation("unclaimed_path", side, None, file.path)


def _uncovered(change: SymbolChange, claims: _Claims) -> str | None:
    if change.kind is SymbolChangeKind.ADDED:
        return None if claims.covers(("create", "edit"), change.new.id) else "unclaimed_create"
    if change.kind is SymbolChangeKind.REMOVED:
        return None if claims.covers(("delete", "edit"), change.old.id) else "unclaimed_delete"
    if change.kind is SymbolChangeKind.RENAMED:
        if claims.covers(("edit",), change.old.id) or claims.covers(("edit",), change.new.id):
            return None
        if not claims.covers(("delete",), change.old.id):
            return "unclaimed_delete"
        return None if claims.covers(("create",), change.new.id) else "unclaimed_create"
    return None if claims.covers(("edit",), change.old.id) else "unclaimed_edit"


def _untouched(claims: _Claims, side: SideChanges) -> list[str]:
    """Exact symbol claims that no change touched: the agent skipped part of its task."""
    touched = [c.old.id for c in side.symbol_changes if c.old] + [c.new.id for c in side.symbol_changes if c.new]
    touched_paths = [p for f in side.files for p in (f.change.old_path, f.change.new_path) if p]
    result = []
    for _, pattern in claims.all():
        if not pattern.is_exact:
            continue
        if pattern.is_file_level:
            hit = any(pattern.matches_path(path) for path in touched_paths)
        else:
            hit = any(pattern.covers_symbol(symbol) for symbol in touched)
        if not hit:
            result.append(pattern.text)
    return sorted(set(result))


def _unresolved(claims: _Claims, side: SideChanges, session, fork: str):
    base = _Tree(session, fork)
    tip = _Tree(session, side.tip)
    for operation, pattern in claims.all():
        trees = (base,) if operation in ("edit", "delete") else (base, tip)
        if any(tree.resolves(pattern) for tree in trees):
            continue
        where = "on the base" if operation in ("edit", "delete") else "on the base or the candidate"
        yield make_finding("claim_violation", "unresolved_claim", [side.name], [], pattern.path if pattern.is_exact else None,
                           [], extra=f"{operation}:{pattern.text}",
                           fields={"pattern": pattern.text, "operation": operation, "side": side.name, "where": where})


class _Tree:
    """One commit's files, parsed only where a symbol-level claim asks."""

    def __init__(self, session, commit: str):
        self.session = session
        self.files = [e for e in session.repository.files(commit) if e.kind is EntryKind.FILE]

    def resolves(self, pattern: Pattern) -> bool:
        for entry in self.files:
            if not pattern.matches_path(entry.path):
                continue
            if pattern.is_file_level:
                return True
            table = self.session.tables.get(entry.path, entry.id)
            if table is not None and any(pattern.covers_symbol(d.id) for d in table.definitions):
                return True
        return False


def _reads(claims: _Claims, side: SideChanges, session, fork: str):
    """New code that uses a repository symbol outside read ∪ edit ∪ create."""
    base = _Tree(session, fork)
    scope = claims.read + [p for op in ("edit", "create") for p in claims.by_operation[op]]
    reported = set()
    for file in side.files:
        table = file.new_table
        if table is None or not table.parsed:
            continue
        profile = profile_for_path(table.path)
        for reference in file.new_code_references():
            for symbol in _repository_symbols(reference, table, profile, base, session):
                if symbol in reported or any(p.covers_symbol(symbol) for p in scope):
                    continue
                reported.add(symbol)
                user = f"{table.path}::{reference.scope}" if reference.scope else table.path
                yield _violation("read_outside_scope", side, symbol, table.path, (reference.line, reference.line), user=user)


def _repository_symbols(reference, table, profile, base: _Tree, session) -> list[str]:
    """Definitions in other repository files that an imported name in this reference reaches."""
    found = []
    for binding in table.imports:
        if reference.head != binding.local and not reference.text.startswith(binding.local + "."):
            continue
        rest = reference.text[len(binding.local):].lstrip(".")
        member = rest.split(".", 1)[0] if rest else None
        wanted = binding.name if binding.name not in (None, "*") else member
        if not wanted:
            continue
        for entry in base.files:
            if entry.path == table.path or profile_for_path(entry.path) is not profile:
                continue
            if not module_names_file(profile.module_resolver, binding.module, None, table.path, entry.path):
                continue
            other = session.tables.get(entry.path, entry.id)
            if other is not None and other.definition(f"{entry.path}::{wanted}") is not None:
                found.append(f"{entry.path}::{wanted}")
    return found
