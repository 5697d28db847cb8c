"""Claims files: what a candidate may touch, loaded and validated (fail-closed), with messages that
name the file, the line and the fix. What a pattern means is settle.bind.patterns."""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from settle.bind.patterns import Pattern, parse_pattern
from settle.config import load_toml
from settle.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClaimSet(_Strict):
    create: list[str] = Field(default_factory=list)
    edit: list[str] = Field(default_factory=list)
    delete: list[str] = Field(default_factory=list)
    read: list[str] | None = None  # absent: reads are not restricted

    @field_validator("create", "edit", "delete", "read")
    @classmethod
    def _patterns_parse(cls, values):
        for value in values or ():
            parse_pattern(value)
        return values

    def patterns(self, operation: str) -> list[Pattern]:
        return [parse_pattern(text) for text in (getattr(self, operation) or [])]


class ClaimsDocument(_Strict):
    candidate: str | None = Field(default=None, min_length=1)
    claims: ClaimSet = Field(default_factory=ClaimSet)


@dataclass(frozen=True)
class TaskClaims:
    """A plan task's claims; the commit its own work starts from when its branch is stacked on a
    dependency's branch (the dependency's changes are not the task's to claim); and the
    candidates it depends on (it cannot land while one of them is held)."""

    document: ClaimsDocument
    since: str | None = None
    depends_on: tuple[str, ...] = ()


def load_claims(path: str) -> ClaimsDocument:
    document = load_toml(path, "claims file")
    return validate(ClaimsDocument, document, path)


def validate(model: type[BaseModel], document: dict, path: str, prefix: tuple = ()):
    """The model, or a ConfigError naming the file, the line where we can find it, the value and the fix.

    prefix: where the document sits in the file (a task table of a dgov plan)."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise ConfigError(describe_error(error, path, model, prefix)) from None


_EXPECTED = {
    "list_type": "a list",
    "string_type": "a string",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "string_too_short": "a non-empty string",
}
_EXAMPLES = {
    "create": 'a list of patterns, e.g. create = ["src/a.py::Client.retry"]',
    "edit": 'a list of patterns, e.g. edit = ["src/a.py::Client.send", "docs/**"]',
    "delete": 'a list of patterns, e.g. delete = ["src/old.py"]',
    "read": 'a list of patterns, e.g. read = ["src/**"]',
    "touch": 'a list of paths, e.g. touch = ["src/a.py"]',
    "depends_on": 'a list of task ids, e.g. depends_on = ["other-task"]',
    "files": 'a list of paths or a table, e.g. files.edit = ["src/a.py"]',
    "claims": 'a table, e.g. [claims] with edit = ["src/a.py::f"]',
    "tasks": "tables [tasks.<id>]",
    "candidate": 'a branch name, e.g. candidate = "agent/x"',
    "branch": 'a branch name, e.g. branch = "agent/x"',
    "description": "a string",
}


def describe_error(error: ValidationError, path: str, model: type[BaseModel] | None = None, prefix: tuple = ()) -> str:
    first = error.errors()[0]
    loc = prefix + tuple(part for part in first["loc"] if _is_key(part))
    keys = [part for part in loc if isinstance(part, str)]
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "(top level)"
    value = first.get("input")
    kind = first["type"]
    offending = getattr(first.get("ctx", {}).get("error"), "text", None)
    if kind == "extra_forbidden":
        line = _line_of_key(path, keys[-1])
        allowed = _allowed_keys(model, tuple(p for p in first["loc"][:-1] if _is_key(p))) if model is not None else []
        fix = f"allowed keys here: {', '.join(allowed)}" if allowed else "see the README's Claims section"
        return f"{_where(path, line)}: unknown key '{location}'; {fix}"
    if kind == "missing":
        return f"{_where(path, _line_of_key(path, keys[-2]) if len(keys) > 1 else None)}: '{location}' is required"
    field = keys[-1] if keys else ""
    if offending is not None:
        line = _line_of_value(path, offending) or _line_of_key(path, field)
        return f"{_where(path, line)}: {location}: {error_text(first)}"
    item = bool(loc) and isinstance(loc[-1], int)
    expected = _EXAMPLES.get(field) if kind in _EXPECTED and not item else None
    if kind in _EXPECTED and expected is None:
        expected = _EXPECTED[kind]
    problem = f"must be {expected}" if expected else error_text(first)
    line = _line_of_value(path, value) if isinstance(value, str) and value else _line_of_key(path, field)
    return f"{_where(path, line)}: {location} {problem} (got {_show(value)})"


def error_text(error: dict) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


def _is_key(part: object) -> bool:
    # Union members and validators appear in pydantic locations as type names: not keys of the file.
    return isinstance(part, int) or (isinstance(part, str) and not part.startswith("_") and "[" not in part)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    current: object = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            current = _model_in(field.annotation)
        elif typing.get_origin(current) is dict:
            current = _model_in(typing.get_args(current)[1])
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: object) -> object:
    """The model (or dict of models) inside an annotation such as `X | None` or `X | list[str]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) or typing.get_origin(annotation) is dict:
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _line_of_value(path: str, value: object) -> int | None:
    if not isinstance(value, str):
        return None
    for quoted in (f'"{value}"', f"'{value}'"):
        for number, line in enumerate(_lines(path), start=1):
            if quoted in line:
                return number
    return None


def _line_of_key(path: str, key: str) -> int | None:
    if not key:
        return None
    escaped = re.escape(key)
    assignment = re.compile(rf'^\s*(?:[\w"\'.-]*\.)?["\']?{escaped}["\']?\s*=')
    header = re.compile(rf'^\s*\[\[?[^\]]*\b{escaped}["\']?\s*\]')
    for number, line in enumerate(_lines(path), start=1):
        if assignment.search(line) or header.search(line):
            return number
    return None
