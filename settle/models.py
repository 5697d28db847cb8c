"""The verdict document's pydantic models: its JSON Schema, and what the Python API returns.

Each model is made from its dataclass in `settle.document`, which the stages build, so every
field is declared once; `Verdict.of` turns a built verdict into the model, validated.
"""

from __future__ import annotations

import inspect
import operator
import types
import typing
from dataclasses import MISSING, fields
from functools import reduce

from pydantic import BaseModel, ConfigDict, Field, create_model

from settle import document
from settle.document import SCHEMA, finding_id  # noqa: F401 - part of this module's interface

_ALIASED = {"schema": "schema_"}  # a document key that would shadow a BaseModel attribute


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Finding(_Frozen):
    sort_key = document.Finding.sort_key


class _Verdict(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def of(cls, verdict: document.Verdict) -> Verdict:
        return cls.model_validate(verdict.document())

    def to_json(self, compact: bool = False) -> str:
        """Sorted keys, no timestamps: the same verdict is the same bytes. compact: one line (JSON Lines)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=False)
        return document.verdict_json(document.verdict_document(data), compact)


def _model(record: type, made: dict[type, type], base: type[BaseModel] = _Frozen) -> type[BaseModel]:
    hints = typing.get_type_hints(record, vars(document))
    definitions = {}
    for part in fields(record):
        options = {}
        if part.default is not MISSING:
            options["default"] = part.default
        elif part.default_factory is not MISSING:
            options["default_factory"] = part.default_factory
        if "description" in part.metadata:
            options["description"] = part.metadata["description"]
        name = _ALIASED.get(part.name, part.name)
        if name != part.name:
            options["alias"] = part.name
        definitions[name] = (_swapped(hints[part.name], made), Field(**options))
    model = create_model(record.__name__, __base__=base, __module__=__name__, __doc__=_own_doc(record), **definitions)
    made[record] = model
    return model


def _swapped(hint, made: dict[type, type]):
    """A field's type with each document dataclass in it replaced by its model."""
    if hint in made:
        return made[hint]
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is None or origin is typing.Literal:
        return hint
    arguments = tuple(_swapped(argument, made) for argument in arguments)
    if origin in (types.UnionType, typing.Union):
        return reduce(operator.or_, arguments)
    return origin[arguments]


def _own_doc(record: type) -> str | None:
    """The dataclass's docstring, not the signature `dataclass` writes in where it has none."""
    doc = record.__doc__
    generated = record.__name__ + str(inspect.signature(record)).replace(" -> None", "")
    return None if doc == generated else doc


_made: dict[type, type] = {}
Location = _model(document.Location, _made)
Evidence = _model(document.Evidence, _made)
Finding = _model(document.Finding, _made, base=_Finding)
TargetRef = _model(document.TargetRef, _made)
CandidateRef = _model(document.CandidateRef, _made)
Settlement = _model(document.Settlement, _made)
CandidateStats = _model(document.CandidateStats, _made)
Stats = _model(document.Stats, _made)
ReplaySource = _model(document.ReplaySource, _made)
Verdict = _model(document.Verdict, _made, base=_Verdict)


def verdict_schema() -> dict:
    return Verdict.model_json_schema(by_alias=True)
