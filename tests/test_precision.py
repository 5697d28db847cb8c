"""Uses judged on the merged result (settle/diff/merged.py), through `check` and `replay` alike.

The scenarios under fixtures/ named here are built from shapes real histories
had (issue 17): each holds a false alarm the old reading gave and a true finding
beside it. `check` runs them in tests/test_scenarios.py; here the same shapes go
through `replay` as a merge (both orders of parents: replay parses only what its
prefilters pick, and the changer may be either parent), and each use site must
give one finding.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from conftest import FIXTURES
from settle import scenario as scenarios
from test_scenarios import matches

SHAPES = sorted(
    [*FIXTURES.rglob("*merged_call_already_updated.toml"), *FIXTURES.rglob("*removed_import*.toml"),
     *FIXTURES.rglob("*import_only_use*.toml"), *FIXTURES.rglob("*precision_*.toml")]
)


def _as_merge(scenario: scenarios.Scenario, first: str, second: str) -> scenarios.Scenario:
    """The two candidates as a merge: `first` is the target's advance, `second` a branch merged into it."""
    data = scenario.model_dump(exclude_none=True)
    branches = data.pop("branches")
    data.pop("check", None)
    data.pop("expect", None)
    data["target"] = {"files": branches[first]["files"], "delete": branches[first].get("delete", []),
                      "rename": branches[first].get("rename", {})}
    data["branches"] = {second: branches[second]}
    data["merges"] = [{"parents": [second]}]
    return scenarios.Scenario.model_validate(data)


def _replayed(build, settle, scenario) -> list[dict]:
    repo = build(scenario)
    result = settle("replay", repo=repo)
    assert result.returncode == 0, result.stderr
    return [f for line in result.stdout.splitlines() for f in json.loads(line)["findings"]]


@pytest.mark.parametrize("source", SHAPES, ids=[p.relative_to(FIXTURES).as_posix() for p in SHAPES])
@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_replay_judges_the_merged_result_like_check(source, order, build, settle):
    scenario = scenarios.load(source)
    first, second = scenario.check.candidates
    if order == "reversed":
        first, second = second, first
    findings = _replayed(build, settle, _as_merge(scenario, first, second))
    for expected in scenario.expect.findings:
        wanted = expected.model_copy(update={"candidates": None})
        assert any(matches(f, wanted) for f in findings), f"missing {expected}: {[f['message'] for f in findings]}"
    for unexpected in scenario.expect.absent:
        unwanted = unexpected.model_copy(update={"candidates": None})
        assert not [f for f in findings if matches(f, unwanted)], [f["message"] for f in findings]


@pytest.mark.parametrize("source", SHAPES, ids=[p.relative_to(FIXTURES).as_posix() for p in SHAPES])
def test_one_use_site_gives_one_finding(source, build, settle):
    scenario = scenarios.load(source)
    result = settle("check", "--format", "json", *scenario.check.candidates, repo=build(scenario))
    findings = json.loads(result.stdout)["findings"]
    sites = Counter((tuple(f["symbols"]), tuple(f["candidates"]), re.search(r" at (\S+:\d+) ", f["message"]).group(1))
                    for f in findings if f["kind"] == "signature_drift")
    assert all(count == 1 for count in sites.values()), sites
    assert bool(sites) == any(f.kind == "signature_drift" for f in scenario.expect.findings)


def test_a_stale_caller_in_the_changed_file_is_still_found(build, settle):
    # The merged file still defines the changed function: that keeps a removal's name bound,
    # but a caller on a base line of the same file must still be judged against the new signature.
    repo = build({
        "base": {"files": {"app.py": "def total(items):\n    return sum(items)\n\n\ndef report(items):\n    return total(items)\n"}},
        "branches": {"agent/tax": {"files": {
            "app.py": "def total(items, tax):\n    return sum(items) * tax\n\n\ndef report(items):\n    return total(items)\n"}}},
    })
    result = settle("check", "agent/tax", "--base", "main", "--format", "json", repo=repo)
    assert result.returncode == 1, result.stderr
    found = [(f["kind"], f["subkind"], f["symbols"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("signature_drift", "call_incompatible", ["app.py::total"])]


def test_a_stale_caller_through_an_import_alias_is_found_and_a_same_named_local_is_not(build, settle):
    # The scan reads the caller's uses of `total`; the alias `cost` is asked of it afterwards.
    lib = "def total(items):\n    return sum(items)\n"
    repo = build({
        "base": {"files": {
            "shop/__init__.py": "",
            "shop/lib.py": lib,
            "shop/use.py": "from shop.lib import total as cost\n\n\ndef report(items):\n    return cost(items)\n",
            "shop/near.py": "# total is ours here\ndef cost(items):\n    return len(items)\n\n\ndef report(items):\n    return cost(items)\n",
        }},
        "branches": {"agent/tax": {"files": {"shop/lib.py": lib.replace("(items)", "(items, tax)")}}},
    })
    result = settle("check", "agent/tax", "--base", "main", "--format", "json", repo=repo)
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["subkind"], f["symbols"]) for f in findings] == [("signature_drift", "call_incompatible", ["shop/lib.py::total"])]
    assert "shop/use.py:5" in findings[0]["message"], findings[0]["message"]
