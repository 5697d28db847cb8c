"""`settle claims infer`: the smallest claims file that covers what a candidate touched."""

from __future__ import annotations

import json

from settle.diff.changes import SymbolChangeKind
from settle.settlement import Session


def infer_claims(repo: str, candidate: str, base: str | None = None) -> str:
    session = Session.open(repo)
    repository = session.repository
    target = repository.resolve(base or repository.default_base())
    commit = repository.resolve(candidate)
    fork = repository.merge_base(commit, target)
    if fork is None:
        from settle.errors import SettleError

        raise SettleError(f"candidate {candidate} shares no history with the target")
    side = session.side(candidate, fork, commit)
    claims: dict[str, set[str]] = {"create": set(), "edit": set(), "delete": set()}
    for file in side.files:
        if not file.has_symbols:
            operation = {"added": "create", "deleted": "delete"}.get(file.change.status.value, "edit")
            claims[operation].add(file.path)
            if file.change.old_path and file.change.old_path != file.path:
                claims["delete"].add(file.change.old_path)
            continue
        for change in file.symbols:
            if change.kind is SymbolChangeKind.ADDED:
                claims["create"].add(change.new.id)
            elif change.kind is SymbolChangeKind.REMOVED:
                claims["delete"].add(change.old.id)
            elif change.kind is SymbolChangeKind.RENAMED:
                claims["delete"].add(change.old.id)
                claims["create"].add(change.new.id)
            else:
                claims["edit"].add(change.old.id)
        if file.module_level_changed and not any(c.new is not None for c in file.symbols if c.kind is not SymbolChangeKind.REMOVED):
            claims["edit"].add(file.path)
    for operation, patterns in claims.items():
        claims[operation] = _collapse_nested(patterns)
    lines = [f"candidate = {json.dumps(candidate)}", "", "[claims]"]
    for operation in ("create", "edit", "delete"):
        items = sorted(claims[operation])
        rendered = ", ".join(json.dumps(item) for item in items)
        lines.append(f"{operation} = [{rendered}]")
    return "\n".join(lines) + "\n"


def _collapse_nested(patterns: set[str]) -> set[str]:
    """`A` already covers `A.m`: keep the outermost."""
    kept = set()
    for pattern in sorted(patterns, key=len):
        path, _, qualname = pattern.partition("::")
        if any(
            (k == path) or (k.startswith(path + "::") and qualname and (qualname.startswith(k.split("::", 1)[1] + ".")))
            for k in kept
        ):
            continue
        kept.add(pattern)
    return kept
