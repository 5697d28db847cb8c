"""What two sides do to each other, and what one side does on its own, as contract findings."""

from __future__ import annotations

from collections.abc import Iterator

from settle.diff.changes import SideChanges, SymbolChangeKind
from settle.diff.conflicts import TextConflict, text_conflicts
from settle.diff.drift import Drift, MergedTree, signature_drift
from settle.diff.interference import Interference, Tally, interference
from settle.document import Finding, Location, finding_id
from settle.findings import kind_of, message
from settle.parse.cache import SymbolTables
from settle.parse.model import TableStatus
from settle.repo import EntryKind, LineRange, Repository


def make_finding(kind: str, subkind: str, candidates, symbols=(), path=None, locations=(), extra: str = "",
                 fields: dict | None = None) -> Finding:
    """The one way findings are made: id, default severity and message come from the kind registry.

    fields fill the kind's message template; the finding's path is one of them.
    """
    fields = {"path": path, **(fields or {})}
    candidates = sorted(set(candidates))
    symbols = list(symbols)
    return Finding(
        id=finding_id(kind, subkind, candidates, symbols, path, extra),
        kind=kind,
        subkind=subkind,
        severity=kind_of(kind, subkind).severity.value,
        candidates=candidates,
        symbols=symbols,
        path=path,
        locations=sorted(locations, key=lambda l: (l.side, l.path, l.start_line or 0, l.symbol or "")),
        message=message(kind, subkind, **fields),
    )


def _location(side: str, path: str, lines: LineRange | None = None, symbol: str | None = None) -> Location:
    if lines is None or lines.empty:
        return Location(side=side, path=path, symbol=symbol)
    return Location(side=side, path=path, start_line=lines.start, end_line=lines.end, symbol=symbol)


def pair_findings(repository: Repository, tables: SymbolTables, base: str, left: SideChanges, right: SideChanges,
                  stale_callers_of: tuple[str, ...] = (), tally: Tally | None = None) -> list[Finding]:
    """Findings between two sides that forked at base. Sides are taken in name order, so (a, b) = (b, a).

    stale_callers_of names the sides whose changes are also checked against
    existing code neither side updated (the candidates, in a pair with the target).
    tally, when given, has the interference pass run, counting into it what that pass could not
    judge (`stats`); replay without interference gives none.
    """
    if right.name < left.name:
        left, right = right, left
    findings: list[Finding] = []
    conflicts = list(text_conflicts(repository, tables, left, right))
    findings.extend(_conflict_finding(c, left, right) for c in conflicts)
    conflicted = {s for c in conflicts if c.subkind == "same_symbol" for s in c.symbols}
    findings.extend(_concurrent_edits(left, right, conflicted))
    findings.extend(_duplicates(left, right))
    merged = MergedTree(repository, tables, base, left, right)
    for changer, other in ((left, right), (right, left)):
        stale = changer.name in stale_callers_of
        findings.extend(_drift_finding(d, left, right) for d in signature_drift(merged, changer, other, stale))
    if tally is not None:
        findings.extend(_interference_finding(i, merged, left, right) for i in interference(merged, left, right, tally))
    return _unique(findings)


def side_findings(side: SideChanges) -> Iterator[Finding]:
    """What a candidate does on its own: syntax it breaks, files settle can only see whole."""
    for file in side.files:
        new_errors = file.introduced_syntax_errors()
        if new_errors:
            path = file.change.new_path
            yield make_finding("parse_error", "introduced", [side.name], path=path,
                               locations=[Location(side=side.name, path=path, start_line=new_errors[0], end_line=new_errors[-1])],
                               fields=dict(side=side.name, lines=", ".join(str(line) for line in new_errors[:5])))
        reason = None if file.skipped else _file_granularity_reason(file)
        if reason:
            yield make_finding("unsupported_file", "file_granularity", [side.name], path=file.change.path,
                               locations=[Location(side=side.name, path=file.change.path)], fields=dict(side=side.name, reason=reason))


def _file_granularity_reason(file) -> str | None:
    kinds = (file.change.old_kind, file.change.new_kind)
    if EntryKind.SUBMODULE in kinds:
        return "a submodule"
    if EntryKind.SYMLINK in kinds:
        return "a symbolic link"
    for table in (file.new_table, file.old_table):
        if table is None:
            continue
        if table.status is TableStatus.UNSUPPORTED:
            return "no grammar for this file type"
        if table.status is TableStatus.BINARY:
            return "binary content"
        if table.status is TableStatus.OVERSIZED:
            return f"larger than the size limit ({table.size} bytes)"
        if table.status is TableStatus.UNDECODABLE:
            return "not valid UTF-8"
    return None


def _conflict_finding(conflict: TextConflict, left: SideChanges, right: SideChanges) -> Finding:
    names = [left.name, right.name]
    locations = []
    if conflict.base_lines is not None:
        locations.append(_location("base", conflict.path, conflict.base_lines))
    if conflict.left_lines is not None:
        locations.append(_location(left.name, conflict.path, conflict.left_lines))
    if conflict.right_lines is not None:
        locations.append(_location(right.name, conflict.path, conflict.right_lines))
    fields = dict(a=left.name, b=right.name)
    extra = f"{conflict.base_lines.start}-{conflict.base_lines.end}" if conflict.base_lines else ""
    if conflict.subkind == "same_symbol":
        fields["symbol"] = conflict.symbols[0]
        fields["verb"] = "add" if conflict.symbols[0] in conflict.added else "change"
    elif conflict.subkind == "distinct_symbols":
        fields["symbol"] = conflict.symbols[0]
        fields["other"] = conflict.symbols[-1] if len(conflict.symbols) > 1 else f"module-level lines of {conflict.path}"
        fields["a_verb"] = "adds" if conflict.symbols[0] in conflict.added else "changes"
        fields["b_verb"] = "adds" if fields["other"] in conflict.added else "changes"
        both_added = len(conflict.symbols) > 1 and set(conflict.symbols) <= conflict.added
        fields["advice"] = ("both are whole new symbols at the same spot; keep both" if both_added else
                            "adjacent edits to different symbols; a syntax-aware merge or rebasing one branch resolves it")
    elif conflict.subkind == "module_level":
        fields["lines"] = describe_lines(conflict.base_lines)
    elif conflict.subkind == "binary":
        fields["what"] = conflict.what
    elif conflict.subkind == "modify_delete":
        fields["deleter"] = conflict.deleted_by
        fields["modifier"] = right.name if conflict.deleted_by == left.name else left.name
    return make_finding("text_conflict", conflict.subkind, names, conflict.symbols, conflict.path, locations, extra=extra, fields=fields)


def describe_lines(lines: LineRange | None) -> str:
    """Base lines as a reader counts them: a pure insertion has an empty range and sits after a line."""
    if lines is None:
        return "lines unknown"
    if lines.empty:
        return f"after line {lines.end}" if lines.end > 0 else "at the start of the file"
    return f"line {lines.start}" if lines.start == lines.end else f"lines {lines.start}-{lines.end}"


def _concurrent_edits(left: SideChanges, right: SideChanges, conflicted: set[str]) -> Iterator[Finding]:
    left_edits = {c.old.id: c for c in left.symbol_changes if c.edits_existing}
    for change in right.symbol_changes:
        if not change.edits_existing or change.old.id not in left_edits or change.old.id in conflicted:
            continue
        mine = left_edits[change.old.id]
        if (mine.new.header_hash, mine.new.body_hash) == (change.new.header_hash, change.new.body_hash):
            continue  # the same change on both sides
        if _documents_only(left, mine) or _documents_only(right, change):
            continue  # a docstring edit on one side: no behaviour to combine
        symbol = change.old.id
        path = symbol.split("::", 1)[0]
        locations = [
            _location("base", path, LineRange(change.old.span.start_line, change.old.span.end_line), symbol),
            _location(left.name, mine.new.id.split("::", 1)[0], LineRange(mine.new.span.start_line, mine.new.span.end_line), mine.new.id),
            _location(right.name, change.new.id.split("::", 1)[0], LineRange(change.new.span.start_line, change.new.span.end_line), change.new.id),
        ]
        yield make_finding("concurrent_edit", "same_symbol", [left.name, right.name], [symbol], path, locations,
                           fields=dict(a=left.name, b=right.name, symbol=symbol))


def _documents_only(side: SideChanges, change) -> bool:
    file = side.by_path.get(change.new.id.split("::", 1)[0])
    return file is not None and change.only_documentation(file.hunks)


def _duplicates(left: SideChanges, right: SideChanges) -> Iterator[Finding]:
    for symbol, change in sorted(right.added_ids.items()):
        mine = left.added_ids.get(symbol)
        if mine is None:
            continue
        if (mine.new.header_hash, mine.new.body_hash) == (change.new.header_hash, change.new.body_hash):
            continue
        path = symbol.split("::", 1)[0]
        locations = [
            _location(left.name, path, LineRange(mine.new.span.start_line, mine.new.span.end_line), symbol),
            _location(right.name, path, LineRange(change.new.span.start_line, change.new.span.end_line), symbol),
        ]
        yield make_finding("duplicate_definition", "add_add", [left.name, right.name], [symbol], path, locations,
                           fields=dict(a=left.name, b=right.name, symbol=symbol))


def _drift_finding(drift: Drift, left: SideChanges, right: SideChanges) -> Finding:
    change = drift.change
    symbol = change.old.id
    path = symbol.split("::", 1)[0]
    locations = [
        _location("base", path, LineRange(change.old.span.start_line, change.old.span.end_line), symbol),
        Location(side=drift.user_side, path=drift.site_path, start_line=drift.site_line, end_line=drift.site_line,
                 symbol=drift.user if "::" in drift.user else None),
    ]
    if change.new is not None:
        new_path = change.new.id.split("::", 1)[0]
        locations.append(_location(drift.changer, new_path, LineRange(change.new.span.start_line, change.new.span.end_line), change.new.id))
    removal, fix = _removal(change)
    used = drift.call.split("(", 1)[0]
    verb = "calls" if drift.call.endswith(")") and "(" in drift.call else "uses"
    advice = ("check that call against the new signature and update it if it no longer fits, or write it so settle "
              "can decide (arguments spelled out, the callee reached through its class or an import)" if verb == "calls" else
              "check where that value is called and update those calls if they no longer fit the new signature")
    signature = change.new.signature.render() if change.new is not None and change.new.signature is not None else "(removed)"
    site = f"{drift.site_path}:{drift.site_line}"
    return make_finding(
        "signature_drift", drift.subkind, [left.name, right.name], [symbol], path, locations,
        extra=f"{drift.site_path}:{drift.site_line}:{drift.call}",
        fields=dict(changer=drift.changer, symbol=symbol, signature=signature, caller=drift.user, user=drift.user,
                    site=site, call=drift.call, reason=drift.reason, removal=removal, fix=fix, used=used, verb=verb, advice=advice),
    )


def _removal(change) -> tuple[str, str]:
    """What a removal or rename did, old name first, and what would fix a use left behind."""
    old, new = change.old, change.new
    if change.kind is not SymbolChangeKind.RENAMED or new is None:
        return f"removes {old.id}", "keep the symbol or update the use"
    old_path, new_path = old.id.split("::", 1)[0], new.id.split("::", 1)[0]
    if old_path == new_path:
        renamed = f"renames {old.qualname} to {new.qualname} in {old_path}"
    else:
        renamed = f"renames {old.id} to {new.id}"
    return renamed, f"update it to {new.name} or keep the old name"


def _interference_finding(found: Interference, merged: MergedTree, left: SideChanges, right: SideChanges) -> Finding:
    """An interference as a finding: both symbols, both sides, the edge (call or read) and, for state, the write."""
    result = merged.result
    site_line = result.side_line(found.site_path, found.site_line, found.user_side) if found.site_path in result.files else found.site_line
    locations = [Location(side=found.user_side, path=found.site_path, start_line=site_line, end_line=site_line,
                          symbol=found.user if "::" in found.user else None)]
    write_site = ""
    if found.write_path is not None:
        write_line = result.side_line(found.write_path, found.write_line, found.changer) if found.write_path in result.files else found.write_line
        locations.append(Location(side=found.changer, path=found.write_path, start_line=write_line, end_line=write_line, symbol=found.symbol))
        write_site = f"{found.write_path}:{write_line}"
    else:
        lines = LineRange(*found.symbol_lines) if found.symbol_lines else None
        locations.append(_location(found.changer, found.symbol.split("::", 1)[0], lines, found.symbol))
    path = found.symbol.split("::", 1)[0]
    return make_finding(
        "interference", found.subkind, [left.name, right.name], [found.symbol, found.user], path, locations,
        extra=f"{found.site_path}:{found.site_line}:{found.via or ''}:{found.state or ''}",
        fields=dict(changer=found.changer, user_side=found.user_side, symbol=found.symbol, user=found.user,
                    site=f"{found.site_path}:{site_line}", via=f" through {found.via}" if found.via else "",
                    state=found.state or "", write_site=write_site),
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    by_id: dict[str, Finding] = {}
    for finding in findings:
        by_id.setdefault(finding.id, finding)
    return list(by_id.values())


__all__ = ["make_finding", "pair_findings", "side_findings", "SymbolChangeKind"]
