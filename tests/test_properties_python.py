"""Properties: extraction never raises and is deterministic; check is symmetric, deterministic,
agrees with `git merge-tree` on text conflicts, and never writes to the repository."""

from __future__ import annotations

import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import repository_state
from settle import scenario as scenarios
from settle.languages import profile_named
from settle.parse.extract import extract
from settle.settlement import check

PYTHON = profile_named("python")
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])



python_like = st.lists(
    st.sampled_from([
        "def f(a, b=1, *c, d, **e):\n", "class C(B):\n", "    def m(self, x):\n", "        return g(x, *y, k=1)\n",
        "    pass\n", "@decorator\n", "async def h():\n", "x = lambda q: q\n", "import a.b as c\n", "from . import d\n",
        "# comment\n", "\"\"\"doc\"\"\"\n", "(\n", ")\n", "  \t", "def broken(:\n", "if x:\n", "\n",
    ]),
    max_size=30,
).map("".join)


# Most random byte strings are not UTF-8 and never reach the parser: mix in text too.
arbitrary_bytes = st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode), python_like.map(str.encode))


@given(arbitrary_bytes)
@settings(max_examples=300, deadline=None)
def test_extraction_never_raises_on_arbitrary_bytes(data):
    table = extract(data, "x.py", PYTHON)
    assert len({d.id for d in table.definitions}) == len(table.definitions)


@given(python_like)
@settings(max_examples=200, deadline=None)
def test_extraction_is_deterministic_and_ids_are_unique(source):
    first = extract(source.encode(), "m.py", PYTHON)
    second = extract(source.encode(), "m.py", PYTHON)
    assert first == second
    assert len({d.id for d in first.definitions}) == len(first.definitions)


BASE_LINES = [
    "def alpha(a):", "    x = a + 1", "    return x",
    "def beta(b):", "    y = b * 2", "    return y",
    "def gamma(c, d=1):", "    z = c - d", "    return z",
    "def delta():", "    return alpha(1) + beta(2) + gamma(3)",
]
REPLACEMENTS = ["    x = a + 2", "    return None", "def beta(b, extra):", "    y = b * 3", "def gamma(c):",
                "    w = 0", "# note", "def epsilon(e):", "    return alpha(1, 2)"]

edit = st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, len(BASE_LINES) - 1), st.sampled_from(REPLACEMENTS))


def apply(edits) -> str:
    lines = list(BASE_LINES)
    for action, index, text in edits:
        index = min(index, len(lines) - 1)
        if action == "replace":
            lines[index] = text
        elif action == "insert":
            lines.insert(index, text)
        elif len(lines) > 1:
            del lines[index]
    return "\n".join(lines) + "\n"


def build_pair(tmp_path_factory, left, right):
    scenario = scenarios.Scenario.model_validate({
        "base": {"files": {"mod.py": "\n".join(BASE_LINES) + "\n"}},
        "branches": {"left": {"files": {"mod.py": apply(left)}}, "right": {"files": {"mod.py": apply(right)}}},
    })
    return scenarios.build(scenario, tmp_path_factory.mktemp("pair") / "repo")


@given(st.lists(edit, min_size=1, max_size=3), st.lists(edit, min_size=1, max_size=3))
@FAST
def test_text_conflicts_match_git_merge_tree(tmp_path_factory, left, right):
    repo = build_pair(tmp_path_factory, left, right)
    git = subprocess.run(["git", "merge-tree", "--write-tree", "--name-only", "left", "right"], cwd=repo, capture_output=True, text=True)
    assert git.returncode in (0, 1), git.stderr
    before = repository_state(repo)
    verdict = check(str(repo), ["left", "right"], "main")
    assert repository_state(repo) == before
    ours = any(f.kind == "text_conflict" and f.candidates == ["left", "right"] for f in verdict.findings)
    assert ours == (git.returncode == 1)


@given(st.lists(edit, min_size=1, max_size=3), st.lists(edit, min_size=1, max_size=3))
@FAST
def test_pairwise_findings_are_symmetric_and_deterministic(tmp_path_factory, left, right):
    repo = build_pair(tmp_path_factory, left, right)
    forward = check(str(repo), ["left", "right"], "main")
    backward = check(str(repo), ["right", "left"], "main")
    assert forward.findings == backward.findings
    assert check(str(repo), ["left", "right"], "main").to_json() == forward.to_json()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b" ", b"a", b"Z", b"_", b"9", b"(", b",", b"\xff", b"\xc3\xa9", b"-", b"\t\n"]), max_size=40).map(b"".join))
def test_normalized_text_keeps_a_space_only_between_two_word_bytes(data):
    from settle.parse.extract import _without_spacing

    text = b" ".join(data.split())
    word = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
    kept = bytes(byte for index, byte in enumerate(text)
                 if byte != 0x20 or (text[index - 1] in word and text[index + 1] in word))
    assert _without_spacing(text) == kept


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab_Z9$.:<>[]() é", max_size=12))
def test_a_references_last_name_is_the_last_identifier_before_any_generic_tail(text):
    import re

    from settle.parse.extract import _GENERIC_TAIL, _last_name

    # The rule, without the shortcut for a plain ASCII name.
    reference = text
    while reference and reference[-1] in ">]" and (cut := _GENERIC_TAIL.search(reference)):
        reference = reference[: cut.start()]
    match = re.search(r"[A-Za-z_$][\w$]*(?=\W*$)", reference)
    assert _last_name(text) == (match.group(0) if match else reference)
