"""The `settle` command: a thin shell that parses options and calls the library.

Only click is imported at start-up; pygit2, tree-sitter and pydantic load when
a command runs, so `settle --help` stays fast.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps

import click

EXIT_MERGE, EXIT_REJECT, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _guarded(command: Callable) -> Callable:
    """Input errors → one line and exit 2; anything else is a bug → exit 3 (a gate fails closed)."""

    @wraps(command)
    def run(*args, **kwargs):
        from settle.errors import SettleError

        try:
            return command(*args, **kwargs)
        except SettleError as error:
            click.echo(f"settle: {error}", err=True)
            sys.exit(EXIT_INPUT)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("settle: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`| head`): nothing left to say to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            if os.environ.get("SETTLE_DEBUG"):
                import traceback  # not at the top: most commands never need it

                traceback.print_exc()
            click.echo(f"settle: internal error ({type(error).__name__}: {error}); treat as reject", err=True)
            sys.exit(EXIT_INTERNAL)

    return run


def _reads_git(command: Callable) -> Callable:
    """A command that reads a repository's objects reads them as git does: libgit2 by default
    hashes every object it inflates again to check its id, which git leaves to `git fsck`, and
    that is about a tenth of reading a pack of deltas. Only the command's own process is set so:
    the library leaves its host's libgit2 as it is. Here, not in `main`, so that the commands
    that never touch git (`ledger log`, `schema`) do not import pygit2 for it."""

    @wraps(command)
    def run(*args, **kwargs):
        from settle.repo import read_objects_as_git_does

        read_objects_as_git_does()
        return command(*args, **kwargs)

    return run


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            from settle.errors import SettleError

            raise SettleError(f"cannot write --output {output}: {error.strerror}") from error
    else:
        click.echo(text, nl=not text.endswith("\n"))


# click reports usage errors with exit 2, which is settle's input-error code too.
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="settle", prog_name="settle")
def cli() -> None:
    """Decide, symbol by symbol, whether branches can land on a target branch.

    Exit status: 0 merge, 1 reject, 2 input error, 3 internal failure (treat as reject).
    """


REPO_OPTION = click.option("--repo", "repo_path", default=".", show_default=True, help="Path inside the repository (work tree, .git or bare).")


MAX_SIZE_OPTION = click.option(
    "--max-file-size", type=click.IntRange(min=1), default=2 * 1024 * 1024, show_default=True,
    help="Files larger than this many bytes are handled at file granularity.",
)


# -- ledger options (issue 14; the commands are in the ledger block below) ------------------

LEDGER_OPTION = click.option(
    "--ledger", "ledger_path", envvar="SETTLE_LEDGER", type=click.Path(dir_okay=False),
    help="Append each verdict to this settlement ledger (SQLite; default: $SETTLE_LEDGER).",
)


def _recorder(ledger_path: str | None, repo_path: str, command: str, **options):
    """The ledger opened and validated before the command runs (its errors come before any verdict)."""
    if not ledger_path:
        return None
    from settle.ledger.record import Recorder

    return Recorder.open(ledger_path, repo_path, command, options)


def _record(recorder, verdict) -> None:
    """After the verdict is out: the ledger takes exactly the JSON document settle would print."""
    if recorder is None:
        return
    try:
        recorder.record_json(verdict.to_json())
    finally:
        recorder.close()
# -- the disk cache (settle.parse.store) ------------------------------------------------------


def _cache_option(context, parameter, value) -> None:
    """--no-cache, and the one warning about an unusable cache directory, before the command runs;
    through the environment, so replay's worker processes see it too."""
    if value:
        os.environ["SETTLE_NO_CACHE"] = "1"
    from settle.parse.store import prepare

    prepare()


NO_CACHE_OPTION = click.option(
    "--no-cache", is_flag=True, expose_value=False, callback=_cache_option,
    help="Neither read nor write the symbol-table cache (also: SETTLE_NO_CACHE=1).",
)


@cli.group()
def cache():
    """The symbol-table cache ($SETTLE_CACHE_DIR, else $XDG_CACHE_HOME/settle, else ~/.cache/settle)."""


@cache.command("info")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guarded
def cache_info_command(output_format):
    """Where the cache is, how big, and its bound (SETTLE_CACHE_SIZE)."""
    import json

    from settle.parse.store import cache_info

    info = cache_info()
    if output_format == "json":
        click.echo(json.dumps({"directory": info.directory, "enabled": info.enabled, "entries": info.entries,
                               "bytes": info.bytes, "limit": info.limit}, sort_keys=True))
        return
    state = "" if info.enabled else " (disabled by SETTLE_NO_CACHE)"
    click.echo(f"directory: {info.directory}{state}\nentries: {info.entries}\n"
               f"size: {info.bytes / 1048576:.1f} MiB of {info.limit / 1048576:.0f} MiB")


@cache.command("clear")
@_guarded
def cache_clear_command():
    """Remove every cache entry."""
    from settle.parse.store import DiskCache, cache_directory

    files, size = DiskCache(cache_directory()).clear()
    click.echo(f"removed {files} entries ({size / 1048576:.1f} MiB) from {cache_directory()}")


@cli.command()
@REPO_OPTION
@click.option("--rev", default="HEAD", show_default=True, help="Commit, branch or tag to read.")
@click.argument("paths", nargs=-1)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@MAX_SIZE_OPTION
@NO_CACHE_OPTION
@_guarded
@_reads_git
def symbols(repo_path: str, rev: str, paths: tuple[str, ...], output_format: str, output: str | None, max_file_size: int) -> None:
    """Print the symbol tables of a revision (every supported file, or the PATHs given).

    Text lists each symbol's id as claims and findings spell it, its signature apart."""
    from settle.render.symbols import render_symbols
    from settle.symbols import symbol_tables

    tables = symbol_tables(repo_path, rev, paths, progress=_progress_factory(), max_bytes=max_file_size)
    _write(render_symbols(tables, output_format), output)


@cli.command()
@REPO_OPTION
@click.option("--base", help="Target branch (default: origin/HEAD, else main, else master).")
@click.argument("candidates", nargs=-1)
@click.option("--claims", type=click.Path(dir_okay=False), help="Claims file of the (single) candidate.")
@click.option("--plan", type=click.Path(), help="Plan file or dgov plan directory: settles every task.")
@click.option("--branch-template", default="{task}", show_default=True, help="Branch of a plan task that names none.")
@click.option("--policy", type=click.Path(dir_okay=False), help="TOML: [severity] kind or kind.subkind = error|warning|info.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--strict", is_flag=True, help="Warnings reject too.")
@MAX_SIZE_OPTION
@LEDGER_OPTION
@NO_CACHE_OPTION
# -- evidence (--verify): options of their own block --
@click.option("--verify", "verify_command", metavar="CMD",
              help="Run CMD (shell) on the target with each candidate merged, and with both merged; env SETTLE_SIDE names the tree.")
@click.option("--verify-when", type=click.Choice(["interference", "always"]), default="interference", show_default=True,
              help="Which candidate pairs --verify runs: those with an interference finding, or every pair.")
@click.option("--verify-timeout", type=click.FloatRange(min=0, min_open=True), default=600, show_default=True,
              help="Seconds each --verify run may take before it is killed and reported.")
@_guarded
@_reads_git
def check(repo_path, base, candidates, claims, plan, branch_template, policy, output_format, output, strict, max_file_size,
          ledger_path, verify_command, verify_when, verify_timeout):
    """Settle CANDIDATE branches (default: HEAD) against the target; exit 0 merge, 1 reject."""
    if claims and plan:
        from settle.errors import SettleError

        raise SettleError("give --claims or --plan, not both")
    from settle.settlement import settle as run_check

    recorder = _recorder(ledger_path, repo_path, "check", base=base, candidates=list(candidates), claims=claims, plan=plan,
                         branch_template=branch_template, policy=policy, strict=strict, verify=verify_command)
    leases = _live_leases(recorder)
    verify = None
    if verify_command is not None:
        from settle.evidence import VerifyOptions

        verify = VerifyOptions(verify_command, verify_when, verify_timeout)
    verdict = run_check(repo_path, candidates, base, policy=policy, strict=strict, claims=claims, plan=plan,
                        max_file_size=max_file_size, branch_template=branch_template, progress=_progress_factory(),
                        leases=leases, verify=verify)
    _write(_render(verdict, output_format, output), output)
    _record(recorder, verdict)
    sys.exit(EXIT_MERGE if verdict.verdict == "merge" else EXIT_REJECT)


def _render(verdict, output_format: str, output: str | None) -> str:
    if output_format == "json":
        return verdict.to_json()
    if output_format == "sarif":
        from settle.render.sarif import render_sarif

        return render_sarif(verdict)
    from settle.render.text import render_text

    colour = output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return render_text(verdict, colour=colour)


@cli.group()
def plan():
    """Plans: many tasks with branches, dependencies and claims."""


@plan.command("lint")
@click.argument("plan_path", metavar="PLAN")
@REPO_OPTION
@click.option("--base", help="Base the plan starts from (default: origin/HEAD, else main, else master).")
@click.option("--branch-template", default="{task}", show_default=True, help="Branch of a task that names none.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@LEDGER_OPTION
@NO_CACHE_OPTION
@_guarded
@_reads_git
def plan_lint(plan_path, repo_path, base, branch_template, output_format, output, ledger_path):
    """Refute a plan before work starts: cycles, unresolved claims, parallel tasks that collide."""
    from settle.bind.lint import lint_plan

    recorder = _recorder(ledger_path, repo_path, "plan lint", plan=plan_path, base=base, branch_template=branch_template)
    verdict = lint_plan(plan_path, repo_path, base, branch_template)
    _write(_render(verdict, output_format, output), output)
    _record(recorder, verdict)
    sys.exit(EXIT_MERGE if verdict.verdict == "merge" else EXIT_REJECT)


@cli.group()
def claims():
    """Claims files."""


@claims.command("infer")
@click.argument("candidate")
@REPO_OPTION
@click.option("--base", help="Target branch (default: origin/HEAD, else main, else master).")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@NO_CACHE_OPTION
@_guarded
@_reads_git
def claims_infer(candidate, repo_path, base, output):
    """Print the smallest claims file that covers what CANDIDATE touched."""
    from settle.bind.infer import infer_claims

    _write(infer_claims(repo_path, candidate, base), output)


@cli.command()
@REPO_OPTION
@click.option("--last", type=click.IntRange(min=1), help="The N most recent merges reachable from HEAD.")
@click.option("--range", "revision_range", metavar="A..B", help="Merges reachable from B and not from A.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write JSON Lines to this file instead of stdout.")
@click.option("--syntax/--no-syntax", default=True, show_default=True,
              help="Parse every file a candidate changed for syntax errors it introduces; --no-syntax looks only "
                   "in the files replay parses anyway (much faster on large histories).")
@MAX_SIZE_OPTION
@LEDGER_OPTION
@NO_CACHE_OPTION
@click.option("--interference", type=click.Choice(["off", "parsed", "wide"]), default="parsed", show_default=True,
              help="The interference pass: off; on the files the other passes parse anyway (parsed); or also "
                   "parsing the changed files only interference can need (wide: slower, sees more).")
@_guarded
@_reads_git
def replay(repo_path, last, revision_range, jobs, output, syntax, max_file_size, ledger_path, interference):
    """Re-settle every merge commit: its parents are the sides. One JSON verdict per line, in history order."""
    from settle.errors import SettleError
    from settle.parse.store import DiskCache, repository_places
    from settle.replay import Selection, merge_commits, replay_lines
    from settle.repo import Repository

    if last is not None and revision_range is not None:
        raise SettleError("give --last or --range, not both")
    recorder = _recorder(ledger_path, repo_path, "replay", last=last, range=revision_range, syntax=syntax, interference=interference)
    repository = Repository.open(repo_path)
    repository.remember_in(DiskCache.default(avoid=repository_places(repository)))
    merges = merge_commits(repository, last, revision_range)
    if not merges:
        # Not an error (an orchestrator may replay every new range), but an empty
        # output should not look like a silent failure.
        where = f"in {revision_range}" if revision_range is not None else "reachable from HEAD"
        click.echo(f"settle: no merge commits {where}; nothing to replay", err=True)
    try:
        sink = open(output, "w", encoding="utf-8") if output else sys.stdout
    except OSError as error:
        raise SettleError(f"cannot write --output {output}: {error.strerror}") from error
    progress = _progress_factory()
    lines = replay_lines(repo_path, merges, jobs, max_file_size, syntax, interference,
                         Selection.of(repository, last, revision_range))
    bar = progress(lines, "replaying merges", length=len(merges)) if progress and merges else None
    try:
        # Whole lines only: an interrupted run leaves a valid JSON Lines file.
        with (bar if bar is not None else _nothing(lines)) as items:
            for line in items:
                sink.write(line)
                sink.flush()
                if recorder is not None:
                    recorder.record_json(line)  # one event per merge verdict, after it is out
    finally:
        if output:
            sink.close()
        if recorder is not None:
            recorder.close()


def _nothing(items):
    from contextlib import nullcontext

    return nullcontext(items)


@cli.command()
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("--format", "output_format", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False),
              help="Also aggregate the verdicts recorded in this settlement ledger.")
@_guarded
def report(inputs, output_format, output, ledger_path):
    """Aggregate verdict files (JSON from check, JSON Lines from replay) into a conflict taxonomy."""
    from settle.render.report import RENDERERS, build_taxonomy, load_verdicts

    verdicts = _ledger_verdicts(ledger_path, bool(inputs))
    if inputs or not verdicts:
        verdicts += load_verdicts(list(inputs))
    _write(RENDERERS[output_format](build_taxonomy(verdicts)), output)


def _ledger_verdicts(ledger_path: str | None, other_inputs: bool) -> list[dict]:
    if ledger_path is None:
        if not other_inputs:
            raise click.UsageError("give INPUT files, --ledger FILE, or both")
        return []
    from settle.ledger.record import verdict_documents

    return verdict_documents(ledger_path)


@cli.command()
@click.option("--memory", "of_memory", is_flag=True, help="The schema of `settle memory --format json` instead.")
def schema(of_memory):
    """Print the JSON Schema of the verdict document."""
    import json

    if of_memory:
        from settle.ledger.memory import memory_schema

        click.echo(json.dumps(memory_schema(), indent=2, sort_keys=True))
        return
    from settle.models import verdict_schema

    click.echo(json.dumps(verdict_schema(), indent=2, sort_keys=True))


# -- ledger and memory (issue 14) ----------------------------------------------------------

LEDGER_READ_OPTION = click.option(
    "--ledger", "ledger_path", envvar="SETTLE_LEDGER", required=True, type=click.Path(dir_okay=False),
    help="The settlement ledger (default: $SETTLE_LEDGER).",
)


@cli.group()
def ledger():
    """The settlement ledger: verify its hash chain, list its events."""


@ledger.command("verify")
@LEDGER_READ_OPTION
@_guarded
def ledger_verify(ledger_path):
    """Recompute the hash chain; exit 0 when every event matches, 1 naming the first that doesn't."""
    from settle.ledger.store import Ledger, verify_file

    problem = verify_file(ledger_path)
    if problem is not None:
        click.echo(f"settle: ledger {ledger_path}: {problem}", err=True)
        sys.exit(EXIT_REJECT)
    with Ledger.open(ledger_path, create=False, readonly=True) as opened:
        click.echo(f"ledger {ledger_path}: {opened.count()} event(s), chain valid")


@ledger.command("log")
@LEDGER_READ_OPTION
@click.option("--since", help="Events from this time on (ISO-8601 date or time, UTC unless it says otherwise; or Unix seconds).")
@click.option("--candidate", help="Only verdicts about this candidate ref.")
@click.option("--type", "event_type", help="Only events of this type (verdict, lease, release).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one event document per line (JSON Lines).")
@_guarded
def ledger_log(ledger_path, since, candidate, event_type, output_format):
    """List the ledger's events, oldest first."""
    import json

    from settle.ledger.render import log_line
    from settle.ledger.store import Ledger

    with Ledger.open(ledger_path, create=False, readonly=True) as opened:
        events = opened.events(event_type, since)
    if candidate is not None:
        events = [e for e in events if any(c.get("ref") == candidate for c in e.payload.get("candidates", []))]
    for event in events:
        if output_format == "json":
            click.echo(json.dumps(event.document(), sort_keys=True, ensure_ascii=False, separators=(",", ":")))
        else:
            click.echo(log_line(event))


@cli.command()
@click.argument("candidate", required=False)
@click.option("--ledger", "ledger_path", envvar="SETTLE_LEDGER", required=True, type=click.Path(dir_okay=False),
              help="The settlement ledger (default: $SETTLE_LEDGER).")
@REPO_OPTION
@click.option("--base", help="Target that landing is judged against (default: origin/HEAD, else main, else master).")
@click.option("--claims", type=click.Path(dir_okay=False), help="What this claims file will touch (before any branch exists).")
@click.option("--plan", type=click.Path(), help="Plan file (with --task): what that task will touch.")
@click.option("--task", help="The plan task (with --plan).")
@click.option("--branch-template", default="{task}", show_default=True, help="Branch of a plan task that names none.")
@click.option("--symbol", "symbols", multiple=True, metavar="ID", help="A symbol id (PATH::QUALNAME); repeatable.")
@click.option("--path", "paths", multiple=True, metavar="GLOB", help="A path or path glob; repeatable.")
@click.option("--format", "output_format", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="At most this many symbols or paths, the best ranked (0: all).")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@_guarded
@_reads_git
def memory(candidate, ledger_path, repo_path, base, claims, plan, task, branch_template, symbols, paths, output_format,
           limit, output):
    """What earlier verdicts found on what an attempt touches: a brief for the next agent's prompt (md) or JSON."""
    from settle.ledger.subjects import recall

    found = recall(ledger_path, repo_path, base, candidate=candidate, claims=claims, plan=plan, task=task,
                   symbols=symbols, paths=paths, branch_template=branch_template, limit=limit or None)
    if output_format == "json":
        _write(found.to_json(), output)
    else:
        from settle.ledger.render import memory_markdown

        _write(memory_markdown(found), output)


# -- leases (issue 15) ----------------------------------------------------------------------


def _live_leases(recorder):
    """The ledger's live leases, for check's leased_elsewhere (None without a ledger)."""
    if recorder is None:
        return None
    from settle.ledger.leases import live_leases

    return live_leases(recorder.ledger)


LEASE_LEDGER_OPTION = click.option("--ledger", "ledger_path", envvar="SETTLE_LEDGER", required=True, type=click.Path(dir_okay=False),
                                   help="The settlement ledger the leases live in (default: $SETTLE_LEDGER).")
LEASE_FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)


@cli.command()
@click.argument("patterns", nargs=-1, required=True, metavar="PATTERN...")
@click.option("--holder", required=True, metavar="CANDIDATE", help="Who takes the lease: the candidate branch (or worktree:DIR) that will edit.")
@click.option("--ttl", type=click.IntRange(min=1), default=1800, show_default=True, help="Seconds until the lease expires; leasing again renews it.")
@click.option("--steal", is_flag=True, help="Take over another holder's lease that has expired but was never released.")
@LEASE_LEDGER_OPTION
@REPO_OPTION
@LEASE_FORMAT_OPTION
@_guarded
@_reads_git
def lease(patterns, holder, ttl, steal, ledger_path, repo_path, output_format):
    """Lease symbols or paths (claim patterns) for CANDIDATE; exit 1 when another holder has one of them."""
    from settle.ledger.agents import lease_command

    text, granted = lease_command(ledger_path, repo_path, holder, patterns, ttl, steal, output_format)
    click.echo(text, nl=False)
    sys.exit(EXIT_MERGE if granted else EXIT_REJECT)


@cli.command()
@click.argument("patterns", nargs=-1, metavar="[PATTERN...]")
@click.option("--holder", metavar="CANDIDATE", help="Whose leases to end (required unless --all).")
@click.option("--all", "every", is_flag=True, help="All the holder's leases; without --holder, every holder's.")
@LEASE_LEDGER_OPTION
@REPO_OPTION
@LEASE_FORMAT_OPTION
@_guarded
@_reads_git
def release(patterns, holder, every, ledger_path, repo_path, output_format):
    """End leases: the holder's on the PATTERNs given, or all of them with --all."""
    from settle.ledger.agents import release_command

    click.echo(release_command(ledger_path, repo_path, holder, patterns, every, output_format), nl=False)


@cli.command()
@LEASE_LEDGER_OPTION
@click.option("--holder", metavar="CANDIDATE", help="Only this holder's.")
@LEASE_FORMAT_OPTION
@_guarded
def leases(ledger_path, holder, output_format):
    """List the live leases: holder, pattern, since and until when."""
    from settle.ledger.agents import leases_command

    click.echo(leases_command(ledger_path, holder, output_format), nl=False)


# -- settle serve (the agents' face) --------------------------------------------------------


@cli.command()
@click.option("--ledger", type=click.Path(dir_okay=False), envvar="SETTLE_LEDGER",
              help="Ledger for the tools that take one (check, memory, lease, release, leases) when a call names none. [env: SETTLE_LEDGER]")
@_guarded
@_reads_git
def serve(ledger):
    """Serve settle's commands as Model Context Protocol tools on stdio.

    Tools: check, symbols, claims_infer, plan_lint, memory, lease, release, leases. Each
    returns the document the command prints (JSON by default); input errors are tool errors
    with the command's message. Symbol tables stay warm between calls. A worktree:DIR
    candidate's DIR is relative to the call's repo argument.

    Register it with an MCP client (Claude Code, Claude Desktop, Cursor...) in its config:

    \b
        {"mcpServers": {"settle": {"command": "settle", "args": ["serve"]}}}

    or, with Claude Code: claude mcp add settle -- settle serve
    """
    from settle.serve import serve as run_server

    run_server(ledger)


def _progress_factory():
    """A progress bar on a terminal's stderr, with rate and ETA; nothing in pipes.
    `progress(items, label, length=None)`: length for items that have no len (a stream)."""
    if not sys.stderr.isatty():
        return None

    def progress(items, label, length=None):
        bar = click.progressbar(items, length=length, label=label, file=sys.stderr, show_eta=True, show_pos=True)
        # click keeps the bar's start time and position but shows no rate; the rate
        # tells a replay's user more than the bar does on a history of uneven merges.
        bar.item_show_func = lambda _: _rate(bar.pos, time.time() - bar.start)
        return bar

    return progress


def _rate(done: int, seconds: float) -> str | None:
    if not done or seconds <= 0:
        return None
    per_second = done / seconds
    return f"{per_second:.1f}/s" if per_second >= 1 else f"{seconds / done:.1f} s each"


def main(argv: list[str] | None = None) -> int:
    _collect_cycles_rarely()
    try:
        # Not standalone: click would print its usage block for usage errors; settle prints one line.
        code = cli.main(args=argv, prog_name="settle", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        # A bare `settle` (or `settle plan`) asks for the help, not an error.
        click.echo(error.ctx.get_help())
        return 0
    except click.UsageError as error:
        click.echo(_usage_line(error), err=True)
        return EXIT_INPUT
    except click.exceptions.Abort:
        click.echo("settle: interrupted", err=True)
        return 130
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as error:
        click.echo(f"settle: {error.format_message()}", err=True)
        return error.exit_code
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else EXIT_INPUT)
    # `--help` and `--version` end in click's Exit, which non-standalone click returns as a code.
    return code if isinstance(code, int) else 0


def run() -> None:
    """The `settle` command: `main`, then the process ends without tearing its heap down.

    A replay ends holding thousands of tables in reference cycles (tables and the closures
    that fill them in lazily); Python's shutdown walks and frees all of them, a fifth of a
    second on cobra's whole history, for memory the kernel takes back at once. So once the
    command is done, the exit handlers run (the disk cache's last writes, the scratch store's
    removal, git merges reaped), the standard streams are flushed, and the process ends.
    Another thread still running gets the normal shutdown, which waits for it, and so does a
    profiler or tracer watching (`python -m cProfile`, coverage), which writes after the exit handlers.
    """
    code = main()
    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone (`| head`) or a stream closed: nothing left to say
            pass
    os._exit(code)


def _collect_cycles_rarely() -> None:
    """Let the cycle collector run a seventieth as often as Python's default.

    settle builds many small objects that live for one merge (definitions,
    references, tuples). At the default threshold (700 allocations) many of them
    are still alive at two young collections and get promoted, and every time a
    quarter of the heap has been promoted Python scans all of it: a fifth of a
    whole-history replay went to those full scans. A young generation of 50,000
    lets them die before promotion; cycles are still collected, a little later
    (zod's whole history: no full scan at all, the same peak memory). Only the
    command does this: the library leaves its host's collector alone.
    """
    import gc

    gc.set_threshold(50_000, 20, 10)


def _usage_line(error: click.UsageError) -> str:
    """A usage error as one line naming the fix (DESIGN: exit 2 is one line on stderr), not click's usage block."""
    command = error.ctx.command_path if error.ctx is not None else "settle"
    text = " ".join(error.format_message().split()).rstrip(".")
    text = text[:1].lower() + text[1:]
    usage = " ".join(error.ctx.get_usage().split()) if error.ctx is not None else ""
    usage = usage[len("Usage: "):] if usage.startswith("Usage: ") else usage
    return f"{command}: {text} (usage: {usage}; see `{command} --help`)"
