"""`settle serve`: latency of a `check` tool call on a warm server, against a fresh `settle check` process.

    python benchmarks/serve.py [--mirror PATH] [--runs 15] [--keep DIR]

In a `git clone --shared` of a real repository (default: the mypy mirror; at least
400 files), a branch makes a body-only change to one function. Measured in one run:
  * `settle check BRANCH` as a fresh process (wall time, interpreter start included);
  * the same check as an MCP `check` tool call on a running `settle serve`, driven by
    the SDK's stdio client: the first call (cold tables), then the median of --runs
    warm calls;
  * the same change left uncommitted, as `worktree:.` (fresh process, and warm calls).
The warm-call documents are compared with the process's stdout (they must be the same
bytes). Prints a table and one JSON line; the goal is a warm call <= 50 ms and >= 5x
faster than the process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTLE = str(Path(sys.executable).with_name("settle"))
MIRROR = "/work/.mirror/python+mypy/repo"
ENVIRONMENT = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@settle.invalid",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@settle.invalid",
               "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=ENVIRONMENT).stdout


def body_only_change(source: str) -> str:
    """The first function whose body is a plain indented block gets one more statement at its top."""
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("def ") and line.rstrip().endswith(":") and index + 1 < len(lines):
            body = lines[index + 1]
            indent = body[: len(body) - len(body.lstrip())]
            if len(indent) > len(line) - len(stripped) and not body.lstrip().startswith(('"""', "'''")):
                lines.insert(index + 1, f"{indent}_settle_benchmark = None\n")
                return "".join(lines)
    raise SystemExit("no function with a plain body to change")


def prepare(mirror: str, destination: Path) -> tuple[str, str, int]:
    """The clone, its base branch, the changed path and the number of files."""
    git("clone", "--shared", "--quiet", mirror, str(destination), cwd=destination.parent)
    base = git("rev-parse", "--abbrev-ref", "HEAD", cwd=destination).strip()
    files = git("ls-files", cwd=destination).splitlines()
    path = next(p for p in ("mypy/checker.py", "mypy/nodes.py") if p in files)
    target = destination / path
    original = target.read_text()
    git("checkout", "--quiet", "-b", "bench/body-only", cwd=destination)
    target.write_text(body_only_change(original))
    git("commit", "--quiet", "-am", "body-only change", cwd=destination)
    git("checkout", "--quiet", base, cwd=destination)
    return base, path, len(files)


def process_check(repo: Path, arguments: list[str], runs: int) -> tuple[float, str]:
    timings, stdout = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([SETTLE, "check", *arguments, "--format", "json"], cwd=repo, capture_output=True, text=True)
        timings.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            raise SystemExit(f"settle check failed ({result.returncode}): {result.stderr[:500]}")
        stdout = result.stdout
    return statistics.median(timings), stdout


async def served_checks(repo: Path, calls: dict[str, dict], runs: int) -> dict[str, tuple[float, list[float], str]]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    parameters = StdioServerParameters(command=SETTLE, args=["serve"], cwd=str(repo))
    measured = {}
    with open(os.devnull, "w") as quiet:
        async with stdio_client(parameters, errlog=quiet) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for label, arguments in calls.items():
                    timings, text = [], ""
                    for _ in range(runs + 1):
                        start = time.perf_counter()
                        result = await session.call_tool("check", arguments)
                        timings.append(time.perf_counter() - start)
                        if result.is_error:
                            raise SystemExit(f"check tool failed: {result.content[0].text}")
                        text = result.content[0].text
                    measured[label] = (timings[0], timings[1:], text)
    return measured


def main(argv: list[str] | None = None) -> int:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=MIRROR, help="A git repository (bare is fine) of at least 400 files.")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="Clone into this directory and keep it.")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="settle-serve-bench-"))
    repo = args.keep or workdir / "clone"
    repo.parent.mkdir(parents=True, exist_ok=True)
    try:
        base, path, files = prepare(args.mirror, repo)
        branch_arguments = ["bench/body-only", "--base", base]
        process_branch, printed_branch = process_check(repo, branch_arguments, max(3, args.runs // 3))
        # The same change, uncommitted in the work tree.
        (repo / path).write_text(git("show", f"bench/body-only:{path}", cwd=repo))
        process_tree, printed_tree = process_check(repo, ["worktree:.", "--base", base], max(3, args.runs // 3))
        served = anyio.run(served_checks, repo, {
            "branch": {"repo": str(repo), "candidates": ["bench/body-only"], "base": base},
            "worktree": {"repo": str(repo), "candidates": ["worktree:."], "base": base},
        }, args.runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    same = served["branch"][2] == printed_branch and served["worktree"][2] == printed_tree
    branch_warm = statistics.median(served["branch"][1])
    tree_warm = statistics.median(served["worktree"][1])
    print(f"repository: {args.mirror} ({files} files), body-only change to {path}; {args.runs} warm calls each")
    print(f"{'measure':<44} {'seconds':>9} {'speedup':>8}")
    rows = [
        ("settle check BRANCH (fresh process)", process_branch, None),
        ("check tool, first call (cold server)", served["branch"][0], process_branch),
        ("check tool, warm call (median)", branch_warm, process_branch),
        ("settle check worktree:. (fresh process)", process_tree, None),
        ("check tool worktree:., first call", served["worktree"][0], process_tree),
        ("check tool worktree:., warm call (median)", tree_warm, process_tree),
    ]
    for label, seconds, baseline in rows:
        ratio = f"{baseline / seconds:.1f}x" if baseline else "-"  # the process's time over this one's
        print(f"{label:<44} {seconds:>9.4f} {ratio:>8}")
    goal = branch_warm <= 0.050 and process_branch / branch_warm >= 5
    print(f"documents identical to the process's stdout: {'yes' if same else 'NO'}; "
          f"goal (warm <= 50 ms and >= 5x): {'met' if goal else 'NOT met'}")
    print(json.dumps({
        "benchmark": "serve", "files": files, "runs": args.runs,
        "process_s": round(process_branch, 4), "cold_call_s": round(served["branch"][0], 4), "warm_call_s": round(branch_warm, 4),
        "speedup": round(process_branch / branch_warm, 1),
        "worktree_process_s": round(process_tree, 4), "worktree_warm_call_s": round(tree_warm, 4),
        "worktree_speedup": round(process_tree / tree_warm, 1), "identical": same,
    }, sort_keys=True))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
