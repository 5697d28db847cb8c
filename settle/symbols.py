"""`settle symbols`: the symbol tables of one revision."""

from __future__ import annotations

from contextlib import nullcontext

from settle.errors import BadPathError
from settle.languages import profile_for_path
from settle.parse.cache import SymbolTables
from settle.parse.extract import DEFAULT_MAX_BYTES
from settle.parse.model import SymbolTable
from settle.repo import EntryKind, Repository

PROGRESS_THRESHOLD = 50  # files; below this a bar would only flicker


def symbol_tables(repo_path: str, rev: str, paths: tuple[str, ...] = (), progress=None,
                  max_bytes: int = DEFAULT_MAX_BYTES, tables: SymbolTables | None = None,
                  repository: Repository | None = None) -> list[SymbolTable]:
    """tables and repository, when given, are warm ones (`settle serve`'s) of repo_path."""
    repository = repository or Repository.open(repo_path)
    commit = repository.resolve(rev)
    files = [entry for entry in repository.files(commit) if entry.kind is EntryKind.FILE]
    if paths:
        selected = []
        for wanted in paths:
            wanted = wanted.strip("/")
            matching = [e for e in files if e.path == wanted or e.path.startswith(wanted + "/") or wanted in ("", ".")]
            if not matching:
                raise BadPathError(f"no file at '{wanted}' in {rev}; paths are relative to the repository root")
            selected.extend(matching)
        files = sorted({e.path: e for e in selected}.values(), key=lambda e: e.path)
    else:
        files = [e for e in files if profile_for_path(e.path) is not None]
    from settle.parse.store import DiskCache, repository_places

    tables = tables or SymbolTables(repository.blob, max_bytes, disk=DiskCache.default(avoid=repository_places(repository)))
    bar = progress(files, "parsing") if progress and len(files) >= PROGRESS_THRESHOLD else nullcontext(files)
    with bar as items:
        return [tables.get(entry.path, entry.id) for entry in items]
