"""Claim patterns: what a claims file's strings mean, and what they match. No pydantic here:
the failure memory reads claims on a path where importing the validating models costs more
than the rest of the command (settle.bind.claims loads and validates whole files).

A pattern is a path glob, optionally followed by `::` and a qualified name or
name glob: `src/**/*.py`, `src/a.py::Client.send` (that symbol and everything
nested in it, and its overloads), `src/a.py::Client.*` (its members),
`src/a.py::handle_*`, `src/B.java::B.run(int,String)` (one overload).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from pathlib import Path

from settle.errors import ConfigError

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


@dataclass(frozen=True)
class ClaimPatterns:
    """A claims file's patterns by operation (what `ClaimSet` holds, without its model)."""

    create: tuple[str, ...] = ()
    edit: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    read: tuple[str, ...] | None = None  # absent: reads are not restricted

    def patterns(self, operation: str) -> list[Pattern]:
        return [parse_pattern(text) for text in (getattr(self, operation) or ())]


_DOCUMENT_KEYS = frozenset({"candidate", "claims"})


def plain_claims(path: str) -> ClaimPatterns | None:
    """The claims of a file that is plainly well formed, read without the validating models; None
    for anything else (a missing file, bad TOML, an unknown key, a wrong type, a bad pattern),
    which `settle.bind.claims.load_claims` then refuses with its full message."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    candidate = document.get("candidate")
    claims = document.get("claims", {})
    if not (document.keys() <= _DOCUMENT_KEYS and (candidate is None or isinstance(candidate, str) and candidate)
            and isinstance(claims, dict) and claims.keys() <= set(OPERATIONS)):
        return None
    lists = {}
    for operation, values in claims.items():
        if not (isinstance(values, list) and all(isinstance(value, str) for value in values)):
            return None
        try:
            for value in values:
                parse_pattern(value)
        except PatternError:
            return None
        lists[operation] = tuple(values)
    return ClaimPatterns(**lists)
