"""Symbol tables by blob id: each blob is parsed once per process."""

from __future__ import annotations

from collections.abc import Callable

from settle.languages import profile_for_path
from settle.parse.extract import DEFAULT_MAX_BYTES, definition_spans, extract, syntax_errors_only
from settle.parse.model import SymbolTable, TableStatus


class SymbolTables:
    """Parses on demand; the key includes the path because symbol ids do."""

    def __init__(self, read_blob: Callable[[str], bytes], max_bytes: int = DEFAULT_MAX_BYTES):
        self._read_blob = read_blob
        self._max_bytes = max_bytes
        self._tables: dict[tuple[str, str], SymbolTable] = {}
        self._spans: dict[tuple[str, str], tuple[tuple[int, int], ...] | None] = {}
        self.parsed = 0  # how many blobs were actually parsed (for stats)

    def get(self, path: str, blob_id: str | None) -> SymbolTable | None:
        if blob_id is None:
            return None
        key = (blob_id, path)
        table = self._tables.get(key)
        if table is None:
            # Most tables are only compared symbol by symbol; calls and uses come when asked for.
            table = extract(self._read_blob(blob_id), path, profile_for_path(path), self._max_bytes, references=False)
            if table.status is TableStatus.PARSED:
                self.parsed += 1
            self._tables[key] = table
        return table

    def syntax_errors(self, path: str, blob_id: str | None) -> tuple[int, ...] | None:
        """Syntax error lines without building a table (cheaper), or None when not parseable."""
        table = self._tables.get((blob_id, path)) if blob_id else None
        if table is not None:
            return table.syntax_errors if table.parsed else None
        profile = profile_for_path(path)
        if blob_id is None or profile is None:
            return None
        return syntax_errors_only(self._read_blob(blob_id), profile, self._max_bytes)

    def spans(self, path: str, blob_id: str) -> tuple[tuple[int, int], ...] | None:
        """Line spans of the blob's definitions (see `definition_spans`); from the table when one
        is built, else from a definitions-only parse. None when the file isn't parseable code."""
        key = (blob_id, path)
        table = self._tables.get(key)
        if table is not None:
            return tuple(sorted({(d.span.start_line, d.span.end_line) for d in table.definitions})) if table.parsed else None
        if key not in self._spans:
            profile = profile_for_path(path)
            self._spans[key] = definition_spans(self._read_blob(blob_id), profile, self._max_bytes) if profile else None
        return self._spans[key]
