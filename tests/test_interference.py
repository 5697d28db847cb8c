"""Interference: what it counts, what it skips, and that it does not depend on the order candidates are given in.

The shapes and their near misses per language are fixture scenarios
(fixtures/*/*interference*.toml, run by test_scenarios.py); these tests cover
what a scenario's [expect] cannot say.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settle import scenario as scenarios
from settle.settlement import check

AMBIGUOUS = {
    "base": {"files": {"app/models.py": (
        "class Config:\n    def normalize(self):\n        return {}\n\n\n"
        "class Record:\n    def normalize(self):\n        return []\n\n\n"
        "def save(item):\n    return item\n"
    )}},
    "branches": {
        "agent/config": {"files": {"app/models.py": (
            "class Config:\n    def normalize(self):\n        return {'empty': False}\n\n\n"
            "class Record:\n    def normalize(self):\n        return []\n\n\n"
            "def save(item):\n    return item\n"
        )}},
        "agent/save": {"files": {"app/models.py": (
            "class Config:\n    def normalize(self):\n        return {}\n\n\n"
            "class Record:\n    def normalize(self):\n        return []\n\n\n"
            "def save(item):\n    return item.normalize()\n"
        )}},
    },
}


def test_a_call_that_binds_to_no_one_definition_is_skipped_and_counted(build, settle):
    repo = build(AMBIGUOUS)
    result = settle("check", "--format", "json", "agent/config", "agent/save", repo=repo)
    verdict = json.loads(result.stdout)
    assert not [f for f in verdict["findings"] if f["kind"] == "interference"]
    assert verdict["stats"]["interference_skipped_edges"] == 1


def test_a_finding_names_both_symbols_both_sides_and_the_call_site(build, settle):
    repo = build(Path(__file__).parent.parent / "fixtures/python/interference_new_call.toml")
    verdict = json.loads(settle("check", "--format", "json", "agent/drop-empty", "agent/save-normalized", repo=repo).stdout)
    (finding,) = [f for f in verdict["findings"] if f["kind"] == "interference"]
    assert finding["severity"] == "warning"
    assert finding["symbols"] == ["app/config.py::Config.normalize", "app/config.py::save"]
    sites = {(l["side"], l["path"], l["start_line"]) for l in finding["locations"]}
    assert ("agent/save-normalized", "app/config.py", 10) in sites and ("agent/drop-empty", "app/config.py", 5) in sites
    assert "--verify" in finding["message"] and "re-run agent/save-normalized's tests" in finding["message"]


def test_the_target_advance_counts_as_a_side(build, settle):
    scenario = scenarios.load(Path(__file__).parent.parent / "fixtures/python/interference_new_call.toml")
    document = scenario.model_dump()
    document["target"] = document["branches"].pop("agent/drop-empty")
    del document["target"]["start"], document["target"]["then"]
    repo = build(document)
    verdict = json.loads(settle("check", "--format", "json", "--base", "main", "agent/save-normalized", repo=repo).stdout)
    found = [f for f in verdict["findings"] if f["kind"] == "interference"]
    assert [(f["subkind"], f["candidates"]) for f in found] == [("new_call", ["agent/save-normalized", "main"])]


# -- symmetry --------------------------------------------------------------------------

FUNCTIONS = ["alpha", "beta", "gamma", "delta"]


def _module(bodies: dict[str, str]) -> str:
    parts = ["class Store:\n    def __init__(self):\n        self.count = 0\n"]
    for name in FUNCTIONS:
        parts.append(f"    def {name}(self, value):\n        {bodies.get(name, 'return value')}\n")
    return "\n".join(parts)


STATEMENTS = ["return value + 1", "return self.alpha(value)", "return self.beta(value)", "return self.gamma(value)",
              "self.count = value", "return self.count", "return value  # same behaviour"]
side_edits = st.dictionaries(st.sampled_from(FUNCTIONS), st.sampled_from(STATEMENTS), max_size=3)


@given(side_edits, side_edits)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_interference_findings_do_not_depend_on_candidate_order(first, second):
    scenario = scenarios.Scenario.model_validate({
        "base": {"files": {"store.py": _module({})}},
        "branches": {"agent/one": {"files": {"store.py": _module(first)}},
                     "agent/two": {"files": {"store.py": _module(second)}}},
    })
    with tempfile.TemporaryDirectory() as scratch:
        repo = scenarios.build(scenario, Path(scratch) / "repo")
        forward = check(str(repo), ["agent/one", "agent/two"], "main")
        backward = check(str(repo), ["agent/two", "agent/one"], "main")
    assert [f for f in forward.findings if f.kind == "interference"] == [f for f in backward.findings if f.kind == "interference"]
    assert forward.stats.interference_skipped_edges == backward.stats.interference_skipped_edges


# -- replay and report ---------------------------------------------------------------------

def _interfering_history() -> dict:
    """The new_call fixture's two branches, merged one after the other into main."""
    scenario = scenarios.load(Path(__file__).parent.parent / "fixtures/python/interference_new_call.toml").model_dump()
    dropped = scenario["branches"]["agent/drop-empty"]["files"]["app/config.py"]
    both = dropped.replace("return sorted(config.values)", "return sorted(config.normalize())")
    # A merge commit's tree is what the scenario says it is: the result of each merge, written out.
    scenario["merges"] = [{"parents": ["agent/drop-empty"], "files": {"app/config.py": dropped}},
                          {"parents": ["agent/save-normalized"], "files": {"app/config.py": both}}]
    return scenario


def test_replay_finds_interference_and_report_counts_it(build, settle, tmp_path):
    repo = build(_interfering_history())
    replayed = settle("replay", "--interference", "wide", repo=repo)
    verdicts = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert any(f["kind"] == "interference" and f["subkind"] == "new_call" for v in verdicts for f in v["findings"])
    quiet = [json.loads(line) for line in settle("replay", "--interference", "off", repo=repo).stdout.splitlines()]
    assert not any(f["kind"] == "interference" for v in quiet for f in v["findings"])
    output = tmp_path / "replay.jsonl"
    output.write_text(replayed.stdout)
    taxonomy = json.loads(settle("report", str(output), "--format", "json", repo=None).stdout)
    assert taxonomy["by_kind"].get("interference/new_call") == 1
