"""SARIF 2.1.0: one run, one rule per kind/subkind, one result per finding."""

from __future__ import annotations

import json

from settle import __version__
from settle.document import Verdict
from settle.findings import KINDS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render_sarif(verdict: Verdict) -> str:
    rules = [
        {
            "id": kind.rule_id,
            "name": kind.rule_id.replace("/", "_"),
            "shortDescription": {"text": kind.summary},
            "defaultConfiguration": {"level": _LEVELS[kind.severity.value]},
        }
        for kind in sorted(KINDS.values(), key=lambda k: k.rule_id)
    ]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for finding in verdict.findings:
        rule_id = f"{finding.kind}/{finding.subkind}"
        locations = []
        # Code scanning shows the location on the candidate's side first; base lines
        # don't exist in the checked-out tree.
        for location in sorted(finding.locations, key=lambda l: l.side == "base"):
            region = {}
            if location.start_line is not None:
                region = {"startLine": location.start_line, "endLine": location.end_line or location.start_line}
            physical = {"artifactLocation": {"uri": location.path}}
            if region:
                physical["region"] = region
            entry = {"physicalLocation": physical, "message": {"text": f"on {location.side}"}}
            if location.symbol:
                entry["logicalLocations"] = [{"fullyQualifiedName": location.symbol}]
            locations.append(entry)
        if not locations and finding.path:
            locations.append({"physicalLocation": {"artifactLocation": {"uri": finding.path}}})
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": index[rule_id],
                "level": _LEVELS[finding.severity],
                "message": {"text": finding.message},
                "locations": locations[:1],
                "relatedLocations": [dict(entry, id=n) for n, entry in enumerate(locations[1:], start=1)],
                "partialFingerprints": {"settleFindingId": finding.id},
                "properties": {"candidates": finding.candidates, "symbols": finding.symbols},
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "settle", "version": __version__, "rules": rules}},
                "results": results,
                "properties": {"verdict": verdict.verdict, "target": verdict.target.ref},
            }
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
