"""The verdict document: the public JSON contract, and the single source of its schema."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "settle.verdict/1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(_Frozen):
    """Where a finding sits on one side (a candidate, the target, or the merge base)."""

    side: str
    path: str
    start_line: int | None = None
    end_line: int | None = None
    symbol: str | None = None


class Evidence(_Frozen):
    """What `check --verify` ran for a verification finding, on which composed tree, and how it ended."""

    command: str
    side: str = Field(description="SETTLE_SIDE of the failing run: a candidate's ref, or 'A+B' of two refs.")
    exit_status: int | None = Field(description="The command's exit status; null when it timed out and was killed.")
    timed_out: bool = False
    output_tail: list[str] = Field(default_factory=list, description="The last lines of its output (stdout and stderr).")


class Finding(_Frozen):
    id: str = Field(description="Stable short id of this finding: the same finding always has the same id.")
    kind: str
    subkind: str
    severity: Literal["error", "warning", "info"]
    candidates: list[str] = Field(description="The sides involved, sorted; the target's ref name when it is one of them.")
    symbols: list[str] = Field(default_factory=list, description="Symbol ids (PATH::QUALNAME) involved.")
    path: str | None = None
    locations: list[Location] = Field(default_factory=list)
    message: str
    evidence: Evidence | None = Field(default=None, description="verification findings only: the command run and what it printed.")

    def sort_key(self) -> tuple:
        return (self.candidates, self.kind, self.subkind, self.path or "", self.symbols, self.id)


def finding_id(kind: str, subkind: str, candidates: list[str], symbols: list[str], path: str | None, extra: str = "") -> str:
    key = "\x1f".join([kind, subkind, *candidates, "|", *symbols, "|", path or "", extra])
    return hashlib.blake2b(key.encode(), digest_size=5).hexdigest()


class TargetRef(_Frozen):
    ref: str
    commit: str


class CandidateRef(_Frozen):
    ref: str
    commit: str
    merge_base: str | None = Field(description="Fork point with the target; null when they share no history.")
    claims: str | None = Field(default=None, description="Where this candidate's claims came from, if any.")


class Settlement(_Frozen):
    order: list[str] = Field(description="Candidates admitted, in landing order.")
    held: dict[str, list[str]] = Field(description="Each held candidate → ids of the findings that hold it.")


class CandidateStats(_Frozen):
    changed_paths: int = 0
    changed_symbols: int = 0
    claimed_untouched: list[str] = Field(default_factory=list, description="Claimed for edit/create/delete but not touched.")


class Stats(_Frozen):
    findings: dict[str, int] = Field(description="Count per severity.")
    pairs: int
    files_parsed: int
    candidates: dict[str, CandidateStats] = Field(default_factory=dict)
    interference_skipped_edges: int = Field(default=0, description="Calls, reads and writes between two sides' changes that interference could not bind to one definition, and so did not judge.")


class ReplaySource(_Frozen):
    """Replay only: what a replay line comes from, so a report of the lines can say what it covers."""

    repository: str = Field(description="The repository's name (origin's URL without host, else its directory name); never a path.")
    range: str | None = Field(description="--range as given (A..B); null when the merges were taken from HEAD.")
    last: int | None = Field(description="--last as given; null when every merge of the range or of HEAD was taken.")
    tip: str = Field(description="The commit the merges were walked back from (B of the range, or HEAD).")
    subject: str = Field(description="The merge commit's subject line.")
    settle: str = Field(description="Version of settle that replayed the merge.")


class Verdict(_Frozen):
    schema_: Literal["settle.verdict/1"] = Field(default=SCHEMA, alias="schema")
    verdict: Literal["merge", "reject"]
    target: TargetRef
    candidates: list[CandidateRef]
    findings: list[Finding]
    settlement: Settlement
    stats: Stats
    merge_commit: str | None = Field(default=None, description="Replay only: the merge commit this verdict re-settles.")
    replay: ReplaySource | None = Field(default=None, description="Replay only: repository, selection and subject of the merge.")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self, compact: bool = False) -> str:
        """Sorted keys, no timestamps: the same verdict is the same bytes. compact: one line (JSON Lines)."""
        import json

        document = self.model_dump(mode="json", by_alias=True, exclude_none=False)
        for replay_only in ("merge_commit", "replay"):  # absent from check's verdicts, as before replay had them
            if document.get(replay_only) is None:
                document.pop(replay_only, None)
        for finding in document["findings"]:
            if finding.get("evidence") is None:
                finding.pop("evidence", None)
        if compact:
            return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def verdict_schema() -> dict:
    return Verdict.model_json_schema(by_alias=True)
