"""The ledger store on real SQLite files: append-only, hash-chained, refusing what it must not touch."""

from __future__ import annotations

import hashlib
import sqlite3
import stat

import pytest

from settle.errors import SettleError
from settle.ledger import clock
from settle.ledger.store import GENESIS, SCHEMA_VERSION, Ledger, canonical_json, verify_file


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _filled(path, count: int = 3) -> list:
    with Ledger.open(path) as ledger:
        return [ledger.append("verdict", {"n": index, "verdict": {"findings": []}}, repository={"roots": ["r"]},
                              keys=[f"symbol:a.py::f{index}"]) for index in range(count)]


def test_events_chain_each_hash_over_the_previous_one_and_canonical_json(tmp_path):
    events = _filled(tmp_path / "ledger.db")
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    first = events[0]
    body = canonical_json({"seq": 1, "time": first.time, "event_type": "verdict", "repository": {"roots": ["r"]},
                           "payload": {"n": 0, "verdict": {"findings": []}}})
    assert first.hash == hashlib.sha256((GENESIS + body).encode()).hexdigest()
    with Ledger.open(tmp_path / "ledger.db", readonly=True) as ledger:
        assert ledger.verify() is None
        assert ledger.events() == events
        assert ledger.events("lease") == []
        assert ledger.seqs_with_keys(["symbol:a.py::f1"]) == {2}


def test_times_come_from_settle_now_in_utc_with_z(tmp_path, monkeypatch):
    monkeypatch.setenv("SETTLE_NOW", "1700000000.5")
    assert clock.now() == 1700000000.5
    events = _filled(tmp_path / "ledger.db", 1)
    assert events[0].time == "2023-11-14T22:13:20.500000Z"
    with Ledger.open(tmp_path / "ledger.db", readonly=True) as ledger:
        assert ledger.events(since="2023-11-14T22:13:21Z") == []
        assert len(ledger.events(since=1700000000)) == 1


def test_a_bad_settle_now_is_an_input_error(monkeypatch):
    monkeypatch.setenv("SETTLE_NOW", "yesterday")
    with pytest.raises(SettleError, match="SETTLE_NOW"):
        clock.now()


def test_triggers_refuse_update_and_delete(tmp_path):
    _filled(tmp_path / "ledger.db")
    connection = sqlite3.connect(tmp_path / "ledger.db")
    for statement in ("UPDATE events SET payload = '{}' WHERE seq = 2", "DELETE FROM events WHERE seq = 3",
                      "DELETE FROM event_keys", "UPDATE head SET seq = 1", "DELETE FROM head"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute(statement)
    connection.close()
    with Ledger.open(tmp_path / "ledger.db", readonly=True) as ledger:
        assert ledger.verify() is None and ledger.count() == 3


def _tamper(path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    for trigger in ("events_no_update", "events_no_delete", "head_forward_only"):
        connection.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def test_verify_names_a_tampered_event(tmp_path):
    path = tmp_path / "ledger.db"
    _filled(path)
    _tamper(path, """UPDATE events SET payload = '{"n":9,"verdict":{"findings":[]}}' WHERE seq = 2""")
    with Ledger.open(path, readonly=True) as ledger:
        problem = ledger.verify()
    assert problem.seq == 2 and "tampered" in problem.reason


def test_verify_names_a_dropped_event_and_a_dropped_tail(tmp_path):
    path = tmp_path / "ledger.db"
    _filled(path, 4)
    _tamper(path, "DELETE FROM events WHERE seq = 2")
    with Ledger.open(path, readonly=True) as ledger:
        assert ledger.verify().seq == 2
    other = tmp_path / "other.db"
    _filled(other, 4)
    _tamper(other, "DELETE FROM events WHERE seq = 4")
    with Ledger.open(other, readonly=True) as ledger:
        problem = ledger.verify()
    assert problem.seq == 4 and "truncated" in problem.reason


def test_verify_names_reordered_events(tmp_path):
    path = tmp_path / "ledger.db"
    _filled(path)
    _tamper(path, "UPDATE events SET seq = 10 WHERE seq = 2", "UPDATE events SET seq = 2 WHERE seq = 3",
            "UPDATE events SET seq = 3 WHERE seq = 10")
    with Ledger.open(path, readonly=True) as ledger:
        assert ledger.verify().seq == 2


def test_verify_of_a_truncated_file_names_the_first_event_it_cannot_read(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.open(path) as ledger:
        for index in range(300):
            ledger.append("verdict", {"n": index, "text": "x" * 500})
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    before = _digest(path)
    with pytest.raises(SettleError, match="corrupt"):
        Ledger.open(path)
    problem = verify_file(path)
    assert problem is not None and 1 < problem.seq <= 300, problem
    assert _digest(path) == before


def test_foreign_sqlite_and_other_files_are_refused_unchanged(tmp_path):
    foreign = tmp_path / "foreign.db"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 50)
    for path, message in ((foreign, "not a settle ledger"), (text, "not a settle ledger")):
        before = _digest(path)
        for readonly in (False, True):
            with pytest.raises(SettleError, match=message):
                Ledger.open(path, readonly=readonly)
        assert _digest(path) == before


def test_a_newer_schema_is_refused_unchanged(tmp_path):
    path = tmp_path / "ledger.db"
    _filled(path)
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(SettleError, match="newer"):
        Ledger.open(path)
    assert _digest(path) == before


def test_a_read_only_ledger_is_refused_for_writing_and_read_for_reading(tmp_path):
    path = tmp_path / "ledger.db"
    _filled(path)
    before = _digest(path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    try:
        with pytest.raises(SettleError, match="read-only"):
            Ledger.open(path)
        with Ledger.open(path, readonly=True) as ledger:
            assert ledger.verify() is None
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert _digest(path) == before


def test_a_ledger_cannot_be_created_in_a_read_only_directory(tmp_path):
    directory = tmp_path / "locked"
    directory.mkdir()
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(SettleError, match="read-only"):
            Ledger.open(directory / "ledger.db")
    finally:
        directory.chmod(stat.S_IRWXU)
    assert not (directory / "ledger.db").exists()


def test_a_ledger_inside_a_git_directory_is_refused(tmp_path):
    git_dir = tmp_path / "repo" / ".git"
    (git_dir / "objects").mkdir(parents=True)
    (git_dir / "refs").mkdir()
    (git_dir / "HEAD").write_text("ref: refs/heads/main\n")
    with pytest.raises(SettleError, match="git directory"):
        Ledger.open(git_dir / "settle.db")
    with pytest.raises(SettleError, match="git directory"):
        Ledger.open(tmp_path / "elsewhere" / "x.db", forbidden_dirs=[tmp_path / "elsewhere"])
    assert not (git_dir / "settle.db").exists()


def test_opening_without_create_needs_an_existing_ledger(tmp_path):
    with pytest.raises(SettleError, match="no ledger"):
        Ledger.open(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_appenders_in_many_processes_lose_and_interleave_nothing(tmp_path):
    import multiprocessing

    path = str(tmp_path / "ledger.db")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.starmap(_append_many, [(path, worker) for worker in range(4)])
    with Ledger.open(path, readonly=True) as ledger:
        events = ledger.events()
        assert ledger.verify() is None
    assert len(events) == 4 * 25
    assert sorted((e.payload["worker"], e.payload["n"]) for e in events) == [(w, n) for w in range(4) for n in range(25)]


def test_first_appenders_of_a_new_ledger_all_start_it(tmp_path):
    """The first appenders race to switch the new file to WAL, which SQLite answers with "locked"
    and no wait: each must wait its turn, not report the ledger corrupt (seen 11 times in 40 rounds)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        for round_ in range(12):
            path = str(tmp_path / f"ledger{round_}.db")
            pool.starmap(_append_many, [(path, worker, 2) for worker in range(6)])
            with Ledger.open(path, readonly=True) as ledger:
                assert len(ledger.events()) == 12 and ledger.verify() is None


def _append_many(path: str, worker: int, count: int = 25) -> None:
    for index in range(count):
        with Ledger.open(path) as ledger:
            ledger.append("verdict", {"worker": worker, "n": index})


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payloads=st.lists(st.dictionaries(st.text(max_size=5), _JSON, max_size=4), min_size=1, max_size=6), data=st.data())
def test_any_payloads_read_back_as_appended_and_any_rewritten_event_is_the_one_verify_names(tmp_path_factory, payloads, data):
    path = tmp_path_factory.mktemp("property") / "ledger.db"
    with Ledger.open(path) as ledger:
        appended = [ledger.append("verdict", payload) for payload in payloads]
    with Ledger.open(path, readonly=True) as ledger:
        assert ledger.events() == appended and [e.payload for e in appended] == payloads
        assert ledger.verify() is None
    victim = data.draw(st.integers(1, len(payloads)))
    _tamper(path, f"UPDATE events SET payload = '{{\"rewritten\": {victim}}}' WHERE seq = {victim}")
    with Ledger.open(path, readonly=True) as ledger:
        assert ledger.verify().seq == victim


def test_a_database_that_cannot_be_put_in_wal_keeps_its_mode_without_waiting():
    """SQLite answers such a switch with the mode it kept (an in-memory database keeps "memory";
    so does a file system without shared memory), not with an error: taken as it is, no retry."""
    import sqlite3
    import time

    from settle.wal import use_wal

    connection = sqlite3.connect(":memory:")
    started = time.monotonic()
    use_wal(connection, timeout=30)
    assert time.monotonic() - started < 5
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
