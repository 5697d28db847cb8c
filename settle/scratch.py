"""Scratch directories: temporary directories settle removes however the process ends.

`directory(prefix)` is the one way settle makes a temporary directory (`temporary(prefix)`
for one removed as soon as a `with` block ends, as a long-lived process wants). Each one is
made inside a run directory (`$TMPDIR/settle-run-*`) that belongs to the process
that made it first, and that process removes the whole run directory when it exits:
on a normal exit or an exception (atexit), on Ctrl-C (KeyboardInterrupt ends in
exit), and on SIGTERM, which is turned into `SystemExit(143)` so that `finally`
blocks and atexit run. A process forked from the owner (a replay worker) puts its
directories in the owner's run directory and never removes it: multiprocessing
workers end with `os._exit`, and are ended with SIGTERM, so they could not clean up
reliably themselves; their parent removes what they made after they are gone, even
when one was killed outright. Only a SIGKILL of the owner leaves a run directory.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_RUN_PREFIX = "settle-run-"
_run: Path | None = None
_owner: int | None = None  # pid of the process that removes _run


def directory(prefix: str = "settle-") -> Path:
    """A new empty directory, removed with the run directory when the owning process ends."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_run_directory()))


@contextmanager
def temporary(prefix: str = "settle-") -> Iterator[Path]:
    """A scratch directory removed when the block ends (and, like every other, if the process ends first)."""
    path = directory(prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _run_directory() -> Path:
    global _run, _owner
    if _run is None or not _run.is_dir():
        _run = Path(tempfile.mkdtemp(prefix=_RUN_PREFIX))
        _owner = os.getpid()
        atexit.register(_remove_run, _run, _owner)
        _stop_on_sigterm()
    return _run


def _remove_run(run: Path, owner: int) -> None:
    if os.getpid() == owner:  # a forked child inherits atexit handlers it must not run
        shutil.rmtree(run, ignore_errors=True)


def _stop_on_sigterm() -> None:
    """SIGTERM ends the process by SystemExit, so cleanup runs; only where nobody set a handler."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends it at once
    raise SystemExit(128 + signum)


def _before_fork() -> None:
    # A child must find the run directory already made, or it would make its own that
    # nobody removes; making it here costs one empty directory the owner removes anyway.
    if _owner in (None, os.getpid()):
        _run_directory()


def _in_child() -> None:
    # The parent removes the child's directories; the child dies as SIGTERM says, at once
    # (raising SystemExit in it could block on a queue the parent no longer reads).
    if signal.getsignal(signal.SIGTERM) is _terminate:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(before=_before_fork, after_in_child=_in_child)
