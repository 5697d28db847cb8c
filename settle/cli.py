"""The `settle` command: a thin shell that parses options and calls the library.

Only click is imported at start-up; pygit2, tree-sitter and pydantic load when
a command runs, so `settle --help` stays fast.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
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
                traceback.print_exc()
            click.echo(f"settle: internal error ({type(error).__name__}: {error}); treat as reject", err=True)
            sys.exit(EXIT_INTERNAL)

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


@cli.command()
@REPO_OPTION
@click.option("--rev", default="HEAD", show_default=True, help="Commit, branch or tag to read.")
@click.argument("paths", nargs=-1)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@MAX_SIZE_OPTION
@_guarded
def symbols(repo_path: str, rev: str, paths: tuple[str, ...], output_format: str, output: str | None, max_file_size: int) -> None:
    """Print the symbol tables of a revision (every supported file, or the PATHs given)."""
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
# -- evidence (--verify): options of their own block --
@click.option("--verify", "verify_command", metavar="CMD",
              help="Run CMD (shell) on the target with each candidate merged, and with both merged; env SETTLE_SIDE names the tree.")
@click.option("--verify-when", type=click.Choice(["interference", "always"]), default="interference", show_default=True,
              help="Which candidate pairs --verify runs: those with an interference finding, or every pair.")
@click.option("--verify-timeout", type=click.FloatRange(min=0, min_open=True), default=600, show_default=True,
              help="Seconds each --verify run may take before it is killed and reported.")
@_guarded
def check(repo_path, base, candidates, claims, plan, branch_template, policy, output_format, output, strict, max_file_size,
          verify_command, verify_when, verify_timeout):
    """Settle CANDIDATE branches (default: HEAD) against the target; exit 0 merge, 1 reject."""
    if claims and plan:
        from settle.errors import SettleError

        raise SettleError("give --claims or --plan, not both")
    from settle.settlement import check as run_check

    verify = None
    if verify_command is not None:
        from settle.evidence import VerifyOptions

        verify = VerifyOptions(verify_command, verify_when, verify_timeout)
    verdict = run_check(repo_path, candidates, base, policy=policy, strict=strict, claims=claims, plan=plan,
                        max_file_size=max_file_size, branch_template=branch_template, progress=_progress_factory(),
                        verify=verify)
    _write(_render(verdict, output_format, output), output)
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
@_guarded
def plan_lint(plan_path, repo_path, base, branch_template, output_format, output):
    """Refute a plan before work starts: cycles, unresolved claims, parallel tasks that collide."""
    from settle.bind.lint import lint_plan

    verdict = lint_plan(plan_path, repo_path, base, branch_template)
    _write(_render(verdict, output_format, output), output)
    sys.exit(EXIT_MERGE if verdict.verdict == "merge" else EXIT_REJECT)


@cli.group()
def claims():
    """Claims files."""


@claims.command("infer")
@click.argument("candidate")
@REPO_OPTION
@click.option("--base", help="Target branch (default: origin/HEAD, else main, else master).")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@_guarded
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
@click.option("--interference", type=click.Choice(["off", "parsed", "wide"]), default="parsed", show_default=True,
              help="The interference pass: off; on the files the other passes parse anyway (parsed); or also "
                   "parsing the changed files only interference can need (wide: slower, sees more).")
@_guarded
def replay(repo_path, last, revision_range, jobs, output, syntax, max_file_size, interference):
    """Re-settle every merge commit: its parents are the sides. One JSON verdict per line, in history order."""
    from settle.errors import SettleError
    from settle.replay import merge_commits, replay_lines
    from settle.repo import Repository

    if last is not None and revision_range is not None:
        raise SettleError("give --last or --range, not both")
    merges = merge_commits(Repository.open(repo_path), last, revision_range)
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
    lines = replay_lines(repo_path, merges, jobs, max_file_size, syntax, interference)
    bar = progress(lines, "replaying merges", length=len(merges)) if progress and merges else None
    try:
        # Whole lines only: an interrupted run leaves a valid JSON Lines file.
        with (bar if bar is not None else _nothing(lines)) as items:
            for line in items:
                sink.write(line)
                sink.flush()
    finally:
        if output:
            sink.close()


def _nothing(items):
    from contextlib import nullcontext

    return nullcontext(items)


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--format", "output_format", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@_guarded
def report(inputs, output_format, output):
    """Aggregate verdict files (JSON from check, JSON Lines from replay) into a conflict taxonomy."""
    from settle.render.report import RENDERERS, build_taxonomy, load_verdicts

    _write(RENDERERS[output_format](build_taxonomy(load_verdicts(list(inputs)))), output)


@cli.command()
def schema():
    """Print the JSON Schema of the verdict document."""
    import json

    from settle.models import verdict_schema

    click.echo(json.dumps(verdict_schema(), indent=2, sort_keys=True))


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
    try:
        cli.main(args=argv, prog_name="settle", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else EXIT_INPUT)
    return 0
