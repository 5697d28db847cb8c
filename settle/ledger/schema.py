"""The JSON Schema of `settle memory --format json` (`settle schema --memory`), as pydantic models.

They mirror the dataclasses of settle.ledger.memory field for field: the memory path builds those
(importing pydantic and building these models costs a tenth of a second, most of what the
command may take), and only the schema, and the tests that validate a document, load these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from settle.ledger.memory import SCHEMA, Outcome, Relation


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Occurrence(_Frozen):
    """One attempt on which a finding was reported."""

    event: int = Field(description="Ledger event (seq) of the verdict.")
    time: str = Field(description="When the verdict was recorded (UTC, ISO-8601).")
    command: str
    candidate: str
    commit: str
    merge_commit: str | None = Field(default=None, description="Replay: the merge commit the verdict re-settled.")
    held: bool = Field(description="The attempt was held (by this finding or another).")
    holding: bool = Field(description="This finding is one of the reasons it was held.")
    outcome: Outcome = Field(description="held_never_landed, held_landed_later (see landed_commit), superseded (a later "
                                         "attempt of the same ref replaced it, see superseded_by), landed (not held, and in "
                                         "the target now), not_landed (not held, not in the target yet).")
    landed_commit: str | None = Field(default=None, description="The attempt's commit, or a later one of the same ref, in the target now.")
    superseded_by: str | None = Field(default=None, description="The latest later attempt of the same ref.")


class RememberedFinding(_Frozen):
    """One finding (kind, subkind, symbols, path) as it recurred across attempts."""

    kind: str
    subkind: str
    severity: Literal["error", "warning", "info"]
    message: str = Field(description="The newest occurrence's message.")
    symbols: list[str]
    path: str | None = None
    attempts: int = Field(description="Distinct attempts (candidate ref and commit) it was found on.")
    recurring: bool = Field(description="Found on more than one attempt.")
    occurrences: list[Occurrence] = Field(description="Newest first.")


class SubjectMemory(_Frozen):
    subject: str = Field(description="A symbol id (PATH::QUALNAME) or a path.")
    relation: Relation = Field(description="touched: the query names it; path: a queried path; calls / called_by: one "
                                           "call-graph step from a queried symbol (see via).")
    via: list[str] = Field(default_factory=list, description="The queried symbols it calls or is called by.")
    findings: list[RememberedFinding]


class MemoryQuery(_Frozen):
    candidate: str | None = None
    claims: str | None = None
    plan: str | None = None
    task: str | None = None
    symbols: list[str] = Field(description="Symbols asked about (for a candidate: those it changed; for claims: what they name on the base).")
    paths: list[str] = Field(description="Paths and path globs asked about.")


class MemoryTarget(_Frozen):
    ref: str
    commit: str


class MemoryDocument(_Frozen):
    schema_: Literal["settle.memory/1"] = Field(default=SCHEMA, alias="schema")
    query: MemoryQuery
    target: MemoryTarget = Field(description="Landing is judged against this commit.")
    verdicts: int = Field(description="Verdict events in the ledger.")
    subjects: list[SubjectMemory] = Field(description="Recurring findings' subjects first, then newest first.")
    omitted: int = Field(default=0, description="Subjects left out by --limit (the lowest ranked).")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def memory_schema() -> dict:
    return MemoryDocument.model_json_schema(by_alias=True)
