"""The binder: what a candidate touched, symbol by symbol, against what its claims allow."""

from __future__ import annotations

import difflib

from dataclasses import dataclass, field

from settle.bind.claims import ClaimsDocument, TaskClaims
from settle.bind.patterns import Pattern
from settle.diff.changes import FileChange, SideChanges, SymbolChange, SymbolChangeKind
from settle.diff.pair import make_finding
from settle.document import Finding, Location
from settle.languages import profile_for_path
from settle.languages.resolve import module_names_file
from settle.parse.model import SymbolTable
from settle.repo import ChangeStatus, EntryKind, TreeEntry


@dataclass
class Bound:
    findings: list[Finding] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)


class Claims:
    """A claims document's patterns, by operation."""

    def __init__(self, document: ClaimsDocument):
        self.by_operation = {op: document.claims.patterns(op) for op in ("create", "edit", "delete")}
        self.read = document.claims.patterns("read") if document.claims.read is not None else None

    def covers(self, operations: tuple[str, ...], symbol: str) -> bool:
        return any(p.covers_symbol(symbol) for op in operations for p in self.by_operation[op])

    def covers_inside(self, operation: str, symbol: str) -> bool:
        return any(p.covers_inside(symbol) for p in self.by_operation[operation])

    def covers_file(self, operations: tuple[str, ...], path: str | None) -> bool:
        """A file-level claim for the path: what a file settle sees whole needs."""
        return path is not None and any(
            p.is_file_level and p.matches_path(path) for op in operations for p in self.by_operation[op]
        )

    def names_file(self, path: str) -> bool:
        """Any create/edit/delete claim in this file, at whatever granularity."""
        return any(p.matches_path(path) for patterns in self.by_operation.values() for p in patterns)

    def all(self) -> list[tuple[str, Pattern]]:
        return [(op, p) for op, patterns in self.by_operation.items() for p in patterns]


def bind_claims(document: ClaimsDocument | TaskClaims, side: SideChanges, session, fork: str, target: str) -> Bound:
    """Findings for everything the side touched that its claims don't allow, claims that name
    nothing, and (when the claims restrict reads) new code using symbols outside the read scope.

    A plan task stacked on a dependency's branch is bound to its own work only: what changed
    since the dependency's tip (`TaskClaims.since`), which is also where its claims resolve."""
    if isinstance(document, TaskClaims):
        since = document.since
        if since is not None and since != fork and session.repository.is_ancestor(fork, since):
            side, fork = session.side(side.name, since, side.tip), since
        document = document.document
    claims = Claims(document)
    trees = _Trees(session)
    findings = [finding for file in side.files for finding in _touch_findings(file, side, claims)]
    findings += _unresolved(claims, side, trees.of(fork), trees.of(side.tip))
    if claims.read is not None:
        findings += _reads(claims, side, trees.of(side.tip))
    return Bound(findings, _untouched(claims, side))


def _violation(subkind: str, side: SideChanges, symbol: str | None, path: str, lines=None, on_base: bool = False,
               **fields) -> Finding:
    location = Location(side="base" if on_base else side.name, path=path, symbol=symbol,
                        start_line=lines[0] if lines else None, end_line=lines[1] if lines else None)
    return make_finding("claim_violation", subkind, [side.name], [symbol] if symbol else [], path, [location],
                        fields={"side": side.name, "symbol": symbol, **fields})


# -- what the side touched ------------------------------------------------------------


def _touch_findings(file: FileChange, side: SideChanges, claims: Claims):
    if not file.has_symbols:
        if not _path_allowed(file, claims):
            yield _violation("unclaimed_path", side, None, file.path, **_path_wording(file))
        return
    for change in file.symbols:
        subkind = _uncovered(change, claims)
        if subkind:
            # A rename is a delete of the old name and a create of the new: report the half not allowed.
            definition = change.old if subkind == "unclaimed_delete" else change.new or change.old
            lines = (definition.span.start_line, definition.span.end_line)
            yield _violation(subkind, side, definition.id, definition.id.split("::", 1)[0], lines,
                             on_base=definition is change.old and change.new is None or subkind == "unclaimed_delete")
    if needs_file_claim(file) and not any(claims.names_file(p) for p in _paths(file)):
        wording = _path_wording(file) if _path_changes(file) else {
            "operation": "changes imports or top-level statements of", "reason": "claim a symbol of the file, or the file"}
        yield _violation("unclaimed_path", side, None, file.path, **wording)


def _paths(file: FileChange) -> list[str]:
    return [p for p in (file.change.old_path, file.change.new_path) if p]


def _path_allowed(file: FileChange, claims: Claims) -> bool:
    """A file settle sees whole: adding needs create (or edit), changing needs edit, deleting needs
    delete; a rename needs an edit of either path, or a delete of the old and a create of the new."""
    old, new = file.change.old_path, file.change.new_path
    status = file.change.status
    if status is ChangeStatus.ADDED:
        return claims.covers_file(("create", "edit"), new)
    if status is ChangeStatus.DELETED:
        return claims.covers_file(("delete",), old)
    if status is ChangeStatus.RENAMED and old != new:
        return claims.covers_file(("edit",), old) or claims.covers_file(("edit",), new) or (
            claims.covers_file(("delete",), old) and claims.covers_file(("create",), new)
        )
    return claims.covers_file(("edit",), new or old)


def _path_wording(file: FileChange) -> dict[str, str]:
    """The unclaimed_path message's fields: what the side did to the path, and the claim that would allow it."""
    status, old = file.change.status, file.change.old_path
    if status is ChangeStatus.ADDED:
        return {"operation": "adds", "reason": "claim it under create"}
    if status is ChangeStatus.DELETED:
        return {"operation": "deletes", "reason": "claim it under delete"}
    if status is ChangeStatus.RENAMED and old != file.path:
        return {"operation": f"renames {old} to", "reason": "claim either path under edit, or the old under delete and the new under create"}
    return {"operation": "changes", "reason": "claim it under edit"}


def needs_file_claim(file: FileChange) -> bool:
    """A code file needs some claim naming it when it comes, goes or moves (even empty), or its module level changed."""
    return _path_changes(file) or module_level_edited(file)


def _path_changes(file: FileChange) -> bool:
    change = file.change
    return change.status in (ChangeStatus.ADDED, ChangeStatus.DELETED) or (
        change.status is ChangeStatus.RENAMED and change.old_path != change.new_path)


def module_level_edited(file: FileChange) -> bool:
    """Imports or top-level statements changed; blank lines and comments between definitions don't count."""
    if not file.module_level_changed:
        return False
    old, new = file.old_table, file.new_table
    return (old.module_hash if old is not None else "") != (new.module_hash if new is not None else "")


def _uncovered(change: SymbolChange, claims: Claims) -> str | None:
    """The claim_violation subkind a symbol change needs, or None when its claims allow it.

    Adding needs create, or an edit covering it (editing a class may add members); removing needs
    delete, or an edit of something it is nested in (or of its whole file); changing needs edit."""
    if change.kind is SymbolChangeKind.ADDED:
        return None if claims.covers(("create", "edit"), change.new.id) else "unclaimed_create"
    if change.kind is SymbolChangeKind.REMOVED:
        allowed = claims.covers(("delete",), change.old.id) or claims.covers_inside("edit", change.old.id)
        return None if allowed else "unclaimed_delete"
    if change.kind is SymbolChangeKind.RENAMED:
        if claims.covers(("edit",), change.old.id) or claims.covers(("edit",), change.new.id):
            return None
        if not (claims.covers(("delete",), change.old.id) or claims.covers_inside("edit", change.old.id)):
            return "unclaimed_delete"
        return None if claims.covers(("create", "edit"), change.new.id) else "unclaimed_create"
    return None if claims.covers(("edit",), change.old.id) or claims.covers(("edit",), change.new.id) else "unclaimed_edit"


def _untouched(claims: Claims, side: SideChanges) -> list[str]:
    """Exact claims that no change touched: the agent skipped part of its task."""
    touched = {c.old.id for c in side.symbol_changes if c.old} | {c.new.id for c in side.symbol_changes if c.new}
    touched_paths = {p for f in side.files for p in _paths(f)}
    result = set()
    for _, pattern in claims.all():
        if not pattern.is_exact:
            continue
        if pattern.is_file_level:
            hit = any(pattern.matches_path(path) for path in touched_paths)
        else:
            hit = any(pattern.covers_symbol(symbol) for symbol in touched)
        if not hit:
            result.add(pattern.text)
    return sorted(result)


# -- claims that name nothing ---------------------------------------------------------


class _Trees:
    """Commits' file listings, read once per binding."""

    def __init__(self, session):
        self.session = session
        self._trees: dict[str, _Tree] = {}

    def of(self, commit: str) -> _Tree:
        if commit not in self._trees:
            self._trees[commit] = _Tree(self.session, commit)
        return self._trees[commit]


class _Tree:
    """One commit's files; a file is parsed only when a symbol-level claim or a reference asks for it."""

    def __init__(self, session, commit: str):
        self.session = session
        self.commit = commit
        self._files: dict[str, TreeEntry] | None = None

    @property
    def files(self) -> dict[str, TreeEntry]:
        if self._files is None:
            # Symlinks and submodules are paths a file-level claim may name, too.
            self._files = {e.path: e for e in self.session.repository.files(self.commit) if e.kind is not EntryKind.MISSING}
        return self._files

    def entries(self, pattern: Pattern) -> list[TreeEntry]:
        if pattern.is_exact:
            # One path: look it up instead of listing the whole tree.
            entry = self.session.repository.entry(self.commit, pattern.path)
            return [entry] if entry is not None and entry.kind is not EntryKind.MISSING else []
        return [entry for path, entry in self.files.items() if pattern.matches_path(path)]

    def table(self, path: str) -> SymbolTable | None:
        entry = self.files.get(path)
        return self._table(entry) if entry is not None else None

    def _table(self, entry: TreeEntry) -> SymbolTable | None:
        return self.session.tables.get(entry.path, entry.id) if entry.kind is EntryKind.FILE else None

    def resolves(self, pattern: Pattern) -> bool:
        for entry in self.entries(pattern):
            if pattern.is_file_level:
                return True
            table = self._table(entry)
            if table is not None and table.parsed and any(pattern.covers_symbol(d.id) for d in table.definitions):
                return True
        return False


def _unresolved(claims: Claims, side: SideChanges, base: _Tree, tip: _Tree):
    """delete must name something on the base; edit and create something on the base or the candidate
    (editing a file the candidate creates is what users write)."""
    for operation, pattern in claims.all():
        trees = (base,) if operation == "delete" else (base, tip)
        if any(tree.resolves(pattern) for tree in trees):
            continue
        where = "on the base" if operation == "delete" else "on the base or the candidate"
        yield make_finding("claim_violation", "unresolved_claim", [side.name], [], pattern.path if pattern.is_exact else None,
                           [], extra=f"{operation}:{pattern.text}",
                           fields={"pattern": pattern.text, "operation": operation, "side": side.name, "where": where,
                                   "hint": _claim_hint(operation, pattern, base, tip)})


def _claim_hint(operation: str, pattern: Pattern, base: _Tree, tip: _Tree) -> str:
    """What would resolve: `create` for what only the candidate has, else the nearest id or path."""
    if operation == "delete" and tip.resolves(pattern):
        return "the candidate adds it, so there is nothing to delete: claim it under `create`"
    if not pattern.is_exact:
        return "fix the pattern"
    trees = (base,) if operation == "delete" else (base, tip)
    if pattern.is_file_level:
        known = sorted({path for tree in trees for path in tree.files})
        wanted = pattern.path
    else:
        known = sorted({d.id for tree in trees if (table := tree.table(pattern.path)) is not None and table.parsed
                        for d in table.definitions})
        wanted = pattern.text
        if not known:
            paths = sorted({path for tree in trees for path in tree.files})
            near_path = difflib.get_close_matches(pattern.path, paths, n=1, cutoff=0.8)
            if near_path:
                return f"did you mean `{near_path[0]}::{pattern.qualname}`? (no file {pattern.path})"
            return f"no file {pattern.path}; fix the path"
    near = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    return f"did you mean `{near[0]}`?" if near else "fix the pattern"


# -- reads ----------------------------------------------------------------------------


def _reads(claims: Claims, side: SideChanges, tip: _Tree):
    """New code that uses a repository symbol outside read ∪ edit ∪ create."""
    scope = claims.read + [p for op in ("edit", "create") for p in claims.by_operation[op]]
    created = set(side.added_ids)
    reported: set[str] = set()
    resolver = _ReferenceResolver(tip)
    for file in side.files:
        table = file.new_table
        if table is None or not table.parsed:
            continue
        for reference in file.new_code_references():
            for symbol in resolver.symbols(reference, table):
                if symbol in reported or symbol in created or any(p.covers_symbol(symbol) for p in scope):
                    continue
                reported.add(symbol)
                user = f"{table.path}::{reference.scope}" if reference.scope else table.path
                yield _violation("read_outside_scope", side, symbol, table.path, (reference.line, reference.line), user=user)


class _ReferenceResolver:
    """Which repository definitions a reference reaches: through the file's imports, the file's
    own top-level definitions, or (where a directory is a namespace) its directory's files."""

    def __init__(self, tree: _Tree):
        self.tree = tree
        self._modules: dict[tuple, list[str]] = {}

    def symbols(self, reference, table: SymbolTable) -> list[str]:
        profile = profile_for_path(table.path)
        if profile is None or reference.head in profile.self_names:
            return []
        found = []
        for binding in table.imports:
            if reference.head != binding.local:
                continue
            rest = reference.text[len(binding.local):].lstrip(".")
            member = rest.split(".", 1)[0] if rest else None
            wanted = [n for n in (binding.name if binding.name != "*" else None, member) if n]
            for path in self._module_files(profile, binding.module, binding.name, table.path):
                found += [f"{path}::{name}" for name in wanted[:2] if self._defines(path, name)][:1]
        if found or any(reference.head == binding.local for binding in table.imports):
            return found
        if _is_parameter(table, reference):
            return []
        own = f"{table.path}::{reference.head}"
        if table.definition(own) is not None and not _within(reference.scope, reference.head):
            return [own]
        if profile.directory_is_namespace:
            directory = table.path.rsplit("/", 1)[0] if "/" in table.path else ""
            return [f"{path}::{reference.head}" for path in self._directory_files(profile, directory, table.path)
                    if self._defines(path, reference.head)][:1]
        return []

    def _module_files(self, profile, module: str, name: str | None, importer: str) -> list[str]:
        key = (profile.name, module, name, importer)
        if key not in self._modules:
            self._modules[key] = [
                path for path in self.tree.files
                if path != importer and profile_for_path(path) is profile
                and module_names_file(profile.module_resolver, module, name, importer, path)
            ]
        return self._modules[key]

    def _directory_files(self, profile, directory: str, importer: str) -> list[str]:
        key = (profile.name, "<directory>", directory, importer)
        if key not in self._modules:
            self._modules[key] = [
                path for path in self.tree.files
                if path != importer and profile_for_path(path) is profile
                and (path.rsplit("/", 1)[0] if "/" in path else "") == directory
            ]
        return self._modules[key]

    def _defines(self, path: str, name: str) -> bool:
        table = self.tree.table(path)
        return table is not None and table.parsed and table.definition(f"{path}::{name}") is not None


def _within(scope: str | None, qualname: str) -> bool:
    """The reference sits inside the definition it names (recursion, a class using itself)."""
    return scope is not None and (scope == qualname or scope.startswith(qualname + "."))


def _is_parameter(table: SymbolTable, reference) -> bool:
    """A parameter of an enclosing definition shadows a module-level name."""
    scope = reference.scope
    while scope:
        definition = table.definition(f"{table.path}::{scope}")
        if definition is not None and definition.signature is not None and any(
            p.name == reference.head for p in definition.signature.parameters
        ):
            return True
        scope = scope.rsplit(".", 1)[0] if "." in scope else None
    return False
