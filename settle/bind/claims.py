"""Claims: what a candidate may touch. Loading (fail-closed) and pattern matching.

A pattern is a path glob, optionally followed by `::` and a qualified name or
name glob: `src/**/*.py`, `src/a.py::Client.send` (that symbol and everything
nested in it, and its overloads), `src/a.py::Client.*` (its members),
`src/a.py::handle_*`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from settle.errors import ConfigError
from settle.verdict import load_toml

OPERATIONS = ("create", "edit", "delete", "read")
_GLOB = re.compile(r"[*?\[]")
_QUALNAME_PART = re.compile(r"^[\w$*?\[\]<>!,()@-]+$")


@dataclass(frozen=True)
class Pattern:
    text: str
    path: str
    qualname: str | None  # None: the whole file (file granularity)

    @cached_property
    def _path_regex(self) -> re.Pattern[str]:
        return re.compile(glob_to_regex(self.path))

    @property
    def is_file_level(self) -> bool:
        return self.qualname is None

    @property
    def is_exact(self) -> bool:
        """Names one path (and one symbol), with no glob characters."""
        return not _GLOB.search(self.path) and (self.qualname is None or not _GLOB.search(self.qualname))

    def matches_path(self, path: str) -> bool:
        return bool(self._path_regex.fullmatch(path))

    def covers_symbol(self, symbol_id: str) -> bool:
        """File-level patterns cover every symbol of their files; `Q` covers Q, Q.*, Q(...) and Q@n."""
        path, _, qualname = symbol_id.partition("::")
        if not self.matches_path(path):
            return False
        if self.qualname is None:
            return True
        return covers_qualname(self.qualname, qualname)


def covers_qualname(pattern: str, qualname: str) -> bool:
    segments = _plain_segments(qualname)
    if pattern.endswith(".*"):
        owner = pattern[:-2]
        return any(covers_qualname(owner, ".".join(segments[:end])) for end in range(1, len(segments)))
    for end in range(1, len(segments) + 1):
        if fnmatchcase(".".join(segments[:end]), pattern):
            return True
    return False


def _plain_segments(qualname: str) -> list[str]:
    """`A.run(int,String)` → [A, run]; `f@2` → [f]: overloads and occurrences are the same name to a claim."""
    cleaned = re.sub(r"\([^)]*\)", "", qualname)
    return [segment.split("@", 1)[0] for segment in cleaned.split(".")]


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
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        index += 1
    return "".join(out)


def parse_pattern(text: object) -> Pattern:
    """A Pattern, or a ValueError saying what is wrong with it."""
    if not isinstance(text, str):
        raise ValueError(f"a pattern must be a string, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("a pattern is empty")
    if text != text.strip():
        raise ValueError(f"pattern {text!r} has surrounding whitespace")
    path, separator, qualname = text.partition("::")
    if not path:
        raise ValueError(f"pattern {text!r} has no path before '::'; write PATH::Qual.Name")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "\\" in path:
        raise ValueError(f"pattern {text!r} is absolute; paths are relative to the repository root with '/'")
    if ".." in path.split("/"):
        raise ValueError(f"pattern {text!r} leaves the repository ('..'); paths are relative to the repository root")
    if "" in path.rstrip("/").split("/") or path.endswith("/"):
        raise ValueError(f"pattern {text!r} has an empty path segment")
    if separator:
        if not qualname:
            raise ValueError(f"pattern {text!r} has nothing after '::'; name a symbol or drop '::'")
        if "::" in qualname:
            raise ValueError(f"pattern {text!r} has more than one '::'")
        parts = qualname.split(".")
        if any(not part for part in parts) or any(not _QUALNAME_PART.match(part) for part in parts):
            raise ValueError(f"pattern {text!r} has a malformed qualified name after '::'")
        return Pattern(text, path, qualname)
    return Pattern(text, path, None)


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
        if values is not None:
            for value in values:
                parse_pattern(value)
        return values

    def patterns(self, operation: str) -> list[Pattern]:
        return [parse_pattern(text) for text in (getattr(self, operation) or [])]


class ClaimsDocument(_Strict):
    candidate: str | None = None
    claims: ClaimSet = Field(default_factory=ClaimSet)


def load_claims(path: str) -> ClaimsDocument:
    document = load_toml(path, "claims file")
    return validate(ClaimsDocument, document, path)


def validate(model: type[BaseModel], document: dict, path: str):
    """The model, or a ConfigError naming the file, the line where we can find it, the value and the fix."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise ConfigError(describe_error(error, path)) from error


def describe_error(error: ValidationError, path: str) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    value = first.get("input")
    line = _line_of(path, value if isinstance(value, str) else location.rsplit(".", 1)[-1])
    where = f"{path}:{line}" if line else path
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown key '{location}'; allowed keys are described in the README's Claims section"
    if kind == "missing":
        return f"{where}: '{location}' is required"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {location}: {message}" + ("" if isinstance(value, str | type(None)) else f" (got {value!r})")


def _line_of(path: str, needle: object) -> int | None:
    if not isinstance(needle, str) or not needle:
        return None
    try:
        for number, line in enumerate(open(path, encoding="utf-8"), start=1):
            if needle in line:
                return number
    except OSError:
        return None
    return None
