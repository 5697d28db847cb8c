"""A batch of independent builds shared with one forked helper process, each item taken by
whichever process is free.

py-tree-sitter holds the GIL while it parses, so threads parse no faster than one; a process
does. A forked helper starts with this process's imports, grammars and open repository, at the
cost of a fork (a few milliseconds), instead of an interpreter start (a fifth of a second).

The items are queued on a pipe as 4-byte records written before the fork: both processes read
one record at a time, and a pipe read of a record never splits, so each item is taken once. The
helper sends back what it built, item by item, as length-prefixed bytes (the callers send JSON:
data, never code), and ends with `os._exit`: no exit handler, no flush of inherited buffers, no
teardown runs in it. The command adopts each record as it comes, between its own items: a record
is one item's whole answer, so one sent before the helper failed is as good as any. Whatever the
helper does not send back is simply not there: the callers build what is missing themselves, so
a helper can only save time.

A helper is forked only where that is safe and useful: a POSIX fork, at least two CPUs this
process may run on, and no other thread (a thread holding a lock at the fork would leave the
helper's copy locked forever). `SETTLE_HELPERS=0` turns helpers off.
"""

from __future__ import annotations

import os
import signal
import struct
import threading
from collections.abc import Callable, Sequence

_RECORD = struct.Struct("<I")
_GROUPS = 256  # queued records at most: 1 KiB, less than any pipe holds, so writing them never blocks
_PIPE_BYTES = 1 << 20  # what a helper usually sends fits: it never waits for the parent to read


def helpers_available() -> int:
    """How many helper processes this process may fork now: 0 or 1."""
    if not hasattr(os, "fork") or os.environ.get("SETTLE_HELPERS", "").strip().lower() in ("0", "false", "no"):
        return 0
    if threading.active_count() > 1:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS: no affinity call
        cpus = os.cpu_count() or 1
    return 1 if cpus >= 2 else 0


def share(items: Sequence, here: Callable[[object], None], there: Callable[[object], bytes | None],
          adopt: Callable[[bytes], None], idle: Callable[[], None] | None = None) -> None:
    """Do `here(item)` in this process and `there(item)` (bytes, or None for nothing to send) in a
    forked helper, the items shared out as each process gets free. What the helper sends is given
    to `adopt` as it comes, between the items done here: a record at a time, in no particular
    order. `idle`, when given, is called once when no item is left to take and the helper is still
    at its last ones: work that would otherwise wait for this process to be free. Without a
    helper (none available, or the fork failed) every item is done here. An exception of `here`
    propagates, after the helper is stopped."""
    groups = [items[start::_GROUPS] for start in range(min(len(items), _GROUPS))]
    queue_out, queue_in = os.pipe()
    try:
        os.write(queue_in, b"".join(_RECORD.pack(index) for index in range(len(groups))))
    finally:
        os.close(queue_in)
    pid = None
    results_out = results_in = -1
    try:
        if len(items) > 1 and helpers_available():
            results_out, results_in = os.pipe()
            _widen(results_in)
            try:
                pid = os.fork()
            except OSError:
                pid = None
            if pid == 0:
                _helper(queue_out, results_out, results_in, groups, there)
        if results_in >= 0:
            os.close(results_in)
            results_in = -1
        received = bytearray()
        if pid is not None:
            os.set_blocking(results_out, False)
        for group in _taken(queue_out, groups):
            for item in group:
                here(item)
                if pid is not None:
                    _drain(results_out, received)  # the helper never waits on a full pipe
                    _adopt_complete(received, adopt)
        if pid is None:
            return
        if idle is not None:
            idle()
        os.set_blocking(results_out, True)
        while chunk := os.read(results_out, 1 << 20):
            received += chunk
            _adopt_complete(received, adopt)
        _reap(pid)
        pid = None
    finally:
        if pid is not None:  # here failed: the helper's work is not wanted
            _stop(pid)
        for descriptor in (queue_out, results_out, results_in):
            if descriptor >= 0:
                os.close(descriptor)


def _helper(queue_out: int, results_out: int, results_in: int, groups, there) -> None:
    """The forked process: take groups until the queue is empty, sending each item's bytes as it
    is made (a length, then the bytes), and end."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once, with the command
        import gc

        gc.disable()
        # No collections: they would walk (and so copy) the parent's pages, and what a helper makes
        # is bounded by its callers (settle.parse.cache sends at most half its table budget).
        os.close(results_out)
        for group in _taken(queue_out, groups):
            for item in group:
                data = there(item)
                if data is not None:
                    _write_all(results_in, framed(data))
        status = 0
    except BaseException:  # noqa: BLE001 - nothing may leave this process but its exit status
        status = 1
    finally:
        os._exit(status)


def _taken(queue_out: int, groups):
    while True:
        record = os.read(queue_out, _RECORD.size)
        if len(record) != _RECORD.size:
            return
        yield groups[_RECORD.unpack(record)[0]]


def _widen(descriptor: int) -> None:
    """A pipe that holds what a helper usually sends (Linux; elsewhere the pipe stays as it is)."""
    try:
        import fcntl
    except ImportError:
        return
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass  # above the system's limit: the pipe keeps its size, and the parent drains it


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def _drain(descriptor: int, received: bytearray) -> None:
    while True:
        try:
            chunk = os.read(descriptor, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            return
        received += chunk


def framed(data: bytes) -> bytes:
    """data as one record of a stream that `records` splits: its length, then itself."""
    return _RECORD.pack(len(data)) + data


def _adopt_complete(received: bytearray, adopt: Callable[[bytes], None]) -> None:
    """Hand the complete records at the start of `received` to adopt, and keep what follows them."""
    complete, consumed = _split(received)
    for record in complete:
        adopt(record)
    del received[:consumed]


def records(data: bytes) -> list[bytes]:
    """The records of a stream of `framed` ones (a helper's); a cut-short last one is dropped."""
    return _split(data)[0]


def _split(data) -> tuple[list[bytes], int]:
    """The complete records at the start of data, and how many bytes they take."""
    found, position = [], 0
    while position + _RECORD.size <= len(data):
        (length,) = _RECORD.unpack_from(data, position)
        end = position + _RECORD.size + length
        if end > len(data):
            break
        found.append(bytes(data[position + _RECORD.size : end]))
        position = end
    return found, position


def _reap(pid: int) -> bool:
    """Wait for the helper; did it end well?"""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return False
        except InterruptedError:
            continue
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    _reap(pid)
