"""`settle replay` over a real history vs a `git merge-tree --write-tree` loop over the same merges.

    python benchmarks/replay.py REPO [--last 300] [--jobs 2]

Prints wall time of both, their ratio, settle's peak memory (max RSS of the
replay and its workers), and whether both find the same set of merges with
text conflicts (they must). settle runs twice: as `settle replay` (every
changed candidate file checked for syntax errors) and with `--no-syntax`.
settle's runs use a cache directory of their own: "cold" empties it first,
"warm" runs on what the cold run left (the size is printed after the runs).
With --runs N (default 3) each is run N times, interleaved, and
the medians are reported: shared machines drift by a fifth from one minute to
the next. The warm run's output must be byte-identical to the cold one's.
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTLE = str(Path(sys.executable).with_name("settle"))
CPU: dict[str, list[float]] = {}  # CPU seconds (user+sys, workers included) of each settle run, by kind


def args_key(extra: list[str], cold: bool) -> str:
    return f"{' '.join(extra) or 'replay'} {'cold' if cold else 'warm'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("--last", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-syntax", action="store_true", help="Also time `--no-syntax` (cold).")
    args = parser.parse_args(argv)
    from settle.replay import merge_commits
    from settle.repo import Repository

    repository = Repository.open(args.repo)
    merges = merge_commits(repository, args.last)
    parents = {merge: repository.parents(merge) for merge in merges}

    cache = Path(tempfile.mkdtemp(prefix="settle-bench-cache-"))
    git_cpu: list[float] = []
    labels = {"settle replay (cold)": ([], True), "settle replay (warm)": ([], False)}
    if args.no_syntax:
        labels["settle replay --no-syntax (cold)"] = (["--no-syntax"], True)
    git_times, samples = [], {label: [] for label in labels}
    try:
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds, git_conflicted = _run_git(args.repo, merges, parents)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            git_cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            git_times.append(seconds)
            for label, (extra, cold) in labels.items():
                samples[label].append(_run_settle(args, extra, cache, cold))
        cache_bytes = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
        cache_files = sum(1 for p in cache.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    git_seconds = statistics.median(git_times)
    runs = {label: _median_run(found) for label, found in samples.items()}
    cold_seconds, peak_mib, settle_conflicted, kinds, _ = runs["settle replay (cold)"]
    warm_seconds = runs["settle replay (warm)"][0]
    same = all(run[2] == git_conflicted for run in runs.values())
    identical = len({run[4] for label in ("settle replay (cold)", "settle replay (warm)") for run in samples[label]}) == 1
    peak_mib = max(run[1] for run in runs.values())
    name = os.path.basename(os.path.abspath(args.repo).rstrip("/"))
    print(f"repository: {args.repo} ({name}), {len(merges)} merges, settle --jobs {args.jobs}, median of {args.runs} runs")
    print(f"{'':<32} {'seconds':>8}  {'ratio':>6}  {'peak MiB':>8}  conflicted merges")
    print(f"{'git merge-tree loop':<32} {git_seconds:>8.2f}  {'':>6}  {'':>8}  {len(git_conflicted)}")
    for label, (seconds, peak, conflicted, _, _) in runs.items():
        print(f"{label:<32} {seconds:>8.2f}  {seconds / git_seconds:>5.2f}x  {peak:>8.0f}  {len(conflicted)}")
    print(f"cold {cold_seconds / git_seconds:.2f}x (bar 5x: {'yes' if cold_seconds <= 5 * git_seconds else 'NO'})   "
          f"warm {warm_seconds / git_seconds:.2f}x (bar 2x: {'yes' if warm_seconds <= 2 * git_seconds else 'NO'})   "
          f"peak {peak_mib:.0f} MiB (bar 300: {'yes' if peak_mib <= 300 else 'NO'})")
    print(f"same text conflicts as git: {'yes' if same else 'NO'}   warm output identical to cold: {'yes' if identical else 'NO'}   "
          f"disk cache after the runs: {cache_bytes / 1048576:.1f} MiB in {cache_files} files")
    cpu = {key: statistics.median(values) for key, values in CPU.items()}
    git_cpu_median = statistics.median(git_cpu)
    print(f"CPU seconds (user+sys, median): git loop {git_cpu_median:.2f}; " + "; ".join(
        f"settle {key} {value:.2f} ({value / git_cpu_median:.2f}x)" for key, value in cpu.items()))
    if not same:
        print(f"  only git: {sorted(git_conflicted - settle_conflicted)[:5]}  only settle: {sorted(settle_conflicted - git_conflicted)[:5]}")
    print(json.dumps({"benchmark": "replay", "repo": args.repo, "merges": len(merges), "jobs": args.jobs, "runs": args.runs,
                      "git_s": round(git_seconds, 2), "cold_s": round(cold_seconds, 2), "warm_s": round(warm_seconds, 2),
                      "cold_ratio": round(cold_seconds / git_seconds, 2), "warm_ratio": round(warm_seconds / git_seconds, 2),
                      "same_conflicts": same, "identical": identical, "peak_mib": round(peak_mib), "findings": kinds,
                      "cache_bytes": cache_bytes, "all": {label: [round(run[0], 2) for run in found] for label, found in samples.items()},
                      "git_all": [round(t, 2) for t in git_times], "cpu": {k: [round(v, 2) for v in vs] for k, vs in CPU.items()},
                      "git_cpu": [round(v, 2) for v in git_cpu]}, sort_keys=True))
    return 0 if same and identical else 1


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


def _run_settle(args, extra: list[str], cache: Path, cold: bool) -> tuple[float, float, set[str], dict[str, int], str]:
    """(wall seconds, peak MiB of this run's processes, merges with a text conflict, finding counts, output digest)."""
    CPU.setdefault(args_key(extra, cold), [])
    if cold:
        shutil.rmtree(cache, ignore_errors=True)
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
        output = handle.name
    env = {**os.environ, "SETTLE_CACHE_DIR": str(cache)}
    env.pop("SETTLE_NO_CACHE", None)
    start = time.perf_counter()
    # A child of its own, so that its peak memory is not mixed with an earlier run's.
    measure = [sys.executable, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True);"
               " u = resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_maxrss, u.ru_utime + u.ru_stime)"]
    result = subprocess.run(measure + [SETTLE, "replay", "--repo", args.repo, "--last", str(args.last), "--jobs", str(args.jobs),
                                       "--output", output, *extra], check=True, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    peak_mib = int(result.stdout.split()[-2]) / 1024
    CPU[args_key(extra, cold)].append(float(result.stdout.split()[-1]))
    conflicted = set()
    kinds: dict[str, int] = {}
    with open(output, "rb") as raw:
        digest = hashlib.blake2b(raw.read(), digest_size=8).hexdigest()
    with open(output, encoding="utf-8") as lines:
        for line in lines:
            verdict = json.loads(line)
            for finding in verdict["findings"]:
                kinds[f"{finding['kind']}/{finding['subkind']}"] = kinds.get(f"{finding['kind']}/{finding['subkind']}", 0) + 1
                if finding["kind"] == "text_conflict" and "parent1" in finding["candidates"]:
                    conflicted.add(verdict["merge_commit"])
    os.unlink(output)
    return seconds, peak_mib, conflicted, kinds, digest


if __name__ == "__main__":
    raise SystemExit(main())
