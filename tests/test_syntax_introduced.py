"""parse_error/introduced blames a candidate only for syntax errors it brought into a file that
parsed on the base (or a new file among files that parsed): never in a file the grammar could not
read on the base, nor in a new file of a directory whose files it mostly could not read, in every
language."""

from __future__ import annotations

import json

import pytest

# (path, file header, the base's erroneous line, a clean function, a new, different error, closing)
LANGUAGES = {
    "python": ("app/mod.py", "", "broken = 1 2\n", "\n\ndef ok():\n    return 1\n", "\n\ndef new(:\n    pass\n", ""),
    "javascript": ("app/mod.js", "", "const broken = 1 2;\n", "\nfunction ok() {\n  return 1;\n}\n", "\nfunction fresh( {\n}\n", ""),
    "typescript": ("app/mod.ts", "", "const broken = 1 2;\n", "\nexport function ok(): number {\n  return 1;\n}\n",
                   "\nfunction fresh( {\n}\n", ""),
    "go": ("app/mod.go", "package app\n\n", "var broken = 1 2\n", "\nfunc Ok() int {\n\treturn 1\n}\n", "\nfunc Fresh( {\n}\n", ""),
    "rust": ("src/lib.rs", "", "const BROKEN: i32 = 1 2;\n", "\npub fn ok() -> i32 {\n    1\n}\n", "\nfn fresh( {\n}\n", ""),
    "java": ("src/App.java", "class App {\n", "  int broken = 1 2;\n", "  int ok() { return 1; }\n", "  void fresh( { }\n", "}\n"),
}


def _scenario(path, header, broken, clean, new_error, closing):
    return {
        "base": {"files": {path: header + broken + clean + closing}},
        "branches": {
            # edits the clean function only: the old error is still there, unchanged
            "agent/edit": {"files": {path: header + broken + clean.replace("1", "2") + closing}},
            # adds a second, different error further down
            "agent/break": {"files": {path: header + broken + clean + new_error + closing}},
        },
    }


def _parse_errors(settle, repo, candidate):
    result = settle("check", "--repo", str(repo), "--base", "main", "--format", "json", candidate, repo=repo)
    verdict = json.loads(result.stdout)
    return [f for f in verdict["findings"] if f["kind"] == "parse_error"]


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_an_error_the_base_already_had_is_not_introduced(build, settle, language):
    repo = build(_scenario(*LANGUAGES[language]))
    assert _parse_errors(settle, repo, "agent/edit") == []


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_more_errors_in_a_file_that_did_not_parse_on_the_base_are_not_introduced(build, settle, language):
    """DESIGN: introduced only into a file that parsed on the base. A base that does not parse is
    in something the grammar does not know (express's JSpec files: `it 'does x'` in .js), and
    every new test there would otherwise read as a new error."""
    repo = build(_scenario(*LANGUAGES[language]))
    assert _parse_errors(settle, repo, "agent/break") == []


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_an_error_in_a_file_that_parsed_on_the_base_is_introduced_at_its_own_line(build, settle, language):
    path, header, broken, clean, new_error, closing = LANGUAGES[language]
    repo = build({
        "base": {"files": {path: header + clean + closing}},
        "branches": {"agent/break": {"files": {path: header + clean + new_error + closing}}},
    })
    found = _parse_errors(settle, repo, "agent/break")
    assert [f["path"] for f in found] == [path]
    first_new_line = (header + clean).count("\n") + 1 + len(new_error) - len(new_error.lstrip("\n"))
    assert {loc["start_line"] for loc in found[0]["locations"]} == {first_new_line}

def _sibling(path: str, name: str) -> str:
    directory, _, file = path.rpartition("/")
    return f"{directory}/{name}{file[file.index('.'):]}"


def _neighbours(path, header, broken, clean, closing, broken_count, readable_count):
    files = {_sibling(path, f"broken{n}"): header + broken + clean + closing for n in range(broken_count)}
    files.update({_sibling(path, f"fine{n}"): header + clean + closing for n in range(readable_count)})
    return files


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_new_file_among_files_the_grammar_could_not_read_is_not_introduced(build, settle, language):
    """Two of the directory's three files did not parse on the base: it is in a dialect (a test DSL),
    and a new file there that does not parse either is in it too."""
    path, header, broken, clean, new_error, closing = LANGUAGES[language]
    repo = build({
        "base": {"files": _neighbours(path, header, broken, clean, closing, broken_count=2, readable_count=1)},
        "branches": {"agent/add": {"files": {_sibling(path, "added"): header + clean + new_error + closing}}},
    })
    assert _parse_errors(settle, repo, "agent/add") == []


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_new_file_among_files_that_parsed_is_introduced(build, settle, language):
    """The near miss: one file of three did not parse; the directory is the language, and the new error is the candidate's."""
    path, header, broken, clean, new_error, closing = LANGUAGES[language]
    repo = build({
        "base": {"files": _neighbours(path, header, broken, clean, closing, broken_count=1, readable_count=2)},
        "branches": {"agent/add": {"files": {_sibling(path, "added"): header + clean + new_error + closing}}},
    })
    assert [f["path"] for f in _parse_errors(settle, repo, "agent/add")] == [_sibling(path, "added")]
