"""Every finding kind in one place: its name, default severity and message template.

Detection code yields findings by kind and fills the template's fields; the
wording lives here, not beside the detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class FindingKind:
    kind: str
    subkind: str
    severity: Severity
    template: str  # str.format fields come from the finding's details
    summary: str  # what it means, for SARIF rule help and reports

    @property
    def rule_id(self) -> str:
        return f"{self.kind}/{self.subkind}"


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

KINDS: dict[tuple[str, str], FindingKind] = {
    (k.kind, k.subkind): k
    for k in (
        FindingKind("text_conflict", "same_symbol", _E,
                    "{a} and {b} both {verb} {symbol} and git cannot merge the lines; resolve it in one branch and re-check",
                    "git's three-way merge conflicts inside one symbol both sides changed"),
        FindingKind("text_conflict", "distinct_symbols", _E,
                    "git conflicts where {a} {a_verb} {symbol} and {b} {b_verb} {other}: {advice}",
                    "the conflict hunk spans different symbols each side changed"),
        FindingKind("text_conflict", "module_level", _E,
                    "git conflicts in {path} outside any symbol ({lines}); resolve the imports/top-level statements by hand",
                    "conflict outside any symbol"),
        FindingKind("text_conflict", "add_add", _E,
                    "{a} and {b} both add {path} with different content; keep one version",
                    "both sides add the same path with different content"),
        FindingKind("text_conflict", "modify_delete", _E,
                    "{deleter} deletes {path} while {modifier} modifies it; decide whether the file stays",
                    "one side deletes a file the other modifies"),
        FindingKind("text_conflict", "rename", _E,
                    "{path} is renamed on one side and renamed or changed incompatibly on the other; settle the file's name first",
                    "conflicting renames of one file"),
        FindingKind("text_conflict", "binary", _E,
                    "{a} and {b} both change {what} {path}; pick one version",
                    "both sides change a binary file, a submodule or a symbolic link"),
        FindingKind("concurrent_edit", "same_symbol", _W,
                    "{a} and {b} both change {symbol}; git merges the lines cleanly but nobody reviewed the combination",
                    "both sides changed one symbol and git merges it cleanly"),
        FindingKind("signature_drift", "call_incompatible", _E,
                    "{changer} changes {symbol} to {signature}, but {caller} at {site} calls it as {call}: {reason}; update the call or keep the old signature",
                    "a call site in the merged result no longer binds to the changed signature"),
        FindingKind("signature_drift", "removed_in_use", _E,
                    "{changer} {removal}, but {user} at {site} still {verb} {used}; {fix}",
                    "a removed or renamed symbol is still referenced in the merged result"),
        FindingKind("signature_drift", "changed_in_use", _W,
                    "{changer} changes {symbol} to {signature} and {user} at {site} calls it as {call}; settle cannot decide statically whether the call still binds ({reason}); {advice}",
                    "a changed signature is used where binding can't be decided statically"),
        FindingKind("duplicate_definition", "add_add", _E,
                    "{a} and {b} both add {symbol} with different content; keep one definition",
                    "both sides add the same symbol id with different content"),
        FindingKind("parse_error", "introduced", _E,
                    "{side} leaves {path} with syntax errors at line {lines}; fix the syntax",
                    "a side leaves a file that parsed on the base with syntax errors"),
        FindingKind("claim_violation", "unclaimed_edit", _E,
                    "{side} changes {symbol}, which its claims do not allow to edit; claim it or revert the change",
                    "a changed symbol is not covered by an edit claim"),
        FindingKind("claim_violation", "unclaimed_create", _E,
                    "{side} creates {symbol}, which its claims do not allow; claim it under create or remove it",
                    "an added symbol is not covered by a create claim"),
        FindingKind("claim_violation", "unclaimed_delete", _E,
                    "{side} deletes {symbol}, which its claims do not allow; claim it under delete or restore it",
                    "a removed symbol is not covered by a delete claim"),
        FindingKind("claim_violation", "unclaimed_path", _E,
                    "{side} {operation} {path}, which no claim covers; {reason}, or revert the change",
                    "a file settle sees whole, or a code file's imports/top-level statements, changed without a claim covering it"),
        FindingKind("claim_violation", "read_outside_scope", _W,
                    "{side}'s new code in {user} uses {symbol}, outside its claimed read scope; widen the read claims if that is intended",
                    "new code references a repository symbol outside the claimed read scope"),
        FindingKind("claim_violation", "unresolved_claim", _E,
                    "claim '{pattern}' ({operation}) of {side} names nothing {where}; {hint}",
                    "a claim names a symbol that exists on no side"),
        FindingKind("claim_violation", "leased_elsewhere", _E,
                    "{side} changes {symbol}, which {holder} holds a lease on ({pattern}) until {expires}; leave it to {holder}, or wait until the lease is released or expires",
                    "the candidate changed a symbol that another live candidate holds a lease on"),
        FindingKind("plan_conflict", "parallel_edit", _E,
                    "tasks {a} and {b} can run in parallel (no dependency path) and both claim {symbol} for {operation}; add a dependency or split the claim",
                    "two tasks without a dependency path claim the same symbol for edit or delete"),
        FindingKind("plan_conflict", "parallel_read", _W,
                    "task {a} edits {symbol} while task {b}, which can run in parallel, reads it; add a dependency if {b} needs the new version",
                    "one task edits what a parallel task reads"),
        FindingKind("plan_conflict", "dependency_cycle", _E,
                    "tasks {cycle} depend on each other in a cycle; break the cycle",
                    "the plan's dependencies form a cycle"),
        FindingKind("plan_conflict", "unknown_dependency", _E,
                    "task {a} depends on unknown task {b}; fix the task id",
                    "a task depends on a task the plan does not define"),
        # Behaviour, not shape: what one side's change does to the code the other side wrote or changed.
        FindingKind("interference", "new_call", _W,
                    "{changer} changes the behaviour of {symbol}, and {user_side}'s new code in {user} starts calling it at {site}, written against the old behaviour; re-run {user_side}'s tests against {changer}'s change, or let settle run them with --verify",
                    "one side's added or changed code newly calls a symbol whose behaviour the other side changed"),
        FindingKind("interference", "call_path", _W,
                    "in the merged result {user} (changed by {user_side}) calls {symbol} (changed by {changer}){via} at {site}: neither side tested both changes together; re-run both sides' tests on the merge, or let settle run them with --verify",
                    "a changed symbol of one side calls a changed symbol of the other side in the merged result"),
        FindingKind("interference", "shared_state", _W,
                    "{changer} writes {state} in {symbol} at {write_site}, and {user_side}'s changed code in {user} reads it at {site}; re-run {user_side}'s tests against {changer}'s change, or let settle run them with --verify",
                    "one side's changed code writes a field, attribute or module variable that the other side's changed code reads"),
        # Evidence: a command run on materialized merges (`check --verify`).
        FindingKind("verification", "composition_fails", _E,
                    "`{command}` passes on {a} and on {b}, each merged alone onto {target}, but fails on both merged together ({outcome}): the changes conflict in behaviour; fix one branch against the other",
                    "the verify command passes on each candidate merged alone onto the target and fails on their composition"),
        FindingKind("verification", "side_fails", _W,
                    "`{command}` fails on {side} merged onto {target} ({outcome}); fix that branch first: a composition is judged only when each side passes alone",
                    "the verify command fails on a candidate merged alone onto the target"),
        FindingKind("unsupported_file", "file_granularity", _I,
                    "{side} changes {path} ({reason}); only file-level rules apply to it",
                    "a changed file in a language without a grammar, or binary/oversized/undecodable"),
    )
}


def kind_of(kind: str, subkind: str) -> FindingKind:
    return KINDS[(kind, subkind)]


def message(kind: str, subkind: str, **fields: object) -> str:
    return KINDS[(kind, subkind)].template.format(**fields)
