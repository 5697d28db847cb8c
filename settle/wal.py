"""Putting an SQLite file in WAL mode when other processes may be doing the same (the ledger, the cache)."""

from __future__ import annotations

import sqlite3
import time


def is_busy(error: sqlite3.DatabaseError) -> bool:
    message = str(error)
    return "locked" in message or "busy" in message


def use_wal(connection: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL unless already there, waiting up to timeout seconds for other processes.

    The switch takes the file's exclusive lock. When two first users both hold the read lock
    and want it, SQLite answers "locked" at once, without its busy handler (waiting there would
    deadlock), so the wait is ours. A file system that can't do WAL keeps its mode: SQLite says
    so by answering with it, not with an error, and that answer is taken as it is.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
