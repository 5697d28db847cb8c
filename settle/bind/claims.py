"""Claims: what a candidate may touch. Loading (fail-closed) and pattern matching.

A pattern is a path glob, optionally followed by `::` and a qualified name or
name glob: `src/**/*.py`, `src/a.py::Client.send` (that symbol and everything
nested in it, and its overloads), `src/a.py::Client.*` (its members),
`src/a.py::handle_*`, `src/B.java::B.run(int,String)` (one overload).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from settle.errors import ConfigError
from settle.verdict import load_toml

OPERATIONS = ("create", "edit", "delete", "read")
_GLOB = re.compile(r"[*?\[]")
# A qualified-name segment: a name (glob characters allowed), then optionally
# the parameter types of one overload and an occurrence suffix: `run(int,String)@2`.
_NAME = re.compile(r"[^\s.()@:]+")
_OCCURRENCE = re.compile(r"@[0-9]+")


class PatternError(ConfigError, ValueError):
    """A malformed pattern. A ValueError too, so pydantic reports it as a validation error."""

    def __init__(self, text: str, problem: str):
        super().__init__(f"pattern {text!r} {problem}")
        self.text = text


@dataclass(frozen=True, slots=True)
class Segment:
    """One step of a qualified name: `run`, `run(int,String)`, `f@2`."""

    name: str
    parameters: str | None = None  # the overload's parameter types, whitespace removed
    occurrence: str | None = None  # `@2`: the second definition of one name in one scope

    def matches(self, other: Segment) -> bool:
        """Does this (pattern) segment name the other (symbol) segment? Unqualified names cover every overload."""
        return (
            fnmatchcase(other.name, self.name)
            and (self.parameters is None or self.parameters == other.parameters)
            and (self.occurrence is None or self.occurrence == other.occurrence)
        )


@dataclass(frozen=True)
class Pattern:
    text: str
    path: str
    qualname: str | None  # None: the whole file (file granularity)
    segments: tuple[Segment, ...] = ()

    @cached_property
    def _path_regex(self) -> re.Pattern[str]:
        return re.compile(glob_to_regex(self.path))

    @property
    def is_file_level(self) -> bool:
        return self.qualname is None

    @property
    def is_exact(self) -> bool:
        """Names one path (and one symbol) without glob characters."""
        return not _GLOB.search(self.path) and not any(_GLOB.search(s.name) for s in self.segments)

    def matches_path(self, path: str) -> bool:
        return bool(self._path_regex.fullmatch(path))

    def covers_symbol(self, symbol_id: str) -> bool:
        """File-level patterns cover every symbol of their files; `Q` covers Q, what is nested in Q, and Q's overloads."""
        path, _, qualname = symbol_id.partition("::")
        if not self.matches_path(path):
            return False
        if self.qualname is None:
            return True
        return _covers(self.segments, symbol_segments(qualname))

    def covers_inside(self, symbol_id: str) -> bool:
        """Covers the symbol as part of something larger: the whole file, or a symbol it is nested in."""
        path, _, qualname = symbol_id.partition("::")
        if not self.matches_path(path):
            return False
        if self.qualname is None:
            return True
        segments = symbol_segments(qualname)
        return len(segments) > len(self.segments) and _covers(self.segments, segments)


def _covers(pattern: tuple[Segment, ...], symbol: tuple[Segment, ...]) -> bool:
    return len(pattern) <= len(symbol) and all(p.matches(s) for p, s in zip(pattern, symbol))


@lru_cache(maxsize=65536)
def symbol_segments(qualname: str) -> tuple[Segment, ...]:
    """A symbol's qualname as segments. Lenient: ids come from the extractor, not from users."""
    segments = []
    for part in _split_outside_parentheses(qualname):
        name, parameters, occurrence = part, None, None
        match = _OCCURRENCE.search(name)
        if match and match.end() == len(name):
            name, occurrence = name[: match.start()], match.group()
        if name.endswith(")") and "(" in name:
            opening = name.index("(")
            name, parameters = name[:opening], _squeeze(name[opening + 1 : -1])
        segments.append(Segment(name, parameters, occurrence))
    return tuple(segments)


def _split_outside_parentheses(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "." and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _squeeze(text: str) -> str:
    return "".join(text.split())


def glob_to_regex(glob: str) -> str:
    out, index = [], 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "[":
            closing = glob.find("]", index + 2)
            if closing != -1:
                body = glob[index + 1 : closing]
                negated = body.startswith(("!", "^"))
                body = body[1:] if negated else body
                out.append("[" + ("^" if negated else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
                index = closing + 1
                continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        index += 1
    return "".join(out)


def parse_pattern(text: object) -> Pattern:
    """A Pattern, or a PatternError (an input error) saying what is wrong and how to write it."""
    if not isinstance(text, str):
        raise PatternError(repr(text), f"is a {type(text).__name__}; a pattern is a string such as \"src/a.py::Client.send\"")
    return _parse_pattern(text)


@lru_cache(maxsize=4096)
def _parse_pattern(text: str) -> Pattern:
    if not text.strip():
        raise PatternError(text, "is empty; write a path glob, optionally followed by ::Qual.Name")
    if text != text.strip():
        raise PatternError(text, "has surrounding whitespace; remove it")
    if any(ord(char) < 32 for char in text):
        raise PatternError(text, "contains a control character")
    path, separator, qualname = text.partition("::")
    _check_path(text, path)
    if not separator:
        return Pattern(text, path, None)
    if not qualname:
        raise PatternError(text, "has nothing after '::'; name a symbol (PATH::Qual.Name) or drop '::' to claim the whole file")
    if "::" in qualname:
        raise PatternError(text, "has more than one '::'; qualified names are dotted: PATH::Outer.Inner")
    return Pattern(text, path, qualname, _pattern_segments(text, qualname))


def _check_path(text: str, path: str) -> None:
    if not path:
        raise PatternError(text, "has no path before '::'; write PATH::Qual.Name (the path may be a glob such as **/*.py)")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or path.startswith("~"):
        raise PatternError(text, "is absolute; paths are relative to the repository root, e.g. src/a.py")
    if "\\" in path:
        raise PatternError(text, "contains '\\'; separate directories with '/'")
    segments = path.split("/")
    if ".." in segments:
        raise PatternError(text, "leaves the repository ('..'); paths are relative to the repository root")
    if "." in segments:
        raise PatternError(text, "has a '.' segment; write the path from the repository root without './'")
    if path.endswith("/"):
        raise PatternError(text, f"ends with '/'; write {path}** to claim everything under {path}")
    if "" in segments:
        raise PatternError(text, "has an empty path segment ('//'); remove it")
    if path.count("[") != path.count("]"):
        raise PatternError(text, "has an unbalanced '[' or ']' in its path")


def _pattern_segments(text: str, qualname: str) -> tuple[Segment, ...]:
    depth = 0
    for char in qualname:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        raise PatternError(text, "has unbalanced parentheses after '::'; an overload is written Name(int,String)")
    segments = []
    for part in _split_outside_parentheses(qualname):
        if not part:
            raise PatternError(text, "has an empty name after '::' ('..', or a leading or trailing '.'); write Outer.Inner")
        match = re.fullmatch(r"([^\s.()@:]+)(\((.*)\))?(@[0-9]+)?", part, re.DOTALL)
        if match is None or not _NAME.fullmatch(match.group(1)):
            raise PatternError(
                text, f"has a malformed name {part!r} after '::'; write Name, Name(types) for one overload, or a glob such as handle_*"
            )
        parameters = _squeeze(match.group(3)) if match.group(2) is not None else None
        segments.append(Segment(match.group(1), parameters, match.group(4)))
    return tuple(segments)


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
