"""The JSON Schema of `settle memory --format json` (`settle schema --memory`), as pydantic models.

They are made from the dataclasses of settle.ledger.memory, field by field (settle.schema): the
memory path builds those, and only the schema, and the tests that validate a document, load these.
"""

from __future__ import annotations

from settle.ledger import memory
from settle.schema import Document, models_of

(Occurrence, RememberedFinding, SubjectMemory, MemoryQuery, MemoryTarget, MemoryDocument) = models_of(
    (memory.Occurrence, memory.RememberedFinding, memory.SubjectMemory, memory.MemoryQuery, memory.MemoryTarget,
     memory.MemoryDocument),
    bases={memory.MemoryDocument: Document},
).values()

def memory_schema() -> dict:
    return MemoryDocument.model_json_schema(by_alias=True)
