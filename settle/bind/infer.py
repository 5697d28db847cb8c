"""`settle claims infer`: the smallest claims file that covers what a candidate touched.

create for added symbols, edit for changed ones, delete for removed ones, paths
for files settle sees whole. A class whose members were all touched collapses
to the class (and a new or deleted file whose symbols all were, to the file)
when that is fewer patterns and names nothing that was left alone. Checking
the candidate with the result finds no claim_violation.
"""

from __future__ import annotations

import json

from settle.bind.binder import module_level_edited, needs_file_claim
from settle.bind.patterns import parse_pattern, symbol_segments
from settle.diff.changes import FileChange, SymbolChangeKind
from settle.errors import SettleError
from settle.parse.model import SymbolTable
from settle.repo import ChangeStatus
from settle.settlement import Session


def infer_claims(repo: str, candidate: str, base: str | None = None, session: Session | None = None) -> str:
    session = session or Session.open(repo)
    repository = session.repository
    target = repository.resolve(base or repository.default_base())
    commit = repository.resolve(candidate)
    fork = repository.merge_base(commit, target)
    if fork is None:
        raise SettleError(f"candidate {candidate} shares no history with the target; rebase it onto the target first")
    worktree = repository.worktree_state(commit)
    if worktree is not None:
        # The claims are for the branch the work will be committed to.
        candidate = worktree.branch or worktree.name
    side = session.side(candidate, fork, commit)
    claims: dict[str, set[str]] = {"create": set(), "edit": set(), "delete": set()}
    for file in side.files:
        for operation, patterns in _file_claims(file).items():
            claims[operation] |= patterns
    return render(candidate, claims)


def render(candidate: str, claims: dict[str, set[str]]) -> str:
    lines = [f"candidate = {json.dumps(candidate)}", "", "[claims]"]
    for operation in ("create", "edit", "delete"):
        if claims[operation]:
            lines.append(f"{operation} = [{', '.join(json.dumps(item) for item in sorted(claims[operation]))}]")
    return "\n".join(lines) + "\n"


def _file_claims(file: FileChange) -> dict[str, set[str]]:
    change = file.change
    if not file.has_symbols:
        if change.status is ChangeStatus.ADDED:
            return {"create": {change.new_path}}
        if change.status is ChangeStatus.DELETED:
            return {"delete": {change.old_path}}
        if change.status is ChangeStatus.RENAMED and change.old_path != change.new_path:
            return {"delete": {change.old_path}, "create": {change.new_path}}
        return {"edit": {change.new_path or change.old_path}}
    touched: dict[str, set[str]] = {"create": set(), "edit": set(), "delete": set()}
    for symbol in file.symbols:
        if symbol.kind is SymbolChangeKind.ADDED:
            touched["create"].add(_claimable(symbol.new.id))
        elif symbol.kind is SymbolChangeKind.REMOVED:
            touched["delete"].add(_claimable(symbol.old.id))
        elif symbol.kind is SymbolChangeKind.RENAMED:
            touched["delete"].add(_claimable(symbol.old.id))
            touched["create"].add(_claimable(symbol.new.id))
        else:
            touched["edit"].add(_claimable(symbol.old.id))
    result = {
        "create": _collapse(touched["create"], file.new_table, change.new_path, whole_file=change.status is ChangeStatus.ADDED),
        "edit": _collapse(touched["edit"], file.old_table, change.old_path, whole_file=False, itself_untouched=True),
        "delete": _collapse(touched["delete"], file.old_table, change.old_path, whole_file=change.status is ChangeStatus.DELETED),
    }
    claimed = [parse_pattern(p) for patterns in result.values() for p in patterns]
    paths = [p for p in (change.old_path, change.new_path) if p]
    if needs_file_claim(file) and not any(p.matches_path(path) for p in claimed for path in paths):
        # An empty file, or imports and top-level statements only: nothing smaller than the file names them.
        if change.status is ChangeStatus.ADDED:
            result["create"].add(change.new_path)
        elif change.status is ChangeStatus.DELETED:
            result["delete"].add(change.old_path)
        elif change.status is ChangeStatus.RENAMED and change.old_path != change.new_path and not module_level_edited(file):
            result["delete"].add(change.old_path)
            result["create"].add(change.new_path)
        else:
            result["edit"].add(change.old_path or change.new_path)
    return result


def _claimable(symbol: str) -> str:
    """The symbol id as a pattern; its file where a name can't be written as one (it would not parse, or is a glob)."""
    try:
        pattern = parse_pattern(symbol)
    except SettleError:
        return symbol.split("::", 1)[0]
    return symbol if pattern.is_exact and pattern.covers_symbol(symbol) else pattern.path


def _collapse(touched: set[str], table: SymbolTable | None, path: str | None, whole_file: bool, itself_untouched: bool = False) -> set[str]:
    """Replace groups of touched symbols by one pattern that covers exactly them.

    A group is everything a qualified name covers on this side of the file (its
    nested members and overloads). The name itself may be untouched only for
    edit: editing every member of a class is editing the class; deleting them is
    not deleting it."""
    if not touched or table is None or not table.parsed:
        return set(touched)
    universe = {d.id for d in table.definitions}
    own = [symbol for symbol in touched if symbol.split("::", 1)[0] == path]
    if whole_file and universe <= touched and len(own) >= 2:
        return (touched - universe) | {path}
    remaining = set(touched)
    chosen: set[str] = set()
    for candidate in sorted(_groups(universe), key=lambda q: (len(symbol_segments(q)), q)):
        text = f"{path}::{candidate}"
        if _claimable(text) != text:
            continue
        pattern = parse_pattern(text)
        covered = {symbol for symbol in universe if pattern.covers_symbol(symbol)}
        itself = {f"{path}::{candidate}"} & universe
        must = covered - itself if itself_untouched else covered
        if must <= touched and len(covered & remaining) >= 2 and (itself_untouched or itself <= touched):
            chosen.add(pattern.text)
            remaining -= covered
    return chosen | remaining


def _groups(universe: set[str]) -> set[str]:
    """Qualified names that may stand for several symbols: containers, and overloaded names without their types."""
    groups = set()
    for symbol in universe:
        qualname = symbol.split("::", 1)[1]
        segments = symbol_segments(qualname)
        for end in range(1, len(segments) + 1):
            prefix = ".".join(_render(s) for s in segments[: end - 1])
            bare = segments[end - 1].name
            groups.add(f"{prefix}.{bare}" if prefix else bare)
            if end < len(segments):
                groups.add(".".join(_render(s) for s in segments[:end]))
    return groups


def _render(segment) -> str:
    text = segment.name
    if segment.parameters is not None:
        text += f"({segment.parameters})"
    return text + (segment.occurrence or "")
