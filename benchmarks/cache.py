"""The disk cache's costs: building a table vs loading it from the cache, and a targeted query vs a table's references.

    python benchmarks/cache.py [--corpus LANG=PATH ...] [--max-bytes N] [--repeat N]

Corpora as in parse.py (Python's standard library and whatever else is on the
machine by default). Per language, best of --repeat rounds (interleaved):
  * build: the table settle builds (no references), from bytes, through SymbolTables
  * load: the same tables read back from a filled disk cache by a fresh SymbolTables
  * build+refs: the table and all its references
  * load+refs: read back, references included
  * targeted: the references to one name per file (a name the file calls), from bytes
Loaded tables are checked equal to built ones. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parse import best_of, default_corpora, read_corpus  # noqa: E402

from settle.languages import profile_for_path  # noqa: E402
from settle.parse.cache import SymbolTables  # noqa: E402
from settle.parse.extract import extract, references_named  # noqa: E402
from settle.parse.model import ReferenceKind  # noqa: E402
from settle.parse.store import DiskCache  # noqa: E402


def measure(files: list[tuple[str, bytes]], repeat: int) -> dict:
    blobs = {f"blob{index}": data for index, (_, data) in enumerate(files)}
    entries = [(path, f"blob{index}") for index, (path, _) in enumerate(files)]
    directory = Path(tempfile.mkdtemp(prefix="settle-bench-cache-"))
    names = {}
    for path, data in files:
        table = extract(data, path, profile_for_path(path))
        calls = [r.name for r in table.references if r.kind is ReferenceKind.CALL]
        names[path] = calls[len(calls) // 2] if calls else "absent"
    try:
        filler = SymbolTables(blobs.__getitem__, disk=DiskCache(directory))
        built = [filler.get(path, blob) for path, blob in entries]
        for table in built:
            table.references  # stored beside
        loaded_tables = [SymbolTables(blobs.__getitem__, disk=DiskCache(directory)).get(path, blob) for path, blob in entries]
        assert loaded_tables == built and [t.references for t in loaded_tables] == [t.references for t in built]

        def build():
            tables = SymbolTables(blobs.__getitem__)
            for path, blob in entries:
                tables.get(path, blob)

        def build_references():
            tables = SymbolTables(blobs.__getitem__)
            for path, blob in entries:
                tables.get(path, blob).references

        def load():
            tables = SymbolTables(blobs.__getitem__, disk=DiskCache(directory))
            for path, blob in entries:
                tables.get(path, blob)

        def load_references():
            tables = SymbolTables(blobs.__getitem__, disk=DiskCache(directory))
            for path, blob in entries:
                tables.get(path, blob).references

        def targeted():
            for path, data in files:
                references_named(data, path, profile_for_path(path), (names[path],))

        best = best_of(repeat, {"build": build, "load": load, "build+refs": build_references,
                                "load+refs": load_references, "targeted": targeted})
        size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {**{name: round(seconds, 4) for name, seconds in best.items()}, "cache_bytes": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="LANG=PATH")
    parser.add_argument("--max-bytes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    corpora = default_corpora()
    corpora.update(item.split("=", 1) for item in args.corpus)
    started = time.perf_counter()
    rows = {}
    print(f"{'language':<11} {'files':>5} {'MB':>5} {'build s':>8} {'load s':>7} {'build/load':>10} "
          f"{'build+refs s':>12} {'load+refs s':>11} {'ratio':>6} {'targeted s':>10} {'cache MB':>8}")
    for language, path in corpora.items():
        files = read_corpus(language, path, args.max_bytes)
        if not files:
            continue
        row = rows[language] = {"files": len(files), "bytes": sum(len(d) for _, d in files), **measure(files, args.repeat)}
        print(f"{language:<11} {row['files']:>5} {row['bytes'] / 1e6:>5.2f} {row['build']:>8.3f} {row['load']:>7.3f} "
              f"{row['build'] / row['load']:>9.1f}x {row['build+refs']:>12.3f} {row['load+refs']:>11.3f} "
              f"{row['build+refs'] / row['load+refs']:>5.1f}x {row['targeted']:>10.3f} {row['cache_bytes'] / 1e6:>8.2f}")
    print(json.dumps({"benchmark": "cache", "rows": rows, "seconds": round(time.perf_counter() - started, 1)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
