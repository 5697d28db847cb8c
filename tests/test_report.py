"""What `settle report` says about its input, through the installed command: the header (repository,
revisions, merges, settle version) from the `replay` block of replay's lines, the rejected merges
and what held them, errors and warnings charted apart from info, and each example once."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from conftest import FIXTURES
from settle import __version__


@pytest.fixture
def history(build):
    return build(FIXTURES / "replay" / "history.toml")


def lines_of(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def report(settle, *inputs, format="html"):
    result = settle("report", *map(str, inputs), "--format", format, repo=None)
    assert result.returncode == 0, result.stderr
    return result.stdout


def replayed(settle, repo, path, *args):
    result = settle("replay", *args, repo=repo)
    assert result.returncode == 0, result.stderr
    path.write_text(result.stdout)
    return path


def test_replay_lines_say_which_repository_range_and_merge_they_come_from(settle, history, tmp_path):
    output = settle("replay", "--range", "main~3..main", repo=history).stdout
    tip = subprocess.run(["git", "rev-parse", "main"], cwd=history, capture_output=True, text=True).stdout.strip()
    for verdict in lines_of(output):
        subject = subprocess.run(["git", "log", "-1", "--format=%s", verdict["merge_commit"]], cwd=history,
                                 capture_output=True, text=True).stdout.strip()
        assert verdict["replay"] == {"repository": history.name, "range": "main~3..main", "last": None, "tip": tip,
                                     "subject": subject, "settle": __version__}
    assert str(tmp_path) not in output  # a name, never where the repository is
    last = lines_of(settle("replay", "--last", "2", repo=history).stdout)
    assert {(v["replay"]["last"], v["replay"]["range"]) for v in last} == {(2, None)}


def test_replay_names_the_repository_after_its_origin(settle, history):
    subprocess.run(["git", "remote", "add", "origin", "git@github.com:acme/widgets.git"], cwd=history, check=True)
    assert {v["replay"]["repository"] for v in lines_of(settle("replay", repo=history).stdout)} == {"acme/widgets"}


def test_the_replay_block_is_the_same_bytes_serially_and_with_jobs(settle, history):
    serial = settle("replay", repo=history).stdout
    assert '"replay":{' in serial
    assert settle("replay", "--jobs", "2", repo=history).stdout == serial


def test_check_verdicts_have_no_replay_block(settle, history):
    verdict = json.loads(settle("check", "--format", "json", "--base", "main", "caller", repo=history).stdout)
    assert "replay" not in verdict and "merge_commit" not in verdict


def test_the_page_starts_with_repository_revisions_merges_and_version(settle, history, tmp_path):
    source = replayed(settle, history, tmp_path / "replay.jsonl", "--last", "5")
    page = report(settle, source)
    header = page.split("<header>", 1)[1].split("</header>", 1)[0]
    merges = [v["merge_commit"] for v in lines_of(source.read_text())]
    for text in (history.name, "last 5 merges reachable from HEAD", merges[0][:10], merges[-1][:10], "5 replayed",
                 __version__):
        assert text in header, text
    assert page == report(settle, source)  # no clock time in it
    markdown = report(settle, source, format="md")
    assert f"**repository**: {history.name}" in markdown and "**merges**: 5 replayed" in markdown
    taxonomy = json.loads(report(settle, source, format="json"))
    assert taxonomy["source"]["repositories"] == [history.name]
    assert taxonomy["source"]["selections"][0]["last"] == 5


def test_lines_without_a_replay_block_still_make_a_page(settle, history, tmp_path):
    old = tmp_path / "old.jsonl"
    documents = lines_of(settle("replay", repo=history).stdout)
    old.write_text("".join(json.dumps({k: v for k, v in d.items() if k != "replay"}) + "\n" for d in documents))
    header = report(settle, old).split("<header>", 1)[1].split("</header>", 1)[0]
    assert "not recorded" in header and "9 replayed" in header


def test_the_page_lists_each_rejected_merge_with_its_subject_and_what_held_it(settle, history, tmp_path):
    source = replayed(settle, history, tmp_path / "replay.jsonl")
    verdicts = lines_of(source.read_text())
    rejected = [v for v in verdicts if v["verdict"] == "reject"]
    assert rejected
    page = report(settle, source)
    section = page.split("Rejected merges", 1)[1].split("</table>", 1)[0]
    assert f"({len(rejected)})" in page
    for verdict in rejected:
        row = section.split(f"<code>{verdict['merge_commit'][:10]}</code>", 1)[1].split("</tr>", 1)[0]
        assert verdict["replay"]["subject"] in row
        findings = {f["id"]: f for f in verdict["findings"]}
        for ids in verdict["settlement"]["held"].values():
            for finding_id in ids:
                assert finding_id in row
                assert f"{findings[finding_id]['kind']}/{findings[finding_id]['subkind']}" in row
    # Examples name their merge, as the Markdown does.
    examples = page.split("<h2>Examples</h2>", 1)[1]
    assert any(f"merge <code>{v['merge_commit'][:10]}</code>" in examples for v in verdicts)


def test_info_findings_are_counted_apart_not_charted(settle, history, tmp_path):
    source = replayed(settle, history, tmp_path / "replay.jsonl")
    taxonomy = json.loads(report(settle, source, format="json"))
    info = taxonomy["info_by_kind"]
    assert info.get("unsupported_file/file_granularity")
    assert not set(info) & {k for k, c in taxonomy["errors_and_warnings_by_kind"].items() if c}
    page = report(settle, source)
    chart = page.split("Errors and warnings by kind", 1)[1].split("</svg>", 1)[0]
    assert "unsupported_file" not in chart and "signature_drift/removed_in_use" in chart
    assert f"<b>{sum(info.values())}</b>info" in page
    info_table = page.split("<h2>Info by kind (not charted)</h2>", 1)[1].split("</table>", 1)[0]
    assert "unsupported_file/file_granularity" in info_table


def test_no_example_is_shown_twice(settle, history, tmp_path):
    source = replayed(settle, history, tmp_path / "replay.jsonl")
    again = tmp_path / "again.jsonl"  # the same merges replayed twice, as overlapping replays give
    again.write_text(source.read_text())
    taxonomy = json.loads(report(settle, source, again, format="json"))
    for kind, examples in taxonomy["examples"].items():
        shown = [(e["message"], tuple(e["locations"])) for e in examples]
        assert len(shown) == len(set(shown)), kind
    examples = report(settle, source, again).split("<h2>Examples</h2>", 1)[1]
    items = re.findall(r"<li>(.*?)</li>", examples)
    assert len(items) == len(set(items))


def test_number_columns_are_headed_on_their_side(settle, history, tmp_path):
    page = report(settle, replayed(settle, history, tmp_path / "replay.jsonl"))
    assert "<th>findings</th>" not in page and page.count("<th class=n>findings</th>") == 3
