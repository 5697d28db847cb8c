"""Builds shared with a forked helper process (settle.parse.helper): each item is done once, by
one process or the other; what the helper does not send back is simply made here when asked
for; and a check whose stale-caller scan, or whose sides' tables, are shared says what an
unshared one says."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import given, settings, strategies as st

from settle.parse.cache import SymbolTables
from settle.parse.helper import helpers_available, share
from settle.settlement import Session

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="helpers need a POSIX fork")


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=700), st.sampled_from([0, 100, 20_000]))
def test_every_item_is_done_once_by_one_process_or_the_other(count, padding):
    # 700 records of 20 kB are far more than a pipe holds: the helper must never wait on the parent.
    done_here, sent_back = [], []
    share(list(range(count)), done_here.append, lambda item: b"%d:" % item + b"x" * padding, sent_back.append)
    assert all(len(record) == record.index(b":") + 1 + padding for record in sent_back)
    helper_did = [int(record.split(b":", 1)[0]) for record in sent_back]
    assert sorted(done_here + helper_did) == list(range(count))
    assert _no_children_left()


def test_an_item_the_helper_sends_nothing_for_is_not_sent():
    sent_back = []
    share(list(range(400)), lambda item: time.sleep(0.0005), lambda item: None if item % 2 else b"%d" % item, sent_back.append)
    assert all(int(record) % 2 == 0 for record in sent_back)


@pytest.mark.skipif(helpers_available() == 0, reason="one CPU: no helper is forked")
def test_idle_work_runs_once_after_the_last_item_is_taken_while_the_helper_finishes():
    events = []

    def slow_there(item):
        time.sleep(0.2)  # the helper's one item outlasts everything done here
        return b"%d" % item

    def here(item):
        events.append(("here", item))
        time.sleep(0.05)  # long enough for the helper to take the other item

    share([0, 1], here, slow_there, lambda record: events.append(("sent", record)), idle=lambda: events.append(("idle",)))
    assert events.count(("idle",)) == 1
    assert events.index(("idle",)) > max(i for i, event in enumerate(events) if event[0] == "here")
    assert events[-1][0] == "sent"  # what the helper sent after it is still adopted
    assert _no_children_left()


def test_without_a_helper_there_is_no_idle_work(monkeypatch):
    monkeypatch.setenv("SETTLE_HELPERS", "0")
    called = []
    share(list(range(5)), lambda item: None, lambda item: b"", lambda record: None, idle=lambda: called.append(1))
    assert called == []


def test_with_helpers_turned_off_everything_is_done_here(monkeypatch):
    monkeypatch.setenv("SETTLE_HELPERS", "0")
    assert helpers_available() == 0
    done_here, sent_back = [], []
    share(list(range(50)), done_here.append, lambda item: item, sent_back.append)
    assert done_here == list(range(50)) and sent_back == []


@pytest.mark.skipif(helpers_available() == 0, reason="one CPU: no helper is forked")
def test_a_helper_that_fails_sends_nothing_back_and_the_rest_is_done_here():
    def fails(item):
        raise ValueError(item)

    done_here = []

    def slowly(item):  # leaves the helper time to take an item and fail on it
        time.sleep(0.002)
        done_here.append(item)

    sent_back = []
    share(list(range(300)), slowly, fails, sent_back.append)
    assert sent_back == []
    assert len(set(done_here)) == len(done_here) < 300  # the items the helper took are nobody's
    assert _no_children_left()


@pytest.mark.skipif(helpers_available() == 0, reason="one CPU: no helper is forked")
def test_what_a_helper_sent_before_it_failed_is_kept():
    # Each record is one item's whole answer: those sent before a failure are as good as any.
    made = []

    def fails_on_the_fifth(item):
        made.append(item)  # the helper's own copy of the list: it counts the helper's items
        if len(made) == 5:
            raise ValueError(item)
        return b"%d" % item

    done_here, sent_back = [], []

    def slowly(item):
        time.sleep(0.002)
        done_here.append(item)

    share(list(range(300)), slowly, fails_on_the_fifth, sent_back.append)
    adopted = [int(record) for record in sent_back]
    assert len(adopted) == 4 and not set(adopted) & set(done_here)
    assert len(set(done_here)) == len(done_here)
    assert _no_children_left()


def test_an_error_here_stops_the_helper_and_is_raised():
    def broken(item):
        raise RuntimeError("here")

    def slow(item):
        time.sleep(0.05)  # or a helper scheduled first could take every item before this process takes one
        return b"%d" % item

    with pytest.raises(RuntimeError, match="here"):
        share(list(range(300)), broken, slow, lambda record: None)
    assert _no_children_left()


# -- a stale-caller scan wide enough to be shared -------------------------------------------

_CALLERS = 60
_OTHERS = 220


def _caller(index: int) -> str:
    body = "".join(f"    subtotal_{line} = price(amount + {line})\n    total += subtotal_{line}\n" for line in range(2))
    filler = "".join(f"\n\ndef helper_{index}_{n}(values):\n    # keeps the file near real sizes\n"
                     f"    return [value * {n} for value in values if value > {n}]\n" for n in range(40))
    return f"from shop.pricing import price\n\n\ndef order_{index}(amount):\n    total = 0\n{body}    return total\n{filler}"


def _wide_scenario() -> dict:
    files = {"shop/__init__.py": "", "shop/pricing.py": "def price(amount):\n    return amount * 2\n"}
    files.update({f"shop/orders/o{index:03}.py": _caller(index) for index in range(_CALLERS)})
    files.update({f"shop/misc/m{index:03}.py": f"def misc_{index}():\n    return {index}\n" for index in range(_OTHERS)})
    return {"base": {"files": files}, "branches": {"agent/currency": {"files": {
        "shop/pricing.py": "def price(currency, amount):\n    return amount * 2\n"}}}}


def _checked_four_ways(settle, repo, candidate: str, cache) -> dict:
    """`check --format json` without a helper, with one, warm on what that one wrote, and without
    a cache: they must say the same (a rejection, nothing on stderr). The verdict, parsed."""
    runs = {}
    for name, environment in (("alone", {"SETTLE_HELPERS": "0", "SETTLE_CACHE_DIR": str(cache / "alone")}),
                              ("shared", {"SETTLE_CACHE_DIR": str(cache / "shared")}),
                              ("warm", {"SETTLE_CACHE_DIR": str(cache / "shared")}),
                              ("no cache", {"SETTLE_NO_CACHE": "1"})):
        result = settle("check", candidate, "--format", "json", repo=repo, env=environment)
        assert result.returncode == 1, result.stderr
        assert result.stderr == ""
        runs[name] = result.stdout
    assert runs["shared"] == runs["alone"] == runs["warm"] == runs["no cache"]
    return json.loads(runs["shared"])


def test_a_shared_scan_says_what_an_unshared_one_says(settle, build, tmp_path):
    findings = _checked_four_ways(settle, build(_wide_scenario()), "agent/currency", tmp_path)["findings"]
    assert sum(f["kind"] == "signature_drift" for f in findings) == 2 * _CALLERS


@pytest.mark.skipif(helpers_available() == 0, reason="one CPU: no helper is forked")
def test_tables_a_helper_made_are_the_tables_made_here(build):
    repo = build(_wide_scenario())
    shared = Session.open(str(repo), share_builds=True)
    assert shared.tables.disk is not None
    repository = shared.repository
    files = [(entry.path, entry.id) for entry in repository.files(repository.resolve("HEAD"))]
    found = shared.tables.mentioning_uses("price", files)
    assert len(found) == _CALLERS + 1
    assert shared.tables.shared > 0  # the helper made some, and they came back
    alone = SymbolTables(repository.blob)
    blobs = dict(files)
    for uses in found:
        fresh = alone.get(uses.path, blobs[uses.path])
        assert uses.imports == fresh.imports
        assert uses.defined == {d.name for d in fresh.definitions}
        assert uses.named == {"price": tuple(r for r in fresh.references if r.name == "price")}


def test_a_search_of_blobs_held_in_memory_is_not_shared(build, monkeypatch):
    # A later name's search reads the blobs an earlier one read: cheaper than a fork.
    import settle.parse.cache as cache

    shared_sizes = []
    real_share = cache.share

    def counting(items, *rest, **options):
        shared_sizes.append(len(items))
        return real_share(items, *rest, **options)

    monkeypatch.setattr(cache, "share", counting)
    repo = build(_wide_scenario())
    repository = Session.open(str(repo)).repository
    files = [(entry.path, entry.id) for entry in repository.files(repository.resolve("HEAD"))]
    held = SymbolTables(repository.blob, share_builds=True, blob_held=lambda blob_id: True)
    unread = SymbolTables(repository.blob, share_builds=True, blob_held=lambda blob_id: False)
    assert held.mentioning_uses("price", files) == unread.mentioning_uses("price", files)
    assert shared_sizes[-1] == len(files) and all(size < len(files) for size in shared_sizes[:-1])


@pytest.mark.skipif(helpers_available() == 0, reason="one CPU: no helper is forked")
def test_a_helper_never_writes_the_cache_and_the_parent_writes_what_it_made(build, tmp_path, monkeypatch):
    monkeypatch.setenv("SETTLE_CACHE_DIR", str(tmp_path / "cache"))
    repo = build(_wide_scenario())
    session = Session.open(str(repo), share_builds=True)
    repository = session.repository
    files = [(entry.path, entry.id) for entry in repository.files(repository.resolve("HEAD"))]
    found = session.tables.mentioning_uses("price", files)
    session.tables.flush()
    assert session.tables.shared > 0
    # A second session reads every file's uses from the disk: the helper's came back and were written.
    again = Session.open(str(repo), share_builds=True)
    assert again.tables.mentioning_uses("price", files) == found
    assert again.tables.built == 0 and again.tables.loaded == len(found)


# -- a target that moved on by many files: the sides' tables shared -----------------------------

_MOVED = 60


def _module(index: int, version: int) -> str:
    functions = "".join(f"\n\ndef step_{index}_{n}(values, scale={n}):\n    # a body the target edits\n"
                        f"    return [value * scale + {version} for value in values if value > {n}]\n" for n in range(30))
    return f"from shop.pricing import price\n\n\ndef run_{index}(amount):\n    return price(amount) + {version}\n{functions}"


def _moved_scenario() -> dict:
    files = {"shop/__init__.py": "", "shop/pricing.py": "def price(amount):\n    return amount * 2\n"}
    files.update({f"shop/steps/s{index:03}.py": _module(index, 0) for index in range(_MOVED)})
    target = {f"shop/steps/s{index:03}.py": _module(index, 1) for index in range(_MOVED)}
    target["shop/pricing.py"] = "def price(amount, currency):\n    return amount * 2\n"
    return {"base": {"files": files}, "target": {"files": target}, "branches": {"agent/late": {"files": {
        "shop/steps/s007.py": _module(7, 2),  # the function the target edits too
        "shop/report.py": "from shop.pricing import price\n\n\ndef report():\n    return price(10)\n"}}}}


def test_a_far_moved_target_is_settled_the_same_with_a_helper(settle, build, tmp_path):
    verdict = _checked_four_ways(settle, build(_moved_scenario()), "agent/late", tmp_path)
    kinds = {(f["kind"], f["subkind"]) for f in verdict["findings"]}
    assert ("signature_drift", "call_incompatible") in kinds  # report.py's new call of the changed price
    assert ("text_conflict", "same_symbol") in kinds or ("concurrent_edit", "same_symbol") in kinds
    assert verdict["stats"]["files_parsed"] >= 2 * _MOVED


@pytest.mark.skipif(helpers_available() == 0, reason="one CPU: no helper is forked")
def test_the_sides_tables_a_helper_made_are_the_ones_made_here(build, monkeypatch):
    from settle.settlement import check

    repo = build(_moved_scenario())
    shared = Session.open(str(repo), share_builds=True)
    monkeypatch.setenv("SETTLE_NO_CACHE", "1")  # every table of this one is built here
    alone = Session.open(str(repo))
    assert alone.tables.disk is None
    assert check(str(repo), "agent/late", session=shared) == check(str(repo), "agent/late", session=alone)
    assert shared.tables.shared > 0 and alone.tables.shared == 0
    repository = alone.repository
    target, candidate = repository.resolve("main"), repository.resolve("agent/late")
    fork = repository.merge_base(target, candidate)
    for change in repository.changes(fork, target):
        for path, blob_id in ((change.old_path, change.old_id), (change.new_path, change.new_id)):
            assert shared.tables.get(path, blob_id) == alone.tables.get(path, blob_id)


def test_a_forked_process_leaves_the_parents_cache_connection_alone(tmp_path):
    from settle.parse.store import DiskCache

    cache = DiskCache(tmp_path / "cache")
    cache.store("tables", "key", ["value"])
    cache.flush()
    opened = cache._db()
    pid = os.fork()
    if pid == 0:  # the child reads through a connection of its own, closes, and ends
        status = 1
        try:
            status = 0 if cache.load("tables", "key") == ["value"] and cache._db() is not opened else 1
            cache.close()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert cache._db() is opened  # never closed, here or there
    cache.store("tables", "other", ["more"])
    cache.flush()
    assert cache.load("tables", "other") == ["more"]
    assert opened.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_helpers_copy_of_the_cache_only_reads(tmp_path, capsys):
    from settle.parse.store import DiskCache

    cache = DiskCache(tmp_path / "cache")
    cache.store("tables", "key", ["value"])
    cache.flush()
    reader = DiskCache(tmp_path / "cache")
    reader.read_only = True
    assert reader.load("tables", "key") == ["value"] and reader.holds("tables", "key")
    reader.store("tables", "new", ["never"])
    reader.flush()
    reader.close()
    assert not cache.holds("tables", "new")
    # A database it cannot read is neither removed nor remade, and it says nothing about it.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "settle-cache-2.sqlite").write_bytes(b"not a database at all" * 100)
    reader = DiskCache(broken)
    reader.read_only = True
    assert reader.load("tables", "key") is None
    assert (broken / "settle-cache-2.sqlite").read_bytes() == b"not a database at all" * 100
    assert capsys.readouterr().err == ""
