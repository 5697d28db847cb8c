"""Symbol tables by blob id: each blob is parsed once per process (while it stays in the cache)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial

from settle.languages import profile_for_path
from settle.parse.extract import DEFAULT_MAX_BYTES, definition_spans, extract, syntax_errors_only
from settle.parse.model import SymbolTable, TableStatus
from settle.parse.trees import Trees


# Tables take about 15 bytes of memory per byte of source: this keeps a long replay
# under half a GiB of tables, and is more than any single check parses.
CACHE_SOURCE_BYTES = 32 * 1024 * 1024
_CACHED_SPANS = 4096  # blobs whose definition spans are kept


_STATUS_ONLY_BYTES = 1024  # what a table of a file settle can't parse is counted as


def _held_bytes(table: SymbolTable) -> int:
    """What a table counts against the cache: its source's size if parsed. A table that
    only says "no grammar" or "binary" holds nothing of its blob; counted at its size, a
    replay's changelog versions would push out the code tables it is about to reuse."""
    return table.size if table.parsed else _STATUS_ONLY_BYTES


class SymbolTables:
    """Parses on demand; the key includes the path because symbol ids do. The least recently
    used tables are dropped once the sources they were built from pass `cache_bytes`. With
    `hunks(old_blob, new_blob)` (the line diff of two blobs), a new version of a file is
    parsed from the tree of a recent one (see settle.parse.trees)."""

    def __init__(self, read_blob: Callable[[str], bytes], max_bytes: int = DEFAULT_MAX_BYTES,
                 cache_bytes: int = CACHE_SOURCE_BYTES, hunks: Callable[[str, str], Sequence] | None = None):
        self._read_blob = read_blob
        self.trees = Trees(hunks)
        self._max_bytes = max_bytes
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._tables: OrderedDict[tuple[str, str], SymbolTable] = OrderedDict()
        self._spans: OrderedDict[tuple[str, str], tuple[tuple[int, int], ...] | None] = OrderedDict()
        self.parsed = 0  # how many blobs were actually parsed (for stats)

    def get(self, path: str, blob_id: str | None, references: bool = False) -> SymbolTable | None:
        """The blob's table; built with its calls and name uses when `references` says they will
        be read (else they are worked out on first read, at the cost of a second pass)."""
        if blob_id is None:
            return None
        key = (blob_id, path)
        table = self._tables.get(key)
        if table is not None:
            self._tables.move_to_end(key)
            return table
        # Most tables are only compared symbol by symbol; calls and uses come when asked for.
        table = extract(self._read_blob(blob_id), path, profile_for_path(path), self._max_bytes, references=references,
                        parse=self._parse(path, blob_id))
        if table.status is TableStatus.PARSED:
            self.parsed += 1
        self._tables[key] = table
        self._cached += _held_bytes(table)
        while self._cached > self._cache_bytes and len(self._tables) > 1:
            _, dropped = self._tables.popitem(last=False)
            self._cached -= _held_bytes(dropped)
        return table

    def syntax_errors(self, path: str, blob_id: str | None) -> tuple[int, ...] | None:
        """Syntax error lines without building a table (cheaper), or None when not parseable."""
        table = self._tables.get((blob_id, path)) if blob_id else None
        if table is not None:
            return table.syntax_errors if table.parsed else None
        profile = profile_for_path(path)
        if blob_id is None or profile is None:
            return None
        return syntax_errors_only(self._read_blob(blob_id), profile, self._max_bytes, self._parse(path, blob_id))

    def spans(self, path: str, blob_id: str) -> tuple[tuple[int, int], ...] | None:
        """Line spans of the blob's definitions (see `definition_spans`); from the table when one
        is built, else from a definitions-only parse. None when the file isn't parseable code."""
        key = (blob_id, path)
        table = self._tables.get(key)
        if table is not None:
            return tuple(sorted({(d.span.start_line, d.span.end_line) for d in table.definitions})) if table.parsed else None
        if key in self._spans:
            self._spans.move_to_end(key)
            return self._spans[key]
        profile = profile_for_path(path)
        spans = self._spans[key] = (definition_spans(self._read_blob(blob_id), profile, self._max_bytes, self._parse(path, blob_id))
                                    if profile else None)
        if len(self._spans) > _CACHED_SPANS:
            self._spans.popitem(last=False)
        return spans

    def _parse(self, path: str, blob_id: str):
        return partial(self.trees.parse, path=path, blob_id=blob_id)
