"""The human summary of a verdict: the decision first, then findings grouped by candidate pair.

JSON and SARIF keep one finding per call site (tools need them); here the findings
of one kind on one symbol are one entry, with the first few sites and a count.
"""

from __future__ import annotations

from itertools import groupby

from settle.document import Finding, Location, Verdict

_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan", "merge": "green", "reject": "red"}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
SITES_SHOWN = 3  # of a group of findings on one symbol, the sites listed before "and N more"


def render_text(verdict: Verdict, colour: bool = False) -> str:
    import click

    def paint(text: str, key: str) -> str:
        return click.style(text, fg=_COLOURS.get(key), bold=key in ("merge", "reject")) if colour else text

    counts = verdict.stats.findings
    empty = _nothing_to_land(verdict)
    lines = [
        f"{paint(verdict.verdict.upper(), verdict.verdict)}  "
        f"{len(verdict.candidates)} candidate(s) onto {verdict.target.ref} ({verdict.target.commit[:10]}): "
        f"{counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), {counts.get('info', 0)} info"
    ]
    for candidate in empty:
        lines.append(f"  {candidate} has nothing that {verdict.target.ref} lacks: nothing to settle")
    order = [c for c in verdict.settlement.order if c not in empty]
    if order:
        lines.append("  lands in order: " + ", ".join(order))
    by_id = {f.id: f for f in verdict.findings}
    for candidate, blockers in sorted(verdict.settlement.held.items()):
        lines.append(f"  held: {candidate} (by {_blockers(blockers, by_id)})")
    for candidates, section in groupby(verdict.findings, key=lambda f: tuple(f.candidates)):
        lines.append("")
        lines.append(" × ".join(candidates))
        for group in _groups(list(section)):
            lines.extend(_entry(group, paint))
    return "\n".join(lines) + "\n"


def _nothing_to_land(verdict: Verdict) -> list[str]:
    """Candidates the target already contains (their fork point is their own commit)."""
    return [c.ref for c in verdict.candidates if c.merge_base == c.commit]


def _group_key(finding: Finding) -> tuple:
    return (finding.severity, finding.kind, finding.subkind, tuple(finding.symbols))


def _groups(findings: list[Finding]) -> list[list[Finding]]:
    """Errors before warnings before info; findings of one kind on one symbol together, in their order."""
    groups: dict[tuple, list[Finding]] = {}
    for finding in findings:
        key = _group_key(finding) if finding.symbols else (finding.id,)
        groups.setdefault(key, []).append(finding)
    return sorted(groups.values(), key=lambda group: _SEVERITY_RANK.get(group[0].severity, 3))


def _blockers(ids: list[str], by_id: dict[str, Finding]) -> str:
    """The held line: ids, except that many findings of one kind on one symbol are counted."""
    groups: dict[tuple, list[str]] = {}
    for finding_id in ids:
        finding = by_id.get(finding_id)
        key = (finding.kind, finding.subkind, tuple(finding.symbols)) if finding is not None and finding.symbols else (finding_id,)
        groups.setdefault(key, []).append(finding_id)
    if len(groups) == 1 and len(ids) > 1:
        (kind, subkind, symbols), = groups
        return f"{len(ids)} findings ({kind}/{subkind} on {', '.join(symbols)})"
    parts = []
    for key, members in groups.items():
        if len(members) == 1:
            parts.append(members[0])
        else:
            kind, subkind, symbols = key
            parts.append(f"{len(members)} {kind}/{subkind} on {', '.join(symbols)}")
    return ", ".join(parts) if len(parts) == len(ids) else f"{len(ids)} findings: " + ", ".join(parts)


def _entry(group: list[Finding], paint) -> list[str]:
    shared = set.intersection(*(set(f.locations) for f in group))
    # Sites in path and line order: what each finding does not share with the rest of its group.
    group = sorted(group, key=lambda f: (tuple((l.path, l.start_line or 0) for l in _own(f, shared)), f.id))
    first = group[0]
    lines = _finding(first, paint, count=len(group))
    if len(group) == 1:
        return lines
    others = [f"{_sites(f, shared)} [{f.id}]" for f in group[1:SITES_SHOWN]]
    more = len(group) - SITES_SHOWN
    tail = f"; and {more} more (every one in --format json)" if more > 0 else ""
    lines.append("          also at " + "; ".join(others) + tail)
    return lines


def _own(finding: Finding, shared: set[Location]) -> list[Location]:
    """Where this finding differs from the rest of its group: its call site, for signature drift."""
    return ([location for location in finding.locations if location not in shared]
            or [location for location in finding.locations if location.side != "base" and location.path != finding.path]
            or list(finding.locations))


def _sites(finding: Finding, shared: set[Location]) -> str:
    return ", ".join(_where(location) for location in _own(finding, shared))


def _finding(finding: Finding, paint, count: int = 1) -> list[str]:
    head = f"  {paint(finding.severity, finding.severity):<7} {finding.kind}/{finding.subkind} [{finding.id}]"
    target = ", ".join(finding.symbols) or finding.path or ""
    counted = f"  ({count} findings)" if count > 1 else ""
    lines = [f"{head}  {target}{counted}", f"          {finding.message}"]
    where = [_where(location) for location in finding.locations]
    if where:
        lines.append("          at " + "; ".join(where))
    return lines


def _where(location: Location) -> str:
    lines = ""
    if location.start_line is not None:
        lines = f":{location.start_line}" + (f"-{location.end_line}" if location.end_line not in (None, location.start_line) else "")
    return f"{location.side} {location.path}{lines}"
