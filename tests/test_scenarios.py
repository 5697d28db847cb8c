"""Every fixture scenario under fixtures/ runs through the installed `settle check` and must
produce what its [expect] section says — the findings that must fire and those that must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES
from settle import scenario as scenarios

def _is_scenario(path: Path) -> bool:
    """Claims, plans and policies sit beside scenarios; a dgov plan is a directory with _root.toml."""
    if path.name.endswith((".claims.toml", ".plan.toml", ".policy.toml")):
        return False
    return not any((parent / "_root.toml").exists() for parent in path.parents if FIXTURES in parent.parents or parent == FIXTURES)


SCENARIOS = sorted(p for p in FIXTURES.rglob("*.toml") if _is_scenario(p))


def check_arguments(scenario: scenarios.Scenario, source: Path) -> list[str]:
    check = scenario.check
    args = ["check", "--format", "json"]
    if check.base:
        args += ["--base", check.base]
    for option, value in (("--claims", check.claims), ("--plan", check.plan), ("--policy", check.policy)):
        if value:
            args += [option, str((source.parent / value).resolve())]
    if check.strict:
        args.append("--strict")
    return args + list(check.args) + list(check.candidates)


def matches(finding: dict, expected: scenarios.ExpectedFinding) -> bool:
    return (
        finding["kind"] == expected.kind
        and (expected.subkind is None or finding["subkind"] == expected.subkind)
        and (expected.symbol is None or expected.symbol in finding["symbols"])
        and (expected.path is None or finding["path"] == expected.path)
        and (expected.candidates is None or finding["candidates"] == sorted(expected.candidates))
    )


def describe(findings: list[dict]) -> str:
    return "\n".join(f"  {f['kind']}/{f['subkind']} {f['candidates']} {f['symbols'] or f['path']}" for f in findings)


@pytest.mark.parametrize("source", SCENARIOS, ids=[p.relative_to(FIXTURES).as_posix() for p in SCENARIOS])
def test_scenario_produces_its_expected_verdict(source, build, settle):
    scenario = scenarios.load(source)
    repo = build(scenario)
    result = settle(*check_arguments(scenario, source), repo=repo)
    expect = scenario.expect
    exit_code = expect.exit_code if expect.exit_code is not None else {"merge": 0, "reject": 1, None: None}[expect.verdict]
    if exit_code is not None:
        assert result.returncode == exit_code, result.stderr + result.stdout
    if result.returncode == 2:
        return
    verdict = json.loads(result.stdout)
    findings = verdict["findings"]
    if expect.verdict:
        assert verdict["verdict"] == expect.verdict, describe(findings)
    for expected in expect.findings:
        assert any(matches(f, expected) for f in findings), f"missing {expected}\nfound:\n{describe(findings)}"
    for unexpected in expect.absent:
        hits = [f for f in findings if matches(f, unexpected)]
        assert not hits, f"must not fire: {unexpected}\nfound:\n{describe(hits)}"
    if expect.order is not None:
        assert verdict["settlement"]["order"] == expect.order
    if expect.held is not None:
        assert sorted(verdict["settlement"]["held"]) == sorted(expect.held)
