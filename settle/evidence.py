"""Evidence: run a command on the composed trees of candidates (`check --verify CMD`).

For a pair of candidates A and B the trees are the target with A merged, with
B merged, and with both merged (A's and B's merges combined over the target's
tree), all built in memory in the repository layer's scratch object store and
written to temporary directories: the user's repository, index and work tree
are never touched. The command runs in each tree through the shell, with
SETTLE_SIDE naming the tree (A's ref, B's ref, or "A+B" of the two refs) and
TMPDIR pointing into settle's own scratch directory, so whatever the command
leaves behind is removed with it. The scratch directory is made by
`settle.scratch`, inside the run directory that goes however settle ends: a
normal exit, an exception, Ctrl-C, or SIGTERM (which kills the command's
process group on the way out, and exits with status 143).

A run's result is kept by tree id for the whole command: two candidates whose
merges give the same tree run once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from settle.diff.pair import make_finding
from settle.document import Evidence, Finding
from settle.errors import SettleError
from settle.repo import Repository
from settle.scratch import directory

WHEN = ("interference", "always")
DEFAULT_TIMEOUT = 600.0
TAIL_LINES = 20
_TAIL_CHARACTERS = 4000


@dataclass(frozen=True)
class VerifyOptions:
    command: str
    when: str = "interference"  # which pairs: those with an interference finding, or every pair
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self):
        if not self.command.strip():
            raise SettleError("--verify needs a command to run, e.g. --verify 'python -m pytest -q'")
        if self.when not in WHEN:
            raise SettleError(f"--verify-when must be one of {', '.join(WHEN)}, not '{self.when}'")
        if self.timeout <= 0:
            raise SettleError("--verify-timeout must be a positive number of seconds")


@dataclass(frozen=True)
class Run:
    """One run of the command on one tree."""

    side: str  # SETTLE_SIDE
    exit_status: int | None  # None: timed out
    output_tail: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.exit_status == 0

    @property
    def outcome(self) -> str:
        if self.exit_status is None:
            return "timed out"
        return f"exit status {self.exit_status}"


@dataclass(frozen=True)
class Side:
    ref: str
    commit: str


class Verifier:
    """Composes trees and runs the command on them, each tree once, in a scratch directory it always removes."""

    def __init__(self, repository: Repository, target_ref: str, target: str, options: VerifyOptions):
        self.repository = repository
        self.target_ref = target_ref
        self.target = target
        self.options = options
        self._runs: dict[str, Run] = {}
        self._trees: dict[tuple[str, ...], str | None] = {}
        self.scratch = directory("settle-verify-")

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- trees ---------------------------------------------------------------------

    def side_tree(self, side: Side) -> str | None:
        key = (side.commit,)
        if key not in self._trees:
            self._trees[key] = self.repository.merged_commit_tree(self.target, side.commit)
        return self._trees[key]

    def composed_tree(self, first: Side, second: Side) -> str | None:
        key = tuple(sorted((first.commit, second.commit)))
        if key not in self._trees:
            ours, theirs = self.side_tree(first), self.side_tree(second)
            self._trees[key] = None if ours is None or theirs is None else self.repository.merged_tree(
                self.repository.commit_tree(self.target), ours, theirs)
        return self._trees[key]

    # -- runs ----------------------------------------------------------------------

    def run(self, tree: str, side: str) -> Run:
        if tree not in self._runs:
            self._runs[tree] = self._run(tree, side)
        return self._runs[tree]

    def _run(self, tree: str, side: str) -> Run:
        # Inside the scratch directory, so they go with it even if these lines' cleanup never runs.
        work = tempfile.mkdtemp(prefix="tree-", dir=self.scratch)
        temporary = tempfile.mkdtemp(prefix="tmp-", dir=self.scratch)
        try:
            self.repository.write_tree(tree, work)
            environment = {**os.environ, "SETTLE_SIDE": side, "SETTLE_TARGET": self.target_ref, "TMPDIR": temporary}
            for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
                environment.pop(variable, None)  # the command must not reach the user's repository through git
            return _execute(self.options.command, work, environment, self.options.timeout, side)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(temporary, ignore_errors=True)


def _execute(command: str, directory: str, environment: dict[str, str], timeout: float, side: str) -> Run:
    # A session of its own, so a timeout kills the command's children too (a test runner's workers).
    process = subprocess.Popen(command, shell=True, cwd=directory, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        status: int | None = process.returncode
    except subprocess.TimeoutExpired:
        _kill(process)
        output, _ = process.communicate()
        status = None
    except BaseException:
        _kill(process)
        process.wait()
        raise
    return Run(side, status, _tail(output or b""))


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(output: bytes) -> tuple[str, ...]:
    text = output[-_TAIL_CHARACTERS:].decode("utf-8", "replace")
    return tuple(line.rstrip() for line in text.splitlines()[-TAIL_LINES:])


def pairs_to_verify(sides: list[Side], findings: Iterable[Finding], when: str) -> list[tuple[Side, Side]]:
    """Candidate pairs to run: every pair, or those an interference finding names (sorted by ref)."""
    ordered = sorted(sides, key=lambda s: s.ref)
    pairs = [(a, b) for index, a in enumerate(ordered) for b in ordered[index + 1:]]
    if when == "always":
        return pairs
    flagged = {tuple(f.candidates) for f in findings if f.kind == "interference"}
    return [(a, b) for a, b in pairs if (a.ref, b.ref) in flagged]


def singles_to_verify(sides: list[Side], target_ref: str, findings: Iterable[Finding], when: str) -> list[Side]:
    """Candidates run alone: with `always` every candidate; else those interfering with the target's advance."""
    if when == "always":
        return sorted(sides, key=lambda s: s.ref)
    flagged = {ref for f in findings if f.kind == "interference" and target_ref in f.candidates for ref in f.candidates}
    return [s for s in sorted(sides, key=lambda s: s.ref) if s.ref in flagged]


def verification_findings(verifier: Verifier, sides: list[Side], findings: list[Finding]) -> list[Finding]:
    """Run the command where the options say and turn what it shows into verification findings."""
    when = verifier.options.when
    found: dict[str, Finding] = {}
    for side in singles_to_verify(sides, verifier.target_ref, findings, when):
        for finding in _side_failures(verifier, side):
            found.setdefault(finding.id, finding)
    for first, second in pairs_to_verify(sides, findings, when):
        for finding in _pair_findings(verifier, first, second):
            found.setdefault(finding.id, finding)
    return list(found.values())


def _pair_findings(verifier: Verifier, first: Side, second: Side) -> Iterator[Finding]:
    failures = list(_side_failures(verifier, first)) + list(_side_failures(verifier, second))
    if failures:
        yield from failures
        return
    if verifier.side_tree(first) is None or verifier.side_tree(second) is None:
        return  # a side does not merge onto the target: text_conflict findings say so
    composed = verifier.composed_tree(first, second)
    if composed is None:
        return  # the two do not merge with each other: a text_conflict finding says so
    run = verifier.run(composed, f"{first.ref}+{second.ref}")
    if run.passed:
        return
    options = verifier.options
    yield replace(make_finding(
        "verification", "composition_fails", [first.ref, second.ref], extra=options.command,
        fields=dict(command=options.command, a=first.ref, b=second.ref, target=verifier.target_ref, outcome=_outcome(run, options)),
    ), evidence=_evidence(run, options))


def _side_failures(verifier: Verifier, side: Side) -> Iterator[Finding]:
    tree = verifier.side_tree(side)
    if tree is None:
        return
    run = verifier.run(tree, side.ref)
    if run.passed:
        return
    options = verifier.options
    yield replace(make_finding(
        "verification", "side_fails", [side.ref], extra=options.command,
        fields=dict(command=options.command, side=side.ref, target=verifier.target_ref, outcome=_outcome(run, options)),
    ), evidence=_evidence(run, options))


def _outcome(run: Run, options: VerifyOptions) -> str:
    if run.exit_status is None:
        return f"timed out after {options.timeout:g} s (--verify-timeout) and was killed"
    return run.outcome


def _evidence(run: Run, options: VerifyOptions) -> Evidence:
    return Evidence(command=options.command, side=run.side, exit_status=run.exit_status,
                    timed_out=run.exit_status is None, output_tail=list(run.output_tail))


__all__ = ["DEFAULT_TIMEOUT", "Run", "Side", "Verifier", "VerifyOptions", "verification_findings"]
