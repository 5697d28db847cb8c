"""Replay's cheap prefilters (settle/diff/reach.py) decide what is parsed; each is checked
against the full parser on every fixture file, or on real repositories built for the case."""

from __future__ import annotations

import re
from bisect import bisect_right

import pytest

from conftest import FIXTURES, fixture_files
from settle.diff import reach
from settle import scenario as scenarios
from settle.languages import profile_for_path
from settle.parse.extract import definition_names, definition_spans, extract
from settle.repo import Repository
from settle.settlement import Session


FILES = fixture_files()


def test_the_fixture_files_cover_every_language():
    assert {profile_for_path(path).name for _, path, _ in FILES} >= {"python", "go", "javascript", "typescript", "tsx", "rust", "java"}


@pytest.mark.parametrize("source, path, data", FILES, ids=[f"{s}:{p}" for s, p, _ in FILES])
def test_definition_spans_place_every_definition_the_full_extraction_finds(source, path, data):
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    spans = definition_spans(data, profile)
    if not table.parsed:
        assert spans is None
        return
    assert {(d.span.start_line, d.span.end_line) for d in table.definitions} <= set(spans)


@pytest.mark.parametrize("source, path, data", FILES, ids=[f"{s}:{p}" for s, p, _ in FILES])
def test_definition_names_hold_every_name_the_full_extraction_defines(source, path, data):
    """`SymbolTables.defines` builds a table for a name only where these hold it."""
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    names = definition_names(data, profile)
    if not table.parsed:
        assert names is None
        return
    assert {d.name for d in table.definitions} <= names


def test_a_name_a_file_only_calls_or_reads_is_not_among_its_definition_names():
    data = b"import pytest\n\n@pytest.mark.parametrize('x', [1])\ndef test_it(x):\n    total = x.count(x)\n    return total\n"
    assert definition_names(data, profile_for_path("t.py")) == {"test_it"}


@pytest.mark.parametrize("source, path, data", FILES, ids=[f"{s}:{p}" for s, p, _ in FILES])
def test_import_lines_spell_every_module_the_parser_sees_imported(source, path, data):
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    if not table.parsed:
        return
    lines = re.compile(profile.import_lines.encode(), re.MULTILINE).findall(data)
    words = set(re.findall(rb"[A-Za-z_$][\w$]*", b"\n".join(lines)))
    for binding in table.imports:
        assert set(re.findall(rb"[A-Za-z_$][\w$]*", binding.module.encode())) <= words, binding


def _may_strand_uses(tables, change) -> bool:
    return reach.stranded_names(tables, change) != frozenset()


def _session(build, base: dict[str, str], left: dict[str, str], right: dict[str, str]):
    repo = build({"base": {"files": base}, "branches": {"left": {"files": left}, "right": {"files": right}}})
    session = Session.open(str(repo))
    repository: Repository = session.repository
    fork = repository.merge_base(repository.resolve("left"), repository.resolve("right"))
    return session, [repository.changes(fork, repository.resolve(name))[0] for name in ("left", "right")]


MODULE = """import os


def first(a):
    total = a + 1
    return total


@decorate
def second(b):
    value = b * 2
    return value


class Store:
    def get(self, key):
        return key

    def put(self, key, value):
        return value
"""


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "left, right, meet",
    [
        (edit(MODULE, "a + 1", "a + 2"), edit(MODULE, "b * 2", "b * 3"), False),
        (edit(MODULE, "a + 1", "a + 2"), edit(MODULE, "return total", "return total * 1"), True),
        (edit(MODULE, "@decorate", "@decorate(1)"), edit(MODULE, "b * 2", "b * 3"), True),
        (edit(MODULE, "return key", "return key or 1"), edit(MODULE, "return value\n", "return value or 2\n"), False),
        (MODULE + "\n\ndef third():\n    return 3\n", MODULE + "\n\ndef third():\n    return 4\n", True),
        (edit(MODULE, "import os", "import os\nimport re"), edit(MODULE, "import os", "import sys\nimport os"), False),
        (edit(MODULE, "import os\n", "import os\n\n\ndef third():\n    return 3\n"), MODULE + "\n\ndef third():\n    return 4\n", True),
        (edit(MODULE, "    def put", "    def size(self):\n        return 0\n\n    def put"),
         edit(MODULE, "    def put", "    def size(self):\n        return 1\n\n    def put"), True),
    ],
    ids=["different-functions", "one-function", "decorator-and-body", "two-methods", "both-append",
         "both-import", "one-name-added-in-two-places", "both-add-a-method"],
)
def test_edits_meet_when_both_sides_touch_one_symbol_or_add_one_name(build, left, right, meet):
    session, (mine, theirs) = _session(build, {"m.py": MODULE}, {"m.py": left}, {"m.py": right})
    assert reach.edits_meet(session.repository, session.tables, mine, theirs) is meet
    assert reach.edits_meet(session.repository, session.tables, theirs, mine) is meet


@pytest.mark.parametrize(
    "new, strands",
    [
        (edit(MODULE, "total = a + 1", "total = a + 10"), False),
        (edit(MODULE, "def first(a):", "def first(a, b):"), True),
        (edit(MODULE, "def first(a):", "def first(\n    a\n):"), False),
        (MODULE + "\n\ndef added():\n    return 1\n", False),
        (edit(MODULE, "    def get(self, key):\n        return key\n\n", ""), True),
        (edit(MODULE, "class Store:", "class Store(Base):"), True),
        (edit(MODULE, "    def get", "    @staticmethod\n    def get"), True),
        (edit(MODULE, "@decorate\n", "@decorate\n@cache\n") + "\n\nX = 1\n", True),
    ],
    ids=["body", "parameter-added", "reformatted", "function-added", "method-removed", "class-header", "staticmethod-added", "decorator-added"],
)
def test_may_strand_uses_only_when_a_header_is_gone(build, new, strands):
    session, (change, _) = _session(build, {"m.py": MODULE}, {"m.py": new}, {"other.py": "x = 1\n"})
    assert _may_strand_uses(session.tables, change) is strands


@pytest.mark.parametrize("field", ["    size: int = 0\n", "    size = 0\n", "    size: int\n"])
def test_a_removed_class_field_strands_uses(build, field):
    base = "class Config:\n" + field + "    name = 'x'\n"
    session, (change, _) = _session(build, {"c.py": base}, {"c.py": base.replace(field, "")}, {"other.py": "x = 1\n"})
    assert reach.stranded_names(session.tables, change) == {b"size"}


def test_a_removed_decorator_that_changes_binding_strands_uses(build):
    base = edit(MODULE, "    def get", "    @staticmethod\n    def get")
    session, (change, _) = _session(build, {"m.py": base}, {"m.py": MODULE}, {"other.py": "x = 1\n"})
    assert _may_strand_uses(session.tables, change) is True


def test_no_syntax_replay_keeps_every_finding_but_syntax_errors_of_unparsed_files(build, settle):
    history = build(FIXTURES / "replay" / "history.toml")
    full = settle("replay", repo=history)
    fast = settle("replay", "--no-syntax", repo=history)
    assert full.returncode == fast.returncode == 0, full.stderr + fast.stderr
    import json

    for whole, quick in zip(full.stdout.splitlines(), fast.stdout.splitlines()):
        whole, quick = json.loads(whole), json.loads(quick)
        assert whole["merge_commit"] == quick["merge_commit"]
        assert {f["id"] for f in quick["findings"]} <= {f["id"] for f in whole["findings"]}
        missing = [f for f in whole["findings"] if f["id"] not in {q["id"] for q in quick["findings"]}]
        assert all(f["kind"] == "parse_error" for f in missing), missing
    assert "parse_error" in full.stdout


LANGUAGE_SCENARIOS = sorted(
    p for language in ("python", "go", "javascript", "typescript", "rust", "java")
    for p in (FIXTURES / language).glob("*.toml") if not p.name.endswith((".claims.toml", ".policy.toml"))
)


@pytest.mark.parametrize("source", LANGUAGE_SCENARIOS, ids=[p.stem for p in LANGUAGE_SCENARIOS])
def test_header_prefilter_never_hides_a_change_that_can_strand_a_use(build, source):
    """Soundness: wherever the full parser finds a removal or a binding change, the byte
    prefilter must have said the file may strand uses."""
    from settle.diff.drift import _drifting

    scenario = scenarios.load(source)
    session = Session.open(str(build(scenario)))
    repository = session.repository
    base = repository.resolve("main") if repository._repo.lookup_branch("main") else None
    for name in scenario.branches:
        tip = repository.resolve(name)
        fork = repository.merge_base(base, tip) if base else None
        if fork is None or fork == tip:
            continue
        side = session.side(name, fork, tip)
        stranding = {c.old.id.split("::", 1)[0] for c in _drifting(side)}
        for file in side.files:
            if file.change.path in stranding:
                assert _may_strand_uses(session.tables, file.change), (name, file.change.path)


def test_a_table_cache_that_keeps_nothing_changes_no_verdict(build):
    """Long replays drop old tables; re-parsing a dropped blob must give the same verdicts."""
    from settle.parse.cache import SymbolTables
    from settle.replay import merge_commits, settle_merge

    history = str(build(FIXTURES / "replay" / "history.toml"))
    roomy = Session.open(history)
    repository = Repository.open(history)
    cramped = Session(repository, SymbolTables(repository.blob, cache_bytes=1))
    for merge in merge_commits(roomy.repository):
        assert settle_merge(cramped, merge).to_json() == settle_merge(roomy, merge).to_json()


def test_prefilters_drop_no_finding_on_the_fixture_history(build, monkeypatch):
    """Differential: replay with every changed file parsed finds exactly what the prefilters let it find."""
    from settle.replay import merge_commits, settle_merge

    history = str(build(FIXTURES / "replay" / "history.toml"))
    filtered = Session.open(history)
    verdicts = {merge: settle_merge(filtered, merge) for merge in merge_commits(filtered.repository)}
    monkeypatch.setattr(reach, "meets", lambda other, repository, tables: (lambda change: True))
    everything = Session.open(history)
    for merge, verdict in verdicts.items():
        assert {f.id for f in settle_merge(everything, merge).findings} == {f.id for f in verdict.findings}


# -- differential property: generated histories -------------------------------------

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

FUNCTIONS = ("f0", "f1")
OPERATIONS = st.one_of(
    st.tuples(st.just("param"), st.sampled_from(FUNCTIONS)),
    st.tuples(st.just("remove"), st.sampled_from(FUNCTIONS)),
    st.tuples(st.just("body"), st.sampled_from(FUNCTIONS)),
    st.tuples(st.just("call"), st.sampled_from(FUNCTIONS), st.integers(min_value=0, max_value=3)),
    st.tuples(st.just("field")),
    st.tuples(st.just("method")),
    st.tuples(st.just("use-field")),
    st.tuples(st.just("call-method"), st.integers(min_value=0, max_value=2)),
    st.tuples(st.just("add"), st.integers(min_value=0, max_value=1)),
)


def _render(operations, side: str) -> dict[str, str]:
    """The files of one side after its operations on the base (operations=() gives the base)."""
    applied = {op[0] + ":" + str(op[1]) if len(op) > 1 else op[0] for op in operations}
    module = []
    for name in FUNCTIONS:
        if f"remove:{name}" in applied:
            continue
        params = "a, b, c" if f"param:{name}" in applied else "a, b"
        body = "x - b" if f"body:{name}" in applied else "x + b"
        module.append(f"def {name}({params}):\n    x = a\n    return {body}\n")
    field = "" if "field" in applied else "    size = 1\n"
    run = "self, x, y" if "method" in applied else "self, x"
    module.append(f"class C:\n{field}\n    def run({run}):\n        return x\n")
    module += [f"def g():\n    return {op[1]}\n" for op in operations if op[0] == "add"][:1]
    files = {"m.py": "\n\n".join(module), "u.py": "from m import f0\n\n\ndef use():\n    return f0(1, 2)\n"}
    for index, op in enumerate(operations):
        if op[0] == "call":
            args = ", ".join(str(n) for n in range(op[2]))
            files[f"w_{side}{index}.py"] = f"from m import {op[1]}\n\n\ndef w():\n    return {op[1]}({args})\n"
        elif op[0] == "use-field":
            files[f"w_{side}{index}.py"] = "from m import C\n\n\ndef w():\n    return C().size\n"
        elif op[0] == "call-method":
            args = ", ".join(str(n) for n in range(op[1]))
            files[f"w_{side}{index}.py"] = f"from m import C\n\n\ndef w():\n    return C().run({args})\n"
    return files


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.lists(OPERATIONS, min_size=1, max_size=3), candidate=st.lists(OPERATIONS, min_size=1, max_size=3))
def test_prefilters_drop_no_finding_on_generated_histories(tmp_path_factory, target, candidate):
    """Whatever two sides do to a module and its callers, replay's prefilters find what parsing
    every changed file finds."""
    from unittest import mock

    from settle.replay import settle_merge

    scenario = scenarios.Scenario.model_validate({
        "base": {"files": _render((), "base")},
        "target": {"files": _render(target, "t")},
        "branches": {"cand": {"files": _render(candidate, "c")}},
        "merges": [{"parents": ["cand"]}],
    })
    repo = scenarios.build(scenario, tmp_path_factory.mktemp("history") / "repo")
    merge = Repository.open(str(repo)).resolve("main")
    # Interference in replay's default mode runs on the files the other passes parse: by design it
    # sees fewer edges than a parse of everything (README, "Interference"), so it is left out here.
    shape = lambda findings: {f.id for f in findings if f.kind != "interference"}  # noqa: E731
    filtered = shape(settle_merge(Session.open(str(repo)), merge).findings)
    with mock.patch.object(reach, "meets", lambda other, repository, tables: (lambda change: True)):
        found = settle_merge(Session.open(str(repo)), merge).findings
    for kind in sorted({f"{f.kind}/{f.subkind}" for f in found}):
        event(kind)
    assert filtered == shape(found)


@pytest.mark.parametrize(
    "new, inside",
    [
        (edit(MODULE, "    total = a + 1\n    return total\n", "    return a + 1\n"), b"def first"),  # lines removed inside first
        (edit(MODULE, "    value = b * 2\n", ""), b"def second"),  # a removal right under a decorated def
        (edit(MODULE, "        return value\n", ""), b"def put"),  # the last line of the module's last def
        (edit(MODULE, "    def get(self, key):", "    def get(\n        self,\n        key,\n    ):"), b"class Store"),
    ],
    ids=["removed-lines", "removed-under-decorator", "removed-last-line", "reformatted-header"],
)
def test_added_text_holds_every_symbol_the_change_touched(build, new, inside):
    session, (change, _) = _session(build, {"m.py": MODULE}, {"m.py": new}, {"other.py": "x = 1\n"})
    assert inside in reach._added_text(session.repository, change)


# -- the fast form of the line patterns -------------------------------------------------------

from hypothesis import given, settings
from hypothesis import strategies as st

from settle.languages import PROFILES

_LINE_PATTERNS = sorted({pattern for profile in PROFILES for pattern in (profile.import_lines, profile.header_lines) if pattern})
# Lines built from the pieces the patterns look at: keywords, decorators, brackets, `=`, `:`, quotes.
_PIECES = st.sampled_from(["import", "from", "export", "use", "mod", "pub", "pub(crate)", "def", "class", "async", "@",
                           "@decorator", "x", "name", "fn", "(", ")", "((", "))", "=", "==", ":", "->", "int", " ", "  ",
                           "\t", '"pkg"', "'./m'", "require(", ",", ";", "\\", "é", "\u00a0", "\u0085", "\x1c", "ñame"])
_TEXTS = st.lists(st.lists(_PIECES, max_size=8).map("".join), max_size=12).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(text=_TEXTS, trailing=st.booleans())
def test_the_fast_line_patterns_match_what_the_profiles_patterns_match(text, trailing):
    _assert_fast_form_agrees((text + ("\n" if trailing else "")).encode())


@pytest.mark.parametrize("source, path, data", FILES, ids=[f"{s}:{p}" for s, p, _ in FILES])
def test_the_fast_line_patterns_match_alike_on_every_fixture_file(source, path, data):
    _assert_fast_form_agrees(data)


def _assert_fast_form_agrees(data: bytes) -> None:
    for source in _LINE_PATTERNS:
        for groups in (False, True):
            compiled = re.compile((f"({source})" if groups else source).encode(), re.MULTILINE)
            assert [_without_newline(m) for m in reach.line_matches(source, data, groups)] == [
                _without_newline(m) for m in compiled.findall(data)], source
        # The profiles write their runs possessive (`[ \t]*+`) for speed: they must mean what the
        # plain runs mean.
        plain = _POSSESSIVE.sub("", source)
        assert re.findall(source.encode(), data, re.MULTILINE) == re.findall(plain.encode(), data, re.MULTILINE), source


_POSSESSIVE = re.compile(r"(?<=[*+?}])\+")  # the `+` that makes the run before it possessive

# Python's header pattern as its three forms read, each from the line's start (the profile reads
# the indentation once, before them): both must find the same headers with the same groups.
_PYTHON_HEADERS_ONE_BY_ONE = (
    r"^(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)[ \t]*"
    r"(?:\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?(?:[ \t]*->[^:\n]*)?"
    r"|^[ \t]*(\w+)[ \t]*(?::[^=\n]*)?=(?!=)"
    r"|^[ \t]*(\w+)[ \t]*:[ \t]*[^=\s][^=\n]*$"
)
_PYTHON_PIECES = st.sampled_from(["def", "class", "async", "@", "@decorator(x)", "x", "name", "(", ")", "((", "))", "=",
                                  "==", ":", "->", "int", " ", "    ", "\t", ",", "\\", "é", "return"])
_PYTHON_TEXTS = st.lists(st.lists(_PYTHON_PIECES, max_size=8).map("".join), max_size=12).map("\n".join)


@settings(max_examples=500, deadline=None)
@given(text=_PYTHON_TEXTS)
def test_pythons_header_pattern_finds_what_its_three_forms_find(text):
    _assert_python_headers_agree(text.encode())


@pytest.mark.parametrize("source, path, data", [f for f in FILES if f[1].endswith(".py")],
                         ids=[f"{s}:{p}" for s, p, _ in FILES if p.endswith(".py")])
def test_pythons_header_pattern_finds_what_its_three_forms_find_on_every_fixture_file(source, path, data):
    _assert_python_headers_agree(data)


def _assert_python_headers_agree(data: bytes) -> None:
    profile = next(p for p in PROFILES if p.name == "python")
    assert (re.findall(f"({profile.header_lines})".encode(), data, re.MULTILINE)
            == re.findall(f"({_PYTHON_HEADERS_ONE_BY_ONE})".encode(), data, re.MULTILINE))


def _without_newline(match):
    """A match's text without the newline the fast form starts it with."""
    if isinstance(match, bytes):
        return match.lstrip(b"\n")
    return tuple(group.lstrip(b"\n") for group in match)


def test_alternatives_split_only_at_the_top_level():
    assert reach._top_level_alternatives(r"^a(?:b|c)|^[|x]d|^\|e") == ["^a(?:b|c)", "^[|x]d", r"^\|e"]
    assert reach._top_level_alternatives(r"[]|]x|^y") == ["[]|]x", "^y"]


# -- the fast forms of the added text and the whole-word test -----------------------------------

from settle.diff.changes import _whole_words, spelled_among, spells
from settle.parse.mentions import WORD_RUN
from settle.repo import Hunk, LineRange

_CONTINUING = frozenset((b"", b" ", b"\t", b")", b"]", b"}"))


def _widened_by_lines(data: bytes, hunks) -> bytes:
    """The added text as first written: every line split out and tested (the reference)."""
    lines = data.split(b"\n")
    tops = [index for index, line in enumerate(lines) if line[:1] not in _CONTINUING]
    pieces = []
    for hunk in hunks:
        low, high = hunk.new.start - 1, hunk.new.end - 1
        if high < low:
            low, high = high, low
        before = bisect_right(tops, max(low, 0)) - 1
        after = bisect_right(tops, max(high, low, 0))
        pieces.append(b"\n".join(lines[tops[before] if before >= 0 else 0 : tops[after] if after < len(tops) else len(lines)]))
    return b"\n".join(pieces)


_LINES = st.lists(st.sampled_from(["", "def f():", "    x = 1", "\treturn x", ")", "]", "}", "class C:", "x = (", "\r",
                                   "  ", "@d", "é = 1"]), max_size=30)


@settings(max_examples=400, deadline=None)
@given(lines=_LINES, trailing=st.booleans(),
       spans=st.lists(st.tuples(st.integers(0, 35), st.integers(-1, 8)), max_size=4))
def test_the_added_text_on_byte_offsets_is_the_line_by_line_one(lines, trailing, spans):
    data = ("\n".join(lines) + ("\n" if trailing else "")).encode()
    hunks = [Hunk(old=LineRange(1, 0), new=LineRange(start, start + length)) for start, length in spans]
    assert reach.widened_hunks(data, hunks) == _widened_by_lines(data, hunks)


@settings(max_examples=300, deadline=None)
@given(lengths=st.lists(st.integers(0, 3000), max_size=400), trailing=st.booleans(),
       asked=st.lists(st.integers(0, 420), max_size=20))
def test_line_starts_are_found_whatever_the_order_asked_and_the_lengths_of_lines(lengths, trailing, asked):
    data = b"\n".join(b"x" * length for length in lengths) + (b"\n" if trailing else b"")
    pieces = data.split(b"\n")
    starts = [sum(len(piece) + 1 for piece in pieces[:line]) for line in range(len(pieces) + 1)]
    start_of = reach._LineStarts(data)
    for line in sorted(asked) + asked:  # rising, then in any order
        assert start_of(line) == starts[min(line, len(pieces))]


@settings(max_examples=400, deadline=None)
@given(lines=_LINES, window=st.integers(1, 64))
def test_the_top_level_line_before_a_position_is_found_whatever_the_window(lines, window):
    data = "\n".join(lines).encode()
    tops = [match.start() for match in re.finditer(rb"^[^ \t)\]}\n]", data, re.MULTILINE)]
    for position in range(len(data) + 1):
        assert reach._top_line_at_or_before(data, position, window) == max((top for top in tops if top <= position), default=0)


_WORDS = st.sampled_from([b"get", b"x", b"", b"$el", b"_", b"name2", b"a.b", b"\xc3\xa9"])


@settings(max_examples=400, deadline=None)
@given(names=st.lists(_WORDS, max_size=3), pieces=st.lists(st.sampled_from(
    [b"get", b"getx", b"xget", b"_get", b"$get", b"get$", b" ", b"\n", b"(", b"x", b"$el", b"name2", b"name", b"2",
     b"a.b", b"\xc3\xa9", b"\xc3"]), max_size=80))
def test_spells_is_the_whole_word_regex(names, pieces):
    data = b"".join(pieces)
    present = tuple(sorted(name for name in names if name in data))
    assert spells(names, data) == (bool(present) and _whole_words(present).search(data) is not None)


@settings(max_examples=400, deadline=None)
@given(names=st.lists(st.sampled_from(["get", "x", "", "$el", "_", "name2", "a.b", "é", "2"]), max_size=3),
       pieces=st.lists(st.sampled_from(
           [b"get", b"getx", b"xget", b"_get", b"$get", b"get$", b" ", b"\n", b"(", b"x", b"$el", b"name2", b"name", b"2",
            b"a.b", b"\xc3\xa9", b"\xc3"]), max_size=80))
def test_a_name_among_the_texts_words_is_a_name_it_spells(names, pieces):
    """Drift's byte test by the text's words, collected once, says what the byte search says."""
    data = b"".join(pieces)
    words = frozenset(WORD_RUN.findall(data))
    assert spelled_among(names, words, lambda: data) == spells([name.encode() for name in names], data)


@pytest.mark.parametrize("data, found", [(b"getx " * 40 + b"get", True), (b"getx " * 40, False), (b"xget" * 50 + b"(get)", True)])
def test_spells_a_name_found_inside_words_many_times(data, found):
    assert spells([b"get"], data) is found


def test_the_prefilters_blob_facts_are_keyed_by_the_code_that_works_them_out():
    # The table keys' code digest covers the parse layer and the profiles, not reach.py: an edit
    # of how import words are read must not find the words the code before it stored.
    import hashlib
    from pathlib import Path

    digest = hashlib.blake2b(Path(reach.__file__).read_bytes(), digest_size=6).hexdigest()
    assert reach._fact_kind("imported-words") == f"imported-words/{digest}"


# -- a side's files that spell a name, by word index ----------------------------------------------

_SIDE_TEXTS = {
    "m/a.py": "def get(x):\n    return x.name2\n",
    "m/b.py": "def getx():\n    return $el\n",  # not valid Python: tree-sitter still gives a table
    "m/c.js": "export function name(a) { return a['a.b'] + 2; }\n",
    "m/d.py": "x = 'é' + str(_)\n",
    "m/e.go": "package m\n\nfunc Get() int { return 2 }\n",
    "m/f.txt": "get x name2\n",  # no grammar: never a parsed file
    "m/g.py": "",
}


@pytest.fixture(scope="module")
def spelling_side(tmp_path_factory):
    from settle.settlement import Session

    scenario = scenarios.Scenario.model_validate({"base": {"files": {"m/__init__.py": ""}},
                                                  "branches": {"agent/words": {"files": _SIDE_TEXTS}}})
    repo = scenarios.build(scenario, tmp_path_factory.mktemp("spelling") / "repo")
    session = Session.open(str(repo))
    repository = session.repository
    return session.side("agent/words", repository.resolve("main"), repository.resolve("agent/words")), repository


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.sampled_from(["get", "x", "", "$el", "_", "name2", "a.b", "é", "2", "Get", "name", "m"]),
                      max_size=3))
def test_a_sides_files_spelling_a_name_are_those_whose_text_spells_it(spelling_side, names):
    """The first asks search every file; later ones look names up in the side's word index: both
    are the files whose new text `spells` a name, in order."""
    side, repository = spelling_side
    expected = [file for file in side.files if file.new_table is not None and file.new_table.parsed
                and spells([name.encode() for name in names], repository.blob(file.change.new_id))]
    for _ in range(6):  # past the asks a search answers, the index does
        assert side.files_spelling(set(names)) == expected


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.lists(st.sampled_from(
           [b"get", b"getx", b"xget", b"_get", b"$get", b"get$", b" ", b"\n", b"(", b"x", b"$el", b"name2", b"name",
            b"2", b"a.b", b"\xc3\xa9", b"\xc3", b"et"]), max_size=30).map(b"".join), min_size=1, max_size=6),
       names=st.lists(st.sampled_from(["get", "x", "$el", "_", "name2", "a.b", "é", "2", "et", "ge", "getx", "name"]),
                      min_size=1, max_size=12))
def test_the_blobs_mentioning_a_name_are_those_whose_bytes_hold_it(texts, names):
    """The byte search, name after name: the first ones read each blob, later ones of word bytes
    look the name up in the blobs' words. Both say which blobs hold the name's bytes."""
    import settle.parse.mentions as mentions
    from settle.parse.cache import SymbolTables

    blobs = {f"{index:040x}": text for index, text in enumerate(texts)}
    tables = SymbolTables(blobs.__getitem__)
    tables.mentions.asks = mentions._ASKS_BEFORE_INDEX - 4  # four names searched, then the index
    files = [(f"m{index}.py", blob_id) for index, blob_id in enumerate(blobs)]
    for name in names:
        assert tables.mentioning(name, files) == [(path, blob_id) for path, blob_id in files if name.encode() in blobs[blob_id]]


def test_the_words_index_starts_over_past_its_bound(monkeypatch):
    import settle.parse.cache as cache
    import settle.parse.mentions as mentions

    monkeypatch.setattr(mentions, "_INDEXED_BLOBS", 5)
    monkeypatch.setattr(mentions, "_ASKS_BEFORE_INDEX", 2)
    blobs = {f"{index:040x}": f"def f{index}(): return g{index % 3}\n".encode() for index in range(8)}
    tables = cache.SymbolTables(blobs.__getitem__)
    files = [(f"m{index}.py", blob_id) for index, blob_id in enumerate(blobs)]
    counts = []
    for name in ["x", "y", "z", "w", "g1", "f2", "return", "g", "f1", "d", "g2", "def"]:
        group = files[:4] if name.startswith("f") or name.startswith("g") else files[4:] if name == "d" else files
        assert tables.mentioning(name, group) == [(p, b) for p, b in group if name.encode() in blobs[b]]
        counts.append(tables.mentions.indexed)
    assert max(counts) <= 5 and 4 in counts  # eight blobs at once are searched; four fit, and start it over
