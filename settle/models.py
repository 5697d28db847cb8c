"""The verdict document's pydantic models: its JSON Schema, and what the Python API returns.

Each is made from its dataclass in `settle.document`, which the stages build (settle.schema);
`Verdict.of` turns a built verdict into the model, validated.
"""

from __future__ import annotations

from settle import document
from settle.schema import Document, Frozen, models_of

SCHEMA = document.SCHEMA


class _Finding(Frozen):
    sort_key = document.Finding.sort_key


class _Verdict(Document):
    @classmethod
    def of(cls, verdict: document.Verdict) -> Verdict:
        return cls.model_validate(verdict.document())

    def to_json(self, compact: bool = False) -> str:
        """Sorted keys, no timestamps: the same verdict is the same bytes. compact: one line (JSON Lines)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=False)
        return document.verdict_json(document.verdict_document(data), compact)


_made = models_of(
    (document.Location, document.Evidence, document.Finding, document.TargetRef, document.CandidateRef,
     document.Settlement, document.CandidateStats, document.Stats, document.ReplaySource, document.Verdict),
    bases={document.Finding: _Finding, document.Verdict: _Verdict},
)
Location = _made[document.Location]
Evidence = _made[document.Evidence]
Finding = _made[document.Finding]
TargetRef = _made[document.TargetRef]
CandidateRef = _made[document.CandidateRef]
Settlement = _made[document.Settlement]
CandidateStats = _made[document.CandidateStats]
Stats = _made[document.Stats]
ReplaySource = _made[document.ReplaySource]
Verdict = _made[document.Verdict]


def verdict_schema() -> dict:
    return Verdict.model_json_schema(by_alias=True)
