"""Bytes of one file → SymbolTable, driven by the language profile's query captures.

Capture names are the whole interface between query files and this module:

  @definition.<kind>  @name  @parameters  @return_type  @body  @async  @qualifier
  @scope (a qualifying node that is not itself a symbol, e.g. `impl T`)
  @decoration @decorator @decorated
  @list with @parameter | @parameter.variadic | @parameter.keywords | @parameter.receiver,
        @parameter.name @parameter.type @parameter.default,
        @separator.positional_only @separator.keyword_only
  @call @call.callee @call.arguments @call.object
  @write @write.target (state an assignment writes)   @receiver @receiver.name (a method's named receiver)
  @arguments with @argument | @argument.keyword | @argument.spread | @argument.ignored
  @reference.name @reference.attribute @reference.ignore
  @import @import.module @import.name @import.alias
  @comment @block
  @docstring @docstring.owner (a string statement documenting its owner definition)
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

from settle.languages import LanguageProfile
from settle.parse.grammar import Grammar, grammar_for
from settle.parse.oracles import accepts
from settle.parse.model import (
    Definition,
    ImportBinding,
    NameUses,
    Parameter,
    ParameterKind,
    Reference,
    ReferenceKind,
    Signature,
    Span,
    SymbolKind,
    SymbolTable,
    TableStatus,
    references_by_name,
)

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_BINARY_PROBE = 8000  # git's own heuristic: a NUL in the first 8000 bytes means binary

Parse = Callable[[Grammar, bytes], "tree_sitter.Tree"]

_WHITESPACE = re.compile(rb"\s+")
# After collapsing whitespace, a space survives only between two word characters
# (`return x`), so `f(a, b)` and `f(a,b)` normalize alike. The pattern dropped is a space with
# a non-word byte on either side; it starts with the space itself, a literal the regex engine
# skips to. Lookarounds first tried at every byte cost twice as much, and marking the kept
# spaces to drop the rest with bytes.replace 1.8 times as much.
_SPARE_SPACE = re.compile(rb" (?:(?!\w)|(?<!\w ))")
_TEXT_WHITESPACE = re.compile(r"\s+")
_IDENTIFIER = rb"[A-Za-z_$][\w$]*"
_HEAD = re.compile(r"[A-Za-z_$][\w$]*")
_NEWLINE = re.compile(rb"\n")
_GENERIC_TAIL = re.compile(r"(?:::)?(?:<[^<>]*>|\[[^\[\]]*\])$")
_LAST_NAME = re.compile(r"[A-Za-z_$][\w$]*(?=\W*$)")

_PARAMETER_KINDS = {
    "parameter": ParameterKind.POSITIONAL_OR_KEYWORD,
    "parameter.variadic": ParameterKind.VAR_POSITIONAL,
    "parameter.keywords": ParameterKind.VAR_KEYWORD,
    "parameter.receiver": ParameterKind.RECEIVER,
}
_SHADOWED_DUPLICATES = frozenset({SymbolKind.VARIABLE, SymbolKind.CONSTANT, SymbolKind.FIELD})


def _fresh(grammar: Grammar, source: bytes):
    return grammar.parser().parse(source)


def classify_bytes(source: bytes, max_bytes: int = DEFAULT_MAX_BYTES, text: bool = True) -> TableStatus:
    """Whether source can be parsed; `text=False` leaves out the UTF-8 check, for a file no grammar
    reads (decoding a large non-ASCII document cost replay a few percent, to say nothing new)."""
    if len(source) > max_bytes:
        return TableStatus.OVERSIZED
    if b"\0" in source[:_BINARY_PROBE]:
        return TableStatus.BINARY
    if not text or source.isascii():
        return TableStatus.PARSED  # most code is; checking costs far less than decoding
    try:
        source.decode("utf-8")
    except UnicodeDecodeError:
        return TableStatus.UNDECODABLE
    return TableStatus.PARSED


def extract(source: bytes, path: str, profile: LanguageProfile | None, max_bytes: int = DEFAULT_MAX_BYTES,
            references: bool = True, parse: Parse | None = None) -> SymbolTable:
    """The symbol table of one file; never raises on odd bytes, it says what they were.

    With references=False the calls and name uses are left out and worked out (by a
    second traversal that builds only them) when the table's `references` are first read.
    parse(grammar, source) gives the tree (settle.parse.trees re-parses from an earlier
    version); by default each call parses afresh.
    """
    status = classify_bytes(source, max_bytes, text=profile is not None)
    if profile is None:
        status = TableStatus.UNSUPPORTED if status is TableStatus.PARSED else status
        return SymbolTable(path=path, language=None, status=status, size=len(source))
    if status is not TableStatus.PARSED:
        return SymbolTable(path=path, language=profile.name, status=status, size=len(source))
    return _Extraction(source, path, profile, references, parse).table()


def extraction(source: bytes, path: str, profile: LanguageProfile, references: bool = True,
               parse: Parse | None = None) -> tuple[SymbolTable, _Extraction]:
    """`extract` of bytes already classified as parseable, with the extraction it came from: its tree
    and structure answer `references_named` afterwards without a second traversal."""
    work = _Extraction(source, path, profile, references, parse)
    return work.table(), work


def references_named(source: bytes, path: str, profile: LanguageProfile, names, max_bytes: int = DEFAULT_MAX_BYTES,
                     parse: Parse | None = None) -> tuple[Reference, ...]:
    """The file's references whose name is one of `names` (what its full table holds, filtered), cheaply."""
    if classify_bytes(source, max_bytes) is not TableStatus.PARSED:
        return ()
    return _Extraction(source, path, profile, False, parse).references_named(frozenset(names))


@dataclass(slots=True)
class _PendingDefinition:
    node_start: int
    node_end: int
    start: int  # span start, decorators included
    kind: SymbolKind | None  # None for a qualifying @scope
    name: str
    start_line: int
    end_line: int
    body_start: int | None
    parameters_id: int | None = None
    returns: str | None = None
    is_async: bool = False
    qualifier: str | None = None
    decorators: tuple[str, ...] = ()
    header_start_line: int = 0
    header_end_line: int = 0
    parent: int | None = None  # index into the pending list
    children: list[int] = field(default_factory=list)
    qualname: str = ""


@dataclass(slots=True)
class _PendingParameter:
    start: int
    role: str
    name: str = ""
    annotation: str | None = None
    has_default: bool = False


@dataclass(slots=True)
class _ArgumentList:
    keywords: list = field(default_factory=list)
    not_positional: int = 0  # keyword, spread and ignored arguments
    spread: bool = False


@dataclass(slots=True)
class _Collected:
    """What one query traversal of a file found, before definitions or references are built."""

    ordered: list[_PendingDefinition] = field(default_factory=list)  # definitions and scopes, nested and qualified
    emitted: list[_PendingDefinition] = field(default_factory=list)  # those that become definitions
    parameters: dict[int, list[_PendingParameter]] = field(default_factory=dict)
    argument_lists: dict[int, _ArgumentList] = field(default_factory=dict)
    calls: list = field(default_factory=list)
    state: list = field(default_factory=list)  # (kind, node, named node) of @write matches
    receivers: list = field(default_factory=list)  # @receiver.name nodes
    imports: list[ImportBinding] = field(default_factory=list)
    strings: list[tuple[int, int]] = field(default_factory=list)
    comments: list[tuple[int, int]] = field(default_factory=list)
    blocks: list[tuple[int, int]] = field(default_factory=list)
    import_spans: list[tuple[int, int]] = field(default_factory=list)
    docstrings: dict[int, tuple[int, int]] = field(default_factory=dict)  # owner's start byte → lines
    _enclosing: _Enclosing | None = None

    def enclosing(self) -> _Enclosing:
        """Which definition holds a byte: worked out once, for references, receivers and targeted queries."""
        if self._enclosing is None:
            self._enclosing = _Enclosing([(d.start, d.node_end, d.qualname) for d in self.emitted])
        return self._enclosing


class _Extraction:
    def __init__(self, source: bytes, path: str, profile: LanguageProfile, references: bool = True,
                 parse: Parse | None = None):
        import tree_sitter

        self.source = source
        self.path = path
        self.profile = profile
        self.references = references
        self.layout = "full" if references else "symbols"  # the query `_collect` runs (Grammar.layout)
        self.parse = parse or _fresh
        self.grammar = grammar_for(profile)
        self.tree = self.parse(self.grammar, source)
        self.cursor = tree_sitter.QueryCursor
        self.import_spans: list[tuple[int, int]] = []
        self.found: _Collected | None = None  # kept by `table()`: targeted queries start from it
        self.docstrings: dict[int, tuple[int, int]] = {}

    def text(self, node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def table(self) -> SymbolTable:
        found = self.found = self._collect()
        texts = _NormalizedTexts(self.source, found.emitted, found.comments, found.blocks)
        self.docstrings = found.docstrings
        definitions = tuple(
            self._definition(definition, found.ordered, found.parameters, texts.header(index), texts.body(index))
            for index, definition in enumerate(found.emitted)
        )
        references = self._references(found) if self.references else None
        source, path, profile, parse = self.source, self.path, self.profile, self.parse
        return SymbolTable(
            path=self.path,
            language=self.profile.name,
            status=TableStatus.PARSED,
            definitions=definitions,
            _references=references,
            load_references=None if references is not None else lambda: _Extraction(source, path, profile, parse=parse).references_only(),
            imports=_sorted_imports(found.imports),
            receivers=self._receivers(found),
            syntax_errors=self._syntax_errors(),
            size=len(self.source),
            module_hash=_digest(texts.module) if texts.module else "",
        )

    def references_only(self) -> tuple[Reference, ...]:
        """The table's references without building its definitions (no hashes, no signatures)."""
        return self._references(self._collect())

    def _references(self, found: _Collected) -> tuple[Reference, ...]:
        enclosing = found.enclosing()
        references = self._calls(found.calls, found.argument_lists, enclosing)
        skipped = sorted(found.comments + found.strings + self.import_spans)
        references += self._uses(found.ordered, found.parameters, skipped)
        references += self._state(found.state, enclosing)
        references.sort(key=lambda r: (r.line, r.kind, r.text, r.positional, r.keywords))
        return tuple(references)

    def _receivers(self, found: _Collected) -> tuple[tuple[str, str], ...]:
        if not found.receivers:
            return ()
        enclosing = found.enclosing()
        named = {(enclosing.at(node.start_byte), self.text(node)) for node in found.receivers}
        return tuple(sorted((scope, name) for scope, name in named if scope is not None))

    def _collect(self) -> _Collected:
        """One query traversal: pending definitions nested and qualified, and everything else captured."""
        found = _Collected(import_spans=self.import_spans)
        pending: list[_PendingDefinition] = []
        decorations: dict[int, tuple[object, list[str]]] = {}
        query, roles, kinds = self.grammar.layout(self.layout)
        for pattern, captures in self.cursor(query).matches(self.tree.root_node):
            role = roles[pattern]
            if role == "call":
                found.calls.append(
                    (
                        captures["call"][0],
                        captures.get("call.object", (None,))[0],
                        captures["call.callee"][0],
                        captures["call.arguments"][0],
                        "call.single_argument" in captures,
                    )
                )
            elif role == "write":
                found.state.append((ReferenceKind.WRITE, captures["write"][0], captures["write.target"][0]))
            elif role == "receiver":
                found.receivers.append(captures["receiver.name"][0])
            elif role == "arguments":
                self._add_argument(captures, found.argument_lists)
            elif role == "list":
                self._add_parameter(captures, found.parameters)
            elif role == "comment":
                node = captures["comment"][0]
                found.comments.append((node.start_byte, node.end_byte))
            elif role == "string":
                node = captures["string"][0]
                found.strings.append((node.start_byte, node.end_byte))
            elif role == "block":
                node = captures["block"][0]
                found.blocks.append((node.start_byte, node.end_byte))
            elif role == "docstring":
                node = captures["docstring"][0]
                found.docstrings[captures["docstring.owner"][0].start_byte] = (node.start_point[0] + 1, node.end_point[0] + 1)
            elif role == "definition":
                kind = kinds[pattern]
                self._add_definition(_SYMBOL_KINDS[kind], captures["definition." + kind][0], captures, pending)
            elif role == "scope":
                self._add_definition(None, captures["scope"][0], captures, pending)
            elif role == "import":
                self._add_import(captures, found.imports)
            elif role == "decoration":
                self._add_decoration(captures, decorations)
        found.comments.sort()
        found.blocks.sort()
        for definition in pending:
            decoration = decorations.get(definition.node_start)
            if decoration is not None:
                node, decorators = decoration
                definition.start = node.start_byte
                definition.start_line = node.start_point[0] + 1
                definition.decorators = tuple(decorators)
        found.ordered = self._ordered(pending, found.parameters)
        found.emitted = [d for d in found.ordered if d.kind is not None and d.qualname]
        return found

    # -- structural matches ------------------------------------------------------------

    def _add_decoration(self, captures, decorations):
        decorated = captures["decorated"][0]
        _, found = decorations.setdefault(decorated.start_byte, (captures["decoration"][0], []))
        for decorator in captures.get("decorator", ()):
            text = _TEXT_WHITESPACE.sub("", self.text(decorator)).lstrip("@")
            if text not in found:
                found.append(text)

    def _add_import(self, captures, imports):
        statement = captures["import"][0]
        self.import_spans.append((statement.start_byte, statement.end_byte))
        module = self.text(captures["import.module"][0]) if "import.module" in captures else ""
        name = self.text(captures["import.name"][0]) if "import.name" in captures else None
        alias = self.text(captures["import.alias"][0]) if "import.alias" in captures else None
        if name == ".":
            name = "*"  # a dot import (Go) makes every exported name local
        local = alias or name or module
        separator = self.profile.import_path_separator
        if not alias and not name and separator:
            local = module.rsplit(separator, 1)[-1]
        imports.append(ImportBinding(local=local, module=module, name=name, line=statement.start_point[0] + 1))

    def _add_definition(self, kind, node, captures, pending):
        name_nodes = captures.get("name")
        if not name_nodes:
            return
        name = self.text(name_nodes[0])
        if kind is not None and name in self.profile.blank_names:
            return  # its text stays the module's
        body = captures.get("body")
        parameters_node = captures.get("parameters")
        returns = captures.get("return_type")
        qualifier = captures.get("qualifier")
        pending.append(
            _PendingDefinition(
                node_start=node.start_byte,
                node_end=node.end_byte,
                start=node.start_byte,
                kind=kind,
                name=name,
                start_line=node.start_point[0] + 1,
                end_line=node.end_point[0] + 1,
                body_start=body[0].start_byte if body else None,
                parameters_id=parameters_node[0].id if parameters_node else None,
                returns=_TEXT_WHITESPACE.sub(" ", self.text(returns[0])) if returns else None,
                is_async="async" in captures,
                qualifier=self.text(qualifier[0]) if qualifier else None,
                header_end_line=(body[0].start_point[0] + 1) if body else node.end_point[0] + 1,
            )
        )

    def _add_parameter(self, captures, parameters):
        owner = captures["list"][0].id
        for role in ("separator.positional_only", "separator.keyword_only"):
            if role in captures:
                parameters.setdefault(owner, []).append(_PendingParameter(captures[role][0].start_byte, role))
                return
        for role in _PARAMETER_KINDS:
            if role in captures:
                node = captures[role][0]
                name = captures.get("parameter.name")
                annotation = captures.get("parameter.type")
                parameters.setdefault(owner, []).append(
                    _PendingParameter(
                        start=node.start_byte,
                        role=role,
                        name=self.text(name[0]) if name else "",
                        annotation=_TEXT_WHITESPACE.sub("", self.text(annotation[0])) if annotation else None,
                        has_default="parameter.default" in captures,
                    )
                )
                return

    def _add_argument(self, captures, argument_lists):
        shape = argument_lists.setdefault(captures["arguments"][0].id, _ArgumentList())
        if "argument.keyword" in captures:
            shape.keywords.append(self.text(captures["argument.keyword"][0]))
            shape.not_positional += 1
        if "argument.spread" in captures:
            shape.spread = True
            shape.not_positional += 1
        if "argument.ignored" in captures:
            shape.not_positional += 1


    def _ordered(self, pending, parameters) -> list[_PendingDefinition]:
        """Definitions and scopes in source order, nested and qualified."""
        # Several patterns may capture one node under one name; keep one, the
        # callable one when there is a choice (`const f = () => ...` is a function).
        unique: dict[tuple, _PendingDefinition] = {}
        for definition in pending:
            key = (definition.node_start, definition.node_end, definition.name)
            kept = unique.get(key)
            if kept is None or (kept.parameters_id is None and definition.parameters_id is not None):
                unique[key] = definition
        ordered = sorted(unique.values(), key=lambda d: (d.start, -d.node_end))
        self._nest(ordered)
        self._qualify(ordered, parameters)
        return ordered

    @staticmethod
    def _nest(ordered: list[_PendingDefinition]) -> None:
        stack: list[int] = []
        for index, definition in enumerate(ordered):
            # Equal spans (`a, b int` declares two fields on one node) are siblings, not nested.
            while stack and (
                ordered[stack[-1]].node_end <= definition.start
                or (ordered[stack[-1]].start, ordered[stack[-1]].node_end) == (definition.start, definition.node_end)
            ):
                stack.pop()
            if stack:
                definition.parent = stack[-1]
                ordered[stack[-1]].children.append(index)
            stack.append(index)

    def _qualify(self, ordered, parameters) -> None:
        profile = self.profile
        siblings: dict[tuple, int] = {}
        for definition in ordered:
            definition.kind = self._effective_kind(definition, ordered)
            key = (definition.parent, definition.qualifier, definition.name)
            siblings[key] = siblings.get(key, 0) + 1
        seen: dict[str, int] = {}
        for definition in ordered:
            parent = ordered[definition.parent] if definition.parent is not None else None
            if parent is not None and not parent.qualname:
                continue  # inside a dropped duplicate
            prefix = definition.qualifier or (parent.qualname if parent is not None else "")
            qualname = f"{prefix}.{definition.name}" if prefix else definition.name
            if definition.kind is None:  # `impl T` qualifies; it is not a second T
                definition.qualname = qualname
                continue
            overloaded = siblings[(definition.parent, definition.qualifier, definition.name)] > 1
            if overloaded and profile.overloads and definition.parameters_id is not None:
                types = [
                    p.annotation or "?"
                    for p in self._parameter_list(definition, parameters)
                    if p.kind is not ParameterKind.RECEIVER
                ]
                qualname += "(" + ",".join(types) + ")"
            count = seen.get(qualname, 0) + 1
            seen[qualname] = count
            if count > 1:
                if definition.kind in _SHADOWED_DUPLICATES:
                    continue  # a re-assignment, not a new symbol
                qualname = f"{qualname}@{count}"
            definition.qualname = qualname

    def _effective_kind(self, definition, ordered) -> SymbolKind | None:
        kind = definition.kind
        if kind is None:
            return None
        parent = ordered[definition.parent] if definition.parent is not None else None
        in_container = definition.qualifier is not None or (
            parent is not None and (parent.kind is None or parent.kind in self.profile.container_kinds)
        )
        if in_container:
            kind = self.profile.member_kinds.get(kind, kind)
        if (
            kind is SymbolKind.VARIABLE
            and self.profile.uppercase_constants
            and definition.name.isupper()
        ):
            kind = SymbolKind.CONSTANT
        return kind

    def _parameter_list(self, definition, parameters) -> tuple[Parameter, ...]:
        pending = sorted(parameters.get(definition.parameters_id, ()), key=lambda p: p.start)
        result: list[Parameter] = []
        keyword_only = False
        for item in pending:
            if item.role == "separator.positional_only":
                result = [
                    Parameter(p.name, ParameterKind.POSITIONAL_ONLY, p.has_default, p.annotation)
                    if p.kind is ParameterKind.POSITIONAL_OR_KEYWORD
                    else p
                    for p in result
                ]
                continue
            if item.role == "separator.keyword_only":
                keyword_only = True
                continue
            kind = _PARAMETER_KINDS[item.role]
            if kind is ParameterKind.VAR_POSITIONAL:
                keyword_only = True
            elif kind is ParameterKind.POSITIONAL_OR_KEYWORD and keyword_only:
                kind = ParameterKind.KEYWORD_ONLY
            result.append(Parameter(item.name, kind, item.has_default, item.annotation))
        if (
            self.profile.first_parameter_is_receiver
            and definition.kind is SymbolKind.METHOD
            and result
            and result[0].kind in (ParameterKind.POSITIONAL_OR_KEYWORD, ParameterKind.POSITIONAL_ONLY)
            and not any(_decorator_name(d) in self.profile.receiverless_decorators for d in definition.decorators)
        ):
            first = result[0]
            result[0] = Parameter(first.name, ParameterKind.RECEIVER, first.has_default, first.annotation)
        return tuple(result)

    def _definition(self, definition, ordered, parameters, header_text: bytes, body_text: bytes) -> Definition:
        header_end = definition.body_start if definition.body_start is not None else definition.node_end
        signature = None
        if definition.parameters_id is not None:
            signature = Signature(
                parameters=self._parameter_list(definition, parameters),
                returns=definition.returns,
                decorators=definition.decorators,
                is_async=definition.is_async,
            )
        parent = ordered[definition.parent] if definition.parent is not None else None
        return Definition(
            id=f"{self.path}::{definition.qualname}",
            qualname=definition.qualname,
            name=definition.name,
            kind=definition.kind,
            span=Span(definition.start, definition.node_end, definition.start_line, definition.end_line),
            header=Span(definition.start, header_end, definition.start_line, definition.header_end_line),
            signature=signature,
            header_hash=_digest(header_text),
            body_hash=_digest(body_text),
            # A receiver-qualified method (`func (s *Store) Get`) belongs to its receiver type.
            parent=definition.qualifier or (parent.qualname if parent is not None else None),
            docstring=self.docstrings.get(definition.node_start),
        )

    # -- references ----------------------------------------------------------------

    def _calls(self, calls, argument_lists, enclosing) -> list[Reference]:
        references = []
        for call, receiver, callee, arguments, single in calls:
            text = _compact(self.text(callee))
            if receiver is not None:  # grammars that keep `obj` and `m` of `obj.m(...)` apart
                text = f"{_compact(self.text(receiver))}.{text}"
            shape = argument_lists.get(arguments.id) or _ArgumentList()
            # named_child_count includes comments: a query captures those as
            # @argument.ignored where a grammar lets them sit between arguments.
            positional = 1 if single else arguments.named_child_count - shape.not_positional
            references.append(
                Reference(
                    kind=ReferenceKind.CALL,
                    text=text,
                    name=_last_name(text),
                    line=call.start_point[0] + 1,
                    scope=enclosing.at(call.start_byte),
                    positional=positional,
                    keywords=tuple(shape.keywords),
                    spread=shape.spread,
                )
            )
        return references

    def _state(self, state, enclosing) -> list[Reference]:
        references = []
        for kind, node, target in state:
            text = _compact(self.text(target))
            references.append(Reference(kind, text, _last_name(text), node.start_point[0] + 1, enclosing.at(target.start_byte)))
        return references

    def _uses(self, ordered, parameters, skipped) -> list[Reference]:
        """Name and attribute-chain uses, one per (text, scope), from each scope's own text.

        A symbol's own text excludes nested definitions, comments, string literals
        and imports; its own name and its parameters are locals, not uses.
        """
        chain = _chain_pattern(self.profile.reference_separators)
        # A chain through the receiver (`self.x`, `this.x`) uses no symbol, but it reads the
        # object's state: kept apart as a READ, for interference.
        receivers = frozenset(self.profile.self_names)
        keywords = self.profile.keywords - receivers
        lines = _LineIndex(self.source)
        scopes = self._scopes(ordered, parameters)
        references = []
        source = self.source
        # The same chain recurs in many scopes: its text, head and name are worked out once.
        described: dict[bytes, tuple | None] = {}
        for qualname, start, end, children, local in scopes:
            holes = skipped[bisect_left(skipped, (start, -1)) : bisect_left(skipped, (end, -1))]
            holes = sorted(holes + [(c.start, c.node_end) for c in children]) + [(end, end)]
            found = _first_uses(chain, source, start, holes)
            for raw, position in found.items():
                description = described.get(raw, False)
                if description is False:
                    description = described[raw] = _describe_chain(raw, keywords)
                if description is None:
                    continue
                text, head, kind, name = description
                if head in receivers:
                    if kind is ReferenceKind.ATTRIBUTE:
                        references.append(Reference(ReferenceKind.READ, text, name, lines.line(position), qualname))
                    continue
                if head in local:
                    continue
                references.append(Reference(kind, text, name, lines.line(position), qualname))
        return references

    def _scopes(self, ordered, parameters) -> list[tuple]:
        """(qualname, start, end, children, locals) of the module and of every emitted definition."""
        scopes = [(None, 0, len(self.source), [d for d in ordered if d.parent is None], frozenset())]
        for definition in ordered:
            if definition.kind is None or not definition.qualname:
                continue
            children = [ordered[child] for child in definition.children]
            local = {definition.name}
            local.update(p.name for p in parameters.get(definition.parameters_id, ()) if p.name)
            scopes.append((definition.qualname, definition.start, definition.node_end, children, local))
        return scopes

    # -- targeted: the references to a few names -------------------------------------

    def references_named(self, names: frozenset[str], found: _Collected | None = None) -> tuple[Reference, ...]:
        """The references whose name is one of `names`, equal to the full table's filtered to them.

        What the full extraction does for the whole file is done here only around the places
        that spell a name: the calls over them, the argument lists of those calls, and the
        string literals of the stretch of text each lies in (small byte ranges of the tree).
        The structure (definitions, scopes, parameters, comments, imports) comes from `found`
        when the table was just built from the same tree, else from one symbols traversal.
        """
        hits = _places(self.source, names)
        if not hits:
            return ()
        if found is None:
            self.layout = "structure"
            found = self.found = self._collect()
        enclosing = found.enclosing()
        calls, argument_lists = self._calls_over(hits, names)
        references = self._calls(calls, argument_lists, enclosing)
        references += self._uses_named(found, hits, names)
        references.sort(key=lambda r: (r.line, r.kind, r.text, r.positional, r.keywords))
        return tuple(references)

    def name_uses(self, names: frozenset[str]) -> NameUses:
        """The file's `NameUses` of `names`, from one traversal of the structure query: no
        definition is built, no hash worked out (or from the table's traversal, when one was made)."""
        found = self.found
        if found is None:
            self.layout = "structure"
            found = self.found = self._collect()
        return NameUses(self.path, _sorted_imports(found.imports), frozenset(d.name for d in found.emitted),
                        references_by_name(self.references_named(names, found), names))

    def _ranged(self, query, start: int, end: int):
        cursor = self.cursor(query)
        cursor.set_byte_range(start, end)
        return cursor.matches(self.tree.root_node)

    def _calls_over(self, hits, names) -> tuple[list, dict[int, _ArgumentList]]:
        """The call matches whose callee text names one of `names` (each over a hit), with their argument shapes."""
        grammar = self.grammar
        calls, seen = [], set()
        if grammar.calls is None:
            return calls, {}
        for start, end in hits:
            for pattern, captures in self._ranged(grammar.calls, start, end):
                call, callee = captures["call"][0], captures["call.callee"][0]
                receiver = captures.get("call.object", (None,))[0]
                key = (pattern, call.id, callee.id, receiver.id if receiver is not None else None)
                if key in seen:
                    continue
                seen.add(key)
                text = _compact(self.text(callee))
                if receiver is not None:
                    text = f"{_compact(self.text(receiver))}.{text}"
                if _last_name(text) in names:
                    calls.append((call, receiver, callee, captures["call.arguments"][0], "call.single_argument" in captures))
        calls.sort(key=lambda c: c[0].start_byte)
        argument_lists: dict[int, _ArgumentList] = {}
        if grammar.arguments is not None:
            for _, _, _, arguments, _ in calls:
                if arguments.id in argument_lists:
                    continue
                mine: dict[int, _ArgumentList] = {}
                for _, captures in self._ranged(grammar.arguments, arguments.start_byte, arguments.end_byte):
                    if captures["arguments"][0].id == arguments.id:
                        self._add_argument(captures, mine)
                argument_lists[arguments.id] = mine.get(arguments.id) or _ArgumentList()
        return calls, argument_lists

    def _uses_named(self, found: _Collected, hits, names) -> list[Reference]:
        """`_uses` restricted to the stretches of scope text that hold a hit: the same stretches, since
        every hole but string literals is known, and the strings of those stretches are looked up."""
        chain = _chain_pattern(self.profile.reference_separators)
        keywords = self.profile.keywords
        source = self.source
        lines = _LineIndex(source)
        known = sorted(found.comments + found.import_spans)
        hit_starts = [start for start, _ in hits]
        strings_cache: dict[tuple[int, int], list] = {}
        references = []
        described: dict[bytes, tuple | None] = {}
        for qualname, start, end, children, local in self._scopes(found.ordered, found.parameters):
            first, last = bisect_left(hit_starts, start), bisect_left(hit_starts, end)
            if first == last:
                continue
            children_spans = sorted((c.start, c.node_end) for c in children)
            covered = _Covered(children_spans)
            own = [position for position in hit_starts[first:last] if not covered(position)]
            if not own:
                continue
            holes = known[bisect_left(known, (start, -1)) : bisect_left(known, (end, -1))]
            holes = sorted(holes + children_spans)
            strings = self._strings_near(holes, own, start, end, strings_cache)
            holes = sorted(holes + strings) + [(end, end)]
            found_uses = _first_uses(chain, source, start, holes, hit_starts)
            for raw, position in found_uses.items():
                description = described.get(raw, False)
                if description is False:
                    description = described[raw] = _describe_chain(raw, keywords)
                if description is None or description[1] in local or description[3] not in names:
                    continue
                text, head, kind, name = description
                references.append(Reference(kind, text, name, lines.line(position), qualname))
        return references

    def _strings_near(self, holes, positions, start: int, end: int, cache) -> list[tuple[int, int]]:
        """String literals starting in [start, end) that lie in the gaps between `holes` holding `positions`."""
        query = self.grammar.strings
        if query is None:
            return []
        ends = [hole_end for _, hole_end in holes]
        running = []  # the furthest end so far: holes may nest
        furthest = start
        for hole_end in ends:
            furthest = max(furthest, hole_end)
            running.append(furthest)
        strings = set()
        for position in positions:
            index = bisect_left([s for s, _ in holes], position + 1)  # holes starting at or before position
            gap_start = running[index - 1] if index else start
            gap_end = holes[index][0] if index < len(holes) else end
            gap = (gap_start, gap_end)
            if gap not in cache:
                cache[gap] = [(node.start_byte, node.end_byte) for _, captures in self._ranged(query, gap_start, max(gap_end, gap_start + 1))
                              for node in (captures["string"][0],)]
            strings.update(span for span in cache[gap] if start <= span[0] < end)
        return sorted(strings)

    def _syntax_errors(self) -> tuple[int, ...]:
        return syntax_error_lines(self.tree, self.source, self.profile)


def _sorted_imports(imports: list[ImportBinding]) -> tuple[ImportBinding, ...]:
    return tuple(sorted(set(imports), key=lambda i: (i.line, i.local, i.module, i.name or "")))


def syntax_error_lines(tree, source: bytes, profile: LanguageProfile) -> tuple[int, ...]:
    """Lines of ERROR / MISSING nodes, unless the profile's syntax oracle accepts the file."""
    root = tree.root_node
    if not root.has_error:
        return ()
    if profile.syntax_oracle and accepts(profile.syntax_oracle, source):
        return ()  # a gap in the tree-sitter grammar, not in the file
    lines = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            lines.add(node.start_point[0] + 1)
        stack.extend(child for child in node.children if child.has_error or child.is_missing)
    return tuple(sorted(lines))


def syntax_error_texts(source: bytes, profile: LanguageProfile) -> tuple[tuple[int, str], ...]:
    """(line, text) of each ERROR / MISSING node, the text its first line whitespace-collapsed (a
    MISSING node has no text: `missing <kind>`); empty when the tree is clean or the profile's oracle accepts the file.
    Asked only of files that have errors, so it parses afresh."""
    tree = _fresh(grammar_for(profile), source)
    if not syntax_error_lines(tree, source, profile):
        return ()
    found = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            found.add((node.start_point[0] + 1, f"missing {node.type}"))
        elif node.is_error:
            # Its first line: error recovery can swallow the rest of the file, and an edit
            # further down must not make an old construct look new.
            first_line = source[node.start_byte:node.end_byte].split(b"\n", 1)[0]
            found.add((node.start_point[0] + 1, " ".join(first_line.decode("utf-8", "replace").split())[:_ERROR_TEXT]))
        stack.extend(child for child in node.children if child.has_error or child.is_missing)
    return tuple(sorted(found))


_ERROR_TEXT = 200


def definition_spans(source: bytes, profile: LanguageProfile, max_bytes: int = DEFAULT_MAX_BYTES,
                     parse: Parse | None = None) -> tuple[tuple[int, int], ...] | None:
    """Line spans (1-based, inclusive) of the file's definitions, decorators included, from a parse
    and a definitions-only query: where symbols are, at a fraction of a full extraction's cost.
    None when the bytes are not parseable text."""
    import tree_sitter

    if classify_bytes(source, max_bytes) is not TableStatus.PARSED:
        return None
    grammar = grammar_for(profile)
    tree = (parse or _fresh)(grammar, source)
    spans = set()
    for _, captures in tree_sitter.QueryCursor(grammar.outline).matches(tree.root_node):
        for name, nodes in captures.items():
            if name.startswith("definition.") or name == "decoration":
                spans.add((nodes[0].start_point[0] + 1, nodes[0].end_point[0] + 1))
    return tuple(sorted(spans))


def definition_names(source: bytes, profile: LanguageProfile, max_bytes: int = DEFAULT_MAX_BYTES,
                     parse: Parse | None = None) -> frozenset[str] | None:
    """The names the file's definition patterns capture, from a parse and the definitions-only
    query: every name its table's definitions have (and maybe a few more), for a fraction of
    the table's cost. None when the bytes are not parseable text."""
    import tree_sitter

    if classify_bytes(source, max_bytes) is not TableStatus.PARSED:
        return None
    grammar = grammar_for(profile)
    tree = (parse or _fresh)(grammar, source)
    return frozenset(source[node.start_byte : node.end_byte].decode("utf-8", "replace")
                     for _, captures in tree_sitter.QueryCursor(grammar.outline).matches(tree.root_node)
                     for node in captures.get("name", ()))


def syntax_errors_only(source: bytes, profile: LanguageProfile, max_bytes: int = DEFAULT_MAX_BYTES,
                       parse: Parse | None = None) -> tuple[int, ...] | None:
    """Syntax error lines from a parse alone (no extraction); None when the bytes are not parseable text."""
    if classify_bytes(source, max_bytes) is not TableStatus.PARSED:
        return None
    return syntax_error_lines((parse or _fresh)(grammar_for(profile), source), source, profile)


_OPEN, _BODY, _CLOSE, _MARK, _CUT = range(5)
_SENTINEL = b"\xff"  # never in UTF-8 text, so it can stand for a boundary between symbols


class _NormalizedTexts:
    """Header and body text of every definition, and the module-level text, normalized in one pass.

    Comments are dropped, block boundaries become `{` `}` markers, whitespace
    collapses to the essential spaces (`_without_spacing`). A definition's body is its own
    text: nested definitions are cut out and hashed on their own, so adding a
    method does not edit its class. The file is normalized once with a
    sentinel at every definition boundary and then split, which costs a few C
    calls per file instead of a few Python calls per definition.
    """

    def __init__(self, source: bytes, emitted: list[_PendingDefinition], comments, blocks):
        events = []
        sequence = 0
        # At one position, closings come before openings; inner closes first and
        # outer opens first; a block whose span equals a definition's holds it,
        # while a definition's body holds its own block.
        for index, definition in enumerate(emitted):
            events.append((definition.start, 1, -definition.node_end, 2, sequence, _OPEN, index))
            if definition.body_start is not None:
                events.append((definition.body_start, 1, -definition.node_end, 0, sequence + 1, _BODY, index))
            events.append((definition.node_end, 0, -definition.start, -2, sequence + 2, _CLOSE, index))
            sequence += 3
        for block_start, block_end in blocks:
            events.append((block_start, 1, -block_end, 1, sequence, _MARK, b"{"))
            events.append((block_end, 0, -block_start, -1, sequence + 1, _MARK, b"}"))
            sequence += 2
        for comment_start, comment_end in comments:
            events.append((comment_start, 1, 0, 0, sequence, _CUT, comment_end))
            sequence += 1
        events.sort()
        chunks: list[bytes] = []
        boundaries: list[tuple[int, int]] = []
        cursor = 0
        for position, _, _, _, _, kind, payload in events:
            if position > cursor:
                chunks.append(source[cursor:position])
                cursor = position
            if kind == _CUT:
                cursor = max(cursor, payload)
            elif kind == _MARK:
                chunks.append(payload)
            else:
                chunks.append(_SENTINEL)
                boundaries.append((kind, payload))
        chunks.append(source[cursor:])
        # The sentinel is a non-word byte, so the spaces beside it go too: segments come out stripped.
        segments = _without_spacing(b" ".join(b"".join(chunks).split())).split(_SENTINEL)
        # Segment k + 1 follows boundary k; it belongs to the innermost open definition.
        self.segments = segments
        self.opened = [0] * len(emitted)
        self.header_end = [0] * len(emitted)
        owned: list[list[bytes]] = [[] for _ in emitted]  # own text after the body starts (all of it without a body)
        module = [segments[0]]
        stack: list[int] = []
        for number, (kind, index) in enumerate(boundaries):
            if kind == _OPEN:
                stack.append(index)
                self.opened[index] = number
                self.header_end[index] = number  # until a body boundary says otherwise
            elif kind == _BODY:
                self.header_end[index] = number
                owned[index] = []  # the header's own text is in the header hash
            else:
                if self.header_end[index] == self.opened[index]:
                    self.header_end[index] = number  # no body: the header is the whole definition
                stack.pop()
            segment = segments[number + 1]
            if segment:
                (owned[stack[-1]] if stack else module).append(segment)
        self.owned = owned
        self.module = b" ".join(module).strip()

    def header(self, index: int) -> bytes:
        return b" ".join(s for s in self.segments[self.opened[index] + 1 : self.header_end[index] + 1] if s)

    def body(self, index: int) -> bytes:
        return b" ".join(self.owned[index])


def _without_spacing(text: bytes) -> bytes:
    """Text whose whitespace is single spaces, without the spaces that are not between two word bytes."""
    return _SPARE_SPACE.sub(b"", text)


class _Enclosing:
    """Answers "which definition encloses this byte" for positions asked in any order."""

    def __init__(self, scopes):
        self.scopes = sorted(scopes, key=lambda s: (s[0], -s[1]))
        self.starts = [s[0] for s in self.scopes]
        self.parents: list[int | None] = []
        stack: list[int] = []
        for index, (start, _, _) in enumerate(self.scopes):
            while stack and self.scopes[stack[-1]][1] <= start:
                stack.pop()
            self.parents.append(stack[-1] if stack else None)
            stack.append(index)

    def at(self, position: int) -> str | None:
        index: int | None = bisect_left(self.starts, position + 1) - 1
        # Spans nest, so a scope that starts before the position but ends before
        # it can only be inside the one we want: climb to its parent.
        while index is not None and index >= 0:
            start, end, qualname = self.scopes[index]
            if start <= position < end:
                return qualname
            index = self.parents[index]
        return None


class _LineIndex:
    def __init__(self, source: bytes):
        self.newlines = [match.start() for match in _NEWLINE.finditer(source)]

    def line(self, position: int) -> int:
        return bisect_left(self.newlines, position) + 1


@lru_cache(maxsize=None)
def _chain_pattern(separators: tuple[str, ...]) -> re.Pattern[bytes]:
    joiner = b"|".join(re.escape(separator.encode()) for separator in separators)
    return re.compile(rb"(?<![\w$])" + _IDENTIFIER + rb"(?:\s*(?:" + joiner + rb")\s*" + _IDENTIFIER + rb")*")


def _describe_chain(raw: bytes, keywords: frozenset[str]) -> tuple[str, str, ReferenceKind, str] | None:
    """(text, head, kind, name) of an identifier chain as a use, or None when it starts with a keyword."""
    text = raw.decode("utf-8", "replace")
    if not text.isidentifier():
        text = _compact(text)
    head = _HEAD.match(text).group()
    if head in keywords:
        return None
    return text, head, ReferenceKind.NAME if head == text else ReferenceKind.ATTRIBUTE, _last_name(text)


def _places(source: bytes, names) -> list[tuple[int, int]]:
    """Every (start, end) where a name's bytes occur, inside longer words too, overlapping or not: a string
    literal's hole can cut a word (`\\nGot` leaves `n` between two string contents), so word boundaries
    would miss uses. bytes.find, not a regex: it skips through a file at memchr speed."""
    places = []
    for name in names:
        needle = name.encode("utf-8")
        if not needle:
            continue
        position = source.find(needle)
        while position >= 0:
            places.append((position, position + len(needle)))
            position = source.find(needle, position + 1)
    places.sort()
    return places


class _Covered:
    """Is a position inside one of spans (sorted by start; nested or not)? The spans starting at or
    before it hold it where the furthest of their ends is past it: a bisection, not a scan (a
    module scope has hundreds of children and the hits in it were each tested against them all)."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = spans
        self.furthest = list(accumulate((end for _, end in spans), max))

    def __call__(self, position: int) -> bool:
        index = bisect_left(self.spans, (position + 1, -1))
        return index > 0 and self.furthest[index - 1] > position


def _first_uses(chain, source: bytes, start: int, holes: list[tuple[int, int]],
                hits: list[int] | None = None) -> dict[bytes, int]:
    """Each distinct chain in source[start:] outside the holes, with its first position; with
    hits (sorted positions), only in the stretches between holes that hold one of them."""
    found: dict[bytes, int] = {}
    cursor = start
    for hole_start, hole_end in holes:
        if hole_start > cursor and (hits is None or _any_between(hits, cursor, hole_start)):
            # findall is much cheaper than finditer; the position of the
            # first use is looked up for unique chains only.
            for raw in dict.fromkeys(chain.findall(source, cursor, hole_start)):
                if raw not in found:
                    found[raw] = source.find(raw, cursor, hole_start)
        cursor = max(cursor, hole_end)
    return found


def _any_between(sorted_positions: list[int], start: int, end: int) -> bool:
    index = bisect_left(sorted_positions, start)
    return index < len(sorted_positions) and sorted_positions[index] < end


# A dictionary, not `SymbolKind(kind)`: an Enum call per definition was 2% of a cold replay.
_SYMBOL_KINDS = {kind.value: kind for kind in SymbolKind}


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _compact(text: str) -> str:
    """The text without whitespace (`obj .\n m` → `obj.m`); most texts have none."""
    return "".join(text.split()) if " " in text or "\n" in text or "\t" in text else text


def _last_name(text: str) -> str:
    if text.isascii() and text.isidentifier():
        return text  # most are one plain name: what the search below would find, at a fraction of it
    # Generic arguments are not the name: `parse::<i32>` → parse, `New[int]` → New.
    while text and text[-1] in ">]" and (cut := _GENERIC_TAIL.search(text)):
        text = text[: cut.start()]
    match = _LAST_NAME.search(text)
    return match.group(0) if match else text


def _decorator_name(decorator: str) -> str:
    return decorator.split("(", 1)[0].rsplit(".", 1)[-1]
