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
