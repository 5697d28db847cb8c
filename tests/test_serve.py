"""`settle serve` through a real MCP client: the SDK's stdio client starts the installed command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from conftest import FIXTURES, repository_state, settle_executable

PLANS = FIXTURES / "plans"
TOOLS = {"check", "symbols", "claims_infer", "plan_lint", "memory", "lease", "release", "leases"}


class Server:
    """One `settle serve` process and one client session on it."""

    def __init__(self, log: Path, cwd: Path | None = None, env: dict | None = None):
        self.parameters = StdioServerParameters(command=settle_executable(), args=["serve"], cwd=str(cwd) if cwd else None,
                                                env={"NO_COLOR": "1", **(env or {})})
        self.log = log

    async def session(self, work):
        with open(self.log, "a") as errors:
            async with stdio_client(self.parameters, errlog=errors) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await work(session)


async def call(session: ClientSession, name: str, arguments: dict) -> tuple[bool, str]:
    result = await session.call_tool(name, arguments)
    assert len(result.content) == 1
    return bool(result.is_error), result.content[0].text


def run_calls(server: Server, calls: list[tuple[str, dict]]) -> list[tuple[bool, str]]:
    async def work(session):
        return [await call(session, name, arguments) for name, arguments in calls]

    return anyio.run(server.session, work)


@pytest.fixture
def server(tmp_path):
    return Server(tmp_path / "server.log")


@pytest.fixture
def repo(build):
    return build(PLANS / "repo.toml")


def test_the_server_lists_its_tools_with_json_schemas(server):
    async def work(session):
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in anyio.run(server.session, work)}
    assert TOOLS <= set(tools)
    check = tools["check"].input_schema
    assert {"repo", "candidates", "base", "claims", "plan", "policy", "format", "strict"} <= set(check["properties"])
    assert check["properties"]["candidates"]["type"] == "array"
    assert tools["claims_infer"].input_schema["required"] == ["candidate"]
    assert tools["plan_lint"].input_schema["required"] == ["plan"]
    assert all(tool.description for tool in tools.values())


def test_each_tool_returns_the_document_its_command_prints(server, settle, repo, tmp_path):
    claims = tmp_path / "retry.claims.toml"
    claims.write_text('[claims]\nedit = ["src/client.py::Client.send"]\n')
    commands = [
        (["check", "agent/retry", "agent/cache-ttl", "--format", "json"],
         ("check", {"repo": str(repo), "candidates": ["agent/retry", "agent/cache-ttl"]})),
        (["check", "agent/retry", "--claims", str(claims), "--format", "json"],
         ("check", {"repo": str(repo), "candidates": ["agent/retry"], "claims": str(claims)})),
        (["check", "agent/retry", "agent/docs", "--format", "text"],
         ("check", {"repo": str(repo), "candidates": ["agent/retry", "agent/docs"], "format": "text"})),
        (["check", "agent/retry", "--format", "sarif", "--strict"],
         ("check", {"repo": str(repo), "candidates": ["agent/retry"], "format": "sarif", "strict": True})),
        (["symbols", "--rev", "agent/retry", "--format", "json"],
         ("symbols", {"repo": str(repo), "rev": "agent/retry"})),
        (["symbols", "src", "--format", "text"], ("symbols", {"repo": str(repo), "paths": ["src"], "format": "text"})),
        (["claims", "infer", "agent/cache-ttl"], ("claims_infer", {"repo": str(repo), "candidate": "agent/cache-ttl"})),
        (["plan", "lint", str(PLANS / "bad.plan.toml"), "--format", "json"],
         ("plan_lint", {"repo": str(repo), "plan": str(PLANS / "bad.plan.toml")})),
    ]
    printed = [settle(*arguments, repo=repo).stdout for arguments, _ in commands]
    before = repository_state(repo)
    answered = run_calls(server, [tool_call for _, tool_call in commands])
    assert repository_state(repo) == before
    for (arguments, _), stdout, (error, text) in zip(commands, printed, answered):
        assert not error, (arguments, text)
        assert text == stdout, arguments


def test_a_repeated_check_from_warm_tables_is_the_same_document(server, settle, repo):
    arguments = {"repo": str(repo), "candidates": ["agent/retry", "agent/cache-ttl", "agent/docs"]}
    answered = run_calls(server, [("symbols", {"repo": str(repo)}), ("check", arguments), ("check", arguments)])
    printed = settle("check", "agent/retry", "agent/cache-ttl", "agent/docs", "--format", "json", repo=repo).stdout
    assert answered[1] == answered[2] == (False, printed)
    assert json.loads(printed)["stats"]["files_parsed"] > 0


def test_a_bad_ref_is_a_tool_error_with_the_commands_message(server, settle, repo):
    stderr = settle("check", "agent/nope", repo=repo).stderr.strip()
    answered = run_calls(server, [
        ("check", {"repo": str(repo), "candidates": ["agent/nope"]}),
        ("check", {"repo": str(repo / "nowhere")}),
        ("plan_lint", {"repo": str(repo), "plan": str(repo / "missing.plan.toml")}),
        ("check", {"repo": str(repo), "candidates": ["agent/retry"]}),
    ])
    assert answered[0] == (True, stderr)
    assert answered[1][0] and answered[1][1].startswith("settle: ") and "no such directory" in answered[1][1]
    assert answered[2][0] and "missing.plan.toml" in answered[2][1] and "\n" not in answered[2][1]
    assert answered[3][0] is False and json.loads(answered[3][1])["verdict"] == "merge"


def test_arguments_outside_the_schema_are_refused_without_running(server, repo):
    answered = run_calls(server, [("check", {"repo": str(repo), "max_file_size": 0}),
                                  ("check", {"repo": str(repo), "candidates": "agent/retry"})])
    assert all(error for error, _ in answered)
    assert "max_file_size" in answered[0][1]


def test_an_internal_failure_is_an_error_result_and_the_server_lives_on(tmp_path, settle, repo):
    # A corrupt object in the repository: settle cannot read a blob the candidate changed.
    # Without the disk cache, which may hold that blob's table from another test's repository.
    uncached = {"SETTLE_NO_CACHE": "1"}
    server = Server(tmp_path / "server.log", env=uncached)
    blob = settle_blob(repo, "agent/retry", "src/client.py")
    loose = repo / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not zlib")
    command = settle("check", "agent/retry", repo=repo, env=uncached)
    assert command.returncode == 3
    answered = run_calls(server, [
        ("check", {"repo": str(repo), "candidates": ["agent/retry"]}),
        ("check", {"repo": str(repo), "candidates": ["agent/docs"], "format": "json"}),
    ])
    assert answered[0] == (True, command.stderr.strip())
    assert "internal error" in answered[0][1] and "treat as reject" in answered[0][1]
    assert answered[1][0] is False
    assert answered[1][1] == settle("check", "agent/docs", "--format", "json", repo=repo).stdout


def settle_blob(repo: Path, rev: str, path: str) -> str:
    import pygit2

    return str(pygit2.Repository(str(repo)).revparse_single(f"{rev}:{path}").id)


def test_two_clients_at_once_each_get_their_answers(tmp_path, settle, repo):
    arguments = {"repo": str(repo), "candidates": ["agent/retry", "agent/cache-ttl"]}
    printed = settle("check", "agent/retry", "agent/cache-ttl", "--format", "json", repo=repo).stdout
    answers: dict[int, list] = {}

    async def client(number: int):
        async def work(session):
            return [await call(session, "check", arguments) for _ in range(3)]

        answers[number] = await Server(tmp_path / f"server{number}.log").session(work)

    async def both():
        async with anyio.create_task_group() as group:
            group.start_soon(client, 1)
            group.start_soon(client, 2)

    anyio.run(both)
    assert answers[1] == answers[2] == [(False, printed)] * 3


def test_concurrent_calls_on_one_server_are_answered_in_full(server, settle, repo):
    printed = {ref: settle("check", ref, "--format", "json", repo=repo).stdout for ref in ("agent/retry", "agent/docs")}

    async def work(session):
        results = {}

        async def one(ref):
            results[ref] = await call(session, "check", {"repo": str(repo), "candidates": [ref]})

        async with anyio.create_task_group() as group:
            for ref in printed:
                group.start_soon(one, ref)
        return results

    answered = anyio.run(server.session, work)
    assert answered == {ref: (False, text) for ref, text in printed.items()}


def test_work_tree_candidates_are_named_relative_to_repo(server, settle, repo):
    (repo / "src" / "cache.py").write_text("def get(key, default):\n    return key\n\n\ndef put(key, value):\n    return value\n")
    printed = settle("check", "worktree:.", "--format", "json", repo=repo).stdout
    answered = run_calls(server, [("check", {"repo": str(repo), "candidates": ["worktree:."]}),
                                  ("claims_infer", {"repo": str(repo), "candidate": "worktree:."})])
    assert answered[0] == (False, printed)
    assert json.loads(printed)["candidates"][0]["ref"] == "worktree:."
    assert answered[1] == (False, settle("claims", "infer", "worktree:.", repo=repo).stdout)


def test_serve_help_shows_how_to_register_the_server(settle):
    result = settle("serve", "--help")
    assert result.returncode == 0
    assert '{"mcpServers": {"settle": {"command": "settle", "args": ["serve"]}}}' in result.stdout


def test_settle_help_loads_neither_the_mcp_sdk_nor_pygit2():
    import subprocess
    import sys

    code = "import sys; from settle.cli import main; main(['--help']); print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'pygit2', 'tree_sitter')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert result.stdout.strip().endswith("[]"), result.stdout


def test_the_ledger_tools_return_what_the_commands_print(tmp_path, settle, repo):
    now = {"SETTLE_NOW": "1800000000"}
    by_command, by_tool = str(tmp_path / "command.db"), str(tmp_path / "tool.db")
    commands = [
        (["lease", "src/client.py::Client.send", "--holder", "agent/cache-ttl", "--ttl", "600"],
         ("lease", {"patterns": ["src/client.py::Client.send"], "holder": "agent/cache-ttl", "ttl": 600})),
        (["lease", "src/client.py", "--holder", "agent/docs"],
         ("lease", {"patterns": ["src/client.py"], "holder": "agent/docs"})),
        (["leases"], ("leases", {})),
        (["check", "agent/retry", "--format", "json"], ("check", {"candidates": ["agent/retry"]})),
        (["memory", "agent/retry", "--format", "json"], ("memory", {"candidate": "agent/retry"})),
        (["release", "--all", "--holder", "agent/cache-ttl"], ("release", {"holder": "agent/cache-ttl", "all": True})),
        (["leases"], ("leases", {})),
    ]
    printed = []
    for arguments, _ in commands:
        result = settle(*arguments, "--ledger", by_command, *([] if arguments[0] in ("check", "memory") else ["--format", "json"]),
                        repo=repo, env=now)
        assert result.returncode in (0, 1), result.stderr
        printed.append(result.stdout)
    server = Server(tmp_path / "server.log", env={**now, "SETTLE_LEDGER": by_tool})
    answered = run_calls(server, [(name, {"repo": str(repo), **arguments}) if name not in ("leases",) else (name, arguments)
                                  for _, (name, arguments) in commands])
    for (arguments, _), stdout, (error, text) in zip(commands, printed, answered):
        assert not error, (arguments, text)
        assert text == stdout, arguments
    assert json.loads(answered[1][1])["granted"] is False
    verdict = json.loads(answered[3][1])
    assert [f["subkind"] for f in verdict["findings"] if f["kind"] == "claim_violation"] == ["leased_elsewhere"]
    assert json.loads(answered[6][1])["leases"] == []
    assert settle("ledger", "verify", "--ledger", by_tool, repo=repo).returncode == 0


def test_ledger_tools_without_a_ledger_say_how_to_give_one(server):
    [(error, text)] = run_calls(server, [("leases", {})])
    assert error and text.startswith("settle: no ledger") and "--ledger" in text
