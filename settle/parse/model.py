"""What the parser layer produces: symbol tables made of plain immutable values.

The model knows nothing about tree-sitter or git; the extractor fills it and the
differ reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class SymbolKind(StrEnum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    METHOD = "method"
    VARIABLE = "variable"
    CONSTANT = "constant"
    TYPE = "type"
    INTERFACE = "interface"
    STRUCT = "struct"
    ENUM = "enum"
    TRAIT = "trait"
    FIELD = "field"


CALLABLE_KINDS = frozenset({SymbolKind.FUNCTION, SymbolKind.METHOD})


class ParameterKind(StrEnum):
    POSITIONAL_ONLY = "positional_only"
    POSITIONAL_OR_KEYWORD = "positional_or_keyword"
    VAR_POSITIONAL = "var_positional"
    KEYWORD_ONLY = "keyword_only"
    VAR_KEYWORD = "var_keyword"
    # self / cls / &self: bound implicitly when called through an instance.
    RECEIVER = "receiver"


class TableStatus(StrEnum):
    PARSED = "parsed"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    OVERSIZED = "oversized"
    UNSUPPORTED = "unsupported"


class ReferenceKind(StrEnum):
    CALL = "call"
    NAME = "name"
    ATTRIBUTE = "attribute"
    # State, kept apart from the uses above (`SymbolTable.state`): an assignment's target
    # (`self.x`, `this.x`, `s.x`, a module variable).
    WRITE = "write"
    READ = "read"  # a chain through the receiver (`self.x`, `this.x`): not a use of any symbol


_STATE_KINDS = frozenset({ReferenceKind.WRITE, ReferenceKind.READ})


@dataclass(frozen=True, slots=True)
class Span:
    start_byte: int
    end_byte: int
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive

    def contains_line(self, line: int) -> bool:
        return self.start_line <= line <= self.end_line


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    kind: ParameterKind
    has_default: bool = False
    annotation: str | None = None

    def render(self) -> str:
        prefix = {ParameterKind.VAR_POSITIONAL: "*", ParameterKind.VAR_KEYWORD: "**"}.get(self.kind, "")
        text = prefix + self.name
        if self.annotation:
            text += f": {self.annotation}"
        if self.has_default:
            text += "=…"
        return text


@dataclass(frozen=True, slots=True)
class Signature:
    parameters: tuple[Parameter, ...] = ()
    returns: str | None = None
    decorators: tuple[str, ...] = ()
    is_async: bool = False

    def render(self) -> str:
        parts = []
        star_seen = False
        for parameter in self.parameters:
            if parameter.kind is ParameterKind.VAR_POSITIONAL:
                star_seen = True
            elif parameter.kind is ParameterKind.KEYWORD_ONLY and not star_seen:
                parts.append("*")
                star_seen = True
            parts.append(parameter.render())
            if parameter.kind is ParameterKind.POSITIONAL_ONLY and (
                parameter is self.parameters[-1]
                or self.parameters[self.parameters.index(parameter) + 1].kind is not ParameterKind.POSITIONAL_ONLY
            ):
                parts.append("/")
        text = "(" + ", ".join(parts) + ")"
        if self.returns:
            text += f" -> {self.returns}"
        if self.is_async:
            text = "async " + text
        return text

    @property
    def binding_shape(self) -> tuple:
        """What call binding depends on: names, kinds and defaults, not annotations."""
        return tuple((p.name, p.kind, p.has_default) for p in self.parameters)


@dataclass(frozen=True, slots=True)
class Definition:
    id: str  # PATH::QUALNAME, the public symbol id
    qualname: str
    name: str
    kind: SymbolKind
    span: Span
    header: Span
    signature: Signature | None
    header_hash: str
    body_hash: str  # the symbol's own body: nested definitions and comments excluded
    parent: str | None = None  # qualname of the enclosing definition
    docstring: tuple[int, int] | None = None  # lines of its docstring, where the language has them

    @property
    def is_callable(self) -> bool:
        return self.signature is not None


@dataclass(frozen=True, slots=True)
class Reference:
    kind: ReferenceKind
    text: str  # as written: f, obj.m, pkg.mod.f
    name: str  # the last segment: what a definition would be called
    line: int
    scope: str | None  # qualname of the innermost enclosing definition, None at module level
    positional: int = 0
    keywords: tuple[str, ...] = ()
    spread: bool = False  # *args / **kwargs / ...spread passed: arity unknown

    @property
    def head(self) -> str:
        """The first segment (`pkg` of `pkg.mod.f`), which an import may bind."""
        return self.text.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class ImportBinding:
    local: str  # the name bound in this file
    module: str  # module path as written (`a.b`, `./x`, `crate::a`)
    name: str | None  # imported member, None when the module itself is bound
    line: int


@dataclass(frozen=True, slots=True)
class SymbolTable:
    path: str
    language: str | None
    status: TableStatus
    definitions: tuple[Definition, ...] = ()
    # Calls and name uses, worked out on first use when the table was built without
    # them (`load_references`): most tables are only compared symbol by symbol.
    _references: tuple[Reference, ...] | None = field(default=(), compare=False, repr=False)
    imports: tuple[ImportBinding, ...] = ()
    # (method qualname, the name its receiver goes by) where the language names it per method
    # (Go's `func (s *Store) Add`): who `s.x` means inside that method.
    receivers: tuple[tuple[str, str], ...] = ()
    syntax_errors: tuple[int, ...] = ()  # lines of ERROR / MISSING nodes
    size: int = 0
    # Text outside every definition (imports, top-level statements), comments and
    # whitespace ignored; "" when there is none. Equal hashes: no module-level edit.
    module_hash: str = ""
    _by_id: dict = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    load_references: Callable[[], tuple[Reference, ...]] | None = field(default=None, compare=False, repr=False)

    _state: tuple[Reference, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def references(self) -> tuple[Reference, ...]:
        """Calls and name uses (what a definition's users look like)."""
        return self._split()[0]

    @property
    def state(self) -> tuple[Reference, ...]:
        """Writes of fields and module variables, and reads through the receiver: what interference reads."""
        return self._split()[1]

    def _split(self) -> tuple[tuple[Reference, ...], tuple[Reference, ...]]:
        if self._state is None:
            if self._references is None:
                loaded = self.load_references() if self.load_references is not None else ()
                object.__setattr__(self, "load_references", None)
            else:
                loaded = self._references
            uses = tuple(r for r in loaded if r.kind not in _STATE_KINDS)
            object.__setattr__(self, "_references", uses)
            object.__setattr__(self, "_state", tuple(r for r in loaded if r.kind in _STATE_KINDS) if len(uses) != len(loaded) else ())
        return self._references, self._state  # type: ignore[return-value]

    @property
    def parsed(self) -> bool:
        return self.status is TableStatus.PARSED

    def definition(self, symbol_id: str) -> Definition | None:
        if self._by_id is None:
            object.__setattr__(self, "_by_id", {d.id: d for d in self.definitions})
        return self._by_id.get(symbol_id)

    def innermost(self, line: int) -> Definition | None:
        """The most nested definition whose span contains the line."""
        best = None
        for definition in self.definitions:
            if definition.span.contains_line(line) and (
                best is None or definition.span.start_byte >= best.span.start_byte
            ):
                best = definition
        return best


@dataclass(frozen=True, slots=True)
class NameUses:
    """What a file says about a few names, short of its whole table: the imports that bind names
    in it, the names its definitions have, and its references to each name asked, exactly as its
    table's references filtered by that name. What the search for a symbol's users reads of the
    many files that only spell its name (settle.parse.cache.SymbolTables.uses)."""

    path: str
    imports: tuple[ImportBinding, ...]
    defined: frozenset[str]
    named: dict[str, tuple[Reference, ...]]  # name asked → its references, in the table's order

    def references_to(self, name: str) -> tuple[Reference, ...] | None:
        """The references named `name`, or None when it was not asked for."""
        return self.named.get(name)


def references_by_name(references, names) -> dict[str, tuple[Reference, ...]]:
    """Each of `names` → its references among `references` (in their order), for a `NameUses`."""
    grouped: dict[str, list[Reference]] = {name: [] for name in names}
    for reference in references:
        grouped[reference.name].append(reference)
    return {name: tuple(items) for name, items in grouped.items()}
