"""`settle serve`: the commands as Model Context Protocol tools, on stdio.

A thin face like cli.py: each tool calls the library function its command calls and
returns the document the command prints, byte for byte. Input errors come back as tool
errors with the command's one-line message; anything else is an error result that says
"internal error" (treat it as reject) — the server lives on. Repositories stay warm
between calls (settle.warm): a repeated check parses only what changed.

Paths in arguments are taken as the command takes them (relative to the server's working
directory), except `worktree:DIR` candidates, whose DIR is relative to `repo`: an agent
names its own work tree, wherever the server was started.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from typing import Annotated, Literal

from mcp.types import CallToolResult, TextContent
from pydantic import Field

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024

Repo = Annotated[str, Field(description="Path inside the repository (work tree, .git or bare); a linked worktree works too.")]
Base = Annotated[str | None, Field(description="Target branch (default: origin/HEAD, else main, else master).")]
Candidates = Annotated[list[str], Field(
    description="Candidate refs (default: HEAD). `worktree:DIR` is a work tree's uncommitted state; DIR is relative to repo.")]
MaxFileSize = Annotated[int, Field(ge=1, description="Files larger than this many bytes are handled at file granularity.")]
BranchTemplate = Annotated[str, Field(description="Branch of a plan task that names none.")]
Ledger = Annotated[str | None, Field(description="The settlement ledger (SQLite); default: the server's --ledger or SETTLE_LEDGER.")]
Holder = Annotated[str, Field(description="The candidate holding the lease: its branch (or worktree:DIR, relative to repo).")]


class Tools:
    """The tools' bodies, over one process's warm repositories. Calls run one at a time: the
    warm handles and tables are not made for threads, and the work is CPU-bound anyway."""

    def __init__(self, ledger: str | None = None):
        from settle.warm import WarmRepositories

        self.ledger = ledger
        self.warm = WarmRepositories()
        self._lock = threading.Lock()

    def run(self, body: Callable[[], str]):
        """The tool's document, or an error result with the command's one-line message."""
        from settle.errors import SettleError

        def result(text: str, error: bool = False) -> CallToolResult:
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=error)

        with self._lock:
            try:
                return result(_printed(body()))
            except SettleError as error:
                return result(f"settle: {error}", error=True)
            except Exception as error:  # noqa: BLE001 - a bad call must not take the server down
                if os.environ.get("SETTLE_DEBUG"):
                    traceback.print_exc()
                return result(f"settle: internal error ({type(error).__name__}: {error}); treat as reject", error=True)

    def session(self, repo: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE):
        return self.warm.session(repo, max_file_size)

    # -- the commands ------------------------------------------------------------------

    def check(self, repo, candidates, base, claims, plan, branch_template, policy, output_format, strict, max_file_size,
              ledger) -> str:
        from settle.errors import SettleError
        from settle.settlement import settle

        if claims and plan:
            raise SettleError("give --claims or --plan, not both")
        recorder = self._recorder(ledger, repo, "check", base=base, candidates=list(candidates), claims=claims, plan=plan,
                                  branch_template=branch_template, policy=policy, strict=strict)
        try:
            leases = None
            if recorder is not None:
                from settle.ledger.leases import live_leases

                leases = live_leases(recorder.ledger)
            session = self.session(repo, max_file_size)
            verdict = settle(repo, [_in_repo(c, repo) for c in candidates], base, policy=policy, strict=strict, claims=claims,
                            plan=plan, max_file_size=max_file_size, branch_template=branch_template, session=session,
                            leases=leases)
            text = render_verdict(verdict, output_format)
            if recorder is not None:
                recorder.record_json(verdict.to_json())
            return text
        finally:
            if recorder is not None:
                recorder.close()

    def _recorder(self, ledger: str | None, repo: str, command: str, **options):
        ledger = ledger or self.ledger
        if not ledger:
            return None
        from settle.ledger.record import Recorder

        return Recorder.open(ledger, repo, command, options)

    def _ledger(self, ledger: str | None) -> str:
        from settle.errors import SettleError

        found = ledger or self.ledger
        if not found:
            raise SettleError("no ledger: pass ledger, or start the server with settle serve --ledger FILE (or SETTLE_LEDGER)")
        return found

    def lease(self, patterns, holder, ttl, steal, ledger, repo) -> str:
        from settle.ledger.agents import lease_command

        return lease_command(self._ledger(ledger), repo, _in_repo(holder, repo), patterns, ttl, steal, "json")[0]

    def release(self, patterns, holder, every, ledger, repo) -> str:
        from settle.ledger.agents import release_command

        holder = _in_repo(holder, repo) if holder is not None else None
        return release_command(self._ledger(ledger), repo, holder, patterns, every, "json")

    def leases(self, ledger, holder) -> str:
        from settle.ledger.agents import leases_command

        return leases_command(self._ledger(ledger), holder, "json")

    def memory(self, ledger, repo, base, candidate, claims, plan, task, branch_template, symbols, paths, output_format,
               limit) -> str:
        from settle.ledger.subjects import recall

        found = recall(self._ledger(ledger), repo, base, candidate=_in_repo(candidate, repo) if candidate else None,
                       claims=claims, plan=plan, task=task, symbols=symbols, paths=paths, branch_template=branch_template,
                       session=self.session(repo), limit=limit or None)
        if output_format == "json":
            return found.to_json()
        from settle.ledger.render import memory_markdown

        return memory_markdown(found)

    def symbols(self, repo, rev, paths, output_format, max_file_size) -> str:
        from settle.render.symbols import render_symbols
        from settle.symbols import symbol_tables

        session = self.session(repo, max_file_size)
        tables = symbol_tables(repo, _in_repo(rev, repo), tuple(paths), max_bytes=max_file_size, tables=session.tables,
                               repository=session.repository)
        return render_symbols(tables, output_format)

    def claims_infer(self, candidate, repo, base) -> str:
        from settle.bind.infer import infer_claims

        return infer_claims(repo, _in_repo(candidate, repo), base, session=self.session(repo))

    def plan_lint(self, plan, repo, base, branch_template, output_format) -> str:
        from settle.bind.lint import lint_plan

        return render_verdict(lint_plan(plan, repo, base, branch_template, session=self.session(repo)), output_format)


def render_verdict(verdict, output_format: str) -> str:
    """As the command prints it (text without colour: nobody's terminal is on the other end)."""
    if output_format == "json":
        return verdict.to_json()
    if output_format == "sarif":
        from settle.render.sarif import render_sarif

        return render_sarif(verdict)
    from settle.render.text import render_text

    return render_text(verdict, colour=False)


def _printed(text: str) -> str:
    """What the command writes to stdout for this text (click.echo ends it with a newline)."""
    return text if text.endswith("\n") else text + "\n"


def _in_repo(ref: str, repo: str) -> str:
    from settle.repo import WORKTREE_PREFIX

    if ref.startswith(WORKTREE_PREFIX):
        directory = ref[len(WORKTREE_PREFIX):]
        if directory and not os.path.isabs(directory):
            return WORKTREE_PREFIX + os.path.normpath(os.path.join(repo, directory))
    return ref


def build_server(ledger: str | None = None):
    """The MCP server with settle's tools (not yet running)."""
    from mcp.server.mcpserver import MCPServer

    from settle import __version__

    tools = Tools(ledger)
    server = MCPServer(
        "settle", version=__version__,
        instructions="settle decides, symbol by symbol, whether branches (and uncommitted work trees, as "
                     "worktree:DIR) can land on a target branch. Each tool returns the JSON document the "
                     "settle command prints.",
    )

    @server.tool(description="Settle candidates against the target, as `settle check`: the verdict document "
                             "(verdict merge or reject, findings, landing order). A reject is a result, not an error.")
    def check(
        repo: Repo = ".",
        candidates: Candidates = [],  # noqa: B006 - pydantic copies defaults
        base: Base = None,
        claims: Annotated[str | None, Field(description="Claims file of the (single) candidate.")] = None,
        plan: Annotated[str | None, Field(description="Plan file or dgov plan directory: settles every task.")] = None,
        branch_template: BranchTemplate = "{task}",
        policy: Annotated[str | None, Field(description="TOML: [severity] kind or kind.subkind = error|warning|info.")] = None,
        format: Literal["json", "text", "sarif"] = "json",
        strict: Annotated[bool, Field(description="Warnings reject too.")] = False,
        max_file_size: MaxFileSize = DEFAULT_MAX_FILE_SIZE,
        ledger: Ledger = None,
    ) -> CallToolResult:
        return tools.run(lambda: tools.check(repo, candidates, base, claims, plan, branch_template, policy, format, strict,
                                             max_file_size, ledger))

    @server.tool(description="The symbol tables of a revision, as `settle symbols` (every supported file, or the paths given).")
    def symbols(
        repo: Repo = ".",
        rev: Annotated[str, Field(description="Commit, branch, tag or worktree:DIR to read.")] = "HEAD",
        paths: Annotated[list[str], Field(description="Files or directories, relative to the repository root.")] = [],  # noqa: B006
        format: Literal["json", "text"] = "json",
        max_file_size: MaxFileSize = DEFAULT_MAX_FILE_SIZE,
    ) -> CallToolResult:
        return tools.run(lambda: tools.symbols(repo, rev, paths, format, max_file_size))

    @server.tool(description="The smallest claims file (TOML) that covers what a candidate touched, as `settle claims infer`.")
    def claims_infer(
        candidate: Annotated[str, Field(description="Branch, commit or worktree:DIR.")],
        repo: Repo = ".",
        base: Base = None,
    ) -> CallToolResult:
        return tools.run(lambda: tools.claims_infer(candidate, repo, base))

    @server.tool(description="Refute a plan before work starts, as `settle plan lint`: cycles, unresolved claims, "
                             "parallel tasks that collide.")
    def plan_lint(
        plan: Annotated[str, Field(description="Plan file (TOML) or dgov plan directory.")],
        repo: Repo = ".",
        base: Base = None,
        branch_template: BranchTemplate = "{task}",
        format: Literal["json", "text", "sarif"] = "json",
    ) -> CallToolResult:
        return tools.run(lambda: tools.plan_lint(plan, repo, base, branch_template, format))

    @server.tool(description="Lease symbols or paths (claim patterns) for a holder, as `settle lease`: a check of any "
                             "other candidate that changes them reports claim_violation/leased_elsewhere. `granted` false "
                             "(with the conflicts) when another holder has one of them.")
    def lease(
        patterns: Annotated[list[str], Field(min_length=1, description="Claim patterns: src/a.py::Client.send, src/**/*.py ...")],
        holder: Holder,
        ttl: Annotated[int, Field(ge=1, description="Seconds until the lease expires; leasing again renews it.")] = 1800,
        steal: Annotated[bool, Field(description="Take over another holder's expired, unreleased lease.")] = False,
        ledger: Ledger = None,
        repo: Repo = ".",
    ) -> CallToolResult:
        return tools.run(lambda: tools.lease(patterns, holder, ttl, steal, ledger, repo))

    @server.tool(description="End leases, as `settle release`: the holder's on the patterns given, or all of them with all.")
    def release(
        patterns: Annotated[list[str], Field(description="The leased patterns to release.")] = [],  # noqa: B006
        holder: Annotated[str | None, Field(description="Whose leases (required unless all).")] = None,
        all: Annotated[bool, Field(description="All the holder's leases; without holder, every holder's.")] = False,
        ledger: Ledger = None,
        repo: Repo = ".",
    ) -> CallToolResult:
        return tools.run(lambda: tools.release(patterns, holder, all, ledger, repo))

    @server.tool(description="The live leases, as `settle leases --format json`.")
    def leases(
        ledger: Ledger = None,
        holder: Annotated[str | None, Field(description="Only this holder's.")] = None,
    ) -> CallToolResult:
        return tools.run(lambda: tools.leases(ledger, holder))

    @server.tool(description="What earlier verdicts in the ledger found on what an attempt touches, as `settle memory`: "
                             "give one of candidate, claims, plan with task, symbols or paths.")
    def memory(
        ledger: Ledger = None,
        repo: Repo = ".",
        base: Base = None,
        candidate: Annotated[str | None, Field(description="A branch, commit or worktree:DIR.")] = None,
        claims: Annotated[str | None, Field(description="A claims file: what it will touch.")] = None,
        plan: Annotated[str | None, Field(description="A plan file (with task).")] = None,
        task: Annotated[str | None, Field(description="The plan task (with plan).")] = None,
        branch_template: BranchTemplate = "{task}",
        symbols: Annotated[list[str], Field(description="Symbol ids (PATH::QUALNAME).")] = [],  # noqa: B006
        paths: Annotated[list[str], Field(description="Paths or path globs.")] = [],  # noqa: B006
        format: Literal["md", "json"] = "json",
        limit: Annotated[int, Field(ge=0, description="At most this many subjects, most telling first (0: all).")] = 10,
    ) -> CallToolResult:
        return tools.run(lambda: tools.memory(ledger, repo, base, candidate, claims, plan, task, branch_template, symbols,
                                              paths, format, limit))

    return server


def serve(ledger: str | None = None) -> None:
    build_server(ledger).run("stdio")
