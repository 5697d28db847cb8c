"""Loading a profile's tree-sitter grammar and compiling its query files, once per process."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import tree_sitter

from settle.languages import LanguageProfile

# A pattern's role is the first of these capture names it contains; the
# extractor dispatches on it without looking at the match's other keys.
ROLES = (
    "definition",
    "scope",
    "decoration",
    "call",
    "write",
    "receiver",
    "arguments",
    "list",
    "import",
    "comment",
    "string",
    "block",
    "docstring",
)


@dataclass(frozen=True, eq=False)  # one per language, told apart by identity (its query subsets are a dict)
class Grammar:
    """A grammar and its queries, each compiled on first use: a process that never asks for one
    does not compile it (compiling Python's full query takes 16 ms, and a check that builds
    tables without references never runs it). The patterns' roles come from the query's text,
    split into patterns as tree-sitter splits it (`pattern_spans`)."""

    language: tree_sitter.Language
    name: str  # the profile's, for the error a broken query file raises
    source: str  # the full query: every pattern of the profile's query files
    roles: tuple[str, ...]  # role of each pattern, by pattern index
    definition_kinds: tuple[str | None, ...]  # the <kind> of @definition.<kind>, by pattern index
    subsets: dict[str, str]  # name of a subset query (the properties below) → its patterns' text
    # name of a subset a table can be collected with (`layout`) → (role, kind) of each of its patterns
    layouts: dict[str, tuple[tuple[str, ...], tuple[str | None, ...]]]

    @cached_property
    def query(self) -> tree_sitter.Query:
        """Every pattern: a table with its references."""
        return self._compiled(self.source)

    @cached_property
    def outline(self) -> tree_sitter.Query:
        """Only the patterns that place definitions (and decorations): where they are, not what they say."""
        return self._subset("outline")

    @cached_property
    def symbols(self) -> tree_sitter.Query:
        """Every pattern but calls, their arguments and string literals: a table without references."""
        return self._subset("symbols")

    @cached_property
    def structure(self) -> tree_sitter.Query:
        """`symbols` without blocks and docstrings, which only the definitions' hashes and
        docstrings read: where definitions are, their names and parameters, comments and imports,
        what the references to a few names are placed and scoped by (a third of Python's
        matches are blocks)."""
        return self._subset("structure")

    def layout(self, name: str) -> tuple[tree_sitter.Query, tuple[str, ...], tuple[str | None, ...]]:
        """(query, role of each pattern, definition kind of each pattern) of `full`, `symbols` or `structure`."""
        if name == "full":
            return self.query, self.roles, self.definition_kinds
        roles, kinds = self.layouts[name]
        return getattr(self, name), roles, kinds

    # One role each, for targeted extraction: run over small byte ranges of a tree (None: no such pattern).
    @cached_property
    def calls(self) -> tree_sitter.Query | None:
        return self._subset("call")

    @cached_property
    def arguments(self) -> tree_sitter.Query | None:
        return self._subset("arguments")

    @cached_property
    def strings(self) -> tree_sitter.Query | None:
        return self._subset("string")

    def _subset(self, name: str) -> tree_sitter.Query | None:
        text = self.subsets.get(name)
        return self._compiled(text) if text else None

    def _compiled(self, text: str) -> tree_sitter.Query:
        try:
            return tree_sitter.Query(self.language, text)
        except tree_sitter.QueryError as error:  # a broken query file is our bug, not the user's input
            raise RuntimeError(f"query files of {self.name} do not compile: {error}") from error

    def parser(self) -> tree_sitter.Parser:
        return tree_sitter.Parser(self.language)


# Patterns only references need: left out of the `symbols` query. A method's named receiver
# (Go's `func (s *T)`) is structure, like its parameters: every table has it.
_REFERENCE_ROLES = ("call", "write", "arguments", "string")
_HASHING_ROLES = ("block", "docstring")  # read only by definitions' hashes and docstrings: not in `structure`

_LOADED: dict[str, Grammar] = {}
_CAPTURE = re.compile(rb"@([\w.]+)")
# Comments and string literals of the query language, which may contain "@".
_COMMENT = re.compile(rb';[^\n]*|"(?:[^"\\]|\\.)*"')
# A query's tokens: spacing, a comment, a string, a capture, a bracket, anything else up to one of those.
_TOKEN = re.compile(rb'\s+|;[^\n]*|"(?:[^"\\]|\\.)*"|@[^\s()\[\]"@;]+|[()\[\]]|[^\s()\[\]";@]+')


def query_source(profile: LanguageProfile) -> str:
    """The profile's query files, in order: a bare name is in the profile's folder,
    `other/name.scm` is shared with another language (TypeScript reuses JavaScript's calls)."""
    # Beside the package's files, as a wheel and an editable install both lay them out;
    # importlib.resources would cost more at start-up than reading them (tempfile, shutil, …).
    root = Path(__file__).resolve().parent.parent / "grammars"
    return "\n".join(
        (root / name if "/" in name else root / profile.queries_path / name).read_text(encoding="utf-8")
        for name in profile.query_files
    )


def grammar_for(profile: LanguageProfile) -> Grammar:
    grammar = _LOADED.get(profile.name)
    if grammar is None:
        grammar = _LOADED[profile.name] = _load(profile)
    return grammar


def pattern_spans(source: bytes) -> list[tuple[int, int]]:
    """(start, end) bytes of each pattern of a query, in order, as tree-sitter numbers them and
    reports them (`Query.start_byte_for_pattern`, `end_byte_for_pattern`): a pattern starts with
    a bracket, a string or a wildcard at the top level (its quantifier and captures follow it)
    and ends where the next one starts. Found without compiling the query."""
    starts, depth = [], 0
    for match in _TOKEN.finditer(source):
        first = match.group()[:1]
        if first.isspace() or first in (b";", b"@"):
            continue
        if depth == 0 and first not in (b")", b"]") and match.group() not in (b"?", b"*", b"+"):
            starts.append(match.start())
        if first in (b"(", b"["):
            depth += 1
        elif first in (b")", b"]"):
            depth -= 1
    return list(zip(starts, [*starts[1:], len(source)]))


def _load(profile: LanguageProfile) -> Grammar:
    module = importlib.import_module(profile.grammar_module)
    language = tree_sitter.Language(getattr(module, profile.grammar_function)())
    full = query_source(profile)
    source = full.encode("utf-8")
    roles, kinds, placing, symbols = [], [], [], []
    by_role: dict[str, list[bytes]] = {role: [] for role in _REFERENCE_ROLES}
    for start, end in pattern_spans(source):
        text = source[start:end]
        names = [name.decode() for name in _CAPTURE.findall(_COMMENT.sub(b"", text))]
        kind = next((name.split(".", 1)[1] for name in names if name.startswith("definition.")), None)
        role = "definition" if kind else next((role for role in ROLES if role in names), None)
        if role is None:
            raise RuntimeError(f"a query pattern of {profile.name} has no role capture: {names}")
        roles.append(role)
        kinds.append(kind)
        if role in ("definition", "decoration"):
            placing.append(text)
        if role not in _REFERENCE_ROLES:
            symbols.append((text, role, kind))
        else:
            by_role[role].append(text)
    structure = [(text, role, kind) for text, role, kind in symbols if role not in _HASHING_ROLES]
    laid_out = {"symbols": symbols, "structure": structure}
    subsets = {"outline": b"\n".join(placing), **{name: b"\n".join(text for text, _, _ in patterns) for name, patterns in laid_out.items()},
               **{role: b"\n".join(texts) for role, texts in by_role.items()}}
    layouts = {name: (tuple(role for _, role, _ in patterns), tuple(kind for _, _, kind in patterns))
               for name, patterns in laid_out.items()}
    return Grammar(language, profile.name, full, tuple(roles), tuple(kinds),
                   {name: text.decode("utf-8") for name, text in subsets.items()}, layouts)
