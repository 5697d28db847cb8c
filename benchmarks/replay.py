"""`settle replay` over a real history vs a `git merge-tree --write-tree` loop over the same merges.

    python benchmarks/replay.py REPO [--last 300] [--jobs 2]

Prints wall time of both, their ratio, settle's peak memory (max RSS of the
replay and its workers), and whether both find the same set of merges with
text conflicts (they must). settle runs twice: as `settle replay` (every
changed candidate file checked for syntax errors) and with `--no-syntax`.
With --runs N (default 3) each of the three is run N times, interleaved, and
the medians are reported: shared machines drift by a fifth from one minute to
the next. Prints a table and one JSON line.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--last", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from settle.replay import merge_commits
    from settle.repo import Repository

    repository = Repository.open(args.repo)
    merges = merge_commits(repository, args.last)
    parents = {merge: repository.parents(merge) for merge in merges}

    git_times, samples = [], {"settle replay": [], "settle replay --no-syntax": []}
    for _ in range(args.runs):
        seconds, git_conflicted = _run_git(args.repo, merges, parents)
        git_times.append(seconds)
        for label, extra in (("settle replay", []), ("settle replay --no-syntax", ["--no-syntax"])):
            samples[label].append(_run_settle(args, extra))
    git_seconds = statistics.median(git_times)
    runs = {label: _median_run(found) for label, found in samples.items()}
    settle_seconds, peak_mib, settle_conflicted, kinds = runs["settle replay"]
    same = all(run[2] == git_conflicted for run in runs.values())
    ratio = settle_seconds / git_seconds
    name = os.path.basename(os.path.abspath(args.repo).rstrip("/"))
    print(f"repository: {args.repo} ({name}), {len(merges)} merges, settle --jobs {args.jobs}, median of {args.runs} runs")
    print(f"{'':<26} {'seconds':>8}  {'ratio':>6}  {'peak MiB':>8}  conflicted merges")
    print(f"{'git merge-tree loop':<26} {git_seconds:>8.2f}  {'':>6}  {'':>8}  {len(git_conflicted)}")
    for label, (seconds, peak, conflicted, _) in runs.items():
        print(f"{label:<26} {seconds:>8.2f}  {seconds / git_seconds:>5.2f}x  {peak:>8.0f}  {len(conflicted)}")
    print(f"ratio settle/git: {ratio:.2f}x (bar: 3x)   same text conflicts: {'yes' if same else 'NO'}   peak memory: {peak_mib:.0f} MiB")
    if not same:
        print(f"  only git: {sorted(git_conflicted - settle_conflicted)[:5]}  only settle: {sorted(settle_conflicted - git_conflicted)[:5]}")
    print(json.dumps({"benchmark": "replay", "repo": args.repo, "merges": len(merges), "jobs": args.jobs, "runs": args.runs,
                      "git_s": round(git_seconds, 2), "settle_s": round(settle_seconds, 2), "ratio": round(ratio, 2),
                      "same_conflicts": same, "peak_mib": round(peak_mib), "findings": kinds,
                      "no_syntax_s": round(runs["settle replay --no-syntax"][0], 2),
                      "no_syntax_ratio": round(runs["settle replay --no-syntax"][0] / git_seconds, 2)}, sort_keys=True))
    return 0 if same else 1


def _run_git(repo: str, merges: list[str], parents: dict[str, list[str]]) -> tuple[float, set[str]]:
    """(wall seconds, merges with a text conflict) of `git merge-tree --write-tree` over every parent pair."""
    # git writes the merged blobs and trees; a scratch object directory that borrows the
    # repository's keeps the repository as it was (as settle's own merges do).
    scratch = tempfile.mkdtemp(prefix="settle-bench-objects-")
    common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    environment = {**os.environ, "GIT_OBJECT_DIRECTORY": scratch,
                   "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(Path(repo, common, "objects").resolve())}
    start = time.perf_counter()
    conflicted = set()
    for merge in merges:
        first, *others = parents[merge]
        for other in others:
            result = subprocess.run(["git", "merge-tree", "--write-tree", "--name-only", "--no-messages", first, other],
                                    cwd=repo, capture_output=True, env=environment)
            if result.returncode == 1:
                conflicted.add(merge)
            elif result.returncode != 0:
                raise SystemExit(f"git merge-tree failed on {merge}: {result.stderr.decode()[:300]}")
    seconds = time.perf_counter() - start
    shutil.rmtree(scratch, ignore_errors=True)
    return seconds, conflicted


def _median_run(runs: list[tuple]) -> tuple:
    """The run of median wall time (with the highest peak memory of all: the bar is on the worst)."""
    middle = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    return (middle[0], max(run[1] for run in runs), *middle[2:])


def _run_settle(args, extra: list[str]) -> tuple[float, float, set[str], dict[str, int]]:
    """(wall seconds, peak MiB of this run's processes, merges with a text conflict, finding counts)."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
        output = handle.name
    start = time.perf_counter()
    # A child of its own, so that its peak memory is not mixed with an earlier run's.
    measure = [sys.executable, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True);"
               " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"]
    result = subprocess.run(measure + [SETTLE, "replay", "--repo", args.repo, "--last", str(args.last), "--jobs", str(args.jobs),
                                       "--output", output, *extra], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_mib = int(result.stdout.split()[-1]) / 1024
    conflicted = set()
    kinds: dict[str, int] = {}
    with open(output, encoding="utf-8") as lines:
        for line in lines:
            verdict = json.loads(line)
            for finding in verdict["findings"]:
                kinds[f"{finding['kind']}/{finding['subkind']}"] = kinds.get(f"{finding['kind']}/{finding['subkind']}", 0) + 1
                if finding["kind"] == "text_conflict" and "parent1" in finding["candidates"]:
                    conflicted.add(verdict["merge_commit"])
    os.unlink(output)
    return seconds, peak_mib, conflicted, kinds


if __name__ == "__main__":
    raise SystemExit(main())
