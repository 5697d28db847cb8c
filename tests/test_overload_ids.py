"""Overloads: a call binds to the overload whose arity matches, a type use is no call, and an
id's overload suffix coming or going with a sibling is not a removal."""

from __future__ import annotations

import json
from pathlib import Path

from settle import scenario as scenarios

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _drift(build, settle, fixture):
    scenario = scenarios.load(FIXTURES / fixture)
    repo = build(scenario)
    result = settle("check", "--repo", str(repo), "--base", "main", "--format", "json", *scenario.check.candidates, repo=repo)
    return [f for f in json.loads(result.stdout)["findings"] if f["kind"] == "signature_drift"]


def _lines(finding, path):
    return {(loc["start_line"]) for loc in finding["locations"] if loc["path"] == path and loc["side"] != "base"}


def test_only_the_call_of_the_changed_constructor_is_incompatible(build, settle):
    found = _drift(build, settle, "java/java_signature_drift_constructor_overloads.toml")
    path = "src/main/java/demo/Export.java"
    assert [(f["subkind"], f["symbols"]) for f in found] == [("call_incompatible", ["src/main/java/demo/Codec.java::Codec.Codec(int)"])]
    assert _lines(found[0], path) == {12}  # `new Codec(4)`; not `new Codec()` (line 4) nor `Codec local` (line 7)


def test_a_function_whose_id_lost_its_suffix_is_not_removed(build, settle):
    found = _drift(build, settle, "typescript/typescript_overload_ids_sibling_removed.toml")
    assert [(f["subkind"], f["symbols"]) for f in found] == [("call_incompatible", ["src/schema.ts::Model(string)"])]
    assert _lines(found[0], "src/forms.ts") == {5}
