"""The disk cache: symbol tables (and other per-blob facts) kept between processes.

Each entry is one small JSON file, named by a digest of its whole key, whose
first field repeats the key: a file that does not parse, is cut short, carries
another format or another key (an older settle, other grammars, a digest
collision, a stray file) is ignored and later overwritten, never trusted.
JSON is data: loading an entry can't run code (no pickle). Writes go to a
temporary file in the entry's directory and are renamed over it, so readers
see a whole entry or none, and any number of processes can fill one cache.

The directory: `$SETTLE_CACHE_DIR`, else `$XDG_CACHE_HOME/settle`, else
`~/.cache/settle`. `SETTLE_NO_CACHE=1` (or `--no-cache`) turns it off. It is
bounded (`SETTLE_CACHE_SIZE`, default 1 GiB): a hit refreshes its entry's
modification time, and a sweep, now and then after writes and never on a
read, removes the least recently used entries until a tenth is free.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FORMAT = "settle-cache/1"
DEFAULT_LIMIT = 1024 * 1024 * 1024
_SWEEP_EVERY = 10 * 60  # seconds: at most one sweep this often, unless a process writes a lot
_SWEEP_AFTER_BYTES = 64 * 1024 * 1024  # written by one process: sweep then, whatever the clock says
_SWEEP_MARK = "last-sweep"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_KINDS = ("tables", "mentions")  # the entry folders; anything else in the directory is not ours


def cache_directory() -> Path:
    explicit = os.environ.get("SETTLE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "settle"
    return Path.home() / ".cache" / "settle"


def cache_disabled() -> bool:
    return os.environ.get("SETTLE_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no")


def size_limit() -> int:
    """SETTLE_CACHE_SIZE as bytes (`500M`, `2G`, `1073741824`); the default when unset or unreadable."""
    match = _SIZE.match(os.environ.get("SETTLE_CACHE_SIZE", ""))
    if not match:
        return DEFAULT_LIMIT
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


class DiskCache:
    """Entries by (kind, key); `load` gives the stored JSON value or None, `store` replaces it."""

    def __init__(self, root: Path, limit: int = DEFAULT_LIMIT):
        self.root = root
        self.limit = limit
        self.usable = True
        self.written = 0
        self._since_sweep = 0
        self._directories: set[Path] = set()
        self._exit_hook = False

    @classmethod
    def default(cls, avoid: tuple[str, ...] = ()) -> DiskCache | None:
        """The user's cache, or None when it is turned off or would sit inside one of `avoid`
        (the repository being read: settle never writes there)."""
        if cache_disabled():
            return None
        root = cache_directory()
        if _inside_any(root, avoid):
            _warn(f"cache directory {root} is inside the repository; running without the disk cache")
            return None
        return cls(root, size_limit())

    # -- entries ---------------------------------------------------------------------------

    def _file(self, kind: str, key: str) -> Path:
        digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        return self.root / kind / digest[:2] / digest[2:]

    def load(self, kind: str, key: str):
        if not self.usable:
            return None
        path = self._file(kind, key)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError:
            return None
        collecting = gc.isenabled()
        gc.disable()  # a large entry is thousands of objects, all kept: no use walking the heap for them
        try:
            entry = json.loads(raw)
        except ValueError:  # truncated, corrupt or not JSON at all (UnicodeDecodeError is one)
            return None
        finally:
            if collecting:
                gc.enable()
        if not (isinstance(entry, list) and len(entry) == 3 and entry[0] == FORMAT and entry[1] == key):
            return None
        try:
            os.utime(path)  # "recently used", for the sweep
        except OSError:
            pass
        return entry[2]

    def store(self, kind: str, key: str, value) -> None:
        if not self.usable:
            return
        path = self._file(kind, key)
        data = json.dumps([FORMAT, key, value], separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            if path.parent not in self._directories:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._directories.add(path.parent)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, path)
            except BaseException:
                _remove(temporary)
                raise
        except OSError as error:
            self.usable = False
            _warn(f"cache directory {self.root} is not writable ({error.strerror or error}); running without the disk cache")
            return
        self.written += len(data)
        self._since_sweep += len(data)
        if self._since_sweep >= _SWEEP_AFTER_BYTES:
            self._since_sweep = 0
            self.sweep()
        elif not self._exit_hook:
            self._exit_hook = True
            atexit.register(self._sweep_if_due)

    # -- size --------------------------------------------------------------------------------

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last used, bytes, path) of every entry file."""
        found = []
        for kind in _KINDS:
            base = self.root / kind
            try:
                shards = list(os.scandir(base))
            except OSError:
                continue
            for shard in shards:
                if not shard.is_dir(follow_symlinks=False):
                    continue
                try:
                    files = list(os.scandir(shard.path))
                except OSError:
                    continue
                for item in files:
                    try:
                        status = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    found.append((status.st_mtime, status.st_size, Path(item.path)))
        return found

    def _sweep_if_due(self) -> None:
        mark = self.root / _SWEEP_MARK
        try:
            if time.time() - mark.stat().st_mtime < _SWEEP_EVERY:
                return
        except OSError:
            pass
        self.sweep()

    def sweep(self) -> int:
        """Remove least recently used entries until the cache is 90% of its limit; bytes removed.
        Stray temporary files older than a minute go too (a writer that was killed)."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        target = self.limit * 0.9 if total > self.limit else total
        removed = 0
        now = time.time()
        for used, size, path in sorted(entries):
            if path.name.startswith(".tmp-"):
                if now - used > 60 and _remove(path):
                    removed += size
            elif total - removed > target and _remove(path):
                removed += size
        try:
            (self.root / _SWEEP_MARK).touch()
        except OSError:
            pass
        return removed

    def clear(self) -> tuple[int, int]:
        """Remove every entry: (files, bytes) removed. Only settle's own folders are touched."""
        files = size = 0
        for _, entry_size, path in self.entries():
            if _remove(path):
                files += 1
                size += entry_size
        for kind in _KINDS:
            base = self.root / kind
            try:
                for shard in os.scandir(base):
                    try:
                        os.rmdir(shard.path)
                    except OSError:
                        pass
                os.rmdir(base)
            except OSError:
                pass
        _remove(self.root / _SWEEP_MARK)
        return files, size


@dataclass(frozen=True)
class CacheInfo:
    directory: str
    enabled: bool
    entries: int
    bytes: int
    limit: int


def cache_info() -> CacheInfo:
    cache = DiskCache(cache_directory(), size_limit())
    entries = cache.entries()
    return CacheInfo(str(cache.root), not cache_disabled(), len(entries), sum(size for _, size, _ in entries), cache.limit)


def repository_places(repository) -> tuple[str, ...]:
    """Where a repository lives (git dir, common dir, work tree): the cache is never put there."""
    places = [repository.git_dir, repository.common_dir]
    workdir = getattr(getattr(repository, "_repo", None), "workdir", None)  # pygit2's; None when bare
    if workdir:
        places.append(workdir)
    return tuple(places)


def _inside_any(root: Path, places: tuple[str, ...]) -> bool:
    resolved = _resolved(root)
    for place in places:
        if place and (resolved == _resolved(Path(place)) or _resolved(Path(place)) in resolved.parents):
            return True
    return False


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _remove(path) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False


def _warn(message: str) -> None:
    print(f"settle: warning: {message}", file=sys.stderr)


def prepare() -> None:
    """Before a command that parses: an unwritable cache directory is said once, here, and turned
    off for this process and the workers it starts (which would each say it again)."""
    if cache_disabled():
        return
    root = cache_directory()
    try:
        root.mkdir(parents=True, exist_ok=True)
        writable = os.access(root, os.W_OK | os.X_OK)
        reason = "permission denied"
    except OSError as error:
        writable, reason = False, error.strerror or str(error)
    if not writable:
        _warn(f"cache directory {root} is not writable ({reason}); running without the disk cache")
        os.environ["SETTLE_NO_CACHE"] = "1"
