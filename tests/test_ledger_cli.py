"""The ledger and failure memory from the installed command, on real repositories and real ledgers."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import FIXTURES, long_history, settle_executable

ATTEMPTS = FIXTURES / "ledger" / "attempts.toml"
HOUR = 3600
START = 1_700_000_000


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def attempts(build):
    return build(ATTEMPTS)


def _attempt(settle, repo: Path, ledger: Path, branch: str, hour: int, *extra: str) -> subprocess.CompletedProcess:
    """The agent pushes its next attempt to agent/tax; the orchestrator checks it."""
    _git(repo, "update-ref", "refs/heads/agent/tax", branch)
    return settle("check", "agent/tax", "--ledger", str(ledger), *extra, repo=repo, env={"SETTLE_NOW": str(START + hour * HOUR)})


def _sequence(settle, repo: Path, ledger: Path) -> dict[str, str]:
    """Two attempts held for the same drift, a third that fixes the caller and lands."""
    assert _attempt(settle, repo, ledger, "attempt/tax-1", 1).returncode == 1
    assert _attempt(settle, repo, ledger, "attempt/tax-1b", 2).returncode == 1
    assert _attempt(settle, repo, ledger, "attempt/tax-2", 3).returncode == 0
    _git(repo, "update-ref", "refs/heads/main", "attempt/tax-2")  # it lands
    return {name: _git(repo, "rev-parse", "--short=10", name) for name in ("attempt/tax-1", "attempt/tax-1b", "attempt/tax-2", "main")}


def test_memory_brief_of_a_third_task_on_the_symbol_an_agent_broke_twice(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    commits = _sequence(settle, attempts, ledger)
    result = settle("memory", "agent/discount", "--ledger", str(ledger), repo=attempts)
    assert result.returncode == 0, result.stderr
    message = ("agent/tax changes src/shop/pricing.py::price_of to (item, tax_rate, currency=…), but src/shop/cart.py::total "
               "at src/shop/cart.py:5 calls it as price_of(1 positional): missing required argument 'tax_rate'; "
               "update the call or keep the old signature")
    assert result.stdout.splitlines() == [
        "## settle memory: what `agent/discount` changed",
        "",
        f"1 earlier finding(s) on 1 symbol(s) and what is one call from them, from 3 verdict(s) in the ledger; "
        f"landed means in main @ {commits['main']} now. Don't repeat them:",
        "",
        "### `src/shop/pricing.py::price_of`",
        f"- `signature_drift/call_incompatible` (error) — **recurring: 2 attempts**: {message}",
        f"  - agent/tax @ {commits['attempt/tax-1b']}, 2023-11-15 00:13:20Z (`check`, event 2): held, landed later as {commits['attempt/tax-2']}",
        f"  - agent/tax @ {commits['attempt/tax-1']}, 2023-11-14 23:13:20Z (`check`, event 1): held, landed later as {commits['attempt/tax-2']}",
    ]


def test_memory_json_follows_its_schema_and_says_what_became_of_each_attempt(settle, attempts, tmp_path):
    from settle.ledger.schema import MemoryDocument

    ledger = tmp_path / "ledger.db"
    _sequence(settle, attempts, ledger)
    result = settle("memory", "agent/discount", "--ledger", str(ledger), "--format", "json", repo=attempts)
    document = json.loads(result.stdout)
    # The command builds plain dataclasses; the schema's models hold the same fields, no more, no less.
    assert MemoryDocument.model_validate(document).model_dump(mode="json", by_alias=True) == document
    assert document["schema"] == "settle.memory/1"
    assert document["query"]["symbols"] == ["src/shop/pricing.py::price_of"]
    [subject] = document["subjects"]
    [finding] = subject["findings"]
    assert (subject["relation"], finding["attempts"], finding["recurring"]) == ("touched", 2, True)
    assert [o["outcome"] for o in finding["occurrences"]] == ["held_landed_later", "held_landed_later"]
    assert {o["landed_commit"] for o in finding["occurrences"]} == {_git(attempts, "rev-parse", "attempt/tax-2")}
    again = settle("memory", "agent/discount", "--ledger", str(ledger), "--format", "json", repo=attempts)
    assert again.stdout == result.stdout


def test_memory_of_a_caller_marks_the_symbol_it_calls(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _sequence(settle, attempts, ledger)
    result = settle("memory", "--symbol", "src/shop/cart.py::total", "--ledger", str(ledger), repo=attempts)
    assert "### `src/shop/pricing.py::price_of` (called by `src/shop/cart.py::total`)" in result.stdout.splitlines()


def test_a_held_attempt_that_was_replaced_but_not_landed_is_superseded(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _attempt(settle, attempts, ledger, "attempt/tax-1", 1)
    _attempt(settle, attempts, ledger, "attempt/tax-1b", 2)
    document = json.loads(settle("memory", "--symbol", "src/shop/pricing.py::price_of", "--ledger", str(ledger),
                                 "--format", "json", repo=attempts).stdout)
    occurrences = document["subjects"][0]["findings"][0]["occurrences"]
    assert [(o["outcome"], o["superseded_by"] is None) for o in occurrences] == [("held_never_landed", True), ("superseded", False)]


def test_memory_for_claims_and_a_plan_task_before_any_branch_exists(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _sequence(settle, attempts, ledger)
    claims = tmp_path / "claims.toml"
    claims.write_text('[claims]\nedit = ["src/shop/pricing.py::price_*"]\n')
    plan = tmp_path / "plan.toml"
    plan.write_text('[tasks.currency]\nbranch = "agent/currency"\n[tasks.currency.claims]\nedit = ["src/shop/pricing.py"]\n'
                    '[tasks.docs]\n[tasks.docs.claims]\nedit = ["README.md"]\n')
    by_claims = settle("memory", "--claims", str(claims), "--ledger", str(ledger), repo=attempts)
    by_task = settle("memory", "--plan", str(plan), "--task", "currency", "--ledger", str(ledger), repo=attempts)
    quiet = settle("memory", "--plan", str(plan), "--task", "docs", "--ledger", str(ledger), repo=attempts)
    assert by_claims.returncode == by_task.returncode == quiet.returncode == 0, by_claims.stderr + by_task.stderr + quiet.stderr
    assert "### `src/shop/pricing.py::price_of`" in by_claims.stdout.splitlines()
    assert "### `src/shop/pricing.py`" in by_task.stdout.splitlines()  # a file claim: the findings in that file
    assert "recurring: 2 attempts" in by_task.stdout
    assert quiet.stdout.splitlines()[-1] == "No earlier findings on 1 path(s) in the ledger's 3 verdict(s)."


def test_memory_by_path_glob(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _sequence(settle, attempts, ledger)
    result = settle("memory", "--path", "src/**", "--ledger", str(ledger), "--format", "json", repo=attempts)
    assert [s["subject"] for s in json.loads(result.stdout)["subjects"]] == ["src/shop/pricing.py"]


CLAIMS_TEXTS = [
    '[claims]\nedit = ["src/a.py::f"]\n',
    'candidate = "agent/x"\n[claims]\ncreate = ["src/b.py"]\nedit = []\ndelete = ["old.py"]\nread = ["src/**"]\n',
    '',
    'candidate = "agent/x"\n',
    '[claims]\nread = []\n',
    '[claims]\nedit = ["src/**/*.py::Client.*", "src/B.java::B.run(int,String)"]\n',
    # refused: each must reach the validating loader, which says what is wrong
    'candidate = ""\n',
    'candidate = 3\n',
    'other = 1\n',
    '[claims]\nwrite = ["a.py"]\n',
    '[claims]\nedit = "a.py"\n',
    '[claims]\nedit = [1]\n',
    '[claims]\nedit = ["../outside.py"]\n',
    '[claims]\nedit = ["a.py::"]\n',
    'claims = 1\n',
    'not toml = = =\n',
]


@pytest.mark.parametrize("text", CLAIMS_TEXTS)
def test_claims_read_without_the_models_are_the_validated_claims(tmp_path, text):
    """memory --claims reads plain files without pydantic; it must take exactly what the validating
    loader takes, pattern for pattern, and leave everything else to it."""
    from settle.bind.claims import load_claims
    from settle.bind.patterns import plain_claims
    from settle.errors import ConfigError

    path = tmp_path / "claims.toml"
    path.write_text(text)
    try:
        validated = load_claims(str(path)).claims
    except ConfigError:
        assert plain_claims(str(path)) is None
        return
    plain = plain_claims(str(path))
    assert plain is not None
    for operation in ("create", "edit", "delete", "read"):
        assert plain.patterns(operation) == validated.patterns(operation), operation
    assert (plain.read is None) == (validated.read is None)
    assert plain_claims(str(tmp_path / "missing.toml")) is None


@pytest.mark.parametrize("arguments, message", [
    ((), "give one of"),
    (("agent/discount", "--symbol", "a.py::f"), "not CANDIDATE and --symbol"),
    (("--plan", "plan.toml"), "--plan and --task go together"),
])
def test_memory_needs_exactly_one_query(settle, attempts, tmp_path, arguments, message):
    ledger = tmp_path / "ledger.db"
    _sequence(settle, attempts, ledger)
    result = settle("memory", *arguments, "--ledger", str(ledger), repo=attempts)
    assert result.returncode == 2 and message in result.stderr


def test_verdict_output_is_byte_identical_with_and_without_a_ledger(settle, attempts, tmp_path):
    _git(attempts, "update-ref", "refs/heads/agent/tax", "attempt/tax-1")
    for output_format in ("text", "json", "sarif"):
        plain = settle("check", "agent/tax", "agent/discount", "--format", output_format, repo=attempts)
        recorded = settle("check", "agent/tax", "agent/discount", "--format", output_format, "--ledger",
                          str(tmp_path / "ledger.db"), repo=attempts)
        from_env = settle("check", "agent/tax", "agent/discount", "--format", output_format, repo=attempts,
                          env={"SETTLE_LEDGER": str(tmp_path / "env.db")})
        assert plain.stdout == recorded.stdout == from_env.stdout
        assert plain.returncode == recorded.returncode == from_env.returncode == 1
    log = settle("ledger", "log", "--ledger", str(tmp_path / "ledger.db"), "--format", "json").stdout.splitlines()
    events = [json.loads(line) for line in log]
    plain_json = settle("check", "agent/tax", "agent/discount", "--format", "json", repo=attempts).stdout
    assert all(e["payload"]["verdict"] == json.loads(plain_json) for e in events)
    assert len(settle("ledger", "log", "--ledger", str(tmp_path / "env.db")).stdout.splitlines()) == 3


def test_a_verdict_event_holds_repository_command_candidates_and_the_verdict(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _attempt(settle, attempts, ledger, "attempt/tax-1", 1)
    [line] = settle("ledger", "log", "--ledger", str(ledger), "--format", "json").stdout.splitlines()
    event = json.loads(line)
    assert (event["seq"], event["time"], event["event_type"]) == (1, "2023-11-14T23:13:20.000000Z", "verdict")
    assert event["repository"]["roots"] == [_git(attempts, "rev-list", "--max-parents=0", "HEAD")]
    assert Path(event["repository"]["git_dir"]) == (attempts / ".git").resolve()
    payload = event["payload"]
    assert payload["command"] == "check" and payload["options"]["candidates"] == ["agent/tax"]
    assert payload["target"] == {"ref": "main", "commit": _git(attempts, "rev-parse", "main")}
    assert payload["candidates"] == [{"ref": "agent/tax", "commit": _git(attempts, "rev-parse", "attempt/tax-1"),
                                      "fork": _git(attempts, "rev-parse", "main"), "claims": None, "claims_digest": None}]
    assert payload["verdict"]["verdict"] == "reject"


def test_a_claims_digest_is_recorded_for_a_bound_candidate(settle, attempts, tmp_path):
    claims = tmp_path / "claims.toml"
    claims.write_text('[claims]\nedit = ["src/shop/pricing.py::*", "src/shop/cart.py::total"]\n')
    _git(attempts, "update-ref", "refs/heads/agent/tax", "attempt/tax-2")
    settle("check", "agent/tax", "--claims", str(claims), "--ledger", str(tmp_path / "ledger.db"), repo=attempts)
    event = json.loads(settle("ledger", "log", "--ledger", str(tmp_path / "ledger.db"), "--format", "json").stdout)
    assert event["payload"]["candidates"][0]["claims_digest"] == hashlib.sha256(claims.read_bytes() + b"#").hexdigest()


def test_eight_concurrent_checks_append_eight_events_on_a_valid_chain(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _git(attempts, "update-ref", "refs/heads/agent/tax", "attempt/tax-1")
    candidates = ["agent/tax", "agent/discount", "attempt/tax-1b", "attempt/tax-2"] * 2

    def run(candidate):
        return subprocess.run([settle_executable(), "check", candidate, "--ledger", str(ledger)], cwd=attempts,
                              capture_output=True, text=True, timeout=300)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, candidates))
    assert all(r.returncode in (0, 1) and not r.stderr for r in results), [r.stderr for r in results]
    verify = settle("ledger", "verify", "--ledger", str(ledger))
    assert verify.returncode == 0 and verify.stdout.strip().endswith("8 event(s), chain valid")
    events = [json.loads(line) for line in settle("ledger", "log", "--ledger", str(ledger), "--format", "json").stdout.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, 9))
    assert sorted(e["payload"]["candidates"][0]["ref"] for e in events) == sorted(candidates)


def _ledger_of(settle, attempts, tmp_path, count: int = 3) -> Path:
    ledger = tmp_path / "ledger.db"
    for hour, branch in enumerate(["attempt/tax-1", "attempt/tax-1b", "attempt/tax-2"][:count], start=1):
        _attempt(settle, attempts, ledger, branch, hour)
    return ledger


def test_verify_names_the_event_tampered_with_by_hand(settle, attempts, tmp_path):
    ledger = _ledger_of(settle, attempts, tmp_path)
    assert settle("ledger", "verify", "--ledger", str(ledger)).returncode == 0
    connection = sqlite3.connect(ledger)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE events SET payload = replace(payload, 'reject', 'merge') WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM events WHERE seq = 3")
    connection.execute("DROP TRIGGER events_no_update")
    connection.execute("UPDATE events SET payload = replace(payload, '\"reject\"', '\"merge\"') WHERE seq = 2")
    connection.commit()
    connection.close()
    result = settle("ledger", "verify", "--ledger", str(ledger))
    assert result.returncode == 1
    assert result.stderr.strip() == f"settle: ledger {ledger}: event 2: its content does not match its hash: tampered"


def test_verify_of_a_truncated_ledger_exits_1_naming_an_event(settle, attempts, tmp_path):
    ledger = _ledger_of(settle, attempts, tmp_path)
    with open(ledger, "r+b") as handle:
        handle.truncate(ledger.stat().st_size - 4096)
    result = settle("ledger", "verify", "--ledger", str(ledger))
    assert result.returncode == 1 and "event " in result.stderr, result.stderr


def test_verify_of_a_ledger_whose_tail_was_dropped_names_the_first_missing_event(settle, attempts, tmp_path):
    ledger = _ledger_of(settle, attempts, tmp_path)
    connection = sqlite3.connect(ledger)
    connection.execute("DROP TRIGGER events_no_delete")
    connection.execute("DROP TRIGGER event_keys_no_delete")
    connection.execute("DELETE FROM event_keys WHERE seq = 3")
    connection.execute("DELETE FROM events WHERE seq = 3")
    connection.commit()
    connection.close()
    result = settle("ledger", "verify", "--ledger", str(ledger))
    assert result.returncode == 1 and "event 3: missing" in result.stderr and "truncated" in result.stderr


def test_a_foreign_sqlite_file_is_an_input_error_left_unchanged(settle, attempts, tmp_path):
    foreign = tmp_path / "app.db"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE notes (text)")
    connection.commit()
    connection.close()
    before = _digest(foreign)
    for arguments in (("ledger", "verify"), ("ledger", "log"), ("memory", "--symbol", "a.py::f"), ("check", "attempt/tax-1")):
        result = settle(*arguments, "--ledger", str(foreign), repo=attempts)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr == f"settle: {foreign} is an SQLite database but not a settle ledger; give another --ledger path\n"
    assert _digest(foreign) == before


def test_a_ledger_inside_the_git_directory_is_refused_before_any_verdict(settle, attempts):
    for inside in (attempts / ".git" / "settle.db", attempts / ".git" / "refs" / "settle.db"):
        result = settle("check", "attempt/tax-1", "--ledger", str(inside), repo=attempts)
        assert result.returncode == 2 and result.stdout == "" and "inside the git directory" in result.stderr
        assert not inside.exists()


def test_a_read_only_ledger_is_refused_before_any_verdict_and_left_unchanged(settle, attempts, tmp_path):
    ledger = _ledger_of(settle, attempts, tmp_path, 1)
    before = _digest(ledger)
    ledger.chmod(stat.S_IRUSR)
    try:
        result = settle("check", "attempt/tax-1", "--ledger", str(ledger), repo=attempts)
        assert result.returncode == 2 and result.stdout == "" and "read-only path" in result.stderr
        assert settle("ledger", "verify", "--ledger", str(ledger)).returncode == 0  # reading is fine
    finally:
        ledger.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert _digest(ledger) == before


def test_a_ledger_from_a_newer_settle_is_refused_and_left_unchanged(settle, attempts, tmp_path):
    from settle.ledger.store import SCHEMA_VERSION

    ledger = _ledger_of(settle, attempts, tmp_path, 1)
    connection = sqlite3.connect(ledger)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    connection.close()
    before = _digest(ledger)
    for arguments in (("check", "attempt/tax-1"), ("ledger", "verify"), ("memory", "attempt/tax-1")):
        result = settle(*arguments, "--ledger", str(ledger), repo=attempts)
        assert result.returncode == 2 and result.stdout == "" and "upgrade settle" in result.stderr, result.stderr
    assert _digest(ledger) == before


def test_replay_appends_one_event_per_merge(settle, tmp_path):
    repo = long_history(4, tmp_path / "history")
    ledger = tmp_path / "ledger.db"
    plain = settle("replay", repo=repo)
    recorded = settle("replay", "--ledger", str(ledger), repo=repo)
    assert plain.stdout == recorded.stdout
    events = [json.loads(line) for line in settle("ledger", "log", "--ledger", str(ledger), "--format", "json").stdout.splitlines()]
    assert [e["payload"]["verdict"] for e in events] == [json.loads(line) for line in plain.stdout.splitlines()]
    assert {e["payload"]["command"] for e in events} == {"replay"}


def test_plan_lint_appends_its_verdict(settle, attempts, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[tasks.a]\n[tasks.a.claims]\nedit = ["src/shop/pricing.py::price_of"]\n'
                    '[tasks.b]\n[tasks.b.claims]\nedit = ["src/shop/pricing.py::price_of"]\n')
    ledger = tmp_path / "ledger.db"
    result = settle("plan", "lint", str(plan), "--ledger", str(ledger), repo=attempts)
    assert result.returncode == 1
    log = settle("ledger", "log", "--ledger", str(ledger)).stdout
    assert log.startswith("#1 ") and " verdict plan lint reject " in log


def test_log_filters_by_time_and_candidate(settle, attempts, tmp_path):
    ledger = _ledger_of(settle, attempts, tmp_path)
    _git(attempts, "update-ref", "refs/heads/agent/other", "agent/discount")
    settle("check", "agent/other", "--ledger", str(ledger), repo=attempts, env={"SETTLE_NOW": str(START + 4 * HOUR)})
    since = settle("ledger", "log", "--ledger", str(ledger), "--since", "2023-11-15T01:00:00Z").stdout.splitlines()
    assert [line.split()[0] for line in since] == ["#3", "#4"]
    assert since[0].startswith("#3 2023-11-15T01:13:20Z verdict check merge onto main@")
    mine = settle("ledger", "log", "--ledger", str(ledger), "--candidate", "agent/other").stdout.splitlines()
    assert [line.split()[0] for line in mine] == ["#4"]
    bad = settle("ledger", "log", "--ledger", str(ledger), "--since", "last tuesday")
    assert bad.returncode == 2 and "not a time" in bad.stderr


def test_ledger_commands_on_a_missing_ledger_are_input_errors(settle, tmp_path):
    missing = tmp_path / "none.db"
    for arguments in (("ledger", "verify"), ("ledger", "log")):
        result = settle(*arguments, "--ledger", str(missing))
        assert result.returncode == 2 and "no ledger at" in result.stderr
    assert not missing.exists()


def test_schema_memory_is_the_schema_of_the_memory_document(settle):
    from settle.ledger.memory import memory_schema
    from settle.models import verdict_schema

    assert json.loads(settle("schema", "--memory").stdout) == memory_schema()
    assert json.loads(settle("schema").stdout) == verdict_schema()


def test_report_from_the_ledger_says_who_was_held_most_by_what_and_where(settle, attempts, tmp_path):
    ledger = _ledger_of(settle, attempts, tmp_path)
    verdict_file = tmp_path / "extra.json"
    verdict_file.write_text(settle("check", "attempt/tax-1", "--format", "json", repo=attempts).stdout)
    taxonomy = json.loads(settle("report", "--ledger", str(ledger), "--format", "json").stdout)
    assert (taxonomy["verdicts"], taxonomy["reject"], taxonomy["merge"]) == (3, 2, 1)
    assert taxonomy["held"] == {"held": 2, "candidates": [["agent/tax", 2]],
                                "by_kind": [["signature_drift/call_incompatible", 2]],
                                "symbols": [["src/shop/pricing.py::price_of", 2]]}
    both = json.loads(settle("report", str(verdict_file), "--ledger", str(ledger), "--format", "json").stdout)
    assert both["verdicts"] == 4 and both["held"]["candidates"] == [["agent/tax", 2], ["attempt/tax-1", 1]]
    markdown = settle("report", "--ledger", str(ledger)).stdout.splitlines()
    start = markdown.index("### Held most")
    assert markdown[start:start + 5] == ["### Held most", "", "| candidate | times held |", "|---|---:|", "| `agent/tax` | 2 |"]
    page = settle("report", "--ledger", str(ledger), "--format", "html").stdout
    assert "<h2>Held candidates</h2>" in page and "<code>agent/tax</code>" in page
    assert settle("report").returncode == 2


def test_an_attempt_checked_again_is_remembered_once_at_its_newest_verdict(settle, attempts, tmp_path):
    ledger = tmp_path / "ledger.db"
    _attempt(settle, attempts, ledger, "attempt/tax-1", 1)
    _attempt(settle, attempts, ledger, "attempt/tax-1", 2)
    document = json.loads(settle("memory", "--symbol", "src/shop/pricing.py::price_of", "--ledger", str(ledger),
                                 "--format", "json", repo=attempts).stdout)
    [finding] = document["subjects"][0]["findings"]
    assert (finding["attempts"], finding["recurring"], [o["event"] for o in finding["occurrences"]]) == (1, False, [2])
