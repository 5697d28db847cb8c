"""Leases through the installed command: grant, conflict, renewal, expiry on a controlled clock,
release, steal, and `claim_violation/leased_elsewhere` in check."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import settle_executable

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
SCENARIO = {
    "base": {"files": {
        "src/store.py": "def get(key):\n    return key\n\n\ndef put(key, value):\n    return value\n",
        "src/other.py": "def helper():\n    return 1\n",
        "README.md": "# demo\n",
    }},
    "branches": {
        "agent/get": {"files": {"src/store.py": "def get(key):\n    return key.strip()\n\n\ndef put(key, value):\n    return value\n"}},
        "agent/put": {"files": {"src/store.py": "def get(key):\n    return key\n\n\ndef put(key, value):\n    return value or None\n"}},
        "agent/docs": {"files": {"README.md": "# demo\n\nmore\n"}},
    },
}


@pytest.fixture
def repo(build):
    return build(SCENARIO)


@pytest.fixture
def ledger(tmp_path):
    return str(tmp_path / "ledger.db")


def at(moment: float) -> dict:
    return {"SETTLE_NOW": str(moment)}


def lease(settle, repo, ledger, *arguments, moment=NOW):
    return settle("lease", *arguments, "--ledger", ledger, repo=repo, env=at(moment))


def live(settle, repo, ledger, moment=NOW) -> list[dict]:
    result = settle("leases", "--ledger", ledger, "--format", "json", repo=repo, env=at(moment))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["leases"]


def check(settle, repo, ledger, *candidates, moment=NOW) -> dict:
    result = settle("check", *candidates, "--ledger", ledger, "--format", "json", repo=repo, env=at(moment))
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def leased_elsewhere(verdict: dict) -> list[dict]:
    return [f for f in verdict["findings"] if (f["kind"], f["subkind"]) == ("claim_violation", "leased_elsewhere")]


def test_a_lease_is_granted_listed_and_expires(settle, repo, ledger):
    granted = lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get", "--ttl", "600")
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout == "leased src/store.py::get to agent/get until 2027-01-15T08:10:00Z\n"
    assert [(l["holder"], l["pattern"], l["expires"]) for l in live(settle, repo, ledger)] == [
        ("agent/get", "src/store.py::get", "2027-01-15T08:10:00.000000Z")]
    assert live(settle, repo, ledger, moment=NOW + 600) == []
    text = settle("leases", "--ledger", ledger, repo=repo, env=at(NOW + 1)).stdout
    assert text == "agent/get\tsrc/store.py::get\tsince 2027-01-15T08:00:00Z\tuntil 2027-01-15T08:10:00Z\n"


def test_an_overlapping_lease_of_another_holder_is_refused_naming_holder_and_expiry(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get")
    for pattern in ("src/store.py", "src/**", "src/store.py::get", "src/*.py::g*"):
        refused = lease(settle, repo, ledger, pattern, "--holder", "agent/put", moment=NOW + 60)
        assert refused.returncode == 1, pattern
        assert "leased by agent/get until 2027-01-15T08:30:00Z" in refused.stdout, refused.stdout
    # The near miss: another symbol of the same file, and another file, are free.
    assert lease(settle, repo, ledger, "src/store.py::put", "src/other.py", "--holder", "agent/put").returncode == 0
    assert {l["holder"] for l in live(settle, repo, ledger)} == {"agent/get", "agent/put"}


def test_a_refused_lease_takes_nothing_of_what_it_asked(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get")
    refused = lease(settle, repo, ledger, "src/store.py::get", "src/other.py", "--holder", "agent/put")
    assert refused.returncode == 1
    assert [l["holder"] for l in live(settle, repo, ledger)] == ["agent/get"]


def test_leasing_again_renews_and_never_shortens(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get", "--ttl", "600")
    renewed = lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get", "--ttl", "600", moment=NOW + 500)
    assert renewed.stdout.endswith("until 2027-01-15T08:18:20Z\n")
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get", "--ttl", "10", moment=NOW + 510)
    [held] = live(settle, repo, ledger, moment=NOW + 700)
    assert held["expires"] == "2027-01-15T08:18:20.000000Z" and held["since"] == "2027-01-15T08:00:00.000000Z"


def test_a_live_lease_is_never_stolen_an_expired_one_only_with_steal(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get", "--ttl", "600")
    early = lease(settle, repo, ledger, "src/store.py", "--holder", "agent/put", "--steal", moment=NOW + 599)
    assert early.returncode == 1 and "until 2027-01-15T08:10:00Z" in early.stdout
    late = lease(settle, repo, ledger, "src/store.py", "--holder", "agent/put", moment=NOW + 601)
    assert late.returncode == 1
    assert "expired at 2027-01-15T08:10:00Z but not released; pass --steal" in late.stdout
    stolen = lease(settle, repo, ledger, "src/store.py", "--holder", "agent/put", "--steal", moment=NOW + 601)
    assert stolen.returncode == 0
    assert stolen.stdout.startswith("took over src/store.py::get from agent/get (expired at 2027-01-15T08:10:00Z)\n")
    assert [(l["holder"], l["pattern"]) for l in live(settle, repo, ledger, moment=NOW + 602)] == [("agent/put", "src/store.py")]
    # History keeps who held what (refusals append nothing).
    log = settle("ledger", "log", "--ledger", ledger, "--type", "lease", "--format", "json", repo=repo).stdout.splitlines()
    assert [(json.loads(line)["payload"]["holder"], json.loads(line)["payload"]["steal"]) for line in log] == [
        ("agent/get", False), ("agent/put", True)]


def test_release_ends_leases_and_frees_them_for_others(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py::get", "src/other.py", "--holder", "agent/get")
    released = settle("release", "src/store.py::get", "--holder", "agent/get", "--ledger", ledger, repo=repo, env=at(NOW + 1))
    assert released.returncode == 0 and released.stdout == "released src/store.py::get of agent/get\n"
    assert lease(settle, repo, ledger, "src/store.py", "--holder", "agent/put", moment=NOW + 2).returncode == 0
    everything = settle("release", "--all", "--holder", "agent/get", "--ledger", ledger, "--format", "json", repo=repo,
                        env=at(NOW + 3))
    assert [l["pattern"] for l in json.loads(everything.stdout)["released"]] == ["src/other.py"]
    assert [l["holder"] for l in live(settle, repo, ledger, moment=NOW + 4)] == ["agent/put"]
    nobody = settle("release", "--all", "--ledger", ledger, repo=repo, env=at(NOW + 5))
    assert nobody.stdout == "released src/store.py of agent/put\n"
    assert live(settle, repo, ledger, moment=NOW + 6) == []


def test_check_reports_a_change_to_a_symbol_another_candidate_leased(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/put")
    verdict = check(settle, repo, ledger, "agent/get", moment=NOW + 10)
    [finding] = leased_elsewhere(verdict)
    assert verdict["verdict"] == "reject"
    assert finding["severity"] == "error" and finding["symbols"] == ["src/store.py::get"]
    assert finding["message"] == (
        "agent/get changes src/store.py::get, which agent/put holds a lease on (src/store.py::get) until "
        "2027-01-15T08:30:00Z; leave it to agent/put, or wait until the lease is released or expires")
    # The near misses: a candidate changing another symbol of the file, and the holder itself.
    assert leased_elsewhere(check(settle, repo, ledger, "agent/put", moment=NOW + 10)) == []
    settle("release", "--all", "--ledger", ledger, repo=repo, env=at(NOW + 11))
    lease(settle, repo, ledger, "src/store.py::get", "--holder", "agent/get", moment=NOW + 12)
    assert leased_elsewhere(check(settle, repo, ledger, "agent/get", moment=NOW + 13)) == []


def test_an_expired_lease_binds_nobody_in_check(settle, repo, ledger):
    lease(settle, repo, ledger, "src/store.py", "--holder", "agent/put", "--ttl", "60")
    assert leased_elsewhere(check(settle, repo, ledger, "agent/get", moment=NOW + 59))
    assert leased_elsewhere(check(settle, repo, ledger, "agent/get", moment=NOW + 60)) == []


def test_a_lease_on_a_file_settle_sees_whole_holds_it(settle, repo, ledger):
    lease(settle, repo, ledger, "README.md", "--holder", "agent/get")
    [finding] = leased_elsewhere(check(settle, repo, ledger, "agent/docs", moment=NOW + 1))
    assert finding["path"] == "README.md" and finding["symbols"] == []


def test_a_work_tree_answers_to_the_leases_of_its_branch(settle, repo, ledger):
    subprocess.run(["git", "worktree", "add", "-q", str(repo.parent / "wt-get"), "agent/get"], cwd=repo, check=True)
    tree = repo.parent / "wt-get"
    (tree / "src" / "store.py").write_text("def get(key):\n    return key\n\n\ndef put(key, value):\n    return value or 0\n")
    lease(settle, tree, ledger, "src/store.py::get", "--holder", "agent/get")
    lease(settle, tree, ledger, "src/store.py::put", "--holder", "agent/put")
    verdict = check(settle, tree, ledger, "worktree:.", moment=NOW + 1)
    # It changed get back (its own lease) and put (agent/put's).
    assert [f["symbols"] for f in leased_elsewhere(verdict)] == [["src/store.py::put"]]
    assert os.path.exists(tree / ".git")


def test_bad_lease_input_is_an_input_error(settle, repo, ledger):
    result = lease(settle, repo, ledger, "src/store.py::", "--holder", "agent/get")
    assert result.returncode == 2 and "has nothing after '::'" in result.stderr
    result = settle("release", "src/store.py", "--ledger", ledger, repo=repo)
    assert result.returncode == 2 and "--holder" in result.stderr


def test_concurrent_leases_of_one_symbol_grant_exactly_one(repo, ledger):
    def one(holder: str) -> int:
        return subprocess.run([settle_executable(), "lease", "src/store.py::get", "--holder", holder, "--ledger", ledger],
                              cwd=repo, capture_output=True, env={**os.environ, **at(NOW)}).returncode

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(one, [f"agent/{n}" for n in range(4)]))
    assert sorted(codes) == [0, 1, 1, 1]


# -- pattern overlap -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(path=st.lists(st.sampled_from(["a", "b", "ab", "x.py", "a.py"]), min_size=1, max_size=4).map("/".join),
       glob=st.lists(st.sampled_from(["a", "*", "**", "?b", "[ab]", "*.py", "a*", "[!a]*"]), min_size=1, max_size=4).map("/".join))
def test_a_glob_meets_a_path_exactly_when_it_matches_it(path, glob):
    import re

    from settle.bind.patterns import glob_to_regex
    from settle.bind.overlap import globs_intersect

    matches = bool(re.fullmatch(glob_to_regex(glob), path))
    meets = globs_intersect(path, glob, path=True)
    # `**/` is read a little wider than git reads it: the overlap may only err towards a conflict.
    assert meets or not matches
    if "**" not in glob:
        assert meets == matches


def test_symbol_patterns_overlap_when_one_is_nested_in_the_other():
    from settle.bind.patterns import parse_pattern
    from settle.bind.overlap import patterns_overlap

    def overlap(a, b):
        return patterns_overlap(parse_pattern(a), parse_pattern(b)) and patterns_overlap(parse_pattern(b), parse_pattern(a))

    assert overlap("src/a.py::Client", "src/a.py::Client.send")
    assert overlap("src/a.py::Client.*", "src/a.py::Client.send.inner")
    assert overlap("src/*.py::handle_*", "src/a.py::handle_get")
    assert overlap("src/a.py", "src/a.py::Client")
    assert overlap("src/B.java::B.run", "src/B.java::B.run(int)")
    assert not overlap("src/a.py::Client.send", "src/a.py::Client.close")
    assert not overlap("src/a.py::Client", "src/b.py::Client")
    assert not overlap("src/B.java::B.run(int)", "src/B.java::B.run(String)")
    assert not overlap("src/*.py", "src/sub/a.py")


def test_an_agents_loop_end_to_end(build, settle, ledger):
    """README's loop: lease → edit → check worktree:. → commit → check the branch → release; meanwhile
    another agent is refused the class and its edit of the leased method is held."""
    repo = build({"base": {"files": {"src/http/client.py":
                                     "class Client:\n    def send(self, data):\n        return data\n\n    def close(self):\n        return None\n"}}})
    for name in ("retry", "close"):
        subprocess.run(["git", "worktree", "add", "-q", "-b", f"agent/{name}", str(repo.parent / f"agent-{name}")], cwd=repo, check=True)
    mine, theirs = repo.parent / "agent-retry", repo.parent / "agent-close"
    env = {**at(NOW), "SETTLE_LEDGER": ledger}

    assert settle("lease", "src/http/client.py::Client.send", "--holder", "agent/retry", repo=mine, env=env).returncode == 0
    (mine / "src/http/client.py").write_text(
        "class Client:\n    def send(self, data, retries=3):\n        for _ in range(retries):\n            return data\n\n"
        "    def close(self):\n        return None\n")
    assert settle("check", "worktree:.", "--ledger", ledger, repo=mine, env=env).returncode == 0

    refused = settle("lease", "src/http/client.py::Client", "--holder", "agent/close", repo=theirs, env=env)
    assert refused.returncode == 1 and "leased by agent/retry until" in refused.stdout
    (theirs / "src/http/client.py").write_text(
        "class Client:\n    def send(self, data):\n        return data or None\n\n    def close(self):\n        return None\n")
    held = settle("check", "worktree:.", "--ledger", ledger, "--format", "json", repo=theirs, env=env)
    assert held.returncode == 1
    assert [f["subkind"] for f in json.loads(held.stdout)["findings"]] == ["leased_elsewhere"]

    subprocess.run(["git", "commit", "-qam", "retry in Client.send"], cwd=mine, check=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@a",
                        "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@a"})
    assert settle("check", "agent/retry", "--ledger", ledger, repo=mine, env=env).returncode == 0
    assert settle("release", "--holder", "agent/retry", "--all", repo=mine, env=env).returncode == 0
    assert settle("lease", "src/http/client.py::Client", "--holder", "agent/close", repo=theirs, env=env).returncode == 0
    assert settle("ledger", "verify", "--ledger", ledger, repo=mine).returncode == 0
