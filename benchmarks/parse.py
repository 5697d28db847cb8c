"""Parser-layer throughput: raw tree-sitter parsing vs full SymbolTable extraction, per language.

    python benchmarks/parse.py [--corpus LANG=PATH ...] [--max-bytes N] [--repeat N]

PATH is a directory, a .zip (e.g. the JDK's lib/src.zip) or a git repository
(bare or not; its HEAD is read). Without --corpus, corpora shipped on the
machine are used where found: Python's standard library, npm's own sources for
JavaScript, the JDK's src.zip for Java. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import sys
import sysconfig
import time
import zipfile
from collections import deque
from pathlib import Path

from tree_sitter import QueryCursor

from settle.languages import PROFILES, profile_for_path
from settle.parse.extract import extract
from settle.parse.grammar import grammar_for
from settle.parse.model import Definition, ImportBinding, Parameter, Reference, Signature, Span, SymbolTable


def default_corpora() -> dict[str, str]:
    found = {"python": sysconfig.get_paths()["stdlib"]}
    npm = "/usr/lib/node_modules/npm"
    if os.path.isdir(npm):
        found["javascript"] = npm
    zips = [z for z in sorted(glob.glob("/usr/lib/jvm/*/lib/src.zip")) if os.path.isfile(z)]
    if zips:
        found["java"] = zips[0]
    return found


def read_corpus(language: str, path: str, max_bytes: int) -> list[tuple[str, bytes]]:
    """(path, bytes) of the corpus files in this language, up to max_bytes in total, in a stable order."""
    files: list[tuple[str, bytes]] = []
    total = 0

    def take(name: str, data: bytes) -> bool:
        nonlocal total
        profile = profile_for_path(name)
        if profile is None or profile.name != language or len(data) > 2 * 1024 * 1024:
            return True
        files.append((name, data))
        total += len(data)
        return total < max_bytes

    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if profile_for_path(name) is not None and not take(name, archive.read(name)):
                    break
    elif os.path.isdir(os.path.join(path, "objects")) or os.path.isdir(os.path.join(path, ".git")):
        from settle.repo import EntryKind, Repository

        repository = Repository.open(path)
        for entry in repository.files(repository.resolve("HEAD")):
            if entry.kind is EntryKind.FILE and profile_for_path(entry.path) is not None:
                if not take(entry.path, repository.blob(entry.id)):
                    break
    else:
        for file in sorted(Path(path).rglob("*")):
            if file.is_file() and profile_for_path(file.name) is not None:
                if not take(file.relative_to(path).as_posix(), file.read_bytes()):
                    break
    return files


def best_of(repeat: int, works: dict) -> dict:
    """The best time of each work over `repeat` rounds; within a round the works run one
    after another, so that a slow minute on a shared machine slows all of them alike."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(repeat):
        for name, work in works.items():
            start = time.perf_counter()
            work()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def allocated(tables: list[SymbolTable]) -> list[SymbolTable]:
    """The tables again, every object of them allocated anew from fields already worked
    out: what building a table costs with no computation at all."""
    return [
        SymbolTable(
            path=t.path, language=t.language, status=t.status, size=t.size, module_hash=t.module_hash,
            syntax_errors=t.syntax_errors,
            definitions=tuple(
                Definition(
                    id=d.id, qualname=d.qualname, name=d.name, kind=d.kind, header_hash=d.header_hash,
                    body_hash=d.body_hash, parent=d.parent, docstring=d.docstring,
                    span=Span(d.span.start_byte, d.span.end_byte, d.span.start_line, d.span.end_line),
                    header=Span(d.header.start_byte, d.header.end_byte, d.header.start_line, d.header.end_line),
                    signature=None if d.signature is None else Signature(
                        parameters=tuple(Parameter(p.name, p.kind, p.has_default, p.annotation)
                                         for p in d.signature.parameters),
                        returns=d.signature.returns, decorators=d.signature.decorators, is_async=d.signature.is_async,
                    ),
                )
                for d in t.definitions
            ),
            _references=tuple(Reference(r.kind, r.text, r.name, r.line, r.scope, r.positional, r.keywords, r.spread)
                              for r in t.references),
            imports=tuple(ImportBinding(i.local, i.module, i.name, i.line) for i in t.imports),
            receivers=tuple((scope, name) for scope, name in t.receivers),
        )
        for t in tables
    ]


def measure(language: str, files: list[tuple[str, bytes]], repeat: int) -> dict:
    profile = next(p for p in PROFILES if p.name == language)
    grammar = grammar_for(profile)
    parser = grammar.parser()
    size = sum(len(data) for _, data in files)
    trees = [parser.parse(data) for _, data in files]
    tables = [extract(data, name, profile_for_path(name)) for name, data in files]
    again = allocated(tables)
    # A field the model gains and `allocated` misses would make the floor a lie: fail instead.
    if again != tables or [t.references for t in again] != [t.references for t in tables]:
        raise SystemExit("benchmarks/parse.py: allocated() no longer rebuilds SymbolTable whole; update it")
    seconds = best_of(repeat, {
        "parse": lambda: [parser.parse(data) for _, data in files],
        "extract": lambda: [extract(data, name, profile_for_path(name)) for name, data in files],
        # What settle's table cache builds: definitions, signatures, hashes, imports, syntax
        # errors; calls and name uses only when a file's references are first read.
        "symbols": lambda: [extract(data, name, profile_for_path(name), references=False) for name, data in files],
        # The bound on any extractor that reads trees through these query files: the
        # query traversal alone, every match read and nothing done with it, on trees
        # already parsed. An extraction runs at most at parse / (parse + traversal).
        "query": lambda: [deque(QueryCursor(grammar.query).matches(tree.root_node), maxlen=0) for tree in trees],
        "symbols_query": lambda: [deque(QueryCursor(grammar.symbols).matches(tree.root_node), maxlen=0) for tree in trees],
        # With the table's own objects allocated too: the floor of a Python extractor.
        "allocate": lambda: allocated(tables),
    })
    parse_seconds, extract_seconds, symbols_seconds = seconds["parse"], seconds["extract"], seconds["symbols"]
    query_seconds, symbols_query_seconds = seconds["query"], seconds["symbols_query"]
    parse_rate = size / parse_seconds / 1e6
    extract_rate = size / extract_seconds / 1e6
    return {
        "language": language,
        "files": len(files),
        "megabytes": round(size / 1e6, 2),
        "parse_mb_s": round(parse_rate, 2),
        "extract_mb_s": round(extract_rate, 2),
        "ratio": round(extract_rate / parse_rate, 3),
        "symbols_mb_s": round(size / symbols_seconds / 1e6, 2),
        "symbols_ratio": round(parse_seconds / symbols_seconds, 3),
        "query_bound": round(parse_seconds / (parse_seconds + query_seconds), 3),
        "symbols_query_bound": round(parse_seconds / (parse_seconds + symbols_query_seconds), 3),
        "floor": round(parse_seconds / (parse_seconds + query_seconds + seconds["allocate"]), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="LANG=PATH")
    parser.add_argument("--max-bytes", type=int, default=6_000_000, help="per language")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    corpora = default_corpora()
    for item in args.corpus:
        language, _, path = item.partition("=")
        if language not in {p.name for p in PROFILES}:
            parser.error(f"unknown language {language}; one of {', '.join(p.name for p in PROFILES)}")
        corpora[language] = path
    rows = []
    for language in [p.name for p in PROFILES]:
        if language not in corpora:
            print(f"{language:<11} no corpus (pass --corpus {language}=PATH)", file=sys.stderr)
            continue
        files = read_corpus(language, corpora[language], args.max_bytes)
        if not files:
            print(f"{language:<11} no {language} files in {corpora[language]}", file=sys.stderr)
            continue
        row = measure(language, files, args.repeat)
        location = Path(corpora[language]).resolve()
        row["corpus"] = location.parent.name if location.name in ("repo", ".git") else location.name
        rows.append(row)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'language':<11} {'corpus':<16} {'files':>6} {'MB':>7} {'parse MB/s':>11} {'extract MB/s':>13} {'extract/parse':>14}"
          f" {'no-refs MB/s':>13} {'no-refs/parse':>14} {'query bound':>12} {'no-refs bound':>14} {'floor':>6}")
    for row in rows:
        print(f"{row['language']:<11} {row['corpus'][:16]:<16} {row['files']:>6} {row['megabytes']:>7} "
              f"{row['parse_mb_s']:>11} {row['extract_mb_s']:>13} {row['ratio']:>13.0%}"
              f" {row['symbols_mb_s']:>13} {row['symbols_ratio']:>13.0%}"
              f" {row['query_bound']:>11.0%} {row['symbols_query_bound']:>13.0%} {row['floor']:>5.0%}")
    print(f"peak memory: {peak:.0f} MiB")
    print(json.dumps({"benchmark": "parse", "rows": rows, "peak_mib": round(peak)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
