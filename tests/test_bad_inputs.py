"""Every malformed claims or plan file under tests/bad_inputs/ is an input error: exit 2, one line on
stderr that names the file and says what is wrong, never a traceback.

A file states the words its message must contain on its first line (`# expect: ...`); a dgov plan
directory states them in its EXPECT file. claims_* go to `check --claims`, plan_* to `plan lint`
and `check --plan`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
BAD = sorted(BAD_INPUTS.iterdir())


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    from settle import scenario as scenarios

    return scenarios.build(scenarios.load(FIXTURES / "plans" / "repo.toml"), tmp_path_factory.mktemp("bad") / "repo")


def expected_words(bad: Path) -> str:
    if bad.is_dir():
        return (bad / "EXPECT").read_text(encoding="utf-8").strip()
    first_line = bad.read_bytes().splitlines()[0].decode("utf-8")
    assert first_line.startswith("# expect: "), "each bad input says what its message must contain"
    return first_line.removeprefix("# expect: ")


def commands(bad: Path) -> list[list[str]]:
    if bad.name.startswith("plan_"):
        return [["plan", "lint", str(bad)], ["check", "--plan", str(bad)]]
    return [["check", "--claims", str(bad), "agent/retry"]]


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_every_malformed_claims_or_plan_file_is_an_input_error_naming_the_file_and_the_problem(settle, repo, bad):
    for command in commands(bad):
        result = settle(*command, repo=repo)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stdout == ""
        assert str(bad) in result.stderr
        assert expected_words(bad) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_bad_input_corpus_is_large_enough():
    assert len(BAD) >= 15
