"""Symbol tables as plain JSON values (lists, strings, numbers), and back.

The disk cache stores what this module writes. Reading checks shapes as it
goes: anything unexpected raises `CodecError`, and the caller rebuilds the
table from the blob instead.
"""

from __future__ import annotations

import gc
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from settle.languages import LanguageProfile
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
)

_SYMBOL_KINDS = {kind.value: kind for kind in SymbolKind}
_PARAMETER_KINDS = {kind.value: kind for kind in ParameterKind}
_REFERENCE_KINDS = {kind.value: kind for kind in ReferenceKind}


class CodecError(ValueError):
    pass


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """settle's version and a digest of the code that decides what a table holds (the parse layer
    and the language profiles): a development checkout never trusts tables an earlier edit built."""
    import settle

    digest = hashlib.blake2b(digest_size=8)
    package = Path(__file__).resolve().parent.parent
    for folder in ("parse", "languages"):
        for source in sorted((package / folder).glob("*.py")):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    return f"{settle.__version__}+{digest.hexdigest()}"


_GRAMMARS: dict[str, str] = {}


def grammar_fingerprint(profile: LanguageProfile) -> str:
    """The grammar wheel's and the runtime's versions and a digest of the profile's query files."""
    known = _GRAMMARS.get(profile.name)
    if known is None:
        known = _GRAMMARS[profile.name] = _grammar_fingerprint(profile)
    return known


def _grammar_fingerprint(profile: LanguageProfile) -> str:
    from settle.parse.grammar import query_source

    parts = [profile.name, _package_identity(profile.grammar_module), _package_identity("tree_sitter"),
             hashlib.blake2b(query_source(profile).encode(), digest_size=8).hexdigest()]
    if profile.syntax_oracle:
        parts.append(_package_identity(profile.syntax_oracle))
    return "/".join(parts)


def _package_identity(module: str) -> str:
    """Name, size and modification time of the files at the top of an installed package (its
    compiled grammar among them): any reinstall or upgrade changes it. A few stat calls, where
    asking importlib.metadata for the version costs tens of milliseconds per package."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        return f"{module}=?"
    digest = hashlib.blake2b(digest_size=8)
    try:
        entries = sorted(os.scandir(locations[0]), key=lambda entry: entry.name)
    except OSError:
        return f"{module}=?"
    for entry in entries:
        if entry.is_file():
            status = entry.stat()
            digest.update(f"{entry.name}:{status.st_size}:{status.st_mtime_ns};".encode())
    return f"{module}={digest.hexdigest()}"


def table_key(blob_id: str, path: str, profile: LanguageProfile | None, max_bytes: int) -> str:
    # The path is in the key: symbol ids include it, and so does the profile chosen.
    grammar = grammar_fingerprint(profile) if profile is not None else "-"
    return f"{code_fingerprint()}|{grammar}|{max_bytes}|{blob_id}|{path}"


# -- writing ----------------------------------------------------------------------------------


def dump_table(table: SymbolTable, references: tuple[Reference, ...] | None, partial: dict[str, list] | None) -> list:
    """[status, language, size, module hash, syntax errors, imports, named receivers, definitions, whether the
    references are stored (beside: most readers never read them), references by name] — the
    last one holds what targeted queries worked out.

    Enum members and tuples go in as they are: the kinds are `StrEnum`s, which JSON writes as
    their value, and JSON writes a tuple as an array (copying them was a third of the writing)."""
    return [
        table.status,
        table.language,
        table.size,
        table.module_hash,
        table.syntax_errors,
        [[i.local, i.module, i.name, i.line] for i in table.imports],
        table.receivers,
        [_dump_definition(d) for d in table.definitions],
        references is not None,  # stored beside, in an entry of their own (see settle.parse.cache)
        partial or {},
    ]


def _dump_definition(definition: Definition) -> list:
    span, header, signature = definition.span, definition.header, definition.signature
    return [
        definition.qualname,
        definition.name,
        definition.kind,
        [span.start_byte, span.end_byte, span.start_line, span.end_line],
        [header.start_byte, header.end_byte, header.start_line, header.end_line],
        None if signature is None else [
            [[p.name, p.kind, p.has_default, p.annotation] for p in signature.parameters],
            signature.returns,
            signature.decorators,
            signature.is_async,
        ],
        definition.header_hash,
        definition.body_hash,
        definition.parent,
        definition.docstring,
    ]


def dump_references(references) -> list:
    return [[r.kind, r.text, r.name, r.line, r.scope, r.positional, r.keywords, r.spread] for r in references]


def dump_uses(uses: NameUses | None) -> list:
    """[imports, defined names, references by name], or [] for a blob that is not parseable code."""
    if uses is None:
        return []
    return [[[i.local, i.module, i.name, i.line] for i in uses.imports], sorted(uses.defined),
            {name: dump_references(items) for name, items in sorted(uses.named.items())}]


# -- reading ----------------------------------------------------------------------------------


def load_table(value, path: str) -> tuple[SymbolTable, tuple[Reference, ...] | None, dict[str, tuple[Reference, ...]]]:
    """(table, whether its references are stored, references by name if stored); CodecError on any surprise."""
    # Thousands of small objects at once: the collector would otherwise walk the whole heap (every
    # table held) several times per entry, to free nothing — these are all kept.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_table(value, path)
    finally:
        if collecting:
            gc.enable()


def _load_table(value, path: str):
    try:
        status, language, size, module_hash, errors, imports, receivers, definitions, references, partial = value
        table = SymbolTable(
            path=path,
            language=language,
            status=TableStatus(status),
            definitions=tuple(_load_definition(item, path) for item in definitions),
            _references=None,
            imports=_load_imports(imports),
            receivers=tuple((scope, name) for scope, name in receivers),
            syntax_errors=tuple(errors),
            size=size,
            module_hash=module_hash,
        )
        if type(references) is not bool:
            raise CodecError("bad references flag")
        loaded = references
        by_name = {name: load_references(items) for name, items in partial.items()}
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise CodecError(f"not a table entry: {error}") from error
    _check(table)
    return table, loaded, by_name


_new = object.__new__
_set = object.__setattr__


def load_uses(value, path: str) -> NameUses | None:
    """`dump_uses`'s value back (None for a blob that is not parseable code); CodecError on any surprise."""
    if value == []:
        return None
    try:
        imports, defined, named = value
        if type(defined) is not list or type(named) is not dict:
            raise CodecError("bad uses fields")
        uses = NameUses(path, _load_imports(imports), frozenset(defined),
                        {name: load_references(items) for name, items in named.items()})
    except (TypeError, ValueError, AttributeError) as error:
        raise CodecError(f"not a uses entry: {error}") from error
    if not all(type(name) is str for name in (*uses.defined, *uses.named)):
        raise CodecError("bad names")
    return uses


def _load_imports(items) -> tuple[ImportBinding, ...]:
    imports = tuple(ImportBinding(local, module, name, line) for local, module, name, line in items)
    if not all(type(i.local) is str and type(i.module) is str and (i.name is None or type(i.name) is str)
               and type(i.line) is int for i in imports):
        raise CodecError("bad import")
    return imports


def _load_definition(item, path: str) -> Definition:
    # Type checks inline (a field of the wrong type would fail later, far from here), and the
    # frozen dataclass's __init__ bypassed: loading must stay far cheaper than extracting.
    qualname, name, kind, span, header, signature, header_hash, body_hash, parent, docstring = item
    if not (type(qualname) is str and type(name) is str and type(header_hash) is str and type(body_hash) is str
            and (parent is None or type(parent) is str) and len(span) == 4 and len(header) == 4):
        raise CodecError("bad definition")
    if docstring is not None:
        if not (len(docstring) == 2 and type(docstring[0]) is int and type(docstring[1]) is int):
            raise CodecError("bad docstring")
        docstring = (docstring[0], docstring[1])
    if signature is not None:
        parameters, returns, decorators, is_async = signature
        signature = Signature(
            parameters=tuple(Parameter(p_name, _PARAMETER_KINDS[p_kind], has_default, annotation)
                             for p_name, p_kind, has_default, annotation in parameters),
            returns=returns,
            decorators=tuple(decorators),
            is_async=is_async,
        )
    definition = _new(Definition)
    _set(definition, "id", f"{path}::{qualname}")
    _set(definition, "qualname", qualname)
    _set(definition, "name", name)
    _set(definition, "kind", _SYMBOL_KINDS[kind])
    _set(definition, "span", _load_span(span))
    _set(definition, "header", _load_span(header))
    _set(definition, "signature", signature)
    _set(definition, "header_hash", header_hash)
    _set(definition, "body_hash", body_hash)
    _set(definition, "parent", parent)
    _set(definition, "docstring", docstring)
    return definition


def _load_span(values) -> Span:
    start_byte, end_byte, start_line, end_line = values
    if not (type(start_byte) is int and type(end_byte) is int and type(start_line) is int and type(end_line) is int):
        raise CodecError("bad span")
    span = _new(Span)
    _set(span, "start_byte", start_byte)
    _set(span, "end_byte", end_byte)
    _set(span, "start_line", start_line)
    _set(span, "end_line", end_line)
    return span


def load_references(items) -> tuple[Reference, ...]:
    try:
        return tuple(
            Reference(_REFERENCE_KINDS[kind], text, name, line, scope, positional, tuple(keywords), spread)
            for kind, text, name, line, scope, positional, keywords, spread in items
        )
    except (TypeError, ValueError, KeyError) as error:
        raise CodecError(f"not a reference list: {error}") from error


def _check(table: SymbolTable) -> None:
    """The types of a table's own fields (definitions are checked as they are read)."""
    if not (type(table.size) is int and type(table.module_hash) is str
            and all(type(line) is int for line in table.syntax_errors)
            and all(type(scope) is str and type(name) is str for scope, name in table.receivers)):
        raise CodecError("bad table fields")


def _span(span: Span) -> tuple:
    return span.start_byte, span.end_byte, span.start_line, span.end_line
