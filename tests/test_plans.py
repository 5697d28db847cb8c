"""Plans through the installed command: `plan lint` refutes bad plans before work starts, `check --plan`
settles tasks in dependency order with their own claims, and dgov plans are read as dgov writes them."""

from __future__ import annotations

import json

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
    # Tasks whose branches exist are named by their branches, in dependency order.
    assert verdict["settlement"]["order"] == ["agent/retry", "agent/cache-ttl", "agent/connect-timeout", "agent/docs"]
    assert verdict["target"]["ref"] == "main"
    assert [c["claims"] for c in verdict["candidates"]][0].endswith("good.plan.toml#retry")


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
    assert "no dependency path" in parallel["message"]
    read = next(f for f in verdict["findings"] if f["subkind"] == "parallel_read")
    assert read["severity"] == "warning" and read["symbols"] == ["src/cache.py::put"]
    # Of two colliding tasks the first may land; a task in a cycle waits for one that never lands.
    assert verdict["settlement"]["order"] == ["a"]
    assert sorted(verdict["settlement"]["held"]) == ["b", "c", "d", "e"]


def test_a_parallel_read_alone_is_a_warning_and_the_plan_passes(settle, repo, tmp_path):
    plan = tmp_path / "read.plan.toml"
    plan.write_text(
        '[tasks.ttl.claims]\nedit = ["src/cache.py::put"]\n'
        '[tasks.retry.claims]\nedit = ["src/client.py::Client.send"]\nread = ["src/cache.py"]\n'
    )
    result, verdict = lint(settle, repo, plan)
    assert result.returncode == 0
    assert kinds(verdict) == {("plan_conflict", "parallel_read", ("retry", "ttl"))}


def test_a_dependency_orders_tasks_that_claim_one_symbol(settle, repo, tmp_path):
    plan = tmp_path / "ordered.plan.toml"
    plan.write_text(
        '[tasks.first.claims]\nedit = ["src/client.py::Client"]\n'
        '[tasks.second]\ndepends_on = ["first"]\n[tasks.second.claims]\nedit = ["src/client.py::Client.send"]\n'
    )
    result, verdict = lint(settle, repo, plan)
    assert result.returncode == 0, verdict["findings"]
    assert verdict["settlement"]["order"] == ["first", "second"]


def test_a_task_may_edit_what_a_task_it_depends_on_creates(settle, repo, tmp_path):
    result, verdict = lint(settle, repo, PLANS / "created.plan.toml")
    assert result.returncode == 0, verdict["findings"]
    unordered = tmp_path / "unordered.plan.toml"
    unordered.write_text((PLANS / "created.plan.toml").read_text().replace('depends_on = ["backoff"]\n', ""))
    result, verdict = lint(settle, repo, unordered)
    assert result.returncode == 1
    assert kinds(verdict) == {("claim_violation", "unresolved_claim", ("use-backoff",))}


def test_lint_renders_text_and_sarif_and_writes_output(settle, repo, tmp_path):
    text = settle("plan", "lint", str(PLANS / "bad.plan.toml"), repo=repo)
    assert text.stdout.startswith("REJECT") and "plan_conflict/parallel_edit" in text.stdout
    sarif = json.loads(settle("plan", "lint", str(PLANS / "bad.plan.toml"), "--format", "sarif", repo=repo).stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"plan_conflict/parallel_edit", "plan_conflict/dependency_cycle"}
    output = tmp_path / "lint.json"
    result = settle("plan", "lint", str(PLANS / "good.plan.toml"), "--format", "json", "--output", str(output), repo=repo)
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(output.read_text())["verdict"] == "merge"


def test_lint_reads_claims_against_the_given_base(settle, repo):
    # On agent/retry's tip `Client.send` has a new signature but still exists; on a ref without it, it would not.
    result, _ = lint(settle, repo, PLANS / "good.plan.toml", "--base", "agent/retry")
    assert result.returncode == 0
    missing = settle("plan", "lint", str(PLANS / "good.plan.toml"), "--base", "no-such-branch", repo=repo)
    assert missing.returncode == 2 and "no-such-branch" in missing.stderr


def test_dgov_plan_directories_are_read_as_dgov_writes_them(settle, repo):
    result, verdict = lint(settle, repo, PLANS / "dgov")
    ids = [c["ref"] for c in verdict["candidates"]]
    # ids are <section>/<file>.<slug>; a bare dependency names a task of the same file; _example.toml is skipped
    assert ids == ["tasks/cache.ttl", "tasks/client.retry", "tasks/client.readme", "tasks/client-docs.client-docs"]
    found = kinds(verdict)
    # client-docs depends on readme, which depends on retry: both touch src/client.py, in order.
    assert not any(f[1] == "parallel_edit" for f in found)
    # retry reads cache.py (written `./src/cache.py`, as dgov allows) while ttl edits it in parallel.
    assert ("plan_conflict", "parallel_read", ("tasks/cache.ttl", "tasks/client.retry")) in found
    assert result.returncode == 0


def test_dgov_compiled_plans_are_read_as_one_file(settle, repo):
    result, verdict = lint(settle, repo, PLANS / "dgov_compiled.plan.toml")
    assert result.returncode == 0
    assert [c["ref"] for c in verdict["candidates"]] == ["tasks/client.retry", "tasks/cache.ttl", "tasks/readme.readme"]
    assert kinds(verdict) == {("plan_conflict", "parallel_read", ("tasks/cache.ttl", "tasks/client.retry"))}


def test_dgov_file_claims_of_one_file_collide_when_tasks_run_in_parallel(settle, repo, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[plan]\nname = "x"\n'
        '[tasks.retry]\nprompt = "..."\nfiles.edit = ["src/client.py"]\n'
        '[tasks.docs]\nprompt = "..."\nagent = "any"\nfiles = ["src/client.py", "README.md"]\n'
    )
    result, verdict = lint(settle, repo, plan)
    assert result.returncode == 1
    collision = next(f for f in verdict["findings"] if f["subkind"] == "parallel_edit")
    assert collision["candidates"] == ["docs", "retry"] and collision["symbols"]


def test_check_plan_needs_every_task_branch(settle, repo):
    result = settle("check", "--plan", str(PLANS / "dgov"), "--format", "json", repo=repo)
    assert result.returncode == 2
    assert "tasks/cache.ttl" in result.stderr and "--branch-template" in result.stderr


def test_check_plan_binds_each_task_to_its_claims(settle, repo, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[tasks.retry]\nbranch = "agent/retry"\n[tasks.retry.claims]\nedit = ["src/client.py::Client.send"]\n'
        '[tasks.cache-ttl]\nbranch = "agent/cache-ttl"\n[tasks.cache-ttl.claims]\nedit = ["src/cache.py::get"]\n'
    )
    result = settle("check", "--plan", str(plan), "--format", "json", repo=repo)
    verdict = json.loads(result.stdout)
    assert result.returncode == 1
    assert verdict["settlement"]["order"] == ["agent/retry"]
    violation = next(f for f in verdict["findings"] if f["kind"] == "claim_violation")
    assert (violation["subkind"], violation["symbols"], violation["candidates"]) == ("unclaimed_edit", ["src/cache.py::put"], ["agent/cache-ttl"])
    assert verdict["stats"]["candidates"]["agent/cache-ttl"]["claimed_untouched"] == ["src/cache.py::get"]
    assert verdict["candidates"][1]["claims"] == f"{plan}#cache-ttl"


def test_check_plan_refuses_a_plan_with_a_cycle(settle, repo):
    result = settle("check", "--plan", str(PLANS / "bad.plan.toml"), repo=repo)
    assert result.returncode == 2 and "plan lint" in result.stderr


def test_branch_template_maps_tasks_to_branches(settle, repo, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[tasks.retry.claims]\nedit = ["src/client.py::Client.send"]\n')
    result = settle("check", "--plan", str(plan), "--branch-template", "agent/{task}", repo=repo)
    assert result.returncode == 0, result.stderr
    same = settle("check", "--plan", str(plan), "--branch-template", "agent/retry", repo=repo)
    assert same.returncode == 2 and "{task}" in same.stderr


def test_check_takes_claims_or_plan_not_both(settle, repo):
    result = settle("check", "--plan", str(PLANS / "good.plan.toml"), "--claims", str(PLANS / "good.plan.toml"), repo=repo)
    assert result.returncode == 2


def test_stacked_task_branches_land_in_order_when_every_task_keeps_to_its_claims(build, settle, tmp_path):
    repo = build(PLANS / "stacked_check.toml")
    plan = tmp_path / "stacked.plan.toml"
    plan.write_text((PLANS / "stacked.plan.toml").read_text().replace(
        'edit = ["src/client.py::Client.send"]', 'edit = ["src/client.py::Client.send"]\ncreate = ["src/retry.py"]'))
    result = settle("check", "--plan", str(plan), "--format", "json", repo=repo)
    verdict = json.loads(result.stdout)
    assert result.returncode == 0, verdict["findings"]
    assert verdict["settlement"]["order"] == ["agent/retry", "agent/retry-docs"]
