"""The JSON Schema of `settle memory --format json` (`settle schema --memory`), as pydantic models.

They are made from the dataclasses of settle.ledger.memory, field by field (settle.schema): the
memory path builds those, and only the schema, and the tests that validate a document, load these.
"""

from __future__ import annotations

from settle.ledger import memory
from settle.schema import Document, models_of

_made = models_of((memory.Occurrence, memory.RememberedFinding, memory.SubjectMemory, memory.MemoryQuery,
                   memory.MemoryTarget, memory.MemoryDocument), bases={memory.MemoryDocument: Document})
Occurrence = _made[memory.Occurrence]
RememberedFinding = _made[memory.RememberedFinding]
SubjectMemory = _made[memory.SubjectMemory]
MemoryQuery = _made[memory.MemoryQuery]
MemoryTarget = _made[memory.MemoryTarget]
MemoryDocument = _made[memory.MemoryDocument]


def memory_schema() -> dict:
    return MemoryDocument.model_json_schema(by_alias=True)
