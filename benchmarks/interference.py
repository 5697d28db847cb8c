"""Precision and cost of the interference pass on real history: `settle replay` with and without it.

    python benchmarks/interference.py REPO [REPO ...] [--last N] [--jobs 2] [--sample 20] [--keep DIR]
        [--modes parsed,wide] [--repeat 3] [--before SETTLE] [--cache-dir DIR] [--no-warm-up]

For each repository, replays its merges with this checkout's `settle`, in the
same run: `--interference off` (the baseline), then each mode (`parsed`: on the
files the other passes parse anyway; `wide`: also the files only interference
can need). For each mode it prints: merges replayed, merges git merges cleanly
(no text_conflict finding), interference findings by subkind, warnings per 10
clean merges (the goal: at most 1), the skipped edges (calls and reads that
bound to no one definition), a sample of findings (merge, message) to judge by
hand against the merged code (`git show MERGE`), and both replay times with
their ratio (the goal: within 1.15). Ends with one JSON line. Nothing is written
to the repositories; --keep saves the JSON Lines (of the last repetition).

Timing: every (settle, mode) is first replayed once untimed (--no-warm-up skips
it), so the timed runs all read a disk cache that already holds what that mode
reads; then the runs are repeated --repeat times, interleaved (off, each mode,
off, each mode, ...). Each run is timed on the wall clock and in CPU seconds
(replay and its workers, user and system); printed are the ratios of the
medians, the median of the run-by-run ratios (each run against the `off` run
of the same round, under about the same load: on a shared host the steadiest
figure) and the ratio of the fastest runs. The disk cache is a directory of
this run's own (removed at the end) unless --cache-dir names one: other
processes' use of the default cache cannot evict what the runs rely on.

--before SETTLE replays the same merges, interleaved with the others, with
another `settle` executable (a previous checkout's, e.g. /tmp/prev/.venv/bin/settle)
in `off` and every mode: its ratio is printed beside this checkout's, and the
findings the two differ in (by merge and finding id), so a change of the pass is
judged on the same history in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
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
    parser.add_argument("--last", type=int, default=300, help="the N most recent merges (default 300)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20, help="findings listed per repository (all when fewer)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", default=None, help="directory to keep the JSON Lines in")
    parser.add_argument("--modes", default="parsed,wide")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each (settle, mode); the median counts")
    parser.add_argument("--before", default=None, help="another settle executable to replay beside this one")
    parser.add_argument("--cache-dir", default=None, help="the disk cache to use (default: a fresh one of this run)")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false")
    args = parser.parse_args(argv)
    scratch = None
    if args.cache_dir is None:
        scratch = tempfile.mkdtemp(prefix="settle-interference-cache-")
        args.cache_dir = scratch
    try:
        summary = {_name(repo): _repository(args, repo) for repo in args.repos}
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(summary, sort_keys=True))
    return 0


def _repository(args, repo: str) -> dict:
    modes = args.modes.split(",")
    programs = {"this": SETTLE, **({"before": args.before} if args.before else {})}
    runs = [(program, mode) for program in programs for mode in ("off", *modes)]
    if args.warm_up:
        for program, mode in runs:
            _replay(repo, args, programs[program], mode)
    seconds: dict[tuple[str, str], list[tuple[float, float]]] = {run: [] for run in runs}
    verdicts: dict[tuple[str, str], list[dict]] = {}
    for _ in range(max(1, args.repeat)):
        for program, mode in runs:
            found, took = _replay(repo, args, programs[program], mode, keep=program == "this")
            seconds[(program, mode)].append(took)
            verdicts[(program, mode)] = found
    summary = {}
    for mode in modes:
        summary[mode] = _mode(args, repo, mode, verdicts[("this", mode)], seconds[("this", mode)], seconds[("this", "off")])
        if args.before:
            summary[mode]["before"] = _compare(repo, mode, verdicts[("this", mode)], verdicts[("before", mode)],
                                               seconds[("before", mode)], seconds[("before", "off")])
    return summary


def _timing(runs: list[tuple[float, float]], baseline: list[tuple[float, float]]) -> dict:
    """Medians of wall and CPU seconds of a mode's runs and of the baseline's, their ratios, and the
    ratios of the fastest runs (on a shared host the least disturbed run is the closest to the cost)."""
    wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    base_wall, base_cpu = statistics.median(r[0] for r in baseline), statistics.median(r[1] for r in baseline)
    return {"seconds": round(wall, 2), "baseline_seconds": round(base_wall, 2),
            "ratio": round(wall / base_wall, 3) if base_wall else float("nan"),
            "cpu_seconds": round(cpu, 2), "baseline_cpu_seconds": round(base_cpu, 2),
            "cpu_ratio": round(cpu / base_cpu, 3) if base_cpu else float("nan"),
            "min_ratio": round(min(r[0] for r in runs) / min(r[0] for r in baseline), 3),
            "min_cpu_ratio": round(min(r[1] for r in runs) / min(r[1] for r in baseline), 3),
            # Each run against the baseline run just before it (same load on the host), then the median.
            "paired_ratio": round(statistics.median(r[0] / b[0] for r, b in zip(runs, baseline)), 3),
            "paired_cpu_ratio": round(statistics.median(r[1] / b[1] for r, b in zip(runs, baseline)), 3),
            "runs": [[round(r[0], 2), round(r[1], 2)] for r in runs],
            "baseline_runs": [[round(b[0], 2), round(b[1], 2)] for b in baseline]}


def _timing_line(timing: dict, runs, baseline) -> str:
    return (f"wall {timing['seconds']:.2f} with, {timing['baseline_seconds']:.2f} without: {timing['ratio']:.2f}x; "
            f"CPU {timing['cpu_seconds']:.2f} with, {timing['baseline_cpu_seconds']:.2f} without: {timing['cpu_ratio']:.2f}x; "
            f"run by run (median): wall {timing['paired_ratio']:.2f}x, CPU {timing['paired_cpu_ratio']:.2f}x; "
            f"fastest runs: wall {timing['min_ratio']:.2f}x, CPU {timing['min_cpu_ratio']:.2f}x"
            f"   [wall runs: {_list([r[0] for r in runs])} / {_list([r[0] for r in baseline])}; "
            f"CPU runs: {_list([r[1] for r in runs])} / {_list([r[1] for r in baseline])}]")


def _mode(args, repo: str, mode: str, verdicts: list[dict], runs, baseline_runs) -> dict:
    name = f"{_name(repo)} ({mode})"
    clean = [v for v in verdicts if not any(f["kind"] == "text_conflict" for f in v["findings"])]
    found = [(v["merge_commit"], f) for v in clean for f in v["findings"] if f["kind"] == "interference"]
    every = [(v["merge_commit"], f) for v in verdicts for f in v["findings"] if f["kind"] == "interference"]
    subkinds = Counter(f["subkind"] for _, f in every)
    skipped = sum(v["stats"].get("interference_skipped_edges", 0) for v in verdicts)
    per_ten = 10 * len(found) / len(clean) if clean else 0.0
    timing = _timing(runs, baseline_runs)
    print(f"== {name}: {len(verdicts)} merges, {len(clean)} merged cleanly by git; "
          f"{len(every)} interference findings ({len(found)} on clean merges, {per_ten:.2f} per 10 clean merges, "
          f"on {len({m for m, _ in found})} of them); {skipped} skipped edges")
    for subkind, count in sorted(subkinds.items()):
        print(f"   {count:>5}  interference/{subkind}")
    sample = sorted(random.Random(args.seed).sample(found, min(args.sample, len(found))), key=lambda e: e[0])
    print(f"-- sample of {len(sample)}:")
    for merge, finding in sample:
        sites = ", ".join(f"{l['side']}:{l['path']}:{l['start_line']}" for l in finding["locations"])
        print(f"   {merge[:10]}  {finding['id']}  {finding['message']}  [{sites}]")
    print(f"-- replay time with interference ({mode}) and without (medians of {len(runs)}): {_timing_line(timing, runs, baseline_runs)}")
    return {"merges": len(verdicts), "clean": len(clean), "interference": len(every),
            "on_clean": len(found), "per_ten_clean": round(per_ten, 2), "by_subkind": dict(sorted(subkinds.items())),
            "skipped_edges": skipped, **timing}


def _compare(repo: str, mode: str, this: list[dict], before: list[dict], runs, baseline_runs) -> dict:
    """The before settle's ratio, and the interference findings (merge, id) only one of the two has."""
    def findings(verdicts):
        return {(v["merge_commit"], f["id"]): f for v in verdicts for f in v["findings"] if f["kind"] == "interference"}

    mine, theirs = findings(this), findings(before)
    skipped = (sum(v["stats"].get("interference_skipped_edges", 0) for v in this),
               sum(v["stats"].get("interference_skipped_edges", 0) for v in before))
    timing = _timing(runs, baseline_runs)
    print(f"-- before ({mode}): {_timing_line(timing, runs, baseline_runs)}")
    print(f"   before: {len(theirs)} interference findings, {skipped[1]} skipped edges (this: {len(mine)}, {skipped[0]})")
    lost, gained = sorted(theirs.keys() - mine.keys()), sorted(mine.keys() - theirs.keys())
    for label, keys, source in (("lost", lost, theirs), ("gained", gained, mine)):
        for merge, finding_id in keys:
            print(f"   {label}: {merge[:10]}  {finding_id}  {source[(merge, finding_id)]['message']}")
    return {**timing, "interference": len(theirs), "skipped_edges": skipped[1],
            "lost": [f"{m[:10]} {i}" for m, i in lost], "gained": [f"{m[:10]} {i}" for m, i in gained]}


def _replay(repo: str, args, settle: str, mode: str, keep: bool = False) -> tuple[list[dict], float]:
    with tempfile.TemporaryDirectory(prefix="settle-interference-") as scratch:
        folder = Path(args.keep) if args.keep and keep else Path(scratch)
        output = folder / f"{_name(repo)}-{mode}.jsonl"
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [settle, "replay", "--repo", repo, "--jobs", str(args.jobs), "--output", str(output),
                   "--last", str(args.last), "--interference", mode]
        environment = {**os.environ, "SETTLE_CACHE_DIR": args.cache_dir}
        environment.pop("SETTLE_NO_CACHE", None)
        used = _children_cpu()
        started = time.perf_counter()
        subprocess.run(command, check=True, env=environment)
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - used
        verdicts = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    return verdicts, (seconds, cpu)


def _children_cpu() -> float:
    """User and system seconds of the children waited for so far (replay's workers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _list(times: list[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


def _name(repo: str) -> str:
    path = os.path.abspath(repo).rstrip("/")
    return os.path.basename(os.path.dirname(path)) if os.path.basename(path) in ("repo", ".git") else os.path.basename(path)


if __name__ == "__main__":
    raise SystemExit(main())
