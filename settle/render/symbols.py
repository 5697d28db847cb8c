"""Rendering symbol tables for `settle symbols` (text for people, JSON for programs)."""

from __future__ import annotations

import json

from settle.parse.model import Definition, SymbolTable

SYMBOLS_SCHEMA = "settle.symbols/1"


def render_symbols(tables: list[SymbolTable], output_format: str) -> str:
    if output_format == "json":
        document = {"schema": SYMBOLS_SCHEMA, "files": [table_document(t) for t in tables]}
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return "".join(_text(table) for table in tables)


def table_document(table: SymbolTable) -> dict:
    return {
        "path": table.path,
        "language": table.language,
        "status": table.status.value,
        "syntax_errors": list(table.syntax_errors),
        "definitions": [_definition_document(d) for d in table.definitions],
        "references": [
            {
                "kind": r.kind.value,
                "text": r.text,
                "line": r.line,
                "scope": r.scope,
                **({"positional": r.positional, "keywords": list(r.keywords), "spread": r.spread} if r.kind == "call" else {}),
            }
            for r in table.references
        ],
        "imports": [{"local": i.local, "module": i.module, "name": i.name, "line": i.line} for i in table.imports],
    }


def _definition_document(definition: Definition) -> dict:
    document = {
        "id": definition.id,
        "kind": definition.kind.value,
        "name": definition.name,
        "qualname": definition.qualname,
        "parent": definition.parent,
        "lines": [definition.span.start_line, definition.span.end_line],
        "header_hash": definition.header_hash,
        "body_hash": definition.body_hash,
    }
    if definition.signature is not None:
        signature = definition.signature
        document["signature"] = {
            "text": signature.render(),
            "parameters": [
                {"name": p.name, "kind": p.kind.value, "default": p.has_default, "annotation": p.annotation}
                for p in signature.parameters
            ],
            "returns": signature.returns,
            "decorators": list(signature.decorators),
            "async": signature.is_async,
        }
    return document


def _text(table: SymbolTable) -> str:
    header = f"{table.path} ({table.language or 'unsupported'}"
    header += ")" if table.parsed else f", {table.status.value}: file granularity)"
    lines = [header]
    if table.syntax_errors:
        lines.append(f"  syntax errors at lines {', '.join(map(str, table.syntax_errors))}")
    for definition in table.definitions:
        depth = definition.qualname.count(".") - definition.name.count(".")
        signature = definition.signature.render() if definition.signature else ""
        span = f"L{definition.span.start_line}-{definition.span.end_line}"
        # The id as claims and findings spell it (pasteable), the signature apart from it.
        signature = f"  {signature}" if signature else ""
        lines.append(f"  {'  ' * depth}{definition.kind.value:<9} {definition.id}{signature}  {span}")
    return "\n".join(lines) + "\n"
