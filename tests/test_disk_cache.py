"""The disk cache of symbol tables (settle/parse/store.py, codec.py, cache.py): a hit is the table a
fresh extraction gives; a bad entry is never trusted; processes share it; it can be turned off; an
unusable directory costs a warning, not the answer. And targeted extraction (`references_to`)
gives what the full table gives for the names asked."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, fixture_files, settle_executable
from settle.languages import profile_for_path
from settle.parse.cache import SymbolTables
from settle.parse.codec import table_key
from settle.parse.extract import DEFAULT_MAX_BYTES, _Covered, extract, references_named
from settle.parse.store import FORMAT, DiskCache

FILES = sorted({(path, data) for _, path, data in fixture_files()})
DRIFT = FIXTURES / "python" / "drift_call_incompatible.toml"
HISTORY = FIXTURES / "replay" / "history.toml"


class _Blobs:
    def __init__(self, files):
        self.by_id = {f"blob{index:04d}": data for index, (_, data) in enumerate(files)}
        self.paths = {f"blob{index:04d}": path for index, (path, _) in enumerate(files)}
        self.reads = 0

    def read(self, blob_id: str) -> bytes:
        self.reads += 1
        return self.by_id[blob_id]


class _Entry:
    """One row of the cache's database, read and written behind settle's back (real SQLite)."""

    def __init__(self, cache: DiskCache, kind: str, key: str):
        self.database, self.digest = cache.path, DiskCache._digest(kind, key)

    def _run(self, statement: str, *parameters):
        with sqlite3.connect(self.database) as database:
            return database.execute(statement, (*parameters, self.digest)).fetchall()

    def read_bytes(self) -> bytes:
        return self._run("SELECT value FROM entries WHERE digest = ?")[0][0]

    def write_bytes(self, data: bytes) -> None:
        self._run("UPDATE entries SET value = ? WHERE digest = ?", data)

    def use_at(self, when: int) -> None:
        self._run("UPDATE entries SET used = ? WHERE digest = ?", when)

    def exists(self) -> bool:
        return bool(self._run("SELECT 1 FROM entries WHERE digest = ?"))


def _entry_file(cache: DiskCache, path: str, blob_id: str) -> _Entry:
    return _Entry(cache, "tables", table_key(blob_id, path, profile_for_path(path), DEFAULT_MAX_BYTES))


def _names(table, data: bytes, draw) -> list[str]:
    """Names to ask for: what the file references or defines, and words it merely contains."""
    pool = sorted({r.name for r in table.references} | {d.name for d in table.definitions}
                  | {w.decode() for w in __import__("re").findall(rb"[A-Za-z_]\w*", data)[:50]})
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)) if pool else ["absent"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=len(FILES) - 1), data=st.data())
def test_targeted_references_are_the_full_tables_for_the_names_asked(index, data):
    path, source = FILES[index]
    profile = profile_for_path(path)
    full = extract(source, path, profile)
    names = _names(full, source, data.draw)
    assert references_named(source, path, profile, names) == tuple(r for r in full.references if r.name in names)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=len(FILES) - 1), extra=st.integers(min_value=0, max_value=20))
def test_many_names_asked_at_once_are_the_full_tables_references_to_them(index, extra):
    """Past a few dozen names the whole list is worked out and filtered: the same answer."""
    path, source = FILES[index]
    full = extract(source, path, profile_for_path(path))
    names = sorted({r.name for r in full.references} | {d.name for d in full.definitions})
    names += [f"absent_{n}" for n in range(40 + extra)]  # always past the targeted path's limit
    tables = SymbolTables(_Blobs([(path, source)]).read)
    assert tables.references_to(path, "blob0000", names) == tuple(r for r in full.references if r.name in set(names))
    few = names[:3]
    assert tables.references_to(path, "blob0000", few) == tuple(r for r in full.references if r.name in set(few))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=len(FILES) - 1))
def test_whether_a_file_defines_a_name_is_the_same_from_its_names_its_disk_entry_and_its_table(index, tmp_path_factory):
    path, source = FILES[index]
    full = extract(source, path, profile_for_path(path))
    defined = {d.name for d in full.definitions}
    asked = sorted(defined | {r.name for r in full.references} | {"absent_name"})
    directory = tmp_path_factory.mktemp("cache")
    answers = []
    for _ in range(2):  # worked out and stored, then read from the disk
        tables = SymbolTables(_Blobs([(path, source)]).read, disk=DiskCache(directory))
        answers.append({name for name in asked if tables.defines(path, "blob0000", name)})
        tables.flush()
    tables.get(path, "blob0000")  # held: the table answers
    answers.append({name for name in asked if tables.defines(path, "blob0000", name)})
    assert answers[0] == answers[1] >= defined
    assert answers[2] == (defined if full.parsed else set())
    assert "absent_name" not in answers[0]


@given(spans=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)).map(lambda s: (s[0], s[0] + s[1])), max_size=12),
       position=st.integers(0, 100))
def test_a_position_is_covered_where_a_span_holds_it(spans, position):
    """The targeted query's bisection over a scope's children (nested or not) is the scan it replaced."""
    spans.sort()
    assert _Covered(spans)(position) == any(start <= position < end for start, end in spans)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=len(FILES) - 1), data=st.data())
def test_a_cache_hit_is_the_table_a_fresh_extraction_gives(tmp_path_factory, index, data):
    directory = tmp_path_factory.mktemp("cache")
    path, source = FILES[index]
    blobs = _Blobs([(path, source)])
    fresh = extract(source, path, profile_for_path(path))
    names = _names(fresh, source, data.draw)
    writer = SymbolTables(blobs.read, disk=DiskCache(directory))
    writer.get(path, "blob0000")
    writer.references_to(path, "blob0000", names)
    writer.flush()  # as its process does when it ends
    # A new process, in effect: nothing in memory, everything from the directory.
    reader = SymbolTables(blobs.read, disk=DiskCache(directory))
    reads = blobs.reads
    hit = reader.get(path, "blob0000")
    assert reader.loaded == 1 and reader.built == 0 and blobs.reads == reads
    assert hit == fresh
    assert reader.references_to(path, "blob0000", names) == tuple(r for r in fresh.references if r.name in names)
    assert blobs.reads == reads, "the targeted answer came from the entry"
    # Asked again for other names, with no tree at hand: the whole list is worked out, once.
    others = _names(fresh, source, data.draw)
    assert reader.references_to(path, "blob0000", others) == tuple(r for r in fresh.references if r.name in others)
    assert hit.references == fresh.references  # worked out on demand (a parse), then stored
    reader.flush()
    reads = blobs.reads
    again = SymbolTables(blobs.read, disk=DiskCache(directory)).get(path, "blob0000")
    assert again == fresh and again.references == fresh.references
    assert blobs.reads == reads, "the references came from the cache too"


def _uses_of_full_table(full, names) -> tuple | None:
    """What `SymbolTables.uses` must say, from the full table: None for a file that is not parseable code."""
    if not full.parsed:
        return None
    return full.imports, {d.name for d in full.definitions}, {name: tuple(r for r in full.references if r.name == name) for name in names}


def _said(uses) -> tuple | None:
    return None if uses is None else (uses.imports, uses.defined, uses.named)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=len(FILES) - 1), data=st.data())
def test_a_files_uses_of_names_are_what_its_full_table_says_made_loaded_grown_or_from_the_table(tmp_path_factory, index, data):
    directory = tmp_path_factory.mktemp("cache")
    path, source = FILES[index]
    blobs = _Blobs([(path, source)])
    full = extract(source, path, profile_for_path(path))
    names, others = _names(full, source, data.draw), _names(full, source, data.draw)
    writer = SymbolTables(blobs.read, disk=DiskCache(directory))
    assert _said(writer.uses(path, "blob0000", names)) == _uses_of_full_table(full, names)
    # Asked again for more names, its structure still at hand: grown, not rebuilt.
    both = sorted(set(names) | set(others))
    assert _said(writer.uses(path, "blob0000", both)) == _uses_of_full_table(full, both)
    assert writer.built == (1 if full.parsed else 0)
    writer.flush()
    reader = SymbolTables(blobs.read, disk=DiskCache(directory))
    reads = blobs.reads
    assert _said(reader.uses(path, "blob0000", both)) == _uses_of_full_table(full, both)
    assert blobs.reads == reads and reader.built == 0, "the answer came from the entry"
    # A name the entry lacks, with no tree at hand: the whole table is built, once, and answers.
    extra = sorted(set(both) | {"absent_name"})
    assert _said(reader.uses(path, "blob0000", extra)) == _uses_of_full_table(full, extra)
    assert reader.defines(path, "blob0000", "absent_name") is False
    # A table held answers for itself.
    held = SymbolTables(blobs.read)
    held.get(path, "blob0000")
    assert _said(held.uses(path, "blob0000", names)) == _uses_of_full_table(full, names)


@pytest.mark.parametrize("stored", [b"\x00\xff not json", b"[1, 2", "wrong shape", "names as a string", "bad import", "bad reference"])
def test_a_bad_uses_entry_is_ignored_and_rewritten(tmp_path, stored):
    path, source = next((p, d) for p, d in FILES if p.endswith(".py") and b"import " in d and b"def " in d)
    blobs = _Blobs([(path, source)])
    full = extract(source, path, profile_for_path(path))
    name = next(r.name for r in full.references)
    cache = DiskCache(tmp_path)
    SymbolTables(blobs.read, disk=cache).uses(path, "blob0000", [name])
    cache.flush()
    key = table_key("blob0000", path, profile_for_path(path), DEFAULT_MAX_BYTES) + "|uses"
    entry = _Entry(cache, "tables", key)
    good = json.loads(entry.read_bytes())
    value = good[2]
    bad = {"wrong shape": json.dumps([FORMAT, key, {"imports": []}]).encode(),
           "names as a string": json.dumps([FORMAT, key, [value[0], "".join(value[1]), value[2]]]).encode(),
           "bad import": json.dumps([FORMAT, key, [[[1, "m", None, 1]], *value[1:]]]).encode(),
           "bad reference": json.dumps([FORMAT, key, [*value[:2], {name: [["call"]]}]]).encode()}
    entry.write_bytes(bad.get(stored, stored))
    tables = SymbolTables(blobs.read, disk=DiskCache(tmp_path))
    assert _said(tables.uses(path, "blob0000", [name])) == _uses_of_full_table(full, [name])
    assert tables.loaded == 0 and tables.built == 1
    tables.flush()
    assert json.loads(entry.read_bytes()) == good


def _bad_entries(key: str, good: bytes) -> dict[str, bytes]:
    value = json.loads(good)[2]
    return {
        "corrupt": b"\x00\xff not json at all",
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "wrong version": json.dumps(["settle-cache/0", key, value]).encode(),
        "foreign key": json.dumps([FORMAT, key + "x", value]).encode(),
        "foreign shape": json.dumps({"format": FORMAT, "key": key}).encode(),
        "wrong types": json.dumps([FORMAT, key, ["parsed", "python", "big", 0, [], [], [], [], None, {}]]).encode(),
        "bad receivers": json.dumps([FORMAT, key, value[:6] + [[[1, "x"]]] + value[7:]]).encode(),
        "bad definition": json.dumps([FORMAT, key, value[:7] + [[[1, 2, 3]]] + value[8:]]).encode(),
    }


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty", "wrong version", "foreign key", "foreign shape",
                                  "wrong types", "bad receivers", "bad definition"])
def test_a_bad_entry_is_ignored_and_rewritten(tmp_path, kind):
    path, source = next((p, d) for p, d in FILES if p.endswith(".py") and b"def " in d)
    blobs = _Blobs([(path, source)])
    cache = DiskCache(tmp_path)
    SymbolTables(blobs.read, disk=cache).get(path, "blob0000")
    cache.flush()
    entry = _entry_file(cache, path, "blob0000")
    key = table_key("blob0000", path, profile_for_path(path), DEFAULT_MAX_BYTES)
    entry.write_bytes(_bad_entries(key, entry.read_bytes())[kind])
    tables = SymbolTables(blobs.read, disk=DiskCache(tmp_path))
    table = tables.get(path, "blob0000")
    assert tables.loaded == 0 and tables.built == 1
    assert table == extract(source, path, profile_for_path(path))
    tables.flush()
    rewritten = json.loads(entry.read_bytes())
    assert rewritten[0] == FORMAT and rewritten[1] == key
    assert SymbolTables(blobs.read, disk=DiskCache(tmp_path)).get(path, "blob0000") == table


@pytest.mark.parametrize("stored", [b"\x00\xff not json", b"[1, 2", "wrong shape"])
def test_a_blob_fact_is_kept_and_a_bad_one_worked_out_again(tmp_path, stored):
    path, source = next((p, d) for p, d in FILES if p.endswith(".py") and b"import " in d)
    blobs = _Blobs([(path, source)])
    worked = []

    def words(data: bytes) -> list[str]:
        worked.append(data)
        return sorted({w.decode() for w in data.split() if w.isalpha()})

    def valid(value) -> bool:
        return all(isinstance(item, str) for item in value)

    first = SymbolTables(blobs.read, disk=DiskCache(tmp_path))
    expected = first.blob_fact("words", path, "blob0000", words, valid)
    first.flush()
    assert SymbolTables(blobs.read, disk=DiskCache(tmp_path)).blob_fact("words", path, "blob0000", words, valid) == expected
    assert len(worked) == 1, "read from the cache, not worked out again"
    entry = _Entry(DiskCache(tmp_path), "tables", table_key("blob0000", path, profile_for_path(path), DEFAULT_MAX_BYTES) + "|words")
    key = json.loads(entry.read_bytes())[1]
    entry.write_bytes(json.dumps([FORMAT, key, [[1], [2]]]).encode() if stored == "wrong shape" else stored)
    again = SymbolTables(blobs.read, disk=DiskCache(tmp_path))
    assert again.blob_fact("words", path, "blob0000", words, valid) == expected
    assert len(worked) == 2
    again.flush()
    assert json.loads(entry.read_bytes())[2] == expected


def test_replay_gives_the_same_lines_cold_warm_and_without_the_cache(settle, build, tmp_path):
    history = build(HISTORY)
    environment = {"SETTLE_CACHE_DIR": str(tmp_path / "cache")}
    plain = settle("replay", "--no-cache", repo=history, env=environment)
    cold = settle("replay", repo=history, env=environment)
    warm = settle("replay", repo=history, env=environment)
    assert plain.returncode == cold.returncode == warm.returncode == 0, cold.stderr
    assert plain.stdout == cold.stdout == warm.stdout and plain.stdout.count("\n") > 1


def test_foreign_files_in_the_directory_are_left_alone_and_not_read(tmp_path):
    path, source = FILES[0]
    stray = tmp_path / "tables" / "zz" / "notes.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("mine")
    (tmp_path / "README").write_text("not settle's")
    cache = DiskCache(tmp_path)
    tables = SymbolTables(_Blobs([(path, source)]).read, disk=cache)
    assert tables.get(path, "blob0000") == extract(source, path, profile_for_path(path))
    cache.sweep()
    cache.clear()
    assert (tmp_path / "README").read_text() == "not settle's" and stray.read_text() == "mine"


@pytest.mark.parametrize("kind", ["garbage", "truncated", "another program's database", "another schema"])
def test_a_bad_database_file_is_made_anew(tmp_path, kind):
    path, source = next((p, d) for p, d in FILES if p.endswith(".py") and b"def " in d)
    blobs = _Blobs([(path, source)])
    database = tmp_path / "settle-cache-2.sqlite"
    first = DiskCache(tmp_path)
    SymbolTables(blobs.read, disk=first).get(path, "blob0000")
    first.close()  # as when its process ends
    if kind == "garbage":
        database.write_bytes(b"\x00\xff not a database " * 100)
    elif kind == "truncated":
        database.write_bytes(database.read_bytes()[:1000])
    else:
        database.unlink()
        with sqlite3.connect(database) as other:
            other.execute("CREATE TABLE notes (text)")
            if kind == "another schema":
                other.execute(f"PRAGMA application_id = {0x53544C43}")
                other.execute("PRAGMA user_version = 99")
    tables = SymbolTables(blobs.read, disk=DiskCache(tmp_path))
    assert tables.get(path, "blob0000") == extract(source, path, profile_for_path(path))
    assert tables.built == 1
    tables.flush()
    again = SymbolTables(blobs.read, disk=DiskCache(tmp_path))
    assert again.get(path, "blob0000") == extract(source, path, profile_for_path(path)) and again.loaded == 1


def test_entries_of_the_file_per_entry_format_are_swept_away(tmp_path):
    old = tmp_path / "tables" / "ab" / ("c" * 30)
    old.parent.mkdir(parents=True)
    old.write_text("[]")
    (tmp_path / "last-sweep").write_text("")
    cache = DiskCache(tmp_path)
    cache.store("tables", "key", "value")
    cache.sweep()
    assert not (tmp_path / "tables").exists() and not (tmp_path / "last-sweep").exists()
    assert cache.load("tables", "key") == "value"


def test_the_sweep_removes_the_least_recently_used_entries(tmp_path):
    cache = DiskCache(tmp_path, limit=10_000)
    for number in range(20):
        cache.store("tables", f"key{number}", "x" * 1000)
        cache.flush()
        _Entry(cache, "tables", f"key{number}").use_at(1_000_000 + number)
    assert cache.load("tables", "key3") == "x" * 1000  # used now: the newest
    cache.sweep()
    left = {number for number in range(20) if _Entry(cache, "tables", f"key{number}").exists()}
    assert cache.totals()[1] <= 9_000
    assert 3 in left and 19 in left and 0 not in left and 4 not in left


def _plans(database: Path) -> list[str]:
    """How SQLite reads the rows for the sweep and for `totals` (EXPLAIN QUERY PLAN)."""
    with sqlite3.connect(database) as other:
        return [" ".join(str(part) for part in row[3:]) for statement in
                ("SELECT count(*), total(size) FROM entries", "SELECT digest, size FROM entries ORDER BY used, digest")
                for row in other.execute(f"EXPLAIN QUERY PLAN {statement}")]


def test_the_sweep_and_the_totals_read_an_index_not_the_values(tmp_path):
    cache = DiskCache(tmp_path)
    cache.store("tables", "key", "x" * 20_000)  # a value over several pages
    cache.flush()
    assert _plans(cache.path) == ["SCAN entries USING COVERING INDEX entries_lru"] * 2
    entries, size = cache.totals()
    assert entries == 1 and size > 20_000


def test_a_new_cache_file_has_large_pages_and_gives_freed_ones_back(tmp_path):
    cache = DiskCache(tmp_path)
    cache.store("tables", "key", "value")
    cache.flush()
    with sqlite3.connect(cache.path) as other:
        assert [other.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_size", "auto_vacuum", "journal_mode")] == [
            16384, 2, "wal"]  # 2: incremental


def test_an_earlier_settles_cache_file_gets_the_sweeps_index_and_keeps_its_entries(tmp_path):
    cache = DiskCache(tmp_path, limit=10_000)
    for number in range(20):
        cache.store("tables", f"key{number}", "x" * 1000)
    cache.close()
    with sqlite3.connect(cache.path) as earlier:  # the index the file had before
        earlier.execute("DROP INDEX entries_lru")
        earlier.execute("CREATE INDEX entries_used ON entries (used)")
    for number in range(20):
        _Entry(cache, "tables", f"key{number}").use_at(1_000_000 + number)
    reopened = DiskCache(tmp_path, limit=10_000)
    assert reopened.load("tables", "key3") == "x" * 1000
    assert _plans(cache.path) == ["SCAN entries USING COVERING INDEX entries_lru"] * 2
    with sqlite3.connect(cache.path) as other:
        assert {name for (name,) in other.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")} == {"entries_lru"}
    reopened.sweep()
    left = {number for number in range(20) if _Entry(cache, "tables", f"key{number}").exists()}
    assert 3 in left and 19 in left and 0 not in left and reopened.totals()[1] <= 9_000


def test_writing_ahead_leaves_the_entries_in_the_file_for_any_reader(tmp_path):
    cache = DiskCache(tmp_path)
    for number in range(30):
        cache.store("tables", f"key{number}", "x" * 5000)
    cache.write_ahead()  # what a command does while its helper finishes
    with sqlite3.connect(cache.path) as other:
        assert other.execute("SELECT count(*) FROM entries").fetchone()[0] == 30
    cache.store("tables", "later", "y")
    cache.close()
    assert DiskCache(tmp_path).load("tables", "later") == "y" and DiskCache(tmp_path).load("tables", "key29") == "x" * 5000


# -- the command -------------------------------------------------------------------------------


def _files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def test_check_gives_the_same_verdict_cold_warm_and_without_the_cache(settle, build, tmp_path):
    repo = build(DRIFT)
    environment = {"SETTLE_CACHE_DIR": str(tmp_path / "cache")}
    args = ("check", "--format", "json", "agent/tax", "agent/receipt")
    plain = settle(*args, "--no-cache", repo=repo, env=environment)
    assert not _files_in(tmp_path / "cache")
    cold = settle(*args, repo=repo, env=environment)
    assert _files_in(tmp_path / "cache")
    warm = settle(*args, repo=repo, env=environment)
    assert plain.returncode == cold.returncode == warm.returncode == 1
    assert plain.stdout == cold.stdout == warm.stdout
    assert cold.stderr == warm.stderr == ""


def test_the_command_closes_the_cache_on_its_way_out(settle, build, tmp_path):
    # The command skips the interpreter's teardown (settle.cli.run): the database must be closed
    # by then, its write-ahead log folded in, whether the run wrote entries or only read them.
    repo = build(DRIFT)
    cache = tmp_path / "cache"
    environment = {"SETTLE_CACHE_DIR": str(cache)}
    for _ in ("cold", "warm"):
        result = settle("check", "--format", "json", "agent/tax", "agent/receipt", repo=repo, env=environment)
        assert result.returncode == 1, result.stderr
        assert [p.name for p in _files_in(cache)] == ["settle-cache-2.sqlite"]
    with sqlite3.connect(cache / "settle-cache-2.sqlite") as database:
        assert database.execute("SELECT count(*) FROM entries").fetchone()[0] > 0


@pytest.mark.parametrize("how", ["--no-cache", "SETTLE_NO_CACHE=1"])
def test_no_cache_writes_nothing(settle, build, tmp_path, how):
    repo = build(DRIFT)
    environment = {"SETTLE_CACHE_DIR": str(tmp_path / "cache")}
    flags = ["--no-cache"] if how == "--no-cache" else []
    if how != "--no-cache":
        environment["SETTLE_NO_CACHE"] = "1"
    history = build(HISTORY)
    for command, where in ((["check", "agent/tax"], repo), (["symbols"], repo), (["claims", "infer", "agent/tax"], repo),
                           (["replay", "--jobs", "2"], history)):
        result = settle(*command, *flags, repo=where, env=environment)
        assert result.returncode in (0, 1), result.stderr
    assert not (tmp_path / "cache").exists()


def test_an_unwritable_cache_directory_is_one_warning_and_the_right_answer(settle, build, tmp_path):
    repo = build(DRIFT)
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a directory can't be made under a file, whoever we run as
    expected = settle("check", "--format", "json", "agent/tax", "--no-cache", repo=repo)
    result = settle("check", "--format", "json", "agent/tax", repo=repo, env={"SETTLE_CACHE_DIR": str(blocker / "cache")})
    assert result.returncode == expected.returncode == 1
    assert result.stdout == expected.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("settle: warning: cache directory") and "without the disk cache" in lines[0]
    history = build(HISTORY)
    expected = settle("replay", "--jobs", "2", "--no-cache", repo=history)
    replayed = settle("replay", "--jobs", "2", repo=history, env={"SETTLE_CACHE_DIR": str(blocker / "cache")})
    assert replayed.returncode == 0 and replayed.stdout == expected.stdout and expected.stdout
    assert len(replayed.stderr.splitlines()) == 1, "the workers say nothing more"


def test_a_cache_directory_inside_the_repository_is_refused(settle, build):
    repo = build(DRIFT)
    result = settle("check", "agent/tax", repo=repo, env={"SETTLE_CACHE_DIR": str(repo / ".git" / "settle-cache")})
    assert result.returncode == 1
    assert "inside the repository" in result.stderr
    assert not (repo / ".git" / "settle-cache").exists() or not _files_in(repo / ".git" / "settle-cache")


def test_two_processes_fill_one_cache_at_once(build, tmp_path):
    repo = build(DRIFT)
    environment = {**os.environ, "SETTLE_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    expected = subprocess.run([settle_executable(), "symbols", "--format", "json", "--no-cache"], cwd=repo,
                              capture_output=True, text=True, env=environment).stdout
    for _ in range(3):
        runs = [subprocess.Popen([settle_executable(), "symbols", "--format", "json"], cwd=repo, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=environment) for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert all(run.returncode == 0 for run in runs)
        assert all(out == expected and err == "" for out, err in outputs)
        subprocess.run([settle_executable(), "cache", "clear"], env=environment, capture_output=True, check=True)
    warm = [subprocess.run([settle_executable(), "symbols", "--format", "json"], cwd=repo, capture_output=True,
                           text=True, env=environment) for _ in range(2)]
    assert all(run.stdout == expected for run in warm)
    assert not [p for p in _files_in(tmp_path / "cache") if p.name.startswith(".tmp-")]


def test_cache_info_and_clear(settle, build, tmp_path):
    repo = build(DRIFT)
    environment = {"SETTLE_CACHE_DIR": str(tmp_path / "cache")}
    settle("symbols", repo=repo, env=environment)
    info = json.loads(settle("cache", "info", "--format", "json", env=environment).stdout)
    assert info["directory"] == str(tmp_path / "cache") and info["entries"] > 0 and info["bytes"] > 0
    assert info["limit"] == 1024 ** 3 and info["enabled"] is True
    text = settle("cache", "info", env=environment, check_unchanged=False).stdout
    assert str(tmp_path / "cache") in text and "entries:" in text
    cleared = settle("cache", "clear", env=environment)
    assert cleared.returncode == 0 and f"removed {info['entries']} entries" in cleared.stdout
    assert json.loads(settle("cache", "info", "--format", "json", env=environment).stdout)["entries"] == 0
    bounded = json.loads(settle("cache", "info", "--format", "json", env={**environment, "SETTLE_CACHE_SIZE": "2M"}).stdout)
    assert bounded["limit"] == 2 * 1024 * 1024


def test_the_default_directory_follows_xdg(settle, tmp_path):
    environment = {"SETTLE_CACHE_DIR": "", "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    info = json.loads(settle("cache", "info", "--format", "json", env=environment).stdout)
    assert info["directory"] == str(tmp_path / "xdg" / "settle")
    environment = {"SETTLE_CACHE_DIR": "", "XDG_CACHE_HOME": "", "HOME": str(tmp_path / "home")}
    info = json.loads(settle("cache", "info", "--format", "json", env=environment).stdout)
    assert info["directory"] == str(tmp_path / "home" / ".cache" / "settle")


def test_eight_processes_making_a_fresh_cache_at_once_keep_every_entry(tmp_path):
    """The first writers of an empty cache directory race to make the database: each must find it
    made (or make it), never take the other's new file for a stranger's and remove it."""
    import sys

    root = tmp_path / "cache"
    code = ("import sys; from pathlib import Path; from settle.parse.store import DiskCache; "
            "cache = DiskCache(Path(sys.argv[1])); cache.store('tables', sys.argv[2], 'value'); cache.flush(); "
            "print(cache.usable)")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(root), f"key{number}"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for number in range(8)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [out.strip() for out, _ in outputs] == ["True"] * 8 and all(err == "" for _, err in outputs)
    cache = DiskCache(root)
    assert cache.totals()[0] == 8 and all(cache.load("tables", f"key{number}") == "value" for number in range(8))


def test_after_many_misses_the_entries_present_are_read_once_and_answer_alike(tmp_path, monkeypatch):
    """A cold run's misses are answered from the digests the database holds, read once: what
    was there, what this process writes and (once the snapshot is read again) what another
    process wrote are all still found; what is in none of them is a miss."""
    from settle.parse import store

    first = DiskCache(tmp_path)
    first.store("tables", "before", ["old"])
    first.flush()
    cache = DiskCache(tmp_path)
    for number in range(store._MISSES_BEFORE_SNAPSHOT + 10):
        assert cache.load("tables", f"absent {number}") is None
    assert cache._present is not None and len(cache._present) == 1
    assert cache.load("tables", "before") == ["old"] and cache.holds("tables", "before")
    cache.store("tables", "mine", ["new"])
    assert cache.load("tables", "mine") == ["new"]  # pending
    cache.flush()
    assert cache.load("tables", "mine") == ["new"] and cache.holds("tables", "mine")
    other = DiskCache(tmp_path)
    other.store("tables", "theirs", ["other"])
    other.flush()
    monkeypatch.setattr(store, "_SNAPSHOT_SECONDS", 0.0)  # read again at the next question
    assert cache.load("tables", "theirs") == ["other"]
    assert cache.load("tables", "absent 0") is None and not cache.holds("tables", "absent 1")


def test_a_large_database_is_asked_entry_by_entry(tmp_path, monkeypatch):
    from settle.parse import store

    monkeypatch.setattr(store, "_SNAPSHOT_ENTRIES", 3)
    writer = DiskCache(tmp_path)
    for number in range(5):
        writer.store("tables", f"entry {number}", [number])
    writer.flush()
    cache = DiskCache(tmp_path)
    for number in range(store._MISSES_BEFORE_SNAPSHOT + 10):
        assert cache.load("tables", f"absent {number}") is None
    assert cache._present is None and cache._too_many
    assert [cache.load("tables", f"entry {number}") for number in range(5)] == [[n] for n in range(5)]
