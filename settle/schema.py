"""Pydantic models made from a document's frozen dataclasses, field by field.

settle's JSON documents (the verdict, the failure memory) are built as dataclasses: the
commands that print them never import pydantic, whose import alone costs a small command a
fifth of its time. Their JSON Schemas, and the verdict the Python API returns, come from
pydantic models made here from those dataclasses, so that every field (its type, default and
description, the description in the field's metadata: `settle.document.about`) is declared once.
"""

from __future__ import annotations

import inspect
import operator
import types
import typing
from dataclasses import MISSING, fields
from functools import reduce

from pydantic import BaseModel, ConfigDict, Field, create_model

# Document keys that would shadow a BaseModel attribute: the model's field has this name and
# the key as its alias.
_ALIASED = {"schema": "schema_"}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Document(Frozen):
    """A whole document's model: its `schema` key is the field `schema_`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def models_of(records: typing.Iterable[type], bases: dict[type, type[BaseModel]] | None = None) -> dict[type, type[BaseModel]]:
    """A model for each dataclass (those it holds given before it), on `bases[record]` or Frozen."""
    made: dict[type, type[BaseModel]] = {}
    for record in records:
        hints = typing.get_type_hints(record)
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
        made[record] = create_model(record.__name__, __base__=(bases or {}).get(record, Frozen),
                                    __module__=record.__module__, __doc__=_own_doc(record), **definitions)
    return made


def _swapped(hint, made: dict[type, type]):
    """A field's type with each dataclass in it replaced by its model."""
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
    generated = record.__name__ + str(inspect.signature(record)).replace(" -> None", "")
    return None if record.__doc__ == generated else record.__doc__
