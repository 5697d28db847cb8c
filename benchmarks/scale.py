"""How `settle check` cost grows: generated repositories and candidate sets of growing size.

    python benchmarks/scale.py [--quick]

Three sweeps, one variable at a time (files in the repository, candidates,
changed symbols per candidate), each timing `check` in process (median of 3)
next to a `git merge-tree --write-tree` loop over the same merges. Expect cost
near-linear in changed symbols and candidate pairs, and nearly flat in
repository size. Prints the curves as tables and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from itertools import combinations
from pathlib import Path

from settle import scenario as scenarios
from settle.settlement import check


def module(index: int, functions: int, variant: int = 0, changed: int = 0) -> str:
    lines = [f'"""Module {index}."""', ""]
    for number in range(functions):
        bump = variant if number < changed else 0
        lines += [f"def f_{index}_{number}(value, scale=1):", f"    return value * scale + {number + bump}", ""]
    return "\n".join(lines)


def build(destination: Path, files: int, candidates: int, symbols: int) -> list[str]:
    """Candidate k changes `symbols` functions spread over its own files (2 changed functions per file)."""
    per_file = 2
    base = {f"pkg/m{i:05d}.py": module(i, 6) for i in range(files)}
    branches, names = {}, []
    touched_files = max(1, symbols // per_file)
    for k in range(candidates):
        chosen = [(k * touched_files + j) % files for j in range(touched_files)]
        name = f"agent/c{k:02d}"
        names.append(name)
        branches[name] = {"files": {f"pkg/m{i:05d}.py": module(i, 6, variant=k + 1, changed=per_file) for i in chosen}}
    scenarios.build(scenarios.Scenario.model_validate({"base": {"files": base}, "branches": branches}), destination)
    return names


def measure(files: int, candidates: int, symbols: int, work: Path) -> dict:
    repo = work / f"r{files}-{candidates}-{symbols}"
    names = build(repo, files, candidates, symbols)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        check(str(repo), names, "main")
        timings.append(time.perf_counter() - start)
    pairs = [("main", n) for n in names] + list(combinations(names, 2))
    start = time.perf_counter()
    for first, second in pairs:
        subprocess.run(["git", "merge-tree", "--write-tree", first, second], cwd=repo, capture_output=True)
    git = time.perf_counter() - start
    shutil.rmtree(repo, ignore_errors=True)
    return {"files": files, "candidates": candidates, "symbols": symbols, "settle_s": round(statistics.median(timings), 3),
            "git_s": round(git, 3), "merges": len(pairs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sweeps")
    args = parser.parse_args(argv)
    sizes = [250, 500, 1000] if args.quick else [250, 500, 1000, 2000, 4000]
    counts = [1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 16]
    changed = [2, 8, 32] if args.quick else [2, 8, 32, 128]
    sweeps = {
        "repository size (files; 2 candidates × 8 symbols)": [(f, 2, 8) for f in sizes],
        "candidates (1000 files; 8 symbols each)": [(1000, c, 8) for c in counts],
        "changed symbols per candidate (1000 files; 2 candidates)": [(1000, 2, s) for s in changed],
    }
    work = Path(tempfile.mkdtemp(prefix="settle-scale-"))
    results = {}
    try:
        for title, points in sweeps.items():
            rows = [measure(*point, work) for point in points]
            results[title] = rows
            print(title)
            print(f"  {'files':>6} {'cands':>6} {'symbols':>8} {'merges':>7} {'settle s':>9} {'git s':>7}")
            for row in rows:
                print(f"  {row['files']:>6} {row['candidates']:>6} {row['symbols']:>8} {row['merges']:>7} {row['settle_s']:>9} {row['git_s']:>7}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"benchmark": "scale", "sweeps": results}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
