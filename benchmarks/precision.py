"""Precision of `settle replay` on real history: the error findings on merges git merged cleanly.

    python benchmarks/precision.py REPO [REPO ...] [--last N] [--jobs 2]
        [--baseline /path/to/old/venv/bin/settle] [--runs 3] [--sample 20] [--keep DIR]

For each repository, replays its merges (the whole history unless --last) with
this checkout's `settle` and, when --baseline names another build's executable
(e.g. a venv made from `git archive b444813`), with that one too, in the same
run, one after the other. Prints per repository: merges replayed, merges with
settle's text conflicts, the error findings on the merges without a text
conflict by kind, a sample of them (merge id, message) to judge by hand against
the merged code (`git show MERGE`, `git merge-tree`), the error findings that
changed against the baseline (every one must be read: a new one may be a new
false alarm), and both replay times with their ratio (with --runs N, medians
of N interleaved runs). Ends with one JSON line.
Nothing is written to the repositories; --keep saves the JSON Lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SETTLE = str(Path(sys.executable).with_name("settle"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+")
    parser.add_argument("--last", type=int, default=None, help="only the N most recent merges (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline", default=None, help="another build's settle executable, replayed in the same run")
    parser.add_argument("--sample", type=int, default=20, help="findings listed per repository (all when fewer)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", default=None, help="directory to keep the JSON Lines in")
    parser.add_argument("--runs", type=int, default=1,
                        help="with --baseline: replay both this many times, interleaved, and compare median times")
    args = parser.parse_args(argv)
    summary = {}
    for repo in args.repos:
        summary[_name(repo)] = _repository(args, repo)
    print(json.dumps(summary, sort_keys=True))
    return 0


def _repository(args, repo: str) -> dict:
    name = _name(repo)
    current = _replay(SETTLE, repo, args, "current")
    baseline = _replay(args.baseline, repo, args, "baseline") if args.baseline else None
    if baseline is not None and args.runs > 1:
        # A shared machine drifts from minute to minute: alternate the two and take medians.
        times = {"current": [current["seconds"]], "baseline": [baseline["seconds"]]}
        for _ in range(args.runs - 1):
            for label, executable in (("baseline", args.baseline), ("current", SETTLE)):
                times[label].append(_replay(executable, repo, args, label)["seconds"])
        current["seconds"], baseline["seconds"] = statistics.median(times["current"]), statistics.median(times["baseline"])
    errors = _clean_errors(current["verdicts"])
    kinds = Counter(f"{f['kind']}/{f['subkind']}" for _, f in errors)
    print(f"== {name}: {len(current['verdicts'])} merges, {current['conflicted']} with text conflicts, "
          f"{len(errors)} error findings on {len({m for m, _ in errors})} clean merges")
    for kind, count in sorted(kinds.items()):
        print(f"   {count:>5}  {kind}")
    sample = sorted(random.Random(args.seed).sample(errors, min(args.sample, len(errors))), key=lambda e: e[0])
    print(f"-- sample of {len(sample)}:")
    for merge, finding in sample:
        print(f"   {merge[:10]}  {finding['id']}  {finding['message']}")
    result = {"merges": len(current["verdicts"]), "conflicted": current["conflicted"], "errors": len(errors),
              "by_kind": dict(sorted(kinds.items())), "seconds": round(current["seconds"], 1)}
    if baseline is not None:
        before = _clean_errors(baseline["verdicts"])
        gone, new = _changed(before, errors)
        print(f"-- against the baseline: {len(before)} error findings before, {len(errors)} now; "
              f"{len(gone)} gone, {len(new)} new")
        for merge, finding in new:
            print(f"   new   {merge[:10]}  {finding['message']}")
        for merge, finding in gone[: args.sample]:
            print(f"   gone  {merge[:10]}  {finding['message']}")
        ratio = current["seconds"] / baseline["seconds"] if baseline["seconds"] else float("nan")
        print(f"-- replay seconds: {current['seconds']:.1f} now, {baseline['seconds']:.1f} baseline: {ratio:.2f}x")
        result.update(baseline_errors=len(before), gone=len(gone), new=len(new),
                      baseline_seconds=round(baseline["seconds"], 1), ratio=round(ratio, 3))
    return result


def _replay(executable: str, repo: str, args, label: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="settle-precision-") as scratch:
        output = Path(args.keep or scratch) / f"{_name(repo)}-{label}.jsonl"
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [executable, "replay", "--repo", repo, "--jobs", str(args.jobs), "--output", str(output)]
        if args.last:
            command += ["--last", str(args.last)]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
        verdicts = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    conflicted = sum(1 for v in verdicts if any(f["kind"] == "text_conflict" for f in v["findings"]))
    return {"verdicts": verdicts, "seconds": seconds, "conflicted": conflicted}


def _clean_errors(verdicts: list[dict]) -> list[tuple[str, dict]]:
    """(merge, finding) for every error finding of a merge without a text conflict."""
    found = []
    for verdict in verdicts:
        if any(f["kind"] == "text_conflict" for f in verdict["findings"]):
            continue
        found += [(verdict["merge_commit"], f) for f in verdict["findings"] if f["severity"] == "error"]
    return found


def _changed(before, after):
    """Findings only before, and only after; told apart by merge and message (ids move when wording does)."""
    key = lambda entry: (entry[0], entry[1]["message"])  # noqa: E731
    old, now = {key(e) for e in before}, {key(e) for e in after}
    return [e for e in before if key(e) not in now], [e for e in after if key(e) not in old]


def _name(repo: str) -> str:
    path = os.path.abspath(repo).rstrip("/")
    return os.path.basename(os.path.dirname(path)) if os.path.basename(path) in ("repo", ".git") else os.path.basename(path)


if __name__ == "__main__":
    raise SystemExit(main())
