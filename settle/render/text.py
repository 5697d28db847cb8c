"""The human summary of a verdict: the decision first, then findings grouped by candidate pair."""

from __future__ import annotations

from itertools import groupby

from settle.models import Finding, Location, Verdict

_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan", "merge": "green", "reject": "red"}


def render_text(verdict: Verdict, colour: bool = False) -> str:
    import click

    def paint(text: str, key: str) -> str:
        return click.style(text, fg=_COLOURS.get(key), bold=key in ("merge", "reject")) if colour else text

    counts = verdict.stats.findings
    lines = [
        f"{paint(verdict.verdict.upper(), verdict.verdict)}  "
        f"{len(verdict.candidates)} candidate(s) onto {verdict.target.ref} ({verdict.target.commit[:10]}): "
        f"{counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), {counts.get('info', 0)} info"
    ]
    if verdict.settlement.order:
        lines.append("  lands in order: " + ", ".join(verdict.settlement.order))
    for candidate, blockers in sorted(verdict.settlement.held.items()):
        lines.append(f"  held: {candidate} (by {', '.join(blockers)})")
    for candidates, group in groupby(verdict.findings, key=lambda f: tuple(f.candidates)):
        lines.append("")
        lines.append(" × ".join(candidates))
        for finding in group:
            lines.extend(_finding(finding, paint))
    return "\n".join(lines) + "\n"


def _finding(finding: Finding, paint) -> list[str]:
    head = f"  {paint(finding.severity, finding.severity):<7} {finding.kind}/{finding.subkind} [{finding.id}]"
    target = ", ".join(finding.symbols) or finding.path or ""
    lines = [f"{head}  {target}", f"          {finding.message}"]
    where = [_where(location) for location in finding.locations]
    if where:
        lines.append("          at " + "; ".join(where))
    return lines


def _where(location: Location) -> str:
    lines = ""
    if location.start_line is not None:
        lines = f":{location.start_line}" + (f"-{location.end_line}" if location.end_line not in (None, location.start_line) else "")
    return f"{location.side} {location.path}{lines}"
