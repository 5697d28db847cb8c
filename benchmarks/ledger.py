"""The settlement ledger: what appending a verdict costs, and how fast `settle memory` answers on a big ledger.

    python benchmarks/ledger.py REPO [--last 2000] [--events 10000] [--appends 300] [--runs 5] [--keep DIR] [--reuse DIR]

1. Real verdicts: `settle replay REPO --last N --no-syntax --ledger L` (the real
   command; one event per merge). The ledger is then grown to --events events
   by appending those verdict documents again, in order, through the same
   Recorder the commands use (replaying the history again would give the same
   documents, minutes later).
2. Append cost per verdict, median over --appends verdicts, against the baseline
   of writing the same JSON line to a plain file and fsyncing it (what an
   orchestrator keeping its own log would do), in the same run:
   * on an open ledger (what replay pays per merge);
   * open + append + close with the repository's identity given (the ledger's own
     part of a `settle check --ledger` process);
   * open + identity + append + close: what a `settle check --ledger` process pays
     after printing its verdict, the verdict recorded as a check against the base's
     tip (its identity, the root commits, as the Recorder works them out: from the
     ledger's last verdict on that target). Bar: ≤ 5 ms;
   * SQLite alone opening, inserting one row and closing in WAL mode, the floor of
     any per-process append that keeps a crash from losing or corrupting it;
   * the identity's two ways: a whole walk (a ledger's first verdict on a target),
     and from a verdict on the target 50 commits earlier.
3. `settle memory` wall time (interpreter start included, median of --runs) on
   the --events ledger, for the symbol with the most findings in it, a path glob
   and a claims file, against the same command on a one-event ledger and with the
   disk cache off (`SETTLE_NO_CACHE=1`: symbol tables parsed and the target's
   history walked in each process); and the library call
   `settle.ledger.subjects.recall` in one process, with a fresh session and with one kept warm
   (what `settle serve` does). Bar: ≤ 0.3 s.
Prints a table and one JSON line.
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


def replay_ledger(repo: str, last: int, ledger: Path) -> float:
    started = time.perf_counter()
    subprocess.run([SETTLE, "replay", "--repo", repo, "--last", str(last), "--no-syntax", "--jobs", "2", "--ledger", str(ledger),
                    "--output", os.devnull], check=True)
    return time.perf_counter() - started


def grow(ledger: Path, repo: str, events: int) -> None:
    """Append the ledger's own verdicts again, in order, until it holds `events` events."""
    from settle.ledger.record import Recorder, verdict_documents

    documents = verdict_documents(str(ledger))
    recorder = Recorder.open(str(ledger), repo, "replay", {"benchmark": "grown"})
    count = recorder.ledger.count()
    while count < events:
        for document in documents[: events - count]:
            recorder.record(document)
        count = recorder.ledger.count()
    recorder.close()


def as_check(document: dict, base: str, tip: str) -> dict:
    """A replay verdict as a `check` of its candidates against the base's tip would record it."""
    shaped = {key: value for key, value in document.items() if key != "merge_commit"}
    shaped["target"] = {"ref": base, "commit": tip}
    return shaped


def append_costs(ledger: Path, repo: str, documents: list[dict], scratch: Path) -> dict[str, float]:
    from settle.ledger.record import Recorder
    from settle.repo import Repository

    repository = Repository.open(repo)
    base = repository.default_base()
    tip = repository.resolve(base)
    checks = [as_check(document, base, tip) for document in documents]
    hot, known, cold, plain, floor = [], [], [], [], []
    recorder = Recorder.open(str(ledger), repo, "check", {"benchmark": "append"})
    recorder.record(checks[0])  # the repository's identity is worked out once per command
    log = scratch / "plain.jsonl"
    with open(log, "a", encoding="utf-8") as sink:
        for document in documents:
            line = json.dumps(document, sort_keys=True) + "\n"
            started = time.perf_counter()
            sink.write(line)
            sink.flush()
            os.fsync(sink.fileno())
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            recorder.record(document)
            hot.append(time.perf_counter() - started)
    recorder.close()
    sqlite_only = scratch / "sqlite-only.db"
    for document, check in zip(documents, checks):
        floor.append(sqlite_cycle(sqlite_only, json.dumps(document, sort_keys=True)))
        started = time.perf_counter()
        once = Recorder.open(str(ledger), repo, "check", {"benchmark": "append"})
        once._identity = {"roots": [], "git_dir": repo}  # the ledger's own part: identity given
        once.record(document)
        once.close()
        known.append(time.perf_counter() - started)
        started = time.perf_counter()
        once = Recorder.open(str(ledger), repo, "check", {"benchmark": "append"})
        once.record(check)  # what a `settle check --ledger` process does after printing its verdict
        once.close()
        cold.append(time.perf_counter() - started)
    return {"plain": statistics.median(plain), "sqlite": statistics.median(floor), "hot": statistics.median(hot),
            "known": statistics.median(known), "cold": statistics.median(cold), **identity_costs(repository, tip)}


def sqlite_cycle(path: Path, line: str) -> float:
    """Connect, insert one row, close, in WAL mode as the ledger is: what SQLite alone costs a
    process that appends once (its commit and the checkpoint on close each sync the disk)."""
    import sqlite3

    started = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("CREATE TABLE IF NOT EXISTS lines (line TEXT)")
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO lines VALUES (?)", (line,))
    connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - started


def identity_costs(repository, tip: str) -> dict[str, float]:
    """The repository's identity (its root commits): a whole walk, as the first verdict on a ledger
    pays; and from the ledger's last verdict on the target 50 commits ago (absent before 2026-12-02)."""
    from settle.ledger.record import repository_identity

    started = time.perf_counter()
    roots = repository_identity(repository, tip)["roots"]
    whole = time.perf_counter() - started
    earlier = repository.resolve(f"{tip}~50")
    known = (earlier, repository_identity(repository, earlier)["roots"])
    try:
        started = time.perf_counter()
        moved = repository_identity(repository, tip, known)
        since = time.perf_counter() - started
        assert moved["roots"] == roots
    except TypeError:  # the settle measured takes no known identity
        since = float("nan")
    return {"identity_walk": whole, "identity_since": since}


def memory_seconds(arguments: list[str], runs: int, environment: dict | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([SETTLE, "memory", *arguments], capture_output=True, text=True,
                                env={**os.environ, **(environment or {})})
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"settle memory {' '.join(arguments)} failed: {result.stderr}")
    return statistics.median(times)


def recall_seconds(ledger: Path, repo: str, query: dict, runs: int) -> tuple[float, float]:
    """In one process, imports done: (a fresh session each call, one session kept warm between calls)."""
    from settle.ledger import subjects
    from settle.ledger.subjects import recall
    from settle.settlement import Session

    cold, warm = [], []
    session = Session.open(repo)
    recall(str(ledger), repo, session=session, limit=10, **query)
    for _ in range(runs):
        getattr(subjects, "_REACHABLE", {}).clear()  # what a fresh process knows (the disk cache stays)
        started = time.perf_counter()
        recall(str(ledger), repo, limit=10, **query)
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        recall(str(ledger), repo, session=session, limit=10, **query)
        warm.append(time.perf_counter() - started)
    return statistics.median(cold), statistics.median(warm)


def hottest_symbol(ledger: Path) -> tuple[str, int]:
    import sqlite3

    connection = sqlite3.connect(f"{ledger.as_uri()}?mode=ro", uri=True)
    key, count = connection.execute(
        "SELECT key, count(*) AS n FROM event_keys WHERE key LIKE 'symbol:%' GROUP BY key ORDER BY n DESC, key LIMIT 1").fetchone()
    connection.close()
    return key[len("symbol:"):], count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--last", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Keep the ledgers in this directory.")
    parser.add_argument("--reuse", type=Path, help="Start from the big.db a run with --keep left here (no replay).")
    options = parser.parse_args()
    compile_settle()

    scratch = Path(tempfile.mkdtemp(prefix="settle-ledger-bench-"))
    try:
        big = scratch / "big.db"
        if options.reuse:
            shutil.copy(options.reuse / "big.db", big)
            replay = float("nan")
        else:
            replay = replay_ledger(options.repo, options.last, big)
        from settle.ledger.record import verdict_documents

        documents = verdict_documents(str(big))[: options.last]
        grow(big, options.repo, options.events)
        small = scratch / "small.db"
        costs = append_costs(small, options.repo, documents[: options.appends], scratch)

        symbol, mentions = hottest_symbol(big)
        claims = scratch / "claims.toml"
        claims.write_text(f'[claims]\nedit = ["{symbol}"]\n')
        tiny = scratch / "tiny.db"
        grow_one(tiny, options.repo, documents[0])
        folder = symbol.split("::")[0].rsplit("/", 1)[0] + "/**"
        queries = {
            f"--symbol {symbol}": (["--symbol", symbol], {"symbols": [symbol]}),
            f"--path {folder}": (["--path", folder], {"paths": [folder]}),
            "--claims (edit that symbol)": (["--claims", str(claims)], {"claims": str(claims)}),
        }
        rows = []
        for label, (arguments, query) in queries.items():
            common = [*arguments, "--repo", options.repo, "--format", "json"]
            empty = memory_seconds([*common, "--ledger", str(tiny)], options.runs)
            full = memory_seconds([*common, "--ledger", str(big)], options.runs)
            uncached = memory_seconds([*common, "--ledger", str(big)], options.runs, {"SETTLE_NO_CACHE": "1"})
            rows.append((label, empty, full, uncached, *recall_seconds(big, options.repo, query, options.runs)))
        started = time.perf_counter()
        for _ in range(options.runs):
            subprocess.run([SETTLE, "--help"], capture_output=True, check=True)
        floor = (time.perf_counter() - started) / options.runs
        from settle.ledger.store import Ledger

        with Ledger.open(big, readonly=True) as opened:
            total = opened.count()
        size = big.stat().st_size / 2**20

        print(f"ledger: {total} events from `settle replay --last {options.last}` ({len(documents)} merges, {replay:.1f} s) "
              f"grown by re-appending; {size:.1f} MiB; hottest symbol {symbol} in {mentions} events")
        print()
        print(f"{'append, per verdict (median of ' + str(len(documents[:options.appends])) + ')':44} {'ms':>8} {'ratio':>8}")
        print(f"{'plain file write + fsync (baseline)':44} {costs['plain'] * 1000:8.2f}")
        print(f"{'sqlite alone: connect, insert, close (WAL)':44} {costs['sqlite'] * 1000:8.2f} {costs['sqlite'] / costs['plain']:7.2f}x")
        print(f"{'ledger append, open ledger':44} {costs['hot'] * 1000:8.2f} {costs['hot'] / costs['plain']:7.2f}x")
        print(f"{'ledger open + append + close, identity given':44} {costs['known'] * 1000:8.2f} {costs['known'] / costs['plain']:7.2f}x")
        print(f"{'per check: open + identity + append + close':44} {costs['cold'] * 1000:8.2f} {costs['cold'] / costs['plain']:7.2f}x")
        print(f"{'  identity, a whole walk (first verdict)':44} {costs['identity_walk'] * 1000:8.2f}")
        print(f"{'  identity, target 50 commits on':44} {costs['identity_since'] * 1000:8.2f}")
        print(f"bar: ≤ 5 ms per verdict: {'met' if max(costs['hot'], costs['cold']) <= 0.005 else 'NOT met'}")
        print()
        print(f"settle memory, seconds (median of {options.runs}); `settle --help` takes {floor:.3f} s here")
        print(f"{'query':40} {'cmd, 1 event':>12} {'cmd, ' + str(total):>11} {'ratio':>6} {'no cache':>9} {'in-process':>10} {'warm':>7}")
        for label, empty, full, uncached, cold, warm in rows:
            print(f"{label[:40]:40} {empty:12.3f} {full:11.3f} {full / empty:5.2f}x {uncached:9.3f} {cold:10.3f} {warm:7.3f}")
        slowest = max(row[2] for row in rows)
        slowest_call = max(row[4] for row in rows)
        print(f"bar: ≤ 0.3 s on {total} events: command {'met' if slowest <= 0.3 else 'NOT met'} (slowest {slowest:.3f} s), "
              f"library call {'met' if slowest_call <= 0.3 else 'NOT met'} (slowest {slowest_call:.3f} s)")
        print(json.dumps({"events": total, "help_s": round(floor, 3), "append_ms": {k: round(v * 1000, 3) for k, v in costs.items()},
                          "memory_s": {label: {"command_one_event": round(e, 3), "command": round(f, 3), "command_no_cache": round(u, 3),
                                               "call": round(c, 3), "warm_call": round(w, 3)} for label, e, f, u, c, w in rows}},
                         sort_keys=True))
        if options.keep:
            options.keep.mkdir(parents=True, exist_ok=True)
            for name in ("big.db", "small.db"):
                shutil.copy(scratch / name, options.keep / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def compile_settle() -> None:
    """Bytecode for settle's modules, as an installed package has it. With PYTHONDONTWRITEBYTECODE
    set, a module changed since its .pyc was written is compiled from source in every process
    (tens of milliseconds on the memory path), and the command's times would be those of the
    compiler."""
    import compileall

    import settle

    compileall.compile_dir(str(Path(settle.__file__).parent), quiet=1)


def grow_one(ledger: Path, repo: str, document: dict) -> None:
    from settle.ledger.record import Recorder

    recorder = Recorder.open(str(ledger), repo, "replay", {"benchmark": "baseline"})
    recorder.record(document)
    recorder.close()


if __name__ == "__main__":
    sys.exit(main())
