"""A language as data: which grammar, which query files, and the few rules that differ.

The extractor, differ and binder read profiles; they never ask which language
they are looking at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from settle.parse.model import SymbolKind


@dataclass(frozen=True)
class BindingRules:
    """How a call's argument shape binds to a signature."""

    # False where any arity is legal at run time (JavaScript): a changed
    # signature can then only ever be `changed_in_use`.
    checks_arity: bool = True
    # Whether calls may pass arguments by parameter name (Python keywords).
    keywords: bool = False
    # Calls through an instance (`obj.m(...)`) do not pass the receiver.
    instance_calls_skip_receiver: bool = True


@dataclass(frozen=True)
class Editions:
    """Constructs the grammar rejects that an edition of the language still accepts.

    The edition is read from the manifest nearest the file (searched from its directory
    up to the root): `table.key`, or, where that value says `workspace = true`, the
    workspace manifest's `workspace.table.key`; `default` where none says.
    """

    manifest: str
    table: str
    key: str
    default: str
    # edition → the texts of syntax-error nodes that are valid code in it
    accepted: dict[str, frozenset[str]]
    # The day (UTC, YYYY-MM-DD) of the language's first stable release. Code committed before it is
    # in a pre-release dialect that changed from one nightly to the next (Rust's `&v[]` slicing of
    # early 2015) and that no grammar follows: its syntax errors are nobody's to be blamed for.
    first_stable: str | None = None


@dataclass(frozen=True)
class LanguageProfile:
    name: str
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str = "language"
    # Query files under grammars/<query_dir>/, compiled into one query: every
    # query traversal costs about a quarter of a parse, so a file gets one.
    query_dir: str | None = None
    query_files: tuple[str, ...] = ("definitions.scm", "parameters.scm", "calls.scm", "imports.scm", "references.scm", "state.scm")
    binding: BindingRules = BindingRules()
    # A definition of the key kind directly inside one of container_kinds
    # takes the value kind (a function in a class is a method).
    member_kinds: dict[SymbolKind, SymbolKind] = field(
        default_factory=lambda: {SymbolKind.FUNCTION: SymbolKind.METHOD}
    )
    container_kinds: frozenset[SymbolKind] = frozenset(
        {SymbolKind.CLASS, SymbolKind.STRUCT, SymbolKind.INTERFACE, SymbolKind.TRAIT, SymbolKind.ENUM}
    )
    # Python-style receivers: the first parameter of a method is self/cls
    # unless a decorator says the method takes none.
    first_parameter_is_receiver: bool = False
    receiverless_decorators: frozenset[str] = frozenset()
    # Members that `ClassName(...)` / `new ClassName(...)` calls: by fixed
    # names, or (Java) the member named after its class.
    constructor_names: tuple[str, ...] = ()
    constructors_named_after_class: bool = False
    # A bare call inside a class may call the class's own method (Java's implicit `this`).
    implicit_self: bool = False
    # Same-named callables in one scope are overloads: their ids carry the
    # parameter types (`B.run(int,String)`) instead of an occurrence suffix.
    overloads: bool = False
    # Module-level variables whose name is all capitals are constants.
    uppercase_constants: bool = False
    # How an import's module string maps to repository paths; see resolve.py.
    module_resolver: str = "dotted"
    # A regex (multiline) matching the text of a file's imports, where an importer
    # must name the module it imports; replay's byte prefilter reads it.
    import_lines: str | None = None
    # A regex (multiline) matching every definition header with its parameters and
    # decorators, and module-level bindings, its one participating group the name:
    # where two versions of a file match it alike (whitespace aside), no symbol was
    # removed or re-shaped. Optional; replay uses it to skip files whose changes
    # cannot leave a use behind.
    header_lines: str | None = None
    # Name uses are identifier chains in a symbol's own text (comments and
    # string literals skipped), joined by these separators, minus keywords.
    reference_separators: tuple[str, ...] = (".",)
    keywords: frozenset[str] = frozenset()
    # How a method refers to its own instance or class (`self.m()`, `this.m()`).
    self_names: tuple[str, ...] = ()
    # Names that bind nothing (Go's and Rust's blank `_`: `var _ I = (*T)(nil)`, `const _: () = …`):
    # never a symbol, so never removed, renamed or duplicated.
    blank_names: frozenset[str] = frozenset()
    # Files of one directory share a namespace (Go packages, Java packages):
    # their top-level symbols are visible to each other without an import.
    directory_is_namespace: bool = False
    # Where set, an import with neither alias nor member binds the last segment
    # of its module path (`import "a/b"` binds b); otherwise the whole module.
    import_path_separator: str | None = None
    # File stems that stand for their directory's module (`pkg/__init__.py` is `pkg`).
    package_stems: tuple[str, ...] = ()
    # A slower, exact parser consulted only when tree-sitter reports syntax
    # errors (see settle/parse/oracles.py).
    syntax_oracle: str | None = None
    # Where the language's editions differ in syntax the grammar follows only the newest.
    editions: Editions | None = None
    # A file beside one named like it with one of these suffixes in place of its extension is a
    # test input meant not to compile, next to the compiler output it must give (Rust's trybuild
    # and compiletest: `tests/ui/x.rs` beside `tests/ui/x.stderr`): its syntax errors are the test.
    failure_expectations: tuple[str, ...] = ()

    @cached_property
    def queries_path(self) -> str:
        return self.query_dir or self.name
