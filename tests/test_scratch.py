"""Scratch directories (the object stores merges write to) are gone however settle ends:
normal exit, SIGTERM, SIGINT, a worker killed under it. Each run gets a TMPDIR of its own,
so a directory left behind is this run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, long_history, settle_executable


@pytest.fixture
def history(build):
    return build(FIXTURES / "replay" / "history.toml")


def private_tmpdir(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    return directory


def leftovers(directory: Path) -> list[str]:
    return sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*"))


def test_replay_with_jobs_leaves_tmpdir_empty(settle, history, tmp_path):
    scratch = private_tmpdir(tmp_path, "tmp")
    result = settle("replay", "--jobs", "2", repo=history, env={"TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 9
    assert leftovers(scratch) == []


def test_serial_replay_and_check_leave_tmpdir_empty(settle, history, tmp_path):
    for name, args in (("serial", ("replay",)), ("check", ("check", "--base", "main", "conflicting", "caller"))):
        scratch = private_tmpdir(tmp_path, name)
        result = settle(*args, repo=history, env={"TMPDIR": str(scratch)})
        assert result.returncode in (0, 1), result.stderr
        assert leftovers(scratch) == [], name


def running_replay(tmp_path: Path, jobs: int) -> tuple[subprocess.Popen, Path]:
    """A replay long enough to be stopped in the middle, once its scratch store exists."""
    repo = long_history(150, tmp_path / f"long{jobs}")
    scratch = private_tmpdir(tmp_path, f"tmp{jobs}")
    process = subprocess.Popen([settle_executable(), "replay", "--jobs", str(jobs)], cwd=repo,
                               env={**os.environ, "TMPDIR": str(scratch)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline(), "replay printed no line"
    deadline = time.time() + 30
    while time.time() < deadline and not any(p.name.startswith("settle-merge-") for p in scratch.rglob("*")):
        time.sleep(0.02)
    assert any(p.name.startswith("settle-merge-") for p in scratch.rglob("*")), "no scratch store to clean up"
    return process, scratch


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_replay_leaves_tmpdir_empty(tmp_path, jobs, stop):
    process, scratch = running_replay(tmp_path, jobs)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop, stderr
    assert b"Traceback" not in stderr
    assert leftovers(scratch) == []


def test_a_replay_whose_worker_is_killed_fails_and_leaves_tmpdir_empty(tmp_path):
    process, scratch = running_replay(tmp_path, 2)
    workers = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert workers
    os.kill(int(workers[0]), signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    assert b"worker stopped unexpectedly" in stderr
    assert leftovers(scratch) == []


LIBRARY_USE = """
import sys
from settle import scratch
kept = scratch.directory("settle-tree-")
(kept / "file").write_text("x")
with scratch.temporary("settle-verify-") as short:
    (short / "file").write_text("x")
    assert short.parent == kept.parent and short.parent.name.startswith("settle-run-")
assert not short.exists() and kept.exists()
if sys.argv[1] == "raise":
    raise ValueError("boom")
"""


@pytest.mark.parametrize("ending", ["return", "raise"])
def test_the_scratch_helper_cleans_up_for_library_users_too(tmp_path, ending):
    import sys

    scratch = private_tmpdir(tmp_path, "tmp")
    run = subprocess.run([sys.executable, "-c", LIBRARY_USE, ending], env={**os.environ, "TMPDIR": str(scratch)},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == (0 if ending == "return" else 1), run.stderr
    assert leftovers(scratch) == []


STARTED_AND_LEFT = """
import sys
from settle.repo import Repository
repository = Repository.open(sys.argv[1])
repository.start_merges([(sys.argv[2], sys.argv[3])])
assert repository._started, "no git merge was started"
"""


def test_git_merges_started_and_never_collected_leave_tmpdir_empty(tmp_path, build):
    """A merge git runs ahead of need and nobody collects is stopped before the scratch store goes:
    a git still writing there would make its directories anew."""
    repo = build({"base": {"files": {"a.txt": "one\ntwo\n"}},
                  "branches": {"a": {"files": {"a.txt": "one\n2\n"}}, "b": {"files": {"a.txt": "1\ntwo\n"}}}})
    tips = [subprocess.run(["git", "rev-parse", name], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
            for name in ("a", "b")]
    scratch = private_tmpdir(tmp_path, "tmp")
    result = subprocess.run([sys.executable, "-c", STARTED_AND_LEFT, str(repo), *tips],
                            env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert leftovers(scratch) == []
