"""Precision and cost of the interference pass on real history: `settle replay` with and without it.

    python benchmarks/interference.py REPO [REPO ...] [--last N] [--jobs 2] [--sample 20] [--keep DIR]
        [--modes parsed,wide]

For each repository, replays its merges with this checkout's `settle`, in the
same run, one after the other: `--interference off` (the baseline), then each
mode (`parsed`: on the files the other passes parse anyway; `wide`: also the
files only interference can need). For each mode it prints: merges replayed, merges git merges cleanly
(no text_conflict finding), interference findings by subkind, warnings per 10
clean merges (the goal: at most 1), the skipped edges (calls and reads that
bound to no one definition), a sample of findings (merge, message) to judge by
hand against the merged code (`git show MERGE`), and both replay times with
their ratio (the goal: within 1.15). Ends with one JSON line. Nothing is written
to the repositories; --keep saves the JSON Lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
    parser.add_argument("--last", type=int, default=300, help="the N most recent merges (default 300)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20, help="findings listed per repository (all when fewer)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", default=None, help="directory to keep the JSON Lines in")
    parser.add_argument("--modes", default="parsed,wide")
    args = parser.parse_args(argv)
    summary = {_name(repo): _repository(args, repo) for repo in args.repos}
    print(json.dumps(summary, sort_keys=True))
    return 0


def _repository(args, repo: str) -> dict:
    baseline = _replay(repo, args, "off", ["--interference", "off"])
    return {mode: _mode(args, repo, baseline, mode) for mode in args.modes.split(",")}


def _mode(args, repo: str, baseline: dict, mode: str) -> dict:
    name = f"{_name(repo)} ({mode})"
    current = _replay(repo, args, mode, ["--interference", mode])
    clean = [v for v in current["verdicts"] if not any(f["kind"] == "text_conflict" for f in v["findings"])]
    found = [(v["merge_commit"], f) for v in clean for f in v["findings"] if f["kind"] == "interference"]
    every = [(v["merge_commit"], f) for v in current["verdicts"] for f in v["findings"] if f["kind"] == "interference"]
    subkinds = Counter(f["subkind"] for _, f in every)
    skipped = sum(v["stats"].get("interference_skipped_edges", 0) for v in current["verdicts"])
    per_ten = 10 * len(found) / len(clean) if clean else 0.0
    ratio = current["seconds"] / baseline["seconds"] if baseline["seconds"] else float("nan")
    print(f"== {name}: {len(current['verdicts'])} merges, {len(clean)} merged cleanly by git; "
          f"{len(every)} interference findings ({len(found)} on clean merges, {per_ten:.2f} per 10 clean merges, "
          f"on {len({m for m, _ in found})} of them); {skipped} skipped edges")
    for subkind, count in sorted(subkinds.items()):
        print(f"   {count:>5}  interference/{subkind}")
    sample = sorted(random.Random(args.seed).sample(found, min(args.sample, len(found))), key=lambda e: e[0])
    print(f"-- sample of {len(sample)}:")
    for merge, finding in sample:
        sites = ", ".join(f"{l['side']}:{l['path']}:{l['start_line']}" for l in finding["locations"])
        print(f"   {merge[:10]}  {finding['id']}  {finding['message']}  [{sites}]")
    print(f"-- replay seconds: {current['seconds']:.1f} with interference ({mode}), {baseline['seconds']:.1f} without: {ratio:.2f}x")
    return {"merges": len(current["verdicts"]), "clean": len(clean), "interference": len(every),
            "on_clean": len(found), "per_ten_clean": round(per_ten, 2), "by_subkind": dict(sorted(subkinds.items())),
            "skipped_edges": skipped, "seconds": round(current["seconds"], 1),
            "baseline_seconds": round(baseline["seconds"], 1), "ratio": round(ratio, 3)}


def _replay(repo: str, args, label: str, options: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="settle-interference-") as scratch:
        output = Path(args.keep or scratch) / f"{_name(repo)}-{label}.jsonl"
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [SETTLE, "replay", "--repo", repo, "--jobs", str(args.jobs), "--output", str(output),
                   "--last", str(args.last), *options]
        started = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
        verdicts = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    return {"verdicts": verdicts, "seconds": seconds}


def _name(repo: str) -> str:
    path = os.path.abspath(repo).rstrip("/")
    return os.path.basename(os.path.dirname(path)) if os.path.basename(path) in ("repo", ".git") else os.path.basename(path)


if __name__ == "__main__":
    raise SystemExit(main())
