"""Incremental parsing (settle/parse/trees.py): a version parsed from an earlier version's
tree must give exactly what a fresh parse gives — the same tree, the same table."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, fixture_files
from settle.languages import profile_for_path
from settle.parse.extract import extract, syntax_error_lines
from settle.parse.grammar import grammar_for
from settle.parse.trees import Trees, edits_between, trimmed_edit
from settle.repo import Repository, line_hunks
from settle.settlement import Session


def _versions() -> dict[tuple[str, str], list[bytes]]:
    """(scenario, path) → every version the scenario's base and branches write there."""
    versions: dict[tuple[str, str], list[bytes]] = {}
    for source, path, data in fixture_files():
        versions.setdefault((source, path), []).append(data)
    return versions


VERSIONS = _versions()
PAIRS = [(key, old, new) for key, versions in VERSIONS.items() for old in versions for new in versions if old != new]
SOURCES = sorted({(path, data) for (_, path), versions in VERSIONS.items() for data in versions})


class _Blobs:
    """Texts by made-up blob id, and git's line diff between them."""

    def __init__(self):
        self.texts: dict[str, bytes] = {}

    def add(self, data: bytes) -> str:
        blob = f"blob{len(self.texts)}"
        self.texts[blob] = data
        return blob

    def hunks(self, old: str, new: str):
        return line_hunks(self.texts[old], self.texts[new])


def _parse_after(path: str, *versions: bytes):
    """The last version's tree and table from Trees that parsed the versions before it, in
    order, and how many incremental parses the last version took (0: parsed afresh)."""
    blobs = _Blobs()
    trees = Trees(blobs.hunks)
    grammar = grammar_for(profile_for_path(path))
    for version in versions[:-1]:
        trees.parse(grammar, version, path, blobs.add(version))
    new = versions[-1]
    blob = blobs.add(new)
    incremental = trees.incremental
    tree = trees.parse(grammar, new, path, blob)
    table = extract(new, path, profile_for_path(path), parse=lambda g, s: trees.parse(g, s, path, blob))
    return tree, table, trees.incremental - incremental


def _assert_same_as_fresh(path: str, new: bytes, tree, table) -> None:
    profile = profile_for_path(path)
    fresh = grammar_for(profile).parser().parse(new)
    assert str(tree.root_node) == str(fresh.root_node)
    assert syntax_error_lines(tree, new, profile) == syntax_error_lines(fresh, new, profile)
    expected = extract(new, path, profile)
    assert table == expected
    assert table.references == expected.references


def test_fixture_versions_give_pairs_in_every_language():
    assert {profile_for_path(path).name for (_, path), _, _ in PAIRS} >= {"python", "go", "javascript", "typescript", "tsx", "rust", "java"}


@pytest.mark.parametrize("key, old, new", PAIRS, ids=[f"{k[0]}:{k[1]}:{i}" for i, (k, _, _) in enumerate(PAIRS)])
def test_a_version_parsed_from_another_is_what_a_fresh_parse_gives(key, old, new):
    _, path = key
    tree, table, incremental = _parse_after(path, old, new)
    _assert_same_as_fresh(path, new, tree, table)
    if not tree.root_node.has_error and b"\0" not in new:
        assert incremental == 1  # the old tree was used, not silently bypassed


def test_the_held_tree_is_not_changed_by_parsing_from_it():
    (_, path), old, new = next(p for p in PAIRS if p[0][1].endswith(".py"))
    blobs = _Blobs()
    trees = Trees(blobs.hunks)
    grammar = grammar_for(profile_for_path(path))
    held = trees.parse(grammar, old, path, blobs.add(old))
    before = str(held.root_node), held.root_node.end_byte
    trees.parse(grammar, new, path, blobs.add(new))
    assert (str(held.root_node), held.root_node.end_byte) == before
    assert trees.parse(grammar, old, path, "blob0") is held  # a version already held is not parsed again


def test_edits_that_do_not_match_the_bytes_are_refused():
    old, new = b"a = 1\nb = 2\nc = 3\n", b"a = 1\nb = 20\nc = 3\n"
    assert edits_between(old, new, line_hunks(old, new)) is not None
    assert edits_between(old, new, line_hunks(old, b"a = 1\nb = 2\nc = 30\n")) is None
    assert edits_between(old, new, ()) is None


def test_a_near_change_is_parsed_from_the_common_start_and_end_without_a_diff():
    body = b"".join(b"def f%d():\n    return %d\n\n" % (i, i) for i in range(40))
    changed = body.replace(b"return 7\n", b"return 70\n")
    asked = []
    trees = Trees(lambda old, new: asked.append((old, new)) or line_hunks(body, changed))
    grammar = grammar_for(profile_for_path("m.py"))
    trees.parse(grammar, body, "m.py", "a")
    tree = trees.parse(grammar, changed, "m.py", "b")
    assert (trees.fresh, trees.incremental, asked) == (1, 1, [])
    assert str(tree.root_node) == str(grammar.parser().parse(changed).root_node)


def test_hunks_that_do_not_match_the_bytes_leave_the_one_edit_from_start_to_end():
    """Changes far apart make the common start and end most of the file, so the line diff is
    asked for; a wrong one is refused, and the one edit still gives what a fresh parse gives."""
    body = b"".join(b"def f%d():\n    return %d\n\n" % (i, i) for i in range(40))
    changed = body.replace(b"return 1\n", b"return 10\n").replace(b"return 38\n", b"return 380\n")
    asked = []
    trees = Trees(lambda old, new: asked.append((old, new)) or line_hunks(body, b"x = 1\n"))  # the wrong diff
    grammar = grammar_for(profile_for_path("m.py"))
    trees.parse(grammar, body, "m.py", "a")
    tree = trees.parse(grammar, changed, "m.py", "b")
    assert (trees.fresh, trees.incremental, asked) == (1, 1, [("a", "b")])
    assert str(tree.root_node) == str(grammar.parser().parse(changed).root_node)


@given(old=st.binary(max_size=40), new=st.binary(max_size=40), shared=st.binary(max_size=300), tail=st.binary(max_size=300))
def test_the_one_edit_spans_exactly_what_lies_between_the_common_start_and_end(old, new, shared, tail):
    old, new = shared + old + tail, shared + new + tail
    start, old_end, new_end, start_point, old_end_point, new_end_point = trimmed_edit(old, new)
    assert old[:start] == new[:start] and old[old_end:] == new[new_end:]
    assert start <= old_end and start <= new_end
    # Nothing more alike: the edit can't start later or end sooner.
    assert start == min(len(old), len(new)) or old[start] != new[start] or start == old_end or start == new_end
    assert old_end == start or new_end == start or old[old_end - 1] != new[new_end - 1]
    for text, offset, point in ((old, start, start_point), (old, old_end, old_end_point), (new, new_end, new_end_point)):
        lines = text[:offset].split(b"\n")
        assert point == (len(lines) - 1, len(lines[-1]))


def test_the_latest_version_is_parsed_from_when_it_is_near_and_the_others_only_when_it_is_not():
    """The latest first, the others only when it differs from the new version by more than a
    tenth of it; a version's line diff is asked for only when its one edit from common start
    to common end is that large."""
    body = b"".join(b"def f%d():\n    return %d\n\n" % (i, i) for i in range(40))
    base, far = body, body.replace(b"return", b"yield")  # every function changed
    near_far = far.replace(b"yield 3\n", b"yield 33\n")
    near_base = base.replace(b"return 3\n", b"return 33\n")
    grammar = grammar_for(profile_for_path("m.py"))
    for versions, latest_only in (((base, far, near_far), True), ((base, far, near_base), False)):
        blobs = _Blobs()
        asked = []
        trees = Trees(lambda old, new: asked.append(old) or blobs.hunks(old, new))
        for version in versions[:-1]:
            trees.parse(grammar, version, "m.py", blobs.add(version))
        asked.clear()
        tree = trees.parse(grammar, versions[-1], "m.py", blobs.add(versions[-1]))
        assert asked == ([] if latest_only else ["blob1"])
        assert trees.incremental == 2 and str(tree.root_node) == str(grammar.parser().parse(versions[-1]).root_node)


def test_over_budget_a_paths_older_versions_go_before_any_paths_latest():
    """The next version of a file is nearly always parsed from its latest: under a tight
    budget each path keeps its latest tree, and older versions are dropped first, however
    recently they were parsed."""
    grammar = grammar_for(profile_for_path("m.py"))
    sources = {name: b"".join(b"def %s%d():\n    return %d\n\n" % (name.encode(), i, i) for i in range(20)) for name in "abc"}
    blobs = _Blobs()
    trees = Trees(blobs.hunks, budget=3 * len(sources["a"]) + 10)
    latest = {}
    for name in "abc":
        latest[name] = blobs.add(sources[name])
        trees.parse(grammar, sources[name], f"{name}.py", latest[name])
    older = latest["c"]
    latest["c"] = blobs.add(sources["c"].replace(b"return 3\n", b"return 33\n"))  # over the budget now
    trees.parse(grammar, blobs.texts[latest["c"]], "c.py", latest["c"])
    assert trees.incremental == 1
    assert all((f"{name}.py", blob) in trees._recent for name, blob in latest.items())
    assert ("c.py", older) not in trees._recent
    for name in "ab":  # each later version starts from its path's latest tree
        trees.parse(grammar, sources[name] + b"x = 1\n", f"{name}.py", blobs.add(sources[name] + b"x = 1\n"))
    assert (trees.fresh, trees.incremental) == (3, 3)
    assert set(trees._older) == {key for key in trees._recent if trees._versions[key[0]][-1] != key[1]}


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 3)), max_size=30), budget=st.integers(0, 400))
def test_held_trees_keep_their_books_whatever_is_parsed_under_any_budget(steps, budget):
    """Whatever order versions come in: the bytes held are the held sources', within the budget
    (one tree aside), and the versions first in line to go are exactly those not their path's latest."""
    grammar = grammar_for(profile_for_path("m.py"))
    blobs = _Blobs()
    ids = {}
    trees = Trees(blobs.hunks, budget=budget)
    for name, version in steps:
        data = b"".join(b"def %s%d():\n    return %d\n" % (name.encode(), i, i + version) for i in range(3))
        blob = ids.setdefault(data, blobs.add(data))
        trees.parse(grammar, data, f"{name}.py", blob)
        assert trees._held == sum(len(held[0]) for held in trees._recent.values())
        assert trees._held <= budget or len(trees._recent) == 1
        assert set(trees._older) == {key for key in trees._recent if trees._versions[key[0]][-1] != key[1]}
        assert all(len(versions) <= 3 for versions in trees._versions.values())


def _line_edits(draw, lines: list[bytes], pool: list[bytes]) -> list[bytes]:
    edited = list(lines)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(edited)))
        operation = draw(st.sampled_from(("insert", "delete", "replace", "garble")))
        if operation == "insert":
            edited.insert(position, draw(st.sampled_from(pool)))
        elif operation == "delete" and position < len(edited):
            del edited[position]
        elif operation == "replace" and position < len(edited):
            edited[position] = draw(st.sampled_from(pool))
        elif operation == "garble":
            edited.insert(position, draw(st.binary(max_size=12)).replace(b"\n", b" "))
    return edited


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_line_edits_parse_incrementally_to_the_fresh_result(data):
    """Two rounds of edits anywhere, including ones that break the syntax: the last version is
    parsed from the one before (which may hold errors), or afresh where its own tree has errors."""
    path, old = data.draw(st.sampled_from(SOURCES))
    language = profile_for_path(path).name
    pool = [line for other, text in SOURCES if profile_for_path(other).name == language for line in text.split(b"\n")]
    middle = b"\n".join(_line_edits(data.draw, old.split(b"\n"), pool))
    new = b"\n".join(_line_edits(data.draw, middle.split(b"\n"), pool))
    if len({old, middle, new}) < 3:
        return
    tree, table, incremental = _parse_after(path, old, middle, new)
    event("incremental" if incremental else "fresh (edits broke the syntax)")
    _assert_same_as_fresh(path, new, tree, table)


def test_replay_verdicts_are_the_same_with_and_without_incremental_parsing(build):
    from settle.parse.cache import SymbolTables
    from settle.replay import merge_commits, settle_merge

    history = str(build(FIXTURES / "replay" / "history.toml"))
    incremental = Session.open(history)
    repository = Repository.open(history)
    fresh = Session(repository, SymbolTables(repository.blob))  # no diff: every version parsed afresh
    for merge in merge_commits(incremental.repository):
        assert settle_merge(incremental, merge).to_json() == settle_merge(fresh, merge).to_json()
    assert incremental.tables.trees.incremental > 0 and fresh.tables.trees.incremental == 0
