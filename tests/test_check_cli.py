"""`settle check` as a gate and as a subprocess: exit codes, formats, policy, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES, settle_executable

DRIFT = FIXTURES / "python" / "drift_call_incompatible.toml"
CONCURRENT = FIXTURES / "python" / "concurrent_edit_same_symbol.toml"


@pytest.fixture
def drift(build):
    return build(DRIFT)


def test_json_verdict_follows_the_contract(settle, drift):
    result = settle("check", "--format", "json", "agent/tax", "agent/receipt", repo=drift)
    assert result.returncode == 1
    verdict = json.loads(result.stdout)
    assert verdict["schema"] == "settle.verdict/1"
    assert verdict["verdict"] == "reject"
    assert set(verdict) == {"schema", "verdict", "target", "candidates", "findings", "settlement", "stats"}
    assert verdict["target"]["ref"] == "main"
    assert [c["ref"] for c in verdict["candidates"]] == ["agent/tax", "agent/receipt"]
    assert verdict["settlement"] == {"order": ["agent/receipt"], "held": {"agent/tax": verdict["settlement"]["held"]["agent/tax"]}}
    held_ids = set(verdict["settlement"]["held"]["agent/tax"])
    assert held_ids <= {f["id"] for f in verdict["findings"]}
    for finding in verdict["findings"]:
        assert finding["message"] and "\n" not in finding["message"]
        assert finding["candidates"] == sorted(finding["candidates"])


def test_json_is_byte_identical_across_runs_and_independent_of_candidate_order(settle, drift):
    first = settle("check", "--format", "json", "agent/tax", "agent/receipt", repo=drift).stdout
    again = settle("check", "--format", "json", "agent/tax", "agent/receipt", repo=drift).stdout
    swapped = json.loads(settle("check", "--format", "json", "agent/receipt", "agent/tax", repo=drift).stdout)
    assert first == again
    assert json.loads(first)["findings"] == swapped["findings"]


def test_json_output_has_no_absolute_paths_or_timestamps(settle, drift):
    output = settle("check", "--format", "json", "agent/tax", repo=drift).stdout
    assert str(drift) not in output
    assert "2026" not in output and "time" not in output.lower()


def test_text_output_puts_the_verdict_first_and_groups_findings_by_pair(settle, drift):
    result = settle("check", "agent/tax", "agent/receipt", repo=drift)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("REJECT")
    assert "agent/receipt × agent/tax" in lines
    assert "agent/tax × main" in lines
    assert "\x1b[" not in result.stdout  # no colour in a pipe


def test_sarif_output_is_sarif_2_1_0_with_rules_per_kind(settle, drift):
    result = settle("check", "--format", "sarif", "agent/tax", "agent/receipt", repo=drift)
    document = json.loads(result.stdout)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert "signature_drift/call_incompatible" in rule_ids
    for sarif_result in run["results"]:
        assert sarif_result["ruleId"] in rule_ids
        assert run["tool"]["driver"]["rules"][sarif_result["ruleIndex"]]["id"] == sarif_result["ruleId"]
        assert sarif_result["level"] in ("error", "warning", "note")
        location = sarif_result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("src/")


def test_output_file_receives_the_document(settle, drift, tmp_path):
    target = tmp_path / "verdict.json"
    result = settle("check", "--format", "json", "--output", str(target), "agent/receipt", repo=drift)
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(target.read_text())["verdict"] == "merge"


def test_default_candidate_is_head_and_default_base_is_main(settle, drift):
    verdict = json.loads(settle("check", "--format", "json", repo=drift).stdout)
    assert verdict["candidates"][0]["ref"] == "HEAD"
    assert verdict["target"]["ref"] == "main"
    assert verdict["verdict"] == "merge"


def test_warnings_pass_unless_strict(settle, build):
    repo = build(CONCURRENT)
    assert settle("check", "agent/a", "agent/b", repo=repo).returncode == 0
    strict = settle("check", "--strict", "--format", "json", "agent/a", "agent/b", repo=repo)
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["settlement"]["held"]


def test_policy_overrides_severity_by_kind_and_subkind(settle, build, tmp_path):
    repo = build(CONCURRENT)
    policy = tmp_path / "policy.toml"
    policy.write_text('[severity]\nconcurrent_edit = "error"\n')
    result = settle("check", "--policy", str(policy), "--format", "json", "agent/a", "agent/b", repo=repo)
    assert result.returncode == 1
    assert json.loads(result.stdout)["findings"][0]["severity"] == "error"
    policy.write_text('[severity]\nconcurrent_edit = "error"\n"concurrent_edit.same_symbol" = "info"\n')
    result = settle("check", "--policy", str(policy), "--format", "json", "agent/a", "agent/b", repo=repo)
    assert result.returncode == 0
    assert json.loads(result.stdout)["findings"][0]["severity"] == "info"


@pytest.mark.parametrize(
    ("policy_text", "message"),
    [
        ('[severity]\nconcurent_edit = "error"\n', "unknown finding kind 'concurent_edit'"),
        ('[severity]\nconcurrent_edit = "fatal"\n', "use \"error\", \"warning\" or \"info\""),
        ('[severities]\nconcurrent_edit = "error"\n', "unknown key(s) severities"),
        ("[severity\n", "is not valid TOML"),
        ('severity = "error"\n', "[severity] must be a table"),
    ],
)
def test_malformed_policy_is_an_input_error(settle, drift, tmp_path, policy_text, message):
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_text)
    result = settle("check", "--policy", str(policy), "agent/tax", repo=drift)
    assert result.returncode == 2
    assert message in result.stderr
    assert str(policy) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_ref_is_an_input_error_naming_the_ref(settle, drift):
    result = settle("check", "agent/nope", repo=drift)
    assert result.returncode == 2
    assert result.stderr.strip() == "settle: unknown ref 'agent/nope': no branch, tag or commit of that name (see `git branch -a`)"
    result = settle("check", "--base", "trunk", "agent/tax", repo=drift)
    assert result.returncode == 2 and "unknown ref 'trunk'" in result.stderr


def test_not_a_repository_is_an_input_error(settle, tmp_path):
    result = settle("check", "--repo", str(tmp_path), repo=None)
    assert result.returncode == 2
    assert "is not inside a git repository" in result.stderr
    result = settle("check", "--repo", str(tmp_path / "missing"), repo=None)
    assert result.returncode == 2 and "no such directory" in result.stderr


def test_empty_repository_is_an_input_error(settle, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "empty")], check=True)
    result = settle("check", repo=tmp_path / "empty")
    assert result.returncode == 2
    assert "no commits yet" in result.stderr


def test_missing_policy_and_unwritable_output_are_input_errors(settle, drift, tmp_path):
    result = settle("check", "--policy", str(tmp_path / "none.toml"), repo=drift)
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = settle("check", "--output", str(tmp_path / "no" / "dir" / "v.json"), repo=drift)
    assert result.returncode == 2 and "cannot write --output" in result.stderr


def test_usage_errors_exit_2(settle, drift):
    result = settle("check", "--format", "yaml", repo=drift)
    assert result.returncode == 2


def test_schema_is_the_json_schema_of_the_verdict(settle):
    result = settle("schema", repo=None)
    schema = json.loads(result.stdout)
    assert schema["title"] == "Verdict"
    assert {"schema", "verdict", "target", "candidates", "findings", "settlement", "stats"} <= set(schema["properties"])


def test_help_does_not_import_pygit2_tree_sitter_libcst_or_pydantic():
    code = (
        "import sys\n"
        "from settle.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pygit2', 'tree_sitter', 'libcst', 'pydantic') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: settle" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="


def test_python_api_returns_the_same_verdict_model(drift):
    from settle import check

    verdict = check(str(drift), ["agent/tax", "agent/receipt"])
    command = subprocess.run([settle_executable(), "check", "--format", "json", "agent/tax", "agent/receipt"],
                             cwd=drift, capture_output=True, text=True)
    assert verdict.to_json() == command.stdout
    from pydantic import BaseModel

    assert isinstance(verdict, BaseModel) and isinstance(verdict.findings[0], BaseModel)
    assert verdict.schema_ == "settle.verdict/1" and verdict.model_dump(by_alias=True)["schema"] == "settle.verdict/1"


@pytest.mark.parametrize("output_format", ["json", "text", "sarif"])
def test_check_prints_its_verdict_without_importing_pydantic(drift, output_format):
    # pydantic's import was a fifth of a small check; the commands print settle.document's dataclasses.
    code = (
        "import sys\n"
        "from settle.cli import main\n"
        f"try:\n    main(['check', '--format', {output_format!r}, 'agent/tax', 'agent/receipt'])\nexcept SystemExit:\n    pass\n"
        "print('PYDANTIC=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=drift, capture_output=True, text=True)
    assert "signature_drift" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "PYDANTIC="


def test_the_command_waits_for_a_thread_still_running(tmp_path):
    # settle.cli.run ends the process without the interpreter's teardown, but only when nothing
    # else runs: a thread still working gets the normal shutdown, which waits for it.
    marker = tmp_path / "done"
    code = (
        "import sys, threading, time\n"
        "from settle.cli import run\n"
        f"threading.Thread(target=lambda: (time.sleep(0.5), open({str(marker)!r}, 'w').close())).start()\n"
        "sys.argv = ['settle', '--version']\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "settle, version" in result.stdout
    assert marker.exists()


def test_a_profiler_watching_the_command_still_gets_its_output(tmp_path):
    # The normal shutdown, not settle.cli.run's quick exit: cProfile writes after the command returns.
    stats = tmp_path / "settle.prof"
    result = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "settle", "--version"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert stats.stat().st_size > 0
