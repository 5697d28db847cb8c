"""The disk cache: symbol tables (and other per-blob facts) kept between processes.

One SQLite database in the cache directory holds every entry, a row each,
named by a digest of its kind and whole key; the row keeps the key itself and
its value as JSON, whose first fields repeat the format and the key: a value
that does not parse, is cut short, carries another format or another key (an
older settle, other grammars, a digest collision) is ignored and later
overwritten, never trusted. JSON is data: loading an entry can't run code (no
pickle). A database file that is corrupt, truncated or not settle's cache is
removed and made anew. Each write is one short transaction (WAL, a busy
timeout), so any number of processes can fill one cache and readers see a
whole entry or none. One file, not a file per entry: creating a file costs
more than writing the entry (0.6-0.8 ms against 0.1 ms on the benchmark host).

The directory: `$SETTLE_CACHE_DIR`, else `$XDG_CACHE_HOME/settle`, else
`~/.cache/settle`. `SETTLE_NO_CACHE=1` (or `--no-cache`) turns it off. It is
bounded (`SETTLE_CACHE_SIZE`, default 1 GiB, counting the entries' bytes): a
hit marks its entry used (at most once a minute), and a sweep, now and then
after writes and never on a read, removes the least recently used entries
until a tenth is free.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from settle.wal import use_wal

FORMAT = "settle-cache/2"
DATABASE = "settle-cache-2.sqlite"  # the format in the name: another format's settle never opens this file
_APPLICATION_ID = 0x53544C43  # "STLC": tells settle's cache from any other SQLite file
_SCHEMA_VERSION = 1
DEFAULT_LIMIT = 1024 * 1024 * 1024
_BUSY_SECONDS = 5.0  # a writer waits this long for another; then the entry is simply not written
_SWEEP_EVERY = 10 * 60  # seconds: at most one sweep this often, unless a process writes a lot
_SWEEP_AFTER_BYTES = 64 * 1024 * 1024  # written by one process: sweep then, whatever the clock says
_PENDING = 64  # entries written in one transaction (a transaction costs about as much as a row)
_PENDING_BYTES = 4 * 1024 * 1024
_USED_GRAIN = 60  # seconds: a hit rewrites its entry's last use no more often (reads stay reads)
# Past this many misses a process reads which entries there are, once, and answers the next
# misses from memory: a cold run asks for thousands of entries the database has none of (each
# SELECT about 10 us; 7,000 of them in pytest's replay), a warm one for few it lacks.
_MISSES_BEFORE_SNAPSHOT = 256
_SNAPSHOT_ENTRIES = 50_000  # a larger database is asked entry by entry, as before
_SNAPSHOT_SECONDS = 30.0  # then read again: other processes' entries written since count too
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_WARNED_INSIDE: set[Path] = set()
_LEGACY = ("tables", "mentions")  # folders of the file-per-entry format (settle-cache/1): removed by a sweep
_REPLACE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}  # a file to make anew; other errors leave it be


def cache_directory() -> Path:
    explicit = os.environ.get("SETTLE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "settle"
    return Path.home() / ".cache" / "settle"


def cache_disabled() -> bool:
    return os.environ.get("SETTLE_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no")


def size_limit() -> int:
    """SETTLE_CACHE_SIZE as bytes (`500M`, `2G`, `1073741824`); the default when unset or unreadable."""
    match = _SIZE.match(os.environ.get("SETTLE_CACHE_SIZE", ""))
    if not match:
        return DEFAULT_LIMIT
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


class _Foreign(Exception):
    """The database file is not settle's cache of this schema."""


class DiskCache:
    """Entries by (kind, key); `load` gives the stored JSON value or None, `store` replaces it.
    The database is opened on first use, once per process (a forked worker opens its own)."""

    def __init__(self, root: Path, limit: int = DEFAULT_LIMIT):
        self.root = root
        self.limit = limit
        self.usable = True
        # Loads only, never a write, a removal or a warning: a forked helper's copy (settle.parse.helper).
        self.read_only = False
        self.written = 0
        self._since_sweep = 0
        self._database: sqlite3.Connection | None = None
        self._opened_by: int | None = None
        self._inherited: list[sqlite3.Connection] = []  # a parent's connections, kept unclosed (see `_db`)
        self._exit_hook = False
        self._pending: dict[bytes, tuple[str, bytes]] = {}  # digest -> (kind, JSON): stored, not yet written
        self._pending_bytes = 0
        self._misses = 0
        # The digests the database held when last read (and those written since), or None;
        # what is not among them is a miss without a query (`_surely_absent`).
        self._present: set[bytes] | None = None
        self._present_at = 0.0
        self._too_many = False  # past _SNAPSHOT_ENTRIES: not read again by this process

    @classmethod
    def default(cls, avoid: tuple[str, ...] = ()) -> DiskCache | None:
        """The user's cache, or None when it is turned off or would sit inside one of `avoid`
        (the repository being read: settle never writes there)."""
        if cache_disabled():
            return None
        root = cache_directory()
        if _inside_any(root, avoid):
            if root not in _WARNED_INSIDE:  # said once a process, however many sessions open it
                _WARNED_INSIDE.add(root)
                _warn(f"cache directory {root} is inside the repository; running without the disk cache")
            return None
        return cls(root, size_limit())

    # -- the database --------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.root / DATABASE

    def _db(self, create: bool = True) -> sqlite3.Connection | None:
        if self._database is not None and self._opened_by == os.getpid():
            return self._database
        if self._database is not None:
            # A connection inherited across a fork: SQLite forbids using it here, closing
            # included (that would run the parent's checkpoint and locks from this process).
            self._inherited.append(self._database)
        self._database = None
        if not create and not self.path.exists():
            return None
        for last in (False, True):
            database = None
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                database = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False)
                _prepare(database, migrate=not self.read_only)
                self._database, self._opened_by = database, os.getpid()
                self._hook_exit()
                return database
            except (_Foreign, sqlite3.DatabaseError) as error:
                if database is not None:
                    database.close()
                if last or self.read_only or not (isinstance(error, _Foreign) or getattr(error, "sqlite_errorname", "") in _REPLACE):
                    self._unusable(error)
                    return None
                for suffix in ("", "-wal", "-shm"):  # not ours, or broken: made anew
                    _remove(f"{self.path}{suffix}")
            except OSError as error:
                self._unusable(error)
                return None
        return None

    def close(self) -> None:
        """Write what is kept, and let the database go (the last connection to close folds the
        write-ahead log into the file)."""
        self.flush()
        if self._database is not None and self._opened_by == os.getpid():
            self._database.close()
        elif self._database is not None:
            self._inherited.append(self._database)  # a parent's: never closed here (see `_db`)
        self._database = None

    def _unusable(self, error: BaseException) -> None:
        self.usable = False
        if self.read_only:
            return  # a helper's copy: the command itself says what there is to say, once
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        _warn(f"cache directory {self.root} is not usable ({reason}); running without the disk cache")

    def _run(self, statement: str, parameters=(), create: bool = True):
        """One statement; None when the database is busy past the timeout or can't be used."""
        if not self.usable:
            return None
        database = self._db(create)
        if database is None:
            return None
        try:
            return database.execute(statement, parameters)
        except sqlite3.DatabaseError as error:
            self._failed(database, error)
            return None

    def _failed(self, database: sqlite3.Connection, error: sqlite3.DatabaseError) -> None:
        if getattr(error, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return  # another process holds it: this entry is a miss, or not written
        database.close()
        self._database = None
        if getattr(error, "sqlite_errorname", "") in _REPLACE and not self.read_only:  # made anew on the next use
            for suffix in ("", "-wal", "-shm"):
                _remove(f"{self.path}{suffix}")
        else:
            self._unusable(error)

    # -- entries ---------------------------------------------------------------------------

    @staticmethod
    def _digest(kind: str, key: str) -> bytes:
        return hashlib.blake2b(f"{kind}\0{key}".encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def load(self, kind: str, key: str):
        digest = self._digest(kind, key)
        pending = self._pending.get(digest)
        if pending is not None:
            return decode_entry(pending[1], key)
        if self._surely_absent(digest):
            return None
        found = self._run("SELECT value, used FROM entries WHERE digest = ?", (digest,), create=False)
        row = found.fetchone() if found is not None else None
        if row is None:
            self._misses += 1
            return None
        raw, used = row
        value = decode_entry(raw, key)
        now = int(time.time())
        if value is not None and not self.read_only and (not isinstance(used, int) or now - used >= _USED_GRAIN):  # "recently used", for the sweep
            self._run("UPDATE entries SET used = ? WHERE digest = ?", (now, digest))
        return value

    def holds(self, kind: str, key: str) -> bool:
        """Is there an entry (good or not) for the key? Cheaper than loading it."""
        digest = self._digest(kind, key)
        if digest in self._pending:
            return True
        if self._surely_absent(digest):
            return False
        found = self._run("SELECT 1 FROM entries WHERE digest = ?", (digest,), create=False)
        if found is None or found.fetchone() is None:
            self._misses += 1
            return False
        return True

    def _surely_absent(self, digest: bytes) -> bool:
        """Not in the database, as far as the digests it held when last read say (read again every
        _SNAPSHOT_SECONDS). An entry another process wrote since is a miss: worked out again."""
        if self._too_many or self._misses < _MISSES_BEFORE_SNAPSHOT:
            return False
        if self._present is None or time.monotonic() - self._present_at > _SNAPSHOT_SECONDS:
            self._present = None
            counted = self._run("SELECT count(*) FROM entries", create=False)
            if counted is None or counted.fetchone()[0] > _SNAPSHOT_ENTRIES:
                self._too_many = counted is not None
                return False
            listed = self._run("SELECT digest FROM entries", create=False)
            if listed is None:
                return False
            self._present, self._present_at = {row[0] for row in listed}, time.monotonic()
        return digest not in self._present

    def store(self, kind: str, key: str, value) -> None:
        """Kept to be written with the next few (one transaction writes them all: `flush`, which a
        command's end, a replayed merge's end and every _PENDING entries call)."""
        if self.usable and not self.read_only:
            self.store_encoded(kind, key, encode_entry(key, value))

    def store_encoded(self, kind: str, key: str, data: bytes) -> None:
        """`store` of a value `encode_entry` encoded already (a helper process's, settle.parse.helper)."""
        if not self.usable or self.read_only:
            return
        self._pending[self._digest(kind, key)] = (kind, data)
        self._pending_bytes += len(data)
        self._hook_exit()
        if len(self._pending) >= _PENDING or self._pending_bytes >= _PENDING_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the entries kept so far, in one transaction (dropped if the database stays busy)."""
        if not self._pending or self.read_only:
            return
        now = int(time.time())
        rows = [(digest, kind, data, len(data), now) for digest, (kind, data) in self._pending.items()]
        self._pending.clear()
        self._pending_bytes = 0
        if not self.usable or (database := self._db()) is None:
            return
        try:
            database.execute("BEGIN IMMEDIATE")
            try:
                database.executemany("INSERT OR REPLACE INTO entries (digest, kind, value, size, used) VALUES (?, ?, ?, ?, ?)", rows)
                database.execute("COMMIT")
            except BaseException:
                if database.in_transaction:
                    database.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as error:
            self._failed(database, error)
            return
        if self._present is not None:
            self._present.update(row[0] for row in rows)
        written = sum(row[3] for row in rows)
        self.written += written
        self._since_sweep += written
        if self._since_sweep >= _SWEEP_AFTER_BYTES:
            self._since_sweep = 0
            self.sweep()

    def write_ahead(self) -> None:
        """`flush`, and the write-ahead log folded into the file as far as no reader holds it back
        (a passive checkpoint): what closing the database would do at the command's end, done
        while the command waits for something else."""
        self.flush()
        if self.usable and not self.read_only and self._database is not None and self._opened_by == os.getpid():
            try:
                self._database.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.DatabaseError:
                pass  # busy or not in WAL mode: closing folds it in

    def _hook_exit(self) -> None:
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        if self._opened_by not in (None, os.getpid()):
            return  # a forked worker's copy: its own process writes its own
        self.flush()
        self._sweep_if_due()
        self.close()  # here, not in the interpreter's teardown, which the command skips (settle.cli.run)

    # -- size --------------------------------------------------------------------------------

    def totals(self) -> tuple[int, int]:
        """(entries, bytes) in the cache."""
        self.flush()
        found = self._run("SELECT count(*), total(size) FROM entries", create=False)
        row = found.fetchone() if found is not None else None
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def _sweep_if_due(self) -> None:
        found = self._run("SELECT value FROM meta WHERE name = 'last-sweep'")
        row = found.fetchone() if found is not None else None
        if row is not None and isinstance(row[0], (int, float)) and time.time() - row[0] < _SWEEP_EVERY:
            return
        self.sweep()

    def sweep(self) -> int:
        """Remove least recently used entries until the cache is 90% of its limit; bytes removed.
        The file-per-entry format's folders, if an older settle left any, go too."""
        removed = sum(size for size in _remove_legacy(self.root))
        _, total = self.totals()
        if total > self.limit:
            target = self.limit * 0.9
            doomed = []
            found = self._run("SELECT digest, size FROM entries ORDER BY used, digest")
            for digest, size in found.fetchall() if found is not None else ():
                if total - removed <= target:
                    break
                doomed.append((digest,))
                removed += size
            database = self._db()
            if database is not None and doomed:
                try:
                    with database:  # one transaction
                        database.execute("BEGIN IMMEDIATE")
                        database.executemany("DELETE FROM entries WHERE digest = ?", doomed)
                    database.execute("PRAGMA incremental_vacuum")  # the file gives the pages back
                except sqlite3.DatabaseError:
                    pass  # busy: the next sweep tries again
        self._run("INSERT OR REPLACE INTO meta (name, value) VALUES ('last-sweep', ?)", (time.time(),))
        return removed

    def clear(self) -> tuple[int, int]:
        """Remove every entry: (entries, bytes) removed. Only settle's own files are touched."""
        self._pending.clear()
        self._pending_bytes = 0
        self._present = None
        entries, size = self.totals()
        legacy = _remove_legacy(self.root)
        self._run("DELETE FROM entries", create=False)
        self._run("PRAGMA incremental_vacuum", create=False)
        return entries + len(legacy), size + sum(legacy)


def encode_entry(key: str, value) -> bytes:
    """An entry as the database holds it: its format, its key and its value, as JSON."""
    # The values are trees of lists and of the model's tuples (settle.parse.codec): they hold no
    # cycle, and looking for one was half of the encoding.
    return json.dumps([FORMAT, key, value], separators=(",", ":"), ensure_ascii=False,
                      check_circular=False).encode("utf-8", "surrogatepass")


def decode_entry(raw, key: str):
    """An entry's value, or None when its JSON is broken or repeats another format or key."""
    collecting = gc.isenabled()
    gc.disable()  # a large entry is thousands of objects, all kept: no use walking the heap for them
    try:
        entry = json.loads(raw)
    except (ValueError, TypeError):  # truncated, corrupt or not JSON at all (UnicodeDecodeError is one)
        return None
    finally:
        if collecting:
            gc.enable()
    if not (isinstance(entry, list) and len(entry) == 3 and entry[0] == FORMAT and entry[1] == key):
        return None
    return entry[2]


def _prepare(database: sqlite3.Connection, migrate: bool = True) -> None:
    """Check (or make) the schema; _Foreign when the file is some other database. A newer cache
    format gets a new file name (DATABASE), so two settles never fight over one file. Unless
    `migrate` is false, an earlier settle's index is replaced (`_index_by_use`)."""
    # A new file's settings, which only take before its first table (page size first: after the
    # auto-vacuum setting it no longer takes). 16 KiB pages hold a table entry in fewer overflow
    # pages than 4 KiB ones: writing pytest's 12 MB of entries 0.19 -> 0.15 s, reading them 0.085 -> 0.075 s.
    database.execute("PRAGMA page_size = 16384")
    database.execute("PRAGMA auto_vacuum = INCREMENTAL")
    if _schema(database) == (_APPLICATION_ID, _SCHEMA_VERSION):
        database.execute("PRAGMA synchronous = NORMAL")  # a cache: losing the last writes to a power cut is fine
        if migrate and not database.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'entries_lru'").fetchone():
            _index_by_use(database)
        return
    use_wal(database, _BUSY_SECONDS)
    database.execute("PRAGMA synchronous = NORMAL")
    # Decided inside the write lock: two processes making the file at once, the second finds it
    # made (judged before the lock, the other's new tables would look like a stranger's).
    database.execute("BEGIN IMMEDIATE")
    try:
        found = _schema(database)
        if found != (_APPLICATION_ID, _SCHEMA_VERSION):
            if found != (0, 0) or database.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise _Foreign(f"{found[0]:#x}/{found[1]}")
            database.execute("CREATE TABLE entries (digest BLOB PRIMARY KEY, kind TEXT NOT NULL, value BLOB NOT NULL,"
                             " size INTEGER NOT NULL, used INTEGER NOT NULL)")
            database.execute(_LRU_INDEX)
            database.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value)")
            database.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            database.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        database.execute("COMMIT")
    except BaseException:
        database.execute("ROLLBACK")
        raise


# The sweep and `totals` read every entry's size and last use: from the table they follow each
# value's overflow pages (a second per 600 MiB of cache), from this index they read a few bytes a row.
_LRU_INDEX = "CREATE INDEX IF NOT EXISTS entries_lru ON entries (used, digest, size)"


def _index_by_use(database: sqlite3.Connection) -> None:
    """Give a file an earlier settle made the sweep's index in place of its own, `entries_used`
    (used alone). The schema version stays: settles of either kind read and write both files."""
    try:
        database.execute("BEGIN IMMEDIATE")
        try:
            database.execute(_LRU_INDEX)
            database.execute("DROP INDEX IF EXISTS entries_used")
            database.execute("COMMIT")
        except BaseException:
            database.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError:  # busy, or a read-only file: the next process that opens it tries again
        pass


def _schema(database: sqlite3.Connection) -> tuple[int, int]:
    return tuple(database.execute(f"PRAGMA {name}").fetchone()[0] for name in ("application_id", "user_version"))


def _remove_legacy(root: Path) -> list[int]:
    """Delete the file-per-entry format's entry files (two-hex-digit shards of digest-named files);
    their sizes. Anything else in those folders is left, and so are the folders then."""
    removed = []
    for kind in _LEGACY:
        base = root / kind
        try:
            shards = [s for s in os.scandir(base) if s.is_dir(follow_symlinks=False) and re.fullmatch(r"[0-9a-f]{2}", s.name)]
        except OSError:
            continue
        for shard in shards:
            try:
                files = list(os.scandir(shard.path))
            except OSError:
                continue
            for item in files:
                if re.fullmatch(r"[0-9a-f]{30}|\.tmp-.*", item.name) and item.is_file(follow_symlinks=False):
                    try:
                        size = item.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
                    if _remove(item.path):
                        removed.append(size)
            _rmdir(shard.path)
        _rmdir(base)
    _remove(root / "last-sweep")
    return removed


@dataclass(frozen=True)
class CacheInfo:
    directory: str
    enabled: bool
    entries: int
    bytes: int
    limit: int


def cache_info() -> CacheInfo:
    cache = DiskCache(cache_directory(), size_limit())
    entries, size = cache.totals()
    return CacheInfo(str(cache.root), not cache_disabled(), entries, size, cache.limit)


def repository_places(repository) -> tuple[str, ...]:
    """Where a repository lives (git dir, common dir, work tree): the cache is never put there."""
    places = [repository.git_dir, repository.common_dir]
    workdir = getattr(getattr(repository, "_repo", None), "workdir", None)  # pygit2's; None when bare
    if workdir:
        places.append(workdir)
    return tuple(places)


def _inside_any(root: Path, places: tuple[str, ...]) -> bool:
    resolved = _resolved(root)
    for place in places:
        if place and (resolved == _resolved(Path(place)) or _resolved(Path(place)) in resolved.parents):
            return True
    return False


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _remove(path) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False


def _rmdir(path) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass  # not empty: something that is not ours is in it


def _warn(message: str) -> None:
    print(f"settle: warning: {message}", file=sys.stderr)


def prepare() -> None:
    """Before a command that parses: an unwritable cache directory is said once, here, and turned
    off for this process and the workers it starts (which would each say it again)."""
    if cache_disabled():
        return
    root = cache_directory()
    try:
        root.mkdir(parents=True, exist_ok=True)
        writable = os.access(root, os.W_OK | os.X_OK)
        reason = "permission denied"
    except OSError as error:
        writable, reason = False, error.strerror or str(error)
    if not writable:
        _warn(f"cache directory {root} is not writable ({reason}); running without the disk cache")
        os.environ["SETTLE_NO_CACHE"] = "1"
