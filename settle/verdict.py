"""The verdict: policy severities, deterministic order, and which candidates can land in which order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from settle.config import load_toml
from settle.document import Finding, Settlement
from settle.errors import ConfigError
from settle.findings import KINDS, Severity


@dataclass(frozen=True)
class Policy:
    """Severity overrides by `kind` or `kind.subkind` (the more specific wins); --strict makes warnings reject."""

    overrides: dict[str, Severity] = field(default_factory=dict)
    strict: bool = False

    def severity(self, finding: Finding) -> Severity:
        specific = self.overrides.get(f"{finding.kind}.{finding.subkind}")
        if specific is not None:
            return specific
        return self.overrides.get(finding.kind, Severity(finding.severity))

    def blocks(self, finding: Finding) -> bool:
        severity = Severity(finding.severity)
        return severity is Severity.ERROR or (self.strict and severity is Severity.WARNING)


def load_policy(path: str | None, strict: bool = False) -> Policy:
    if path is None:
        return Policy(strict=strict)
    document = load_toml(path, "policy file")
    unknown = set(document) - {"severity"}
    if unknown:
        raise ConfigError(f"policy file {path}: unknown key(s) {', '.join(sorted(unknown))}; only [severity] is allowed")
    table = document.get("severity", {})
    if not isinstance(table, dict):
        raise ConfigError(f"policy file {path}: [severity] must be a table of kind = \"error|warning|info\"")
    known = {kind for kind, _ in KINDS} | {f"{kind}.{subkind}" for kind, subkind in KINDS}
    overrides: dict[str, Severity] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(
                f"policy file {path}: unknown finding kind '{key}'; use a kind or kind.subkind from `settle schema` (e.g. concurrent_edit, signature_drift.changed_in_use)"
            )
        if value not in {s.value for s in Severity}:
            raise ConfigError(f"policy file {path}: severity of '{key}' is {value!r}; use \"error\", \"warning\" or \"info\"")
        overrides[key] = Severity(value)
    return Policy(overrides, strict)


def apply_policy(findings: Sequence[Finding], policy: Policy) -> list[Finding]:
    adjusted = []
    for finding in findings:
        severity = policy.severity(finding)
        adjusted.append(finding if severity.value == finding.severity else replace(finding, severity=severity.value))
    return sorted(adjusted, key=Finding.sort_key)


def settle_order(candidates: Sequence[str], target: str, findings: Sequence[Finding], policy: Policy) -> Settlement:
    """Admit candidates greedily in the given order: one is held when a blocking finding ties it
    to the target, to itself alone, or to a candidate admitted before it."""
    admitted: list[str] = []
    held: dict[str, list[str]] = {}
    for candidate in candidates:
        blockers = []
        for finding in findings:
            if candidate not in finding.candidates or not policy.blocks(finding):
                continue
            others = [c for c in finding.candidates if c != candidate]
            if not others or all(o == target or o in admitted for o in others):
                blockers.append(finding.id)
        if blockers:
            held[candidate] = sorted(set(blockers))
        else:
            admitted.append(candidate)
    return Settlement(order=admitted, held=held)


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {severity.value: sum(1 for f in findings if f.severity == severity.value) for severity in Severity}
