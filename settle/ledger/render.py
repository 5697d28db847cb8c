"""How ledger events and memory read to people: `settle ledger log` lines and the memory brief."""

from __future__ import annotations

from settle.ledger import clock
from settle.ledger.store import Event


def log_line(event: Event) -> str:
    """One line per event: seq, time, type, and what it says."""
    head = f"#{event.seq} {clock.short(event.time)} {event.event_type}"
    if event.event_type == "verdict":
        return f"{head} {_verdict_summary(event.payload)}"
    details = " ".join(f"{key}={_short(value)}" for key, value in sorted(event.payload.items()))
    return f"{head} {details}".rstrip()


def _verdict_summary(payload: dict) -> str:
    verdict = payload.get("verdict", {})
    target = payload.get("target", {})
    held = verdict.get("settlement", {}).get("held", {})
    kinds = {f["id"]: f"{f['kind']}/{f['subkind']}" for f in verdict.get("findings", [])}
    merge = verdict.get("merge_commit")
    parts = [payload.get("command", "?"), verdict.get("verdict", "?"), f"onto {target.get('ref')}@{str(target.get('commit'))[:10]}"]
    if merge:
        parts.append(f"merge {merge[:10]}")
    for candidate in payload.get("candidates", []):
        reasons = sorted({kinds.get(identifier, identifier) for identifier in held.get(candidate["ref"], [])})
        state = f"held by {', '.join(reasons)}" if reasons else "admitted"
        parts.append(f"{candidate['ref']}@{candidate['commit'][:10]} {state}")
    parts.append(f"({len(verdict.get('findings', []))} finding(s))")
    return " ".join(parts)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_OUTCOMES = {
    "held_never_landed": "held, never landed",
    "held_landed_later": "held, landed later",
    "superseded": "held, superseded",
    "landed": "admitted, landed",
    "not_landed": "admitted, not landed yet",
}


OCCURRENCES_SHOWN = 3  # a brief names the newest attempts; the JSON has them all


def memory_markdown(memory) -> str:
    """The memory brief: short and specific, to paste into the next agent's prompt."""
    query = memory.query
    lines = [f"## settle memory: {_what(query)}", ""]
    findings = sum(len(s.findings) for s in memory.subjects)
    if not memory.subjects:
        lines.append(f"No earlier findings on {_scope(query)} in the ledger's {memory.verdicts} verdict(s).")
        return "\n".join(lines) + "\n"
    lines += [f"{findings} earlier finding(s) on {_scope(query)}, from {memory.verdicts} verdict(s) in the ledger; "
              f"landed means in {memory.target.ref} @ {memory.target.commit[:10]} now. Don't repeat them:", ""]
    for subject in memory.subjects:
        lines.append(f"### `{subject.subject}`{_relation(subject)}")
        for finding in subject.findings:
            recurring = f" — **recurring: {finding.attempts} attempts**" if finding.recurring else ""
            lines.append(f"- `{finding.kind}/{finding.subkind}` ({finding.severity}){recurring}: {finding.message}")
            for occurrence in finding.occurrences[:OCCURRENCES_SHOWN]:
                lines.append(f"  - {_occurrence(occurrence)}")
            if len(finding.occurrences) > OCCURRENCES_SHOWN:
                lines.append(f"  - and {len(finding.occurrences) - OCCURRENCES_SHOWN} earlier attempt(s)")
        lines.append("")
    if memory.omitted:
        lines += [f"({memory.omitted} more symbol(s) or path(s) with earlier findings left out; `--limit 0` shows all.)", ""]
    return "\n".join(lines)


def _what(query) -> str:
    if query.candidate:
        return f"what `{query.candidate}` changed"
    if query.claims:
        return f"what the claims in `{query.claims}` touch"
    if query.plan:
        return f"what task `{query.task}` of `{query.plan}` claims"
    return "the symbols and paths asked about"


def _scope(query) -> str:
    parts = []
    if query.symbols:
        parts.append(f"{len(query.symbols)} symbol(s)")
    if query.paths:
        parts.append(f"{len(query.paths)} path(s)")
    if not parts:
        return "nothing"
    return " and ".join(parts) + (" and what is one call from them" if query.symbols else "")


def _relation(subject) -> str:
    if subject.relation == "calls":
        return " (calls " + ", ".join(f"`{v}`" for v in subject.via) + ")"
    if subject.relation == "called_by":
        return " (called by " + ", ".join(f"`{v}`" for v in subject.via) + ")"
    return ""


def _occurrence(occurrence) -> str:
    where = f"merge {occurrence.merge_commit[:10]}" if occurrence.merge_commit else f"{occurrence.candidate} @ {occurrence.commit[:10]}"
    outcome = _OUTCOMES[occurrence.outcome]
    if occurrence.landed_commit and not occurrence.merge_commit:
        outcome += f" as {occurrence.landed_commit[:10]}" if occurrence.landed_commit != occurrence.commit else " (this commit)"
    if occurrence.superseded_by:
        outcome += f" by {occurrence.superseded_by[:10]}"
    return f"{where}, {clock.short(occurrence.time).replace('T', ' ')} (`{occurrence.command}`, event {occurrence.event}): {outcome}"
