"""`check --verify CMD`: the command runs on the target with each candidate merged and with both merged,
from in-memory merges written to temporary directories; the repository and $TMPDIR are left as they were."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import repository_state, settle_executable

BASE_FILES = {
    "calc.py": (
        "def normalize(values):\n"
        "    return [v for v in values]\n"
        "\n"
        "\n"
        "def total(values):\n"
        "    return sum(values)\n"
    ),
    "tests/test_calc.py": (
        "from calc import total\n"
        "\n"
        "\n"
        "def test_total():\n"
        "    assert total([1, 2]) == 3\n"
    ),
}

# A drops zeros in normalize(); B starts counting normalized values, zeros included.
DROP_ZEROS = BASE_FILES["calc.py"].replace("return [v for v in values]", "return [v for v in values if v != 0]")
COUNT = BASE_FILES["calc.py"] + (
    "\n"
    "\n"
    "def count(values):\n"
    "    return len(normalize(values))\n"
)
COUNT_TEST = (
    "from calc import count\n"
    "\n"
    "\n"
    "def test_count_keeps_zeros():\n"
    "    assert count([0, 1]) == 2\n"
)


def _scenario(second_test: str = COUNT_TEST) -> dict:
    return {
        "base": {"files": BASE_FILES},
        "branches": {
            "agent/drop-zeros": {"files": {"calc.py": DROP_ZEROS}},
            "agent/count": {"files": {"calc.py": COUNT, "tests/test_count.py": second_test}},
        },
    }


PYTEST = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider tests"


def _check(settle, repo, tmp_path, *options: str):
    scratch = tmp_path / "tmpdir"
    scratch.mkdir(exist_ok=True)
    result = settle("check", "--format", "json", *options, "agent/count", "agent/drop-zeros", repo=repo,
                    env={"TMPDIR": str(scratch)})
    assert list(scratch.iterdir()) == [], "settle left files in $TMPDIR"
    return result, json.loads(result.stdout)


def _verification(verdict) -> list[dict]:
    return [f for f in verdict["findings"] if f["kind"] == "verification"]


def test_a_composition_that_fails_where_each_side_passes_is_an_error(build, settle, tmp_path):
    repo = build(_scenario())
    result, verdict = _check(settle, repo, tmp_path, "--verify", PYTEST, "--verify-when", "always")
    found = _verification(verdict)
    assert [(f["subkind"], f["severity"], f["candidates"]) for f in found] == [
        ("composition_fails", "error", ["agent/count", "agent/drop-zeros"])]
    assert result.returncode == 1
    evidence = found[0]["evidence"]
    assert evidence["command"] == PYTEST and evidence["side"] == "agent/count+agent/drop-zeros"
    assert evidence["exit_status"] == 1 and not evidence["timed_out"]
    assert any("test_count_keeps_zeros" in line or "failed" in line for line in evidence["output_tail"])
    assert PYTEST in found[0]["message"]


def test_verify_runs_by_default_only_on_pairs_with_an_interference_finding(build, settle, tmp_path):
    repo = build(_scenario())
    _, verdict = _check(settle, repo, tmp_path, "--verify", PYTEST)
    assert any(f["kind"] == "interference" for f in verdict["findings"])
    assert [f["subkind"] for f in _verification(verdict)] == ["composition_fails"]


def test_without_interference_the_default_runs_nothing(build, settle, tmp_path):
    scenario = _scenario()
    scenario["branches"]["agent/count"]["files"]["calc.py"] = BASE_FILES["calc.py"] + "\n\ndef count(values):\n    return len(values)\n"
    repo = build(scenario)
    marker = tmp_path / "ran"
    _, verdict = _check(settle, repo, tmp_path, "--verify", f"touch {shlex.quote(str(marker))}")
    assert not [f for f in verdict["findings"] if f["kind"] == "interference"]
    assert _verification(verdict) == [] and not marker.exists()


def test_a_side_that_fails_alone_is_a_warning_naming_that_side(build, settle, tmp_path):
    broken = COUNT_TEST.replace("== 2", "== 3")
    repo = build(_scenario(broken))
    result, verdict = _check(settle, repo, tmp_path, "--verify", PYTEST, "--verify-when", "always")
    found = _verification(verdict)
    assert [(f["subkind"], f["severity"], f["candidates"]) for f in found] == [("side_fails", "warning", ["agent/count"])]
    assert found[0]["evidence"]["side"] == "agent/count"


def test_a_command_that_outlives_its_timeout_is_killed_and_reported(build, settle, tmp_path):
    repo = build(_scenario())
    result, verdict = _check(settle, repo, tmp_path, "--verify", "sleep 60", "--verify-when", "always", "--verify-timeout", "1")
    found = _verification(verdict)
    assert sorted(f["candidates"][0] for f in found) == ["agent/count", "agent/drop-zeros"]
    assert all(f["subkind"] == "side_fails" and f["evidence"]["timed_out"] and f["evidence"]["exit_status"] is None
               for f in found)
    assert all("timed out after 1 s" in f["message"] for f in found)


def test_each_tree_sees_its_side_name_and_a_private_tmpdir(build, settle, tmp_path):
    repo = build(_scenario())
    log = tmp_path / "sides.log"
    command = f'echo "$SETTLE_SIDE $(test -f calc.py && echo tree) $(case "$TMPDIR" in *settle-verify-*) echo private;; esac)" >> {shlex.quote(str(log))}'
    _check(settle, repo, tmp_path, "--verify", command, "--verify-when", "always")
    assert sorted(log.read_text().splitlines()) == [
        "agent/count tree private", "agent/count+agent/drop-zeros tree private", "agent/drop-zeros tree private"]


def test_a_blank_verify_command_is_an_input_error(build, settle, tmp_path):
    repo = build(_scenario())
    result = settle("check", "--verify", " ", "agent/count", repo=repo)
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_verify_works_on_a_plan_check(build, settle, tmp_path):
    repo = build(_scenario())
    plan = tmp_path / "work.plan.toml"
    plan.write_text(
        '[tasks.drop-zeros]\nbranch = "agent/drop-zeros"\n[tasks.drop-zeros.claims]\nedit = ["calc.py"]\n\n'
        '[tasks.count]\nbranch = "agent/count"\n[tasks.count.claims]\nedit = ["calc.py"]\ncreate = ["tests/test_count.py"]\n'
    )
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    result = settle("check", "--format", "json", "--plan", str(plan), "--verify", PYTEST, repo=repo, env={"TMPDIR": str(scratch)})
    verdict = json.loads(result.stdout)
    assert [f["subkind"] for f in _verification(verdict)] == ["composition_fails"], result.stderr
    assert list(scratch.iterdir()) == []


def _descendants(pid: int) -> list[int]:
    try:
        children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _running(pid: int, command: bytes) -> list[int]:
    """Processes under pid whose command line is `command` run by a shell or by itself."""
    found = []
    for descendant in _descendants(pid):
        try:
            line = Path(f"/proc/{descendant}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if line.rstrip(b"\0").endswith(command):
            found.append(descendant)
    return found


def _gone(pid: int, seconds: float = 10) -> bool:
    """Has the process ended (a zombie nobody reaped yet has)?"""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_sigterm_during_verify_stops_the_command_and_leaves_tmpdir_empty(build, tmp_path):
    repo = build(_scenario())
    before = repository_state(repo)
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    process = subprocess.Popen(
        [settle_executable(), "check", "--verify", "sleep 30", "--verify-when", "always", "agent/count", "agent/drop-zeros"],
        cwd=repo, env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not _running(process.pid, b"sleep 30"):
        time.sleep(0.02)  # until the command runs in its tree
    command = _running(process.pid, b"sleep 30")
    assert command, "the verify command never started"
    assert any(p.name.startswith("settle-verify-") for p in scratch.rglob("*"))
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert b"Traceback" not in stderr
    assert list(scratch.iterdir()) == [], "settle left files in $TMPDIR"
    assert all(_gone(pid) for pid in command), "the verify command outlived settle"
    assert repository_state(repo) == before
