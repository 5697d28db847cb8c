"""`settle check` latency on a generated 2,000-file repository, against `git merge-tree` on the same pairs.

    python benchmarks/check.py [--files 2000] [--candidates 20] [--touch 10] [--runs 5] [--keep DIR]

Measures, wall time including interpreter start (median of --runs; "cold" rows empty the
cache directory before each run, "warm" rows run on what the cold runs left):
  * `settle --help`
  * `settle check` of one candidate touching --touch files
  * `settle check` of --candidates candidates at once
  * `settle check` of a candidate that re-shapes a method whose name every module
    spells (the stale-caller scan's byte search finds all files, so all are parsed)
and, as the baseline in the same run, `git merge-tree --write-tree` over the same
merges (one per candidate against the target, plus one per candidate pair).
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

from settle import scenario as scenarios

SETTLE = str(Path(sys.executable).with_name("settle"))


def module_source(index: int, variant: int = 0) -> str:
    """A module with a few functions and a class; variant changes function bodies, never signatures."""
    lines = [f'"""Module {index}."""', "import os", ""]
    for number in range(6):
        lines += [f"def func_{index}_{number}(value, scale=1):", f"    result = value * scale + {number + variant}",
                  "    return os.path.join(str(result), 'x')", ""]
    lines += [f"class Model{index}:", "    def __init__(self, name):", "        self.name = name", "",
              "    def describe(self, verbose=False):", f"        return self.name + '{variant}'", ""]
    if index > 0:
        lines += [f"from pkg.m{index - 1:04d} import func_{index - 1}_0", "",
                  "def uses_previous():", f"    return func_{index - 1}_0({index})", ""]
    return "\n".join(lines) + "\n"


def build_repository(destination: Path, files: int, candidates: int, touch: int) -> list[str]:
    rng = random.Random(7)
    base = {f"pkg/m{i:04d}.py": module_source(i) for i in range(files)}
    branches = {}
    names = []
    for number in range(candidates):
        chosen = rng.sample(range(files), touch)
        name = f"agent/task-{number:02d}"
        names.append(name)
        branches[name] = {"files": {f"pkg/m{i:04d}.py": module_source(i, variant=number + 1) for i in chosen}}
    reshaped = module_source(0).replace("def describe(self, verbose=False):", "def describe(self, verbose):")
    branches["agent/reshape"] = {"files": {"pkg/m0000.py": reshaped}}
    scenario = scenarios.Scenario.model_validate({"base": {"files": base}, "branches": branches})
    scenarios.build(scenario, destination)
    return names


def median_wall(command: list[str], cwd: Path, runs: int, ok=(0, 1), cache: Path | None = None, cold: bool = False) -> float:
    """Median wall time; with `cache`, settle uses that cache directory, emptied before each run when `cold`."""
    timings = []
    env = {**os.environ, "SETTLE_CACHE_DIR": str(cache)} if cache is not None else None
    if env is not None:
        env.pop("SETTLE_NO_CACHE", None)
    for _ in range(runs):
        if cold and cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, env=env)
        timings.append(time.perf_counter() - start)
        if result.returncode not in ok:
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode()[:500]}")
    return statistics.median(timings)


def merge_tree_loop(repo: Path, pairs: list[tuple[str, str]]) -> None:
    for first, second in pairs:
        subprocess.run(["git", "merge-tree", "--write-tree", first, second], cwd=repo, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--touch", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build the repository here and keep it.")
    parser.add_argument("--real-repo", help="Also measure a real repository (see benchmarks/real_repo.py), e.g. a mypy mirror.")
    parser.add_argument("--function", default="mypy/subtypes.py:is_subtype", help="PATH:NAME of the function the real case re-shapes.")
    parser.add_argument("--previous", default="b444813", help="Revision of this repository to measure as the previous release.")
    parser.add_argument("--previous-venv", help="A venv with the previous release installed (else one is built).")
    parser.add_argument("--real-only", action="store_true", help="Only the real-repository case.")
    args = parser.parse_args(argv)
    real = None
    if args.real_repo:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import real_repo

        real = real_repo.measure(args.real_repo, args.function, max(1, args.runs), args.previous, args.previous_venv)
        real_repo.report(real)
        if args.real_only:
            print(json.dumps({"benchmark": "check-real", **{k: v for k, v in real.items()}}, sort_keys=True))
            return 0
    workdir = Path(tempfile.mkdtemp(prefix="settle-bench-"))
    os.environ["SETTLE_CACHE_DIR"] = str(workdir / "cache")  # never the user's cache
    repo = args.keep or workdir / "repo"
    try:
        started = time.perf_counter()
        names = build_repository(repo, args.files, args.candidates, args.touch)
        built = time.perf_counter() - started
        help_time = median_wall([SETTLE, "--help"], repo, args.runs, ok=(0,))
        one = median_wall([SETTLE, "check", "--base", "main", names[0]], repo, args.runs)
        cache = workdir / "cache"
        many = median_wall([SETTLE, "check", "--base", "main", *names], repo, max(1, args.runs // 2), cache=cache, cold=True)
        many_warm = median_wall([SETTLE, "check", "--base", "main", *names], repo, max(1, args.runs // 2), cache=cache)
        scan = median_wall([SETTLE, "check", "--base", "main", "agent/reshape"], repo, max(1, args.runs // 2), cache=cache, cold=True)
        scan_warm = median_wall([SETTLE, "check", "--base", "main", "agent/reshape"], repo, max(1, args.runs // 2), cache=cache)
        one_pairs = [("main", names[0])]
        many_pairs = [("main", n) for n in names] + list(combinations(names, 2))
        git_one = median_wall(["git", "merge-tree", "--write-tree", "main", names[0]], repo, args.runs)
        start = time.perf_counter()
        merge_tree_loop(repo, many_pairs)
        git_many = time.perf_counter() - start
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = [
        ("settle --help", help_time, None, 0.15),
        (f"check 1 candidate ({args.touch} files)", one, git_one, 0.5),
        (f"check {args.candidates} candidates", many, git_many, 5.0),
        (f"check {args.candidates} candidates, warm", many_warm, git_many, 1.2 * git_many),
        (f"check: stale scan of {args.files} files", scan, None, None),
        (f"stale scan of {args.files}, warm", scan_warm, None, None),
    ]
    print(f"repository: {args.files} files, built in {built:.1f}s; {len(many_pairs)} merges for {args.candidates} candidates")
    print(f"{'measure':<32} {'settle s':>9} {'git merge-tree s':>17} {'ratio':>7} {'bar s':>6}  ok")
    for label, seconds, baseline, bar in rows:
        ratio = f"{seconds / baseline:.1f}x" if baseline else "-"
        base_text = f"{baseline:.3f}" if baseline else "-"
        verdict = "-" if bar is None else "yes" if seconds <= bar else "NO"
        bar_text = "-" if bar is None else f"{bar:.2f}"
        print(f"{label:<32} {seconds:>9.3f} {base_text:>17} {ratio:>7} {bar_text:>6}  {verdict}")
    print(json.dumps({
        "benchmark": "check", "files": args.files, "candidates": args.candidates, "touch": args.touch,
        "help_s": round(help_time, 3), "one_s": round(one, 3), "many_s": round(many, 3), "stale_scan_s": round(scan, 3),
        "many_warm_s": round(many_warm, 3), "stale_scan_warm_s": round(scan_warm, 3), "real": real,
        "git_one_s": round(git_one, 3), "git_many_s": round(git_many, 3), "merges": len(many_pairs) + len(one_pairs) - 1,
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
