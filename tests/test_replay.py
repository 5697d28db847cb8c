"""`settle replay` over a fixture history and `settle report` over its output, through the installed command."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, long_history, settle_executable
from settle import scenario as scenarios


@pytest.fixture
def history(build):
    return build(FIXTURES / "replay" / "history.toml")


def replay(settle, repo, *args):
    result = settle("replay", *args, repo=repo)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def kinds(verdict):
    return {(f["kind"], f["subkind"]) for f in verdict["findings"]}


def test_every_merge_is_one_verdict_in_history_order(settle, history):
    verdicts = replay(settle, history)
    assert len(verdicts) == 9
    log = subprocess.run(["git", "log", "--merges", "--reverse", "--format=%H"], cwd=history, capture_output=True, text=True).stdout.split()
    assert [v["merge_commit"] for v in verdicts] == log
    conflicting, caller, docs, mixed, duplicated, octopus, distinct, module, spread = verdicts
    assert {("concurrent_edit", "same_symbol"), ("signature_drift", "call_incompatible"),
            ("parse_error", "introduced")} <= kinds(mixed)
    assert ("duplicate_definition", "add_add") in kinds(duplicated)
    assert ("text_conflict", "same_symbol") in kinds(conflicting)
    assert conflicting["verdict"] == "reject" and conflicting["target"]["ref"] == "parent1"
    assert ("signature_drift", "removed_in_use") in kinds(caller)
    assert ("unsupported_file", "file_granularity") in kinds(docs) and docs["verdict"] == "merge"
    assert [c["ref"] for c in octopus["candidates"]] == ["parent2", "parent3"]
    assert octopus["stats"]["pairs"] == 3 and octopus["verdict"] == "merge"
    # git conflicts between two functions (avoidable by a syntax-aware merge) and on import lines
    assert kinds(distinct) == {("text_conflict", "distinct_symbols")}
    assert kinds(module) == {("text_conflict", "module_level")}
    assert kinds(spread) == {("signature_drift", "changed_in_use")} and spread["verdict"] == "merge"


def test_replay_finds_the_same_text_conflicts_as_git_merge_tree(settle, history):
    for verdict in replay(settle, history):
        parents = [verdict["target"]["commit"]] + [c["commit"] for c in verdict["candidates"]]
        git = subprocess.run(["git", "merge-tree", "--write-tree", parents[0], parents[1]], cwd=history, capture_output=True)
        ours = any(f["kind"] == "text_conflict" and f["candidates"] == ["parent1", "parent2"] for f in verdict["findings"])
        assert ours == (git.returncode == 1)


def test_jobs_do_not_change_the_output(settle, history):
    serial = settle("replay", repo=history).stdout
    assert settle("replay", "--jobs", "2", repo=history).stdout == serial
    assert settle("replay", "--jobs", "4", repo=history).stdout == serial  # more workers than block ends: two get none


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 120), st.integers(1, 5), st.integers(1, 30), st.randoms(use_true_random=False))
def test_segments_hand_out_every_merge_once_each_worker_moving_a_merge_at_a_time(count, workers, longest, random):
    """Whatever order workers finish in: each merge is handed out once; a worker moves to the
    neighbouring merge (forward or back) except when it starts at a block's end or takes over
    half of another's; and a worker is sent away only when little is left."""
    from settle.replay import Segments

    segments = type("Short", (Segments,), {"longest_block": longest})(count)
    handed: list[int] = []
    jumps = 0
    last: dict[int, int] = {}
    left_when_refused = None
    working = {worker: index for worker in range(workers) if (index := segments.next_for(worker)) is not None}
    last.update(working)
    handed.extend(working.values())
    while working:
        worker = random.choice(sorted(working))
        del working[worker]
        index = segments.next_for(worker)
        if index is None:
            if left_when_refused is None:
                left_when_refused = count - len(handed)
            continue
        jumps += abs(index - last[worker]) != 1
        last[worker] = index
        working[worker] = index
        handed.append(index)
    assert sorted(handed) == list(range(count))
    blocks = -(-count // max(1, min(count, longest)))
    takeovers = max(0, count - 1).bit_length() * workers  # each halves what is left of a block
    assert jumps <= 2 * blocks + takeovers
    if left_when_refused is not None:
        assert left_when_refused < workers * 2 * Segments.least_taken


def test_two_workers_replay_a_block_from_both_ends_and_meet():
    from settle.replay import Segments

    segments = Segments(10)
    order = [(worker, segments.next_for(worker)) for worker in (0, 1, 0, 1, 1, 1, 0, 0, 1, 0)]
    assert order == [(0, 0), (1, 9), (0, 1), (1, 8), (1, 7), (1, 6), (0, 2), (0, 3), (1, 5), (0, 4)]
    assert segments.next_for(1) is None and segments.next_for(0) is None


def test_a_failing_merge_fails_the_replay_as_it_would_serially(history):
    from settle.replay import merge_commits, replay_lines
    from settle.repo import Repository

    real = merge_commits(Repository.open(str(history)))
    # No such commits. With two workers the second one starts from the far end and fails
    # on the later one first; the replay must still give every line before the earlier
    # one and then fail on it, as a serial run does.
    merges = real[:4] + ["0" * 40] + real[4:5] + ["1" * 40] + real[5:]

    def run(jobs: int):
        lines = []
        with pytest.raises(Exception) as failure:
            for line in replay_lines(str(history), merges, jobs, 2 ** 21):
                lines.append(line)
        return lines, type(failure.value), str(failure.value)

    serial = run(1)
    assert len(serial[0]) == 4 and "0000000000" in serial[2]
    assert run(2) == serial


def test_replay_reads_bare_repositories(settle, history, tmp_path):
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(history), str(bare)], check=True)
    assert len(replay(settle, bare)) == 9


def test_last_and_range_select_merges(settle, history):
    assert [v["merge_commit"] for v in replay(settle, history, "--last", "1")] == [replay(settle, history)[-1]["merge_commit"]]
    assert len(replay(settle, history, "--range", "main~2..main")) == 2
    bad = settle("replay", "--range", "main", repo=history)
    assert bad.returncode == 2 and "is not A..B" in bad.stderr


def test_a_range_without_merges_says_so_and_succeeds(settle, history):
    empty = settle("replay", "--range", "main..main", repo=history)
    assert (empty.returncode, empty.stdout) == (0, "")
    assert "no merge commits in main..main" in empty.stderr


def test_an_interrupted_replay_leaves_valid_json_lines(build, tmp_path):
    repo = long_history(150, tmp_path / "long")
    output = tmp_path / "out.jsonl"
    process = subprocess.Popen([settle_executable(), "replay", "--jobs", "2", "--output", str(output)], cwd=repo, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline and (not output.exists() or output.stat().st_size == 0):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (0, 130), stderr
    lines = output.read_text().splitlines()
    assert lines
    for line in lines:
        assert json.loads(line)["schema"] == "settle.verdict/1"
    assert b"Traceback" not in stderr


def test_report_renders_every_kind_in_markdown_json_and_html(settle, history, tmp_path):
    replayed = tmp_path / "replay.jsonl"
    replayed.write_text(settle("replay", repo=history).stdout)
    checked = tmp_path / "check.json"
    drift = scenarios.build(scenarios.load(FIXTURES / "python" / "drift_keyword_and_method.toml"), tmp_path / "drift")
    checked.write_text(settle("check", "--format", "json", "agent/api", "agent/use", repo=drift).stdout)
    taxonomy = json.loads(settle("report", str(replayed), str(checked), "--format", "json", repo=None).stdout)
    assert taxonomy["verdicts"] == 10 and taxonomy["replayed_merges"] == 9
    present = set(taxonomy["by_kind"])
    assert {"text_conflict/same_symbol", "text_conflict/distinct_symbols", "text_conflict/module_level",
            "signature_drift/removed_in_use", "signature_drift/call_incompatible",
            "signature_drift/changed_in_use", "unsupported_file/file_granularity"} <= present
    # Both sides adding `extra` at one spot is one symbol git cannot merge (same_symbol, with duplicate_definition).
    assert taxonomy["text_conflicts"]["same_symbol"] == 2
    assert taxonomy["text_conflicts"]["distinct_symbols"] == 1 and taxonomy["text_conflicts"]["module_level"] == 1
    markdown = settle("report", str(replayed), str(checked), repo=None).stdout
    html = settle("report", str(replayed), str(checked), "--format", "html", repo=None).stdout
    for kind in present:
        assert f"`{kind}`" in markdown
        assert kind in html
    assert "<script" not in html and "http" not in html.split("<body>", 1)[1]
    assert html.count("<svg") >= 4


def test_report_rejects_files_that_are_not_verdicts(settle, tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}\n')
    result = settle("report", str(bogus), repo=None)
    assert result.returncode == 2 and str(bogus) in result.stderr


def test_report_renders_every_registered_kind(settle, tmp_path):
    from settle.diff.pair import make_finding
    from settle.findings import KINDS
    from settle.document import CandidateRef, Settlement, Stats, TargetRef, Verdict

    findings = []
    for kind, subkind in KINDS:
        fields = {name: "x" for name in ("a", "b", "symbol", "other", "lines", "deleter", "modifier", "changer", "signature",
                                          "caller", "site", "call", "reason", "user", "removal", "side", "pattern",
                                          "operation", "where", "cycle", "holder", "expires", "a_verb", "b_verb",
                                          "advice", "hint", "fix", "used", "verb", "user_side", "via", "state",
                                          "write_site", "command", "target", "outcome", "what")}
        findings.append(make_finding(kind, subkind, ["agent/a", "main"], [f"src/m.py::{subkind}"], "src/m.py", fields=fields))
    verdict = Verdict(verdict="reject", target=TargetRef(ref="main", commit="0" * 40),
                      candidates=[CandidateRef(ref="agent/a", commit="1" * 40, merge_base="0" * 40)],
                      findings=sorted(findings, key=lambda f: f.sort_key()), settlement=Settlement(order=[], held={}),
                      stats=Stats(findings={}, pairs=1, files_parsed=0))
    source = tmp_path / "all.json"
    source.write_text(verdict.to_json())
    markdown = settle("report", str(source), repo=None).stdout
    html = settle("report", str(source), "--format", "html", repo=None).stdout
    for kind, subkind in KINDS:
        assert f"`{kind}/{subkind}`" in markdown
        assert f"{kind}/{subkind}" in html
