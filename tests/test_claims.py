"""Claims: what each pattern form covers, that parsing any text either yields a pattern or an input
error, and that `settle claims infer` writes claims the candidate then satisfies."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from settle import scenario as scenarios
from settle.bind.patterns import parse_pattern
from settle.errors import ConfigError

# -- pattern forms ----------------------------------------------------------------------

COVERS = [
    # file globs: every symbol of the matching files
    ("src/**/*.py", "src/a/b.py::f", True),
    ("src/**/*.py", "src/b.py::C.m", True),
    ("src/*.py", "src/a/b.py::f", False),
    ("docs/**", "docs/a/b.md::x", True),
    # an exact symbol: itself, what is nested in it, and its overloads
    ("a.py::Client.send", "a.py::Client.send", True),
    ("a.py::Client.send", "a.py::Client.send.retry", True),
    ("a.py::Client.send", "a.py::Client.sender", False),
    ("a.py::Client.send", "a.py::Client", False),
    ("A.java::A.run", "A.java::A.run(int,String)", True),
    ("A.java::A.run(int,String)", "A.java::A.run(int,String)", True),
    ("A.java::A.run(int, String)", "A.java::A.run(int,String)", True),
    ("A.java::A.run(int[])", "A.java::A.run(int[])", True),
    ("A.java::A.run(int[])", "A.java::A.run(int)", False),
    ("A.java::A.run(List<String>)", "A.java::A.run(List<String>).Local", True),
    ("a.py::f", "a.py::f@2", True),
    ("a.py::f@2", "a.py::f", False),
    # a class covers its members; a member glob covers the members, not the class
    ("a.py::Client", "a.py::Client.Pool.get", True),
    ("a.py::Client.*", "a.py::Client.send", True),
    ("a.py::Client.*", "a.py::Client.Pool.get", True),
    ("a.py::Client.*", "a.py::Client", False),
    # name globs match names at their own depth
    ("a.py::handle_*", "a.py::handle_get", True),
    ("a.py::handle_*", "a.py::Router.handle_get", False),
    ("a.py::*.close", "a.py::Pool.close", True),
    ("a.py::*.close", "a.py::close", False),
    ("a.py::handle_[gp]*", "a.py::handle_put", True),
    ("go/s.go::Store.Get", "go/s.go::Store.Get", True),
]


@pytest.mark.parametrize("pattern, symbol, covered", COVERS, ids=[f"{p} {'covers' if c else 'misses'} {s}" for p, s, c in COVERS])
def test_each_pattern_form_covers_what_the_readme_says(pattern, symbol, covered):
    assert parse_pattern(pattern).covers_symbol(symbol) is covered


MALFORMED = {
    "": "is empty",
    " a.py": "surrounding whitespace",
    "/etc/passwd": "is absolute",
    "C:/x.py": "is absolute",
    "../x.py": "leaves the repository",
    "src/../../x.py": "leaves the repository",
    "./src/a.py": "'.' segment",
    "src//a.py": "empty path segment",
    "src/": "ends with '/'",
    "src\\a.py": "'\\'",
    "::f": "no path before '::'",
    "a.py::": "nothing after '::'",
    "a.py::A::b": "more than one '::'",
    "a.py::A..b": "empty name",
    "a.py::.b": "empty name",
    "a.py::A.": "empty name",
    "a.py::run(int": "unbalanced parentheses",
    "a.py::run)": "unbalanced parentheses",
    "a.py::a b": "malformed name",
    "a.py::@2": "malformed name",
}


@pytest.mark.parametrize("text", MALFORMED, ids=list(MALFORMED))
def test_malformed_patterns_are_input_errors_that_say_what_is_wrong(text):
    with pytest.raises(ConfigError, match=re.escape(MALFORMED[text])):
        parse_pattern(text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="ab./*?[]()@:: \\\t-_0123456789", max_size=30)))
def test_any_text_parses_to_a_pattern_or_an_input_error(text):
    try:
        pattern = parse_pattern(text)
    except ConfigError as error:
        assert str(error)
        return
    # A parsed pattern matches any symbol id without raising.
    pattern.covers_symbol("src/a.py::A.run(int,String).inner@2")
    pattern.covers_symbol(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=30))
def test_non_strings_are_input_errors(items):
    for value in (len(items), items, None, 1.5):
        with pytest.raises(ConfigError):
            parse_pattern(value)


_NAME = st.text(alphabet="abcXYZ_$0123456789", min_size=1, max_size=6)
_TYPES = st.lists(st.sampled_from(["int", "String", "int[]", "List<String>", "Map<K, V>", "a.b.C", "?"]), max_size=3)
_SEGMENT = st.tuples(_NAME, st.one_of(st.none(), _TYPES), st.one_of(st.none(), st.integers(2, 9)))


def _render(segment) -> str:
    name, types, occurrence = segment
    return name + (f"({','.join(types)})" if types is not None else "") + (f"@{occurrence}" if occurrence else "")


@settings(max_examples=300, deadline=None)
@given(st.lists(_SEGMENT, min_size=1, max_size=4), st.sampled_from(["a.py", "src/x/B.java", "go/s.go"]))
def test_a_symbol_id_pasted_as_a_pattern_covers_itself_and_its_outer_names_cover_it(segments, path):
    symbol = f"{path}::{'.'.join(_render(s) for s in segments)}"
    assert parse_pattern(symbol).covers_symbol(symbol)
    for end in range(1, len(segments)):
        outer = ".".join(_render(s) for s in segments[:end])
        assert parse_pattern(f"{path}::{outer}").covers_symbol(symbol)
        assert parse_pattern(f"{path}::{outer}.*").covers_symbol(symbol)
    bare = ".".join([*(_render(s) for s in segments[:-1]), segments[-1][0]])
    assert parse_pattern(f"{path}::{bare}").covers_symbol(symbol)  # every overload and occurrence of the name
    assert parse_pattern(path).covers_symbol(symbol)


def test_the_readme_worked_example_is_a_fixture_that_passes():
    """fixtures/claims/readme_example.toml checks the candidate with exactly the README's claims block."""
    readme = (FIXTURES.parent / "README.md").read_text(encoding="utf-8")
    claims_section = readme[readme.index("## Claims"):]
    block = claims_section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert block == (FIXTURES / "claims" / "readme_example.claims.toml").read_text(encoding="utf-8")


# -- claims infer -----------------------------------------------------------------------

def _scenarios_with_candidates(folder: str):
    found = []
    for path in sorted((FIXTURES / folder).glob("*.toml")):
        if path.name.endswith((".claims.toml", ".plan.toml", ".policy.toml")):
            continue
        scenario = scenarios.load(path)
        if scenario.check.candidates and scenario.expect.exit_code != 2:
            found.append(path)
    return found


ROUND_TRIP = [
    path for folder in sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name not in ("plans", "replay"))
    for path in _scenarios_with_candidates(folder)
]


@pytest.mark.parametrize("source", ROUND_TRIP, ids=[p.relative_to(FIXTURES).as_posix() for p in ROUND_TRIP])
def test_checking_a_candidate_with_its_inferred_claims_finds_no_claim_violation(source, build, settle, tmp_path):
    scenario = scenarios.load(source)
    repo = build(scenario)
    base = ["--base", scenario.check.base] if scenario.check.base else []
    for candidate in scenario.check.candidates:
        inferred = settle("claims", "infer", *base, candidate, repo=repo)
        assert inferred.returncode == 0, inferred.stderr
        claims = tmp_path / "inferred.claims.toml"
        claims.write_text(inferred.stdout)
        result = settle("check", "--format", "json", "--claims", str(claims), *base, candidate, repo=repo)
        assert result.returncode in (0, 1), result.stderr
        violations = [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "claim_violation"]
        assert violations == [], f"{inferred.stdout}\n{violations}"


def test_infer_collapses_a_class_whose_members_were_all_edited_and_keeps_single_overloads(build, settle):
    repo = build({
        "base": {"files": {
            "a.py": "class C:\n    def m(self):\n        return 1\n\n    def n(self):\n        return 2\n\n\ndef f():\n    return 1\n",
            "B.java": "class B {\n    void run(int a) { }\n    void run(String s) { }\n}\n",
        }},
        "branches": {"agent/x": {"files": {
            "a.py": "class C:\n    def m(self):\n        return 3\n\n    def n(self):\n        return 4\n\n\ndef g():\n    return 1\n",
            "B.java": "class B {\n    void run(int a) { }\n    void run(String s) { s.trim(); }\n}\n",
            "notes.txt": "hello\n",
        }}},
    })
    result = settle("claims", "infer", "agent/x", repo=repo)
    assert result.stdout == (
        'candidate = "agent/x"\n\n[claims]\n'
        'create = ["a.py::g", "notes.txt"]\n'
        'edit = ["B.java::B.run(String)", "a.py::C"]\n'
        'delete = ["a.py::f"]\n'
    )


def test_infer_names_a_new_file_whose_symbols_are_all_new_by_its_path(build, settle):
    repo = build({
        "base": {"files": {"a.py": "def f():\n    return 1\n"}},
        "branches": {"agent/x": {"files": {"src/new.py": "import os\n\n\ndef g():\n    return os.sep\n\n\ndef h():\n    return 2\n"}}},
    })
    result = settle("claims", "infer", "agent/x", repo=repo)
    assert result.stdout == 'candidate = "agent/x"\n\n[claims]\ncreate = ["src/new.py"]\n'


def test_claimed_but_untouched_symbols_are_stats_not_findings(build, settle, tmp_path):
    repo = build({
        "base": {"files": {"a.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n"}},
        "branches": {"agent/x": {"files": {"a.py": "def f():\n    return 3\n\n\ndef g():\n    return 2\n"}}},
    })
    claims = tmp_path / "x.claims.toml"
    claims.write_text('[claims]\nedit = ["a.py::f", "a.py::g", "a.py::*"]\n')
    result = settle("check", "--format", "json", "--claims", str(claims), "agent/x", repo=repo)
    verdict = json.loads(result.stdout)
    assert result.returncode == 0 and verdict["findings"] == []
    assert verdict["stats"]["candidates"]["agent/x"]["claimed_untouched"] == ["a.py::g"]


def test_a_claims_file_for_a_branch_binds_when_checking_head_at_that_branch(build, settle, tmp_path):
    repo = build({
        "base": {"files": {"a.py": "def f():\n    return 1\n"}},
        "branches": {"agent/x": {"files": {"a.py": "def f():\n    return 2\n"}}},
    })
    claims = tmp_path / "x.claims.toml"
    claims.write_text('candidate = "agent/x"\n[claims]\nedit = ["a.py::f"]\n')
    assert settle("check", "--claims", str(claims), "agent/x", repo=repo).returncode == 0
    # HEAD is main here: a claims file for agent/x does not belong to it.
    wrong = settle("check", "--claims", str(claims), repo=repo)
    assert wrong.returncode == 2 and "is for candidate 'agent/x', not 'HEAD'" in wrong.stderr
    same_commit = settle("check", "--claims", str(claims), "refs/heads/agent/x", repo=repo)
    assert same_commit.returncode == 0, same_commit.stderr
