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
from settle.parse import trees as trees_module
from settle.parse.trees import Trees, edits_between
from settle.repo import Repository
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
    """Texts by made-up blob id."""

    def __init__(self):
        self.texts: dict[str, bytes] = {}

    def add(self, data: bytes) -> str:
        blob = f"blob{len(self.texts)}"
        self.texts[blob] = data
        return blob


def _parse_after(path: str, *versions: bytes):
    """The last version's tree and table from Trees that parsed the versions before it, in
    order, and how many incremental parses the last version took (0: parsed afresh)."""
    blobs = _Blobs()
    trees = Trees()
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
    trees = Trees()
    grammar = grammar_for(profile_for_path(path))
    held = trees.parse(grammar, old, path, blobs.add(old))
    before = str(held.root_node), held.root_node.end_byte
    trees.parse(grammar, new, path, blobs.add(new))
    assert (str(held.root_node), held.root_node.end_byte) == before
    assert trees.parse(grammar, old, path, "blob0") is held  # a version already held is not parsed again


def _applied(old: bytes, new: bytes, edits: list[tuple]) -> bytes:
    """old with each edit's stretch replaced by new's text there; asserts the points are where
    the offsets are (an edit's offsets and points are old ones: tree-sitter takes them from the end)."""
    pieces, unchanged_from, shift = [], 0, 0  # shift: how far new's text runs ahead of old's
    for start, old_end, new_end, start_point, old_end_point, new_end_point in edits:
        inserted = new[start + shift : new_end + shift]
        for offset, point in ((start, start_point), (old_end, old_end_point)):
            lines = old[:offset].split(b"\n")
            assert point == (len(lines) - 1, len(lines[-1]))
        lines = (old[:start] + inserted).split(b"\n")
        assert new_end_point == (len(lines) - 1, len(lines[-1]))
        pieces += [old[unchanged_from:start], inserted]
        unchanged_from, shift = old_end, shift + new_end - old_end
    return b"".join(pieces) + old[unchanged_from:]


_LINES = st.sampled_from([b"def f():\n", b"    return 1\n", b"\n", b"x = 1\n", b"class A:\n", b"    pass\n", b"# note\n",
                          b"import os\n"])


@settings(max_examples=300, deadline=None)
@given(old=st.lists(_LINES | st.binary(max_size=60), max_size=80), data=st.data())
def test_the_edits_turn_the_old_text_into_the_new_one_exactly(old, data):
    """Whatever the two texts: the edits are in order, apart, and applied to the old text
    (from the end, as tree-sitter is given them) they give the new one, points included."""
    changed = list(old)
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, len(changed)))
        changed[at:at + data.draw(st.integers(0, 3))] = data.draw(st.lists(_LINES | st.binary(max_size=60), max_size=3))
    old, new = b"".join(old), b"".join(changed)
    edits = edits_between(old, new)
    assert all(first[1] < second[0] for first, second in zip(edits, edits[1:]))  # in order, never touching
    assert all(start <= old_end and start <= new_end for start, old_end, new_end, *_ in edits)
    assert _applied(old, new, edits) == new
    assert (edits == []) == (old == new)


def test_changes_far_apart_are_edits_of_their_own():
    """Two changes at either end of a file are two small edits, not one spanning the file:
    tree-sitter re-lexes all an edit spans."""
    body = b"".join(b"def f%d():\n    return %d\n\n" % (i, i) for i in range(200))
    changed = body.replace(b"return 1\n", b"return 10\n").replace(b"return 180\n", b"return 1800\n")
    edits = edits_between(body, changed)
    assert len(edits) == 2 and all(max(old_end, new_end) - start < 10 for start, old_end, new_end, *_ in edits)
    assert _applied(body, changed, edits) == changed
    trees = Trees()
    grammar = grammar_for(profile_for_path("m.py"))
    trees.parse(grammar, body, "m.py", "a")
    tree = trees.parse(grammar, changed, "m.py", "b")
    assert (trees.fresh, trees.incremental) == (1, 1)
    assert str(tree.root_node) == str(grammar.parser().parse(changed).root_node)


def test_a_text_that_repeats_itself_still_gets_exact_edits():
    """A piece found more than once is no place to split at; the edits stay exact."""
    block = b"def f():\n    return 1\n\n" * 40
    for old, new in ((block, block.replace(b"return 1", b"return 2", 3)), (block, block[:300] + block),
                     (block + b"tail\n", b"head\n" + block), (block, b""), (b"", block)):
        assert _applied(old, new, edits_between(old, new)) == new


def test_the_latest_version_is_parsed_from_when_it_is_near_and_the_others_only_when_it_is_not(monkeypatch):
    """The latest first, the others only when it differs from the new version by more than a
    tenth of it."""
    body = b"".join(b"def f%d():\n    return %d\n\n" % (i, i) for i in range(40))
    base, far = body, body.replace(b"return", b"yield")  # every function changed
    near_far = far.replace(b"yield 3\n", b"yield 33\n")
    near_base = base.replace(b"return 3\n", b"return 33\n")
    grammar = grammar_for(profile_for_path("m.py"))
    asked = []
    edits = trees_module.edits_between
    monkeypatch.setattr(trees_module, "edits_between", lambda old, new: asked.append(old) or edits(old, new))
    for versions, latest_only in (((base, far, near_far), True), ((base, far, near_base), False)):
        blobs = _Blobs()
        trees = Trees()
        for version in versions[:-1]:
            trees.parse(grammar, version, "m.py", blobs.add(version))
        asked.clear()
        tree = trees.parse(grammar, versions[-1], "m.py", blobs.add(versions[-1]))
        assert asked == ([far] if latest_only else [far, base])
        assert trees.incremental == 2 and str(tree.root_node) == str(grammar.parser().parse(versions[-1]).root_node)


def test_over_budget_a_paths_older_versions_go_before_any_paths_latest():
    """The next version of a file is nearly always parsed from its latest: under a tight
    budget each path keeps its latest tree, and older versions are dropped first, however
    recently they were parsed."""
    grammar = grammar_for(profile_for_path("m.py"))
    sources = {name: b"".join(b"def %s%d():\n    return %d\n\n" % (name.encode(), i, i) for i in range(20)) for name in "abc"}
    blobs = _Blobs()
    trees = Trees(budget=3 * len(sources["a"]) + 10)
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
    trees = Trees(budget=budget)
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
    fresh = Session(repository, SymbolTables(repository.blob))  # not incremental: every version parsed afresh
    for merge in merge_commits(incremental.repository):
        assert settle_merge(incremental, merge).to_json() == settle_merge(fresh, merge).to_json()
    assert incremental.tables.trees.incremental > 0 and fresh.tables.trees.incremental == 0
