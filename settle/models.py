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


# In the order of the dataclasses given: each model is made after those its fields hold.
(Location, Evidence, Finding, TargetRef, CandidateRef, Settlement, CandidateStats, Stats, ReplaySource,
 Verdict) = models_of(
    (document.Location, document.Evidence, document.Finding, document.TargetRef, document.CandidateRef,
     document.Settlement, document.CandidateStats, document.Stats, document.ReplaySource, document.Verdict),
    bases={document.Finding: _Finding, document.Verdict: _Verdict},
).values()


def verdict_schema() -> dict:
    return Verdict.model_json_schema(by_alias=True)
