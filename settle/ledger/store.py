"""The ledger store: an append-only SQLite file of hash-chained events.

Each event's `hash` is SHA-256 over the previous event's hash and the event's
canonical JSON (seq, time, event_type, repository, payload), so rewriting,
dropping or reordering a row breaks the chain from that row on. Triggers
refuse UPDATE and DELETE; `BEGIN IMMEDIATE` serialises appenders, so
concurrent settle processes neither interleave nor lose an event.

Opening validates before it writes anything: a file that is not a settle
ledger, is corrupt, sits on a read-only path or inside a git directory, or
comes from a newer schema is a SettleError and is left exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from settle.errors import SettleError
from settle.ledger import clock
from settle.wal import is_busy, use_wal

# "STLD" in the header's application_id field: how a settle ledger is told from any other SQLite file.
APPLICATION_ID = 0x53544C44
GENESIS = "0" * 64
BUSY_TIMEOUT_SECONDS = 60.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_APPEND_ONLY = "the settle ledger is append-only"

# Forward-only migrations: MIGRATIONS[n] takes a ledger from schema n to n + 1.
# Never edit a migration that has shipped; add the next one (the leases tables
# are the next one). A ledger whose schema is newer than len(MIGRATIONS) is refused.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            event_type TEXT NOT NULL,
            repository TEXT,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX events_by_type ON events (event_type, seq)",
        "CREATE INDEX events_by_time ON events (time)",
        # What an event is about ("symbol:<id>", "path:<path>", "candidate:<ref>"): derived from the
        # payload at append time, so memory finds the few events it needs without reading them all.
        """CREATE TABLE event_keys (
            key TEXT NOT NULL,
            seq INTEGER NOT NULL REFERENCES events (seq),
            PRIMARY KEY (key, seq)
        ) WITHOUT ROWID""",
        # The last event appended: a dropped tail leaves the head pointing past the end.
        "CREATE TABLE head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)",
        f"INSERT INTO head VALUES (1, 0, '{GENESIS}')",
        *(f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
          for table in ("events", "event_keys") for action in ("update", "delete")),
        f"CREATE TRIGGER head_forward_only BEFORE UPDATE ON head WHEN NEW.seq <= OLD.seq BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END",
        f"CREATE TRIGGER head_no_delete BEFORE DELETE ON head BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Event:
    seq: int
    time: str  # UTC ISO-8601 with Z
    event_type: str
    payload: dict
    prev_hash: str
    hash: str
    repository: dict | None = None

    def document(self) -> dict:
        """The event as JSON: what `settle ledger log --format json` prints."""
        return {"seq": self.seq, "time": self.time, "event_type": self.event_type, "repository": self.repository,
                "payload": self.payload, "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which the ledger stops matching its chain."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.reason}"


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(prev_hash: str, seq: int, time: str, event_type: str, repository: dict | None, payload: dict) -> str:
    body = canonical_json({"seq": seq, "time": time, "event_type": event_type, "repository": repository, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _appended_hash(prev_hash: str, seq: int, time: str, event_type: str, repository_json: str, payload_json: str) -> str:
    """event_hash, from the repository and payload already in canonical JSON: an append serializes
    its payload once instead of three times (most of an append's own cost). The keys in the order
    canonical JSON sorts them; `verify` recomputes every hash with event_hash."""
    body = (f'{{"event_type":{canonical_json(event_type)},"payload":{payload_json},"repository":{repository_json},'
            f'"seq":{int(seq)},"time":{canonical_json(time)}}}')
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class Ledger:
    """An open ledger. Use `Ledger.open`; close it (or use it as a context manager) when done."""

    def __init__(self, connection: sqlite3.Connection, path: str, readonly: bool):
        self._connection = connection
        self.path = path
        self.readonly = readonly

    # -- opening -------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = True, readonly: bool = False,
             forbidden_dirs: Sequence[str | os.PathLike] = ()) -> Ledger:
        """Open (or, with create, start) the ledger at path.

        readonly: for commands that only read (verify, log, memory); a read-only file is fine then.
        forbidden_dirs: git directories of the repository at hand; a ledger inside one is refused
        (so is one inside anything that looks like a git directory).
        """
        path = os.path.abspath(os.fspath(path))
        _refuse_git_dir(path, forbidden_dirs)
        if os.path.isdir(path):
            raise SettleError(f"ledger {path} is a directory; give a file path for --ledger")
        fresh = not os.path.exists(path) or os.path.getsize(path) == 0
        if fresh:
            if not create or readonly:
                raise SettleError(f"no ledger at {path}; run a command with --ledger {path} to start one")
            _require_writable(path, exists=os.path.exists(path))
            return cls._start(path)
        _check_header(path)
        if not readonly:
            _require_writable(path, exists=True)
        connection = _connect(path, readonly)
        ledger = cls(connection, path, readonly)
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise SettleError(
                    f"ledger {path} has schema {version}, newer than this settle reads ({SCHEMA_VERSION}); upgrade settle"
                )
            if not readonly:
                _set_journal(connection)
                if version < SCHEMA_VERSION:
                    ledger._migrate()
            elif version < SCHEMA_VERSION:
                raise SettleError(f"ledger {path} has the older schema {version}; run a writing command (check --ledger) to upgrade it")
        except sqlite3.DatabaseError as error:
            connection.close()
            raise _corrupt(path, error) from error
        except SettleError:
            connection.close()
            raise
        return ledger

    @classmethod
    def _start(cls, path: str) -> Ledger:
        connection = _connect(path, readonly=False)
        ledger = cls(connection, path, readonly=False)
        try:
            # The application id goes in before WAL, in the main file's header, where
            # `_check_header` looks for it.
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            ledger._migrate()
            _set_journal(connection)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise _corrupt(path, error) from error
        return ledger

    def _migrate(self) -> None:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    connection.execute(statement)
            if version < SCHEMA_VERSION:
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """For modules of this package that keep their own tables (leases)."""
        return self._connection

    # -- writing -------------------------------------------------------------------

    def append(self, event_type: str, payload: dict, *, repository: dict | None = None, keys: Iterable[str] = ()) -> Event:
        """Add one event at the end of the chain, atomically with respect to every other appender."""
        if self.readonly:
            raise SettleError(f"ledger {self.path} was opened read-only")
        payload_json = canonical_json(payload)
        repository_json = canonical_json(repository)
        payload = json.loads(payload_json)  # the event holds exactly what its hash covers
        repository = json.loads(repository_json)
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                last = connection.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
                time = clock.now_iso()  # read under the lock: times never go backwards along the chain
                digest = _appended_hash(prev_hash, seq, time, event_type, repository_json, payload_json)
                connection.execute(
                    "INSERT INTO events (seq, time, event_type, repository, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (seq, time, event_type, repository_json if repository is not None else None, payload_json, prev_hash, digest),
                )
                connection.executemany("INSERT OR IGNORE INTO event_keys (key, seq) VALUES (?, ?)",
                                       [(key, seq) for key in sorted(set(keys))])
                connection.execute("UPDATE head SET seq = ?, hash = ? WHERE one = 1", (seq, digest))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            raise SettleError(f"cannot append to ledger {self.path}: {error}") from error
        except sqlite3.DatabaseError as error:
            raise _corrupt(self.path, error) from error
        return Event(seq, time, event_type, payload, prev_hash, digest, repository)

    # -- reading -------------------------------------------------------------------

    def events(self, event_type: str | None = None, since: float | str | None = None) -> list[Event]:
        """Events in chain order, of one type and from a time (Unix seconds or ISO-8601) on, if given."""
        clauses, parameters = [], []
        if event_type is not None:
            clauses.append("event_type = ?")
            parameters.append(event_type)
        if since is not None:
            clauses.append("time >= ?")
            parameters.append(clock.iso(clock.parse(since) if isinstance(since, str) else float(since)))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._select(where, parameters)

    def events_by_seq(self, seqs: Iterable[int]) -> list[Event]:
        wanted = sorted(set(seqs))
        found: list[Event] = []
        for start in range(0, len(wanted), 500):  # SQLite bounds the number of parameters
            chunk = wanted[start:start + 500]
            found += self._select(f" WHERE seq IN ({','.join('?' * len(chunk))})", chunk)
        return found

    def seqs_with_keys(self, keys: Iterable[str]) -> set[int]:
        """Events indexed under any of these keys."""
        wanted = sorted(set(keys))
        seqs: set[int] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._query(f"SELECT seq FROM event_keys WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            seqs.update(row[0] for row in rows)
        return seqs

    def last_with_key(self, key: str) -> int | None:
        """The newest event indexed under key."""
        return self._query("SELECT max(seq) FROM event_keys WHERE key = ?", (key,))[0][0]

    def keyed(self, prefix: str) -> list[tuple[str, int]]:
        """(key, seq) of every key starting with prefix, in chain order: the index without the payloads."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return [(row[0], row[1]) for row in self._query(
            "SELECT key, seq FROM event_keys WHERE key >= ? AND key < ? ORDER BY seq, key", (prefix, upper))]

    def keys(self, prefix: str) -> list[str]:
        """Every distinct key starting with prefix."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return [row[0] for row in self._query("SELECT DISTINCT key FROM event_keys WHERE key >= ? AND key < ? ORDER BY key",
                                              (prefix, upper))]

    def _select(self, where: str, parameters: Sequence) -> list[Event]:
        rows = self._query(f"SELECT seq, time, event_type, repository, payload, prev_hash, hash FROM events{where} ORDER BY seq",
                           parameters)
        return [_event(row) for row in rows]

    def _query(self, sql: str, parameters: Sequence = ()) -> list[tuple]:
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            raise _corrupt(self.path, error) from error

    def verify(self) -> ChainBreak | None:
        """Recompute the chain; the first event that doesn't match it, or None when every event does."""
        expected_seq, expected_prev = 1, GENESIS
        try:
            cursor = self._connection.execute("SELECT seq, time, event_type, repository, payload, prev_hash, hash FROM events ORDER BY seq")
        except sqlite3.DatabaseError as error:
            return ChainBreak(1, f"unreadable ({error}): the file is truncated or corrupt")
        while True:
            try:
                row = cursor.fetchone()
            except sqlite3.DatabaseError as error:
                return ChainBreak(expected_seq, f"unreadable ({error}): the file is truncated or corrupt from here on")
            if row is None:
                break
            problem = _row_problem(row, expected_seq, expected_prev)
            if problem is not None:
                return ChainBreak(expected_seq if row[0] != expected_seq else row[0], problem)
            expected_seq, expected_prev = row[0] + 1, row[6]
        try:
            head = self._connection.execute("SELECT seq, hash FROM head").fetchone()
        except sqlite3.DatabaseError as error:
            return ChainBreak(expected_seq, f"unreadable head ({error}): the file is truncated or corrupt")
        if head is None or head[0] != expected_seq - 1 or head[1] != expected_prev:
            recorded = head[0] if head else "none"
            return ChainBreak(expected_seq, f"missing: the ledger's head records {recorded} event(s), the chain ends at {expected_seq - 1} (truncated)")
        return None

    def count(self, event_type: str | None = None) -> int:
        if event_type is None:
            return self._query("SELECT count(*) FROM events")[0][0]
        return self._query("SELECT count(*) FROM events WHERE event_type = ?", (event_type,))[0][0]


def _row_problem(row: tuple, expected_seq: int, expected_prev: str) -> str | None:
    seq, time, event_type, repository, payload, prev_hash, digest = row
    if seq != expected_seq:
        return f"missing (the next event in the file is {seq}): dropped or reordered"
    if prev_hash != expected_prev:
        return "its prev_hash is not the hash of the event before it: dropped, inserted or reordered"
    try:
        document = json.loads(payload)
        origin = json.loads(repository) if repository is not None else None
    except (TypeError, ValueError):
        return "its payload is not JSON: tampered"
    if event_hash(prev_hash, seq, time, event_type, origin, document) != digest:
        return "its content does not match its hash: tampered"
    return None


def _event(row: tuple) -> Event:
    seq, time, event_type, repository, payload, prev_hash, digest = row
    return Event(seq, time, event_type, json.loads(payload), prev_hash, digest, json.loads(repository) if repository else None)


def _connect(path: str, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            try:
                connection = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS,
                                             isolation_level=None)
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # A WAL ledger in a directory we can't write (no -shm to create): read it as it is on disk.
                connection = sqlite3.connect(f"{Path(path).as_uri()}?immutable=1", uri=True, isolation_level=None)
        else:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise _corrupt(path, error) from error
    return connection


def _set_journal(connection: sqlite3.Connection) -> None:
    use_wal(connection, BUSY_TIMEOUT_SECONDS)
    # NORMAL, SQLite's setting for WAL: a commit costs no fsync (an append stays well under a
    # millisecond) and a crash can't corrupt the file. A power cut can lose commits not yet
    # checkpointed, but closing the last connection checkpoints and syncs, so once a command
    # has exited its events are on disk.
    connection.execute("PRAGMA synchronous = NORMAL")


def _check_header(path: str) -> None:
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise SettleError(f"cannot read ledger {path}: {error.strerror}") from error
    if not header.startswith(_SQLITE_MAGIC):
        raise SettleError(f"{path} is not a settle ledger (not an SQLite database); give another --ledger path")
    if len(header) < 100:
        raise SettleError(f"ledger {path} is corrupt (its header is cut short)")
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise SettleError(f"{path} is an SQLite database but not a settle ledger; give another --ledger path")


def _require_writable(path: str, exists: bool) -> None:
    """Permission bits count even for root: a ledger someone made read-only is not written to."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise SettleError(f"cannot create ledger {path}: no directory {directory}")
    for target in ([path] if exists else []) + [directory]:  # WAL keeps its -wal and -shm files beside the ledger
        mode = os.stat(target).st_mode
        if not os.access(target, os.W_OK) or not mode & 0o222:
            raise SettleError(f"ledger {path} is on a read-only path ({target} is not writable); give a writable --ledger")


def _refuse_git_dir(path: str, forbidden_dirs: Sequence[str | os.PathLike]) -> None:
    real = Path(os.path.realpath(os.path.dirname(path))) / os.path.basename(path)
    forbidden = [Path(os.path.realpath(os.fspath(d))) for d in forbidden_dirs]
    for ancestor in real.parents:
        if ancestor in forbidden or _looks_like_git_dir(ancestor):
            raise SettleError(f"ledger {path} is inside the git directory {ancestor}; settle never writes there, put the ledger elsewhere")


def _looks_like_git_dir(directory: Path) -> bool:
    return (directory / "HEAD").is_file() and (directory / "objects").is_dir() and (directory / "refs").is_dir()


class CorruptLedgerError(SettleError):
    """A settle ledger SQLite can no longer read whole (truncated or damaged)."""


def _corrupt(path: str, error: sqlite3.DatabaseError) -> SettleError:
    message = str(error)
    if "not a database" in message:
        return SettleError(f"{path} is not a settle ledger (not an SQLite database); give another --ledger path")
    if "readonly" in message or "read-only" in message:
        return SettleError(f"ledger {path} is on a read-only path ({message}); give a writable --ledger")
    if is_busy(error):
        return SettleError(f"ledger {path} is busy: another process held it for over {BUSY_TIMEOUT_SECONDS:.0f} s; try again")
    return CorruptLedgerError(f"ledger {path} is corrupt ({message}); restore it from a copy or start a new one")


def verify_file(path: str | os.PathLike, forbidden_dirs: Sequence[str | os.PathLike] = ()) -> ChainBreak | None:
    """`settle ledger verify`: the first event that doesn't match, also in a file SQLite refuses to open
    (cut short, say), which is read as far as it goes from a scratch copy."""
    try:
        ledger = Ledger.open(path, create=False, readonly=True, forbidden_dirs=forbidden_dirs)
    except CorruptLedgerError:
        return _verify_damaged(os.path.abspath(os.fspath(path)))
    with ledger:
        return ledger.verify()


def _verify_damaged(path: str) -> ChainBreak:
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="settle-ledger-") as scratch:
        copy = os.path.join(scratch, "ledger.db")
        shutil.copyfile(path, copy)
        with open(copy, "r+b") as handle:
            # A header whose "version valid for" differs from its change counter tells SQLite to
            # take the database's size from the file, not from the (now too large) header.
            header = bytearray(handle.read(100))
            counter = int.from_bytes(header[24:28], "big")
            handle.seek(92)
            handle.write(((counter + 1) % 2**32).to_bytes(4, "big"))
        try:
            connection = sqlite3.connect(f"{Path(copy).as_uri()}?immutable=1", uri=True, isolation_level=None)
            found = Ledger(connection, path, readonly=True).verify()
            connection.close()
        except sqlite3.DatabaseError as error:
            return ChainBreak(1, f"unreadable ({error}): the file is truncated or corrupt")
    return found or ChainBreak(1, "unreadable: SQLite cannot open the file, though every event it still holds matches")
