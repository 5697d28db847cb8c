"""Symbol tables by blob id: each blob is parsed once per process (while it stays in memory), and
once per machine while its entry stays in the disk cache (settle.parse.store)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial

from settle.languages import LanguageProfile, profile_for_path
from settle.parse.codec import (
    CodecError,
    dump_references,
    dump_table,
    dump_uses,
    load_references,
    load_table,
    load_uses,
    table_key,
)
from settle.parse.helper import framed, records, share
from settle.parse.mentions import Mentions
from settle.parse.extract import (
    DEFAULT_MAX_BYTES,
    _Extraction,
    classify_bytes,
    definition_names,
    definition_spans,
    extract,
    extraction,
    syntax_errors_only,
)
from settle.parse.model import NameUses, Reference, SymbolTable, TableStatus, references_by_name
from settle.parse.store import DiskCache, decode_entry, encode_entry
from settle.parse.trees import Trees


# Tables take about 15 bytes of memory per byte of source: this keeps a long replay
# under half a GiB of tables, and is more than any single check parses.
CACHE_SOURCE_BYTES = 32 * 1024 * 1024
_CACHED_SPANS = 4096  # blobs whose definition spans are kept
_STRUCTURES = 16  # recent extractions kept with their trees, for targeted queries soon after (4 re-parsed a third of zod's)
_USES_KEPT = 8192  # blobs whose `NameUses` are held (small: a file's imports and a few names' references)
# Below this much source to build, a helper's fork and the tables' trip back cost more than it saves.
_SHARED_BYTES = 256 * 1024
_GUESSED_BYTES = 32 * 1024  # a blob whose size is not known yet
_TARGETED_NAMES = 32  # names asked of a file at once past which its whole reference list is cheaper
_SHARED_SEARCH = 200  # blobs to read (about 50 ms) before a byte search is worth sharing


_STATUS_ONLY_BYTES = 1024  # what a table of a file settle can't parse is counted as


def _held_bytes(table: SymbolTable) -> int:
    """What a table counts against the cache: its source's size if parsed. A table that
    only says "no grammar" or "binary" holds nothing of its blob; counted at its size, a
    replay's changelog versions would push out the code tables it is about to reuse."""
    return table.size if table.parsed else _STATUS_ONLY_BYTES


def _valid_fact(kind: str, stored: list) -> bool:
    """A stored `_fact`: [None], or [lines] of syntax errors, or [[first, last], …] of definition
    spans, or [names] of definitions."""
    if len(stored) != 1 or stored[0] is None:
        return len(stored) == 1
    value = stored[0]
    if not isinstance(value, list):
        return False
    if kind == "syntax":
        return all(type(line) is int for line in value)
    if kind == "names":
        return all(isinstance(name, str) for name in value)
    return all(isinstance(span, list) and len(span) == 2 and type(span[0]) is int and type(span[1]) is int for span in value)


def _sort_key(reference: Reference) -> tuple:
    return reference.line, reference.kind, reference.text, reference.positional, reference.keywords


class SymbolTables:
    """Parses on demand; the key includes the path because symbol ids do. The least recently
    used tables are dropped once the sources they were built from pass `cache_bytes`. When
    `incremental`, a new version of a file is parsed from the tree of a recent one (see
    settle.parse.trees). With `disk`, tables are read from and written to the disk cache:
    definitions always, references once worked out (all of them, or those of the names
    `references_to` was asked for)."""

    def __init__(self, read_blob: Callable[[str], bytes], max_bytes: int = DEFAULT_MAX_BYTES,
                 cache_bytes: int = CACHE_SOURCE_BYTES, incremental: bool = False,
                 disk: DiskCache | None = None, share_builds: bool = False,
                 blob_size: Callable[[str], int | None] | None = None, blob_held: Callable[[str], bool] | None = None):
        self._read_blob = read_blob
        self._blob_size = blob_size  # a blob's size without reading it: what `prepare` weighs
        self._blob_held = blob_held  # whether reading a blob is a memory lookup: a search of those isn't shared
        self.share_builds = share_builds  # `prepare` may fork a helper (settle.parse.helper)
        self.trees = Trees(incremental)
        self._max_bytes = max_bytes
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._tables: OrderedDict[tuple[str, str], SymbolTable] = OrderedDict()
        self._spans: OrderedDict[tuple[str, str], tuple[tuple[int, int], ...] | None] = OrderedDict()
        self._names: OrderedDict[tuple[str, str], frozenset[str] | None] = OrderedDict()  # `defines`'s
        # References by name of tables whose whole reference list is not worked out.
        self._by_name: dict[tuple[str, str], dict[str, tuple[Reference, ...]]] = {}
        self._structures: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._uses: OrderedDict[tuple[str, str], NameUses | None] = OrderedDict()  # None: not parseable code
        self._grouped: dict[tuple[str, str], tuple[tuple[Reference, ...], dict[str, list[Reference]]]] = {}
        self.disk = disk
        self.mentions = Mentions(read_blob, disk)
        self._stored_references: set[tuple[str, str]] = set()  # loaded tables whose entry holds their references
        self._unsaved: set[tuple[str, str]] = set()  # built by references_to, written when it has answered
        # Parseable blobs whose tables were made, built or loaded: what the verdict's stats count,
        # the same whether the disk cache had them or not (the JSON doesn't depend on the cache).
        self.parsed = 0
        self.built = 0  # of those, parsed here
        self.loaded = 0  # of those, read from the disk cache
        self.shared = 0  # of those built, made by a helper process (`prepare`)

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
        profile = profile_for_path(path)
        table = self._load(key, profile)
        if table is None:
            table = self._build(key, profile, references)
        self._hold(key, table)
        return table

    def references_to(self, path: str, blob_id: str | None, names: Iterable[str]) -> tuple[Reference, ...]:
        """The blob's references whose name is one of `names`, as its full table lists them. Cheaper
        than the table's `references` when they are not worked out yet: only the places that spell
        a name are looked at (the disk cache keeps the answer, by name)."""
        names = frozenset(names)
        if blob_id is None:
            return ()
        key = (blob_id, path)
        table = self._tables.get(key)
        if table is None:  # made here: its entry is written once, with the answer
            profile = profile_for_path(path)
            table = self._load(key, profile) or self._build(key, profile, False, save=False)
            self._hold(key, table)
        if not table.parsed or not names:
            if self.disk is not None and table is not None and key in self._unsaved:
                self._unsaved.discard(key)
                self._save(key, table)
            return ()
        by_name = self._by_name.setdefault(key, {})
        missing = names.difference(by_name)
        if table._references is None and (key in self._stored_references or len(missing) > _TARGETED_NAMES or (
                missing and by_name and key not in self._structures)):
            # In the cache already: reading them beats any parse. Or asked again, for other names,
            # with the tree gone: each answer would cost a parse and a traversal, so the whole list
            # is worked out once (zod's drift asks a file of the other side once per changed symbol).
            # Or asked for many names at once: their places, each with its own small queries, cost
            # more than one traversal (zod's fast-parse branch asks for 863 names: 40 ms a file).
            table.references
        if table._references is not None:  # worked out already: filtering is free
            if key in self._unsaved:
                self._unsaved.discard(key)
                self._save(key, table)
            return self._filtered(key, table._references, names)
        if missing:
            work = self._structures.get(key)
            if work is None:
                work = _Extraction(self._read_blob(blob_id), path, profile_for_path(path), False, self._parse(path, blob_id))
            found = work.references_named(frozenset(missing), work.found)
            for name in missing:
                by_name[name] = tuple(r for r in found if r.name == name)
            self._unsaved.discard(key)
            self._save(key, table)
        elif key in self._unsaved:
            self._unsaved.discard(key)
            self._save(key, table)
        selected = [r for name in sorted(names) for r in by_name[name]]
        selected.sort(key=_sort_key)  # stable: each name's references keep the full table's order
        return tuple(selected)

    def _filtered(self, key: tuple[str, str], references: tuple[Reference, ...], names: frozenset[str]) -> tuple[Reference, ...]:
        """The references named one of `names`, in the list's order, from the list grouped by name once:
        drift and interference ask one large file again and again (zod's types.ts, thousands of
        references, was filtered whole 7,000 times)."""
        grouped = self._grouped.get(key)
        if grouped is None or grouped[0] is not references:
            by_name: dict[str, list[Reference]] = {}
            for reference in references:
                by_name.setdefault(reference.name, []).append(reference)
            grouped = self._grouped[key] = (references, by_name)
        selected = [r for name in names for r in grouped[1].get(name, ())]
        if len(names) > 1:
            selected.sort(key=_sort_key)  # stable, and no two names share a key: the list's order
        return tuple(selected)

    def prepare_versions(self, groups: Sequence[Sequence[tuple[str, str]]]) -> None:
        """Make ahead the tables of groups of files, each the versions of one path oldest first (a
        side's base and tip), as `get` would, sharing them with a helper process when there is
        enough to build and `share_builds` allows it: a group is made by one process in its order,
        so that a version is parsed from the tree of the one before it, as it would be here. Only a
        matter of time: a table the helper did not send back is built here when first asked for."""
        if not self.share_builds:
            return
        todo, held, size = [], 0, 0  # held: of the tables made ready here; size: of those to build
        for group in groups:
            left = []
            for path, blob_id in group:
                key = (blob_id, path)
                profile = profile_for_path(path)
                if key in self._tables or profile is None:
                    continue
                table = self._load(key, profile)
                if table is not None:
                    self._hold(key, table)
                    held += _held_bytes(table)
                    continue
                left.append((path, blob_id))
                size += self._size(blob_id)
            if left:
                todo.append(tuple(left))
            if held + size > self._cache_bytes // 2:
                break  # more would push out the first before they are read: the rest is made when asked for
        if len(todo) >= 2 and size >= _SHARED_BYTES:
            self._share(todo, self._make_table)

    def _prepare_uses(self, files: Sequence[tuple[str, str]], names: frozenset[str]) -> None:
        """`uses` of each of `files` made ahead, shared with a helper as `prepare_versions` shares tables."""
        if not self.share_builds:
            return
        todo = [(item,) for item in files if not self._uses_ready((item[1], item[0]), names)]
        if len(todo) >= 2 and sum(self._size(blob_id) for ((_, blob_id),) in todo) >= _SHARED_BYTES:
            self._share(todo, partial(self._make_uses, names))

    def _share(self, groups: Sequence[tuple[tuple[str, str], ...]], make: Callable[[tuple[str, str]], str]) -> None:
        share(groups, partial(self._make_all, make), partial(self._made_all, make), self._received_all, idle=self._write_ahead)

    def _size(self, blob_id: str) -> int:
        known = self.mentions.sizes.get(blob_id)
        if known is None and self._blob_size is not None:
            known = self._blob_size(blob_id)
        return _GUESSED_BYTES if known is None else known

    # What a helper makes of an item, and the kind of record that carries it back (`_record`).

    def _make_table(self, item: tuple[str, str]) -> str:
        self.get(*item)
        return "table"

    def _make_uses(self, names: frozenset[str], item: tuple[str, str]) -> str:
        self.uses(*item, names)
        return "uses"

    def _make_all(self, make, group: tuple[tuple[str, str], ...]) -> None:
        for item in group:
            make(item)

    def _made_all(self, make, group: tuple[tuple[str, str], ...]) -> bytes:
        """In the helper: the group made in order, one `_made` record each (`framed`)."""
        return b"".join(framed(self._made(make, item)) for item in group)

    def _made(self, make, item: tuple[str, str]) -> bytes:
        """In the helper: the item made, as a record for `_received`."""
        self._in_helper()
        return self._record(item, True, make(item))

    def _in_helper(self) -> None:
        if self.disk is not None:
            self.disk.read_only = True  # the helper's copy reads the cache; the parent writes what comes back

    def _record(self, item: tuple[str, str], spells: bool, kind: str | None) -> bytes:
        """In the helper: `[path, blob id, spells the name, kind]`, a newline, and the disk entry of
        the item's table (kind "table") or uses ("uses") when it made one: the bytes the parent
        writes to the cache as they are."""
        path, blob_id = item
        key = (blob_id, path)
        entry = None
        if kind == "table" and (table := self._tables.get(key)) is not None:
            by_name = {name: dump_references(items) for name, items in sorted(self._by_name.get(key, {}).items())}
            entry = encode_entry(self._key(key, profile_for_path(path)), dump_table(table, None, by_name))
        elif kind == "uses" and key in self._uses:
            entry = encode_entry(self._uses_key(key), dump_uses(self._uses[key]))
        head = json.dumps([path, blob_id, spells, kind if entry is not None else None]).encode("ascii") + b"\n"  # ASCII: no newline inside
        return head if entry is None else head + entry

    def _received_all(self, record: bytes) -> None:
        for part in records(record):
            self._received(part)

    def _received(self, record: bytes, known: dict[str, bool] | None = None) -> None:
        """A helper's record: the name's mention learned (into `known`), the table or uses held as
        if made here and written to the disk cache. Anything malformed is dropped (made here when
        asked for)."""
        head, _, entry = record.partition(b"\n")
        try:
            path, blob_id, spells, kind = json.loads(head)
        except (ValueError, TypeError):
            return
        if not (isinstance(path, str) and isinstance(blob_id, str) and type(spells) is bool):
            return
        if known is not None:
            known[blob_id] = spells
        key, profile = (blob_id, path), profile_for_path(path)
        if not entry or profile is None:
            return
        if kind == "uses":
            self._received_uses(key, entry)
        elif kind == "table" and key not in self._tables:
            self._received_table(key, profile, entry)

    def _received_table(self, key: tuple[str, str], profile: LanguageProfile, entry: bytes) -> None:
        entry_key = self._key(key, profile)
        value = decode_entry(entry, entry_key)
        table = self._loaded(key, profile, value) if value is not None else None
        if table is None:
            return
        self.parsed += table.parsed
        self.built += table.parsed
        self.shared += table.parsed
        self._hold(key, table)
        if self.disk is not None:
            self.disk.store_encoded("tables", entry_key, entry)

    def _received_uses(self, key: tuple[str, str], entry: bytes) -> None:
        if key in self._uses or key in self._tables:
            return
        entry_key = self._uses_key(key)
        value = decode_entry(entry, entry_key)
        try:
            uses = load_uses(value, key[1]) if value is not None else None
        except CodecError:
            return
        if value is None:
            return
        self._hold_uses(key, uses)
        if uses is not None:
            self.parsed += 1
            self.built += 1
            self.shared += 1
        if self.disk is not None:
            self.disk.store_encoded("tables", entry_key, entry)

    def flush(self) -> None:
        """Write the disk entries made so far (they are written in batches)."""
        if self.disk is not None:
            self.disk.flush()

    def _write_ahead(self) -> None:
        """While the helper finishes: the disk entries made so far written (the command's end
        would write them, with nothing else to do meanwhile)."""
        if self.disk is not None:
            self.disk.write_ahead()

    def mentioning(self, name: str, files: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The (path, blob id) of `files` whose bytes contain the name: the byte search before a
        parse (settle.parse.mentions), each blob's answer kept per name in the disk cache."""
        return self.mentions.mentioning(name, files)

    def mentioning_uses(self, name: str, files: Sequence[tuple[str, str]]) -> list[NameUses]:
        """The `uses` of the name in each of `files` (path, blob id) that spells it and is parseable
        code, in their order: `mentioning`, then `uses`. With `share_builds`, a long byte search and
        the builds it leads to are shared with a helper process: each process reads a blob and, when
        it spells the name, makes its uses, so the search and the parses run on two CPUs at once."""
        names = frozenset((name,))
        if self.share_builds:
            known = self.mentions.known(name)
            unknown = [(path, blob_id) for path, blob_id in files if blob_id not in known]
            # Worth a fork when the search reads blobs: once an earlier name's search read them,
            # they are in memory, and a search for the next name costs less than the fork.
            unread = unknown if self._blob_held is None else [item for item in unknown if not self._blob_held(item[1])]
            if len(unread) >= _SHARED_SEARCH:
                needle = name.encode()
                share(unknown, partial(self._search_making, needle, known, names), partial(self._searched_made, needle, names),
                      partial(self._received, known=known), idle=self._write_ahead)
                self.mentions.keep(name, known)
        found = self.mentioning(name, files)
        self._prepare_uses(found, names)
        return [uses for path, blob_id in found if (uses := self.uses(path, blob_id, names)) is not None]

    def _search_making(self, needle: bytes, known: dict[str, bool], names: frozenset[str], item: tuple[str, str]) -> None:
        if self.mentions.spells(needle, known, item[1]) and profile_for_path(item[0]) is not None:
            self.uses(*item, names)

    def _searched_made(self, needle: bytes, names: frozenset[str], item: tuple[str, str]) -> bytes:
        """In the helper: whether the blob spells the name and, if so, its uses made (a record for
        `_received`). Uses the disk cache holds are left for the parent to read."""
        self._in_helper()
        path, blob_id = item
        spells = needle in self._read_blob(blob_id)
        if not spells or profile_for_path(path) is None or (
                self.disk is not None and self.disk.holds("tables", self._uses_key((blob_id, path)))):
            return self._record(item, spells, None)
        return self._made(partial(self._make_uses, names), item)

    def syntax_errors(self, path: str, blob_id: str | None) -> tuple[int, ...] | None:
        """Syntax error lines without building a table (cheaper), or None when not parseable."""
        table = self._tables.get((blob_id, path)) if blob_id else None
        profile = profile_for_path(path)
        if table is None and blob_id is not None and profile is not None:
            table = self._load((blob_id, path), profile)
            if table is not None:
                self._hold((blob_id, path), table)
        if table is not None:
            return table.syntax_errors if table.parsed else None
        if blob_id is None or profile is None:
            return None
        return self._fact("syntax", path, blob_id,
                          lambda data: syntax_errors_only(data, profile, self._max_bytes, self._parse(path, blob_id)))

    def spans(self, path: str, blob_id: str) -> tuple[tuple[int, int], ...] | None:
        """Line spans of the blob's definitions (see `definition_spans`); from the table when one
        is built, else from a definitions-only parse. None when the file isn't parseable code."""
        key = (blob_id, path)
        table = self._tables.get(key)
        profile = profile_for_path(path)
        if table is None and key not in self._spans and profile is not None:
            table = self._load(key, profile)
            if table is not None:
                self._hold(key, table)
        if table is not None:
            return tuple(sorted({(d.span.start_line, d.span.end_line) for d in table.definitions})) if table.parsed else None
        if key in self._spans:
            self._spans.move_to_end(key)
            return self._spans[key]
        spans = self._spans[key] = self._fact(
            "spans", path, blob_id,
            lambda data: definition_spans(data, profile, self._max_bytes, self._parse(path, blob_id))) if profile else None
        if len(self._spans) > _CACHED_SPANS:
            self._spans.popitem(last=False)
        return spans

    def defines(self, path: str, blob_id: str, name: str) -> bool:
        """Whether the blob's table may have a definition of that name: from the table when it is
        held, else from the names its definitions-only query captures (`definition_names`), which
        cost a fraction of the table. A file that only spells a method's name, calling it, is then
        never built for the question."""
        key = (blob_id, path)
        table = self._tables.get(key)
        if table is not None:
            return table.parsed and any(d.name == name for d in table.definitions)
        if key in self._uses:
            uses = self._uses[key]
            return uses is not None and name in uses.defined
        if key in self._names:
            self._names.move_to_end(key)
        else:
            profile = profile_for_path(path)
            self._names[key] = self._fact(
                "names", path, blob_id,
                lambda data: definition_names(data, profile, self._max_bytes, self._parse(path, blob_id))) if profile else None
            if len(self._names) > _CACHED_SPANS:
                self._names.popitem(last=False)
        names = self._names[key]
        return names is not None and name in names

    def uses(self, path: str, blob_id: str | None, names: Iterable[str]) -> NameUses | None:
        """What the blob says about `names` (`NameUses`), or None when it is not parseable code.
        From its table when that is held; else from the structure query alone, which builds no
        definition and hashes nothing (a third less than a table for a file that only calls a
        name), kept in memory and in the disk cache, and answered again for more names."""
        names = frozenset(names)
        if blob_id is None:
            return None
        key = (blob_id, path)
        if not self._uses_ready(key, names):
            self._make_uses_here(key, names)  # or, asked once too often, the table
        table = self._tables.get(key)
        if table is not None:
            return self._uses_of_table(key, table, names)
        return self._uses.get(key)

    def _uses_of_table(self, key: tuple[str, str], table: SymbolTable, names: frozenset[str]) -> NameUses | None:
        if not table.parsed:
            return None
        return NameUses(key[1], table.imports, frozenset(d.name for d in table.definitions),
                        references_by_name(self.references_to(key[1], key[0], names), names))

    def _uses_ready(self, key: tuple[str, str], names: frozenset[str]) -> bool:
        """Are the blob's uses of every one of `names` held (its table, or uses answering them), read
        from the disk cache if need be?"""
        if key in self._tables:
            return True
        if key not in self._uses and self.disk is not None:
            value = self.disk.load("tables", self._uses_key(key))
            try:
                uses = load_uses(value, key[1]) if value is not None else None
            except CodecError:
                value = None  # made again, and the entry rewritten
            if value is not None:
                self._hold_uses(key, uses)
                self.loaded += uses is not None
                self.parsed += uses is not None
        if key not in self._uses:
            return False
        self._uses.move_to_end(key)
        uses = self._uses[key]
        return uses is None or names <= uses.named.keys()

    def _make_uses_here(self, key: tuple[str, str], names: frozenset[str]) -> None:
        blob_id, path = key
        known = self._uses.get(key)
        work = self._structures.get(key)
        if known is not None and work is None:
            # Asked again, for other names, with the tree gone: the whole table, once, answers
            # every name after (each answer would otherwise cost a parse and a traversal).
            self.get(path, blob_id)
            self._uses.pop(key, None)
            return
        profile = profile_for_path(path)
        source = self._read_blob(blob_id)
        made: NameUses | None = None
        if profile is not None and classify_bytes(source, self._max_bytes) is TableStatus.PARSED:
            if work is None:
                work = _Extraction(source, path, profile, False, self._parse(path, blob_id))
                self._keep_structure(key, work)
            if known is None:
                made = work.name_uses(names)
                self.parsed += 1
                self.built += 1
            else:
                missing = names - known.named.keys()
                made = replace(known, named={**known.named, **references_by_name(work.references_named(missing, work.found), missing)})
        self._hold_uses(key, made)
        if self.disk is not None:
            self.disk.store("tables", self._uses_key(key), dump_uses(made))

    def _hold_uses(self, key: tuple[str, str], uses: NameUses | None) -> None:
        self._uses[key] = uses
        self._uses.move_to_end(key)
        while len(self._uses) > _USES_KEPT:
            self._uses.popitem(last=False)

    def _uses_key(self, key: tuple[str, str]) -> str:
        return f"{self._key(key, profile_for_path(key[1]))}|uses"

    def _keep_structure(self, key: tuple[str, str], work) -> None:
        self._structures[key] = work
        while len(self._structures) > _STRUCTURES:
            self._structures.popitem(last=False)

    # -- building, holding, the disk -----------------------------------------------------------

    def _build(self, key: tuple[str, str], profile: LanguageProfile | None, references: bool, save: bool = True) -> SymbolTable:
        blob_id, path = key
        source = self._read_blob(blob_id)
        if profile is None or classify_bytes(source, self._max_bytes) is not TableStatus.PARSED:
            table = extract(source, path, profile, self._max_bytes)
        else:
            # Most tables are only compared symbol by symbol; calls and uses come when asked for.
            table, work = extraction(source, path, profile, references=references, parse=self._parse(path, blob_id))
            self._keep_structure(key, work)
            self.parsed += 1
            self.built += 1
        self._watch(key, table)
        if save:
            self._save(key, table)
        else:
            self._unsaved.add(key)
        return table

    def _hold(self, key: tuple[str, str], table: SymbolTable) -> None:
        self._tables[key] = table
        self._cached += _held_bytes(table)
        while self._cached > self._cache_bytes and len(self._tables) > 1:
            dropped_key, dropped = self._tables.popitem(last=False)
            self._cached -= _held_bytes(dropped)
            self._by_name.pop(dropped_key, None)
            self._grouped.pop(dropped_key, None)
            self._stored_references.discard(dropped_key)

    def _watch(self, key: tuple[str, str], table: SymbolTable) -> None:
        """Once a table's references are worked out, the disk entry gets them too."""
        if self.disk is None or table.load_references is None:
            return
        compute = table.load_references

        def load():
            references = compute()
            object.__setattr__(table, "_references", references)
            self._by_name.pop(key, None)
            self._save(key, table)
            return references

        object.__setattr__(table, "load_references", load)

    def _fact(self, kind: str, path: str, blob_id: str, compute):
        """A blob's syntax error lines, definition spans or definition names (tuples of ints, a set of
        strings, or None), through the disk cache (`blob_fact`): the cheap parses replay makes
        instead of tables, kept like tables are."""

        def listed(data: bytes) -> list:
            value = compute(data)
            return [None if value is None else [list(item) if isinstance(item, tuple) else item for item in (sorted(value) if isinstance(value, frozenset) else value)]]

        value = self.blob_fact(kind, path, blob_id, listed, partial(_valid_fact, kind))[0]
        if value is None:
            return None
        if kind == "names":
            return frozenset(value)
        return tuple(value) if kind == "syntax" else tuple((first, last) for first, last in value)

    def blob(self, blob_id: str) -> bytes:
        return self._read_blob(blob_id)

    def blob_fact(self, kind: str, path: str, blob_id: str, compute: Callable[[bytes], list],
                  valid: Callable[[list], bool]) -> list:
        """A list worked out from a blob's bytes (`compute(data)`: strings, numbers, lists of
        them) through the disk cache, keyed like the blob's table: what replay reads of a changed
        file instead of building its table (syntax error lines, definition spans, import words),
        which a warm run then reads instead of the blob. A stored value that fails `valid` is
        worked out again and rewritten."""
        if self.disk is None:
            return compute(self._read_blob(blob_id))
        entry_key = f"{self._key((blob_id, path), profile_for_path(path))}|{kind}"
        stored = self.disk.load("tables", entry_key)
        if isinstance(stored, list) and valid(stored):
            return stored
        value = compute(self._read_blob(blob_id))
        self.disk.store("tables", entry_key, value)
        return value

    def _key(self, key: tuple[str, str], profile: LanguageProfile | None) -> str:
        blob_id, path = key
        return table_key(blob_id, path, profile, self._max_bytes)

    def _load(self, key: tuple[str, str], profile: LanguageProfile | None) -> SymbolTable | None:
        if self.disk is None:
            return None
        value = self.disk.load("tables", self._key(key, profile))
        table = self._loaded(key, profile, value) if value is not None else None
        if table is not None:
            self.loaded += 1
            self.parsed += table.parsed
        return table

    def _loaded(self, key: tuple[str, str], profile: LanguageProfile | None, value) -> SymbolTable | None:
        """The table of a disk entry's value, its references read when asked for; None if the value is bad."""
        blob_id, path = key
        try:
            table, references, by_name = load_table(value, path)
        except CodecError:
            return None  # rebuilt, and the entry rewritten
        if table.language != (profile.name if profile else None):
            return None
        if not table.parsed:
            object.__setattr__(table, "_references", ())
            return table

        def compute():
            return _Extraction(self._read_blob(blob_id), path, profile, parse=self._parse(path, blob_id)).references_only()

        if references:
            # Read when first asked for (most tables are only compared symbol by symbol); a missing
            # or bad references entry is worked out from the blob after all, and rewritten.
            def read():
                stored = self.disk.load("tables", self._key(key, profile) + "|references")
                try:
                    if stored is None:
                        raise CodecError("no references entry")
                    return load_references(stored)
                except CodecError:
                    self._stored_references.discard(key)
                    decoded = compute()
                    object.__setattr__(table, "_references", decoded)
                    self._save(key, table)
                    return decoded

            object.__setattr__(table, "load_references", read)
            self._stored_references.add(key)
            return table
        if by_name:
            self._by_name[key] = by_name
        object.__setattr__(table, "load_references", compute)
        self._watch(key, table)
        return table

    def _save(self, key: tuple[str, str], table: SymbolTable) -> None:
        if self.disk is None:
            return
        entry_key = self._key(key, profile_for_path(key[1]))
        references = table._references
        if references is not None and table._state:
            references = references + table._state  # split apart once read: the entry keeps them whole
        if references is None and key in self._stored_references:
            references = True  # stored beside already, and not read: left as they are
        elif references is not None and key not in self._stored_references:
            self.disk.store("tables", entry_key + "|references", dump_references(references))
            self._stored_references.add(key)
        by_name = None if references is not None else {
            name: dump_references(items) for name, items in sorted(self._by_name.get(key, {}).items())}
        self.disk.store("tables", entry_key, dump_table(table, () if references is True else references, by_name))

    def _parse(self, path: str, blob_id: str):
        return partial(self.trees.parse, path=path, blob_id=blob_id)
