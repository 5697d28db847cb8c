"""Verdict events: what the ledger keeps of each verdict settle printed, and the keys memory finds it by.

A verdict is taken as the JSON document settle printed (`settle.verdict/1`);
nothing here knows how it was made.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from settle.ledger import history
from settle.ledger.store import Event, Ledger

VERDICT = "verdict"
# Key prefixes of the event index (see store.event_keys). A target key is the repository's git dir
# and the target ref, so the next verdict on that target finds the root commits worked out for it.
SYMBOL, PATH, CANDIDATE, ATTEMPT, MERGE, TARGET = "symbol:", "path:", "candidate:", "attempt:", "merge:", "target:"
SEPARATOR = "\x1f"  # between a ref and a commit in an attempt key: neither can hold it


def repository_identity(repository, target_commit: str, known: tuple[str, list[str]] | None = None) -> dict:
    """The repository's root commits (the same in every clone) and where its common git dir is.
    known: an earlier target commit and its roots, so that only the commits since are walked."""
    return {"roots": history.root_commits(repository, target_commit, known), "git_dir": os.path.realpath(repository.common_dir)}


def known_identity(ledger: Ledger, git_dir: str, ref: str) -> tuple[str, list[str]] | None:
    """The target commit and root commits of the newest verdict on this repository's target ref."""
    seq = ledger.last_with_key(TARGET + git_dir + SEPARATOR + ref)
    if seq is None:
        return None
    event = ledger.events_by_seq([seq])[0]
    commit = event.payload.get("target", {}).get("commit")
    roots = (event.repository or {}).get("roots")
    if not isinstance(commit, str) or not isinstance(roots, list):
        return None
    return commit, roots


def claims_digest(source: str | None) -> str | None:
    """SHA-256 of the claims a candidate was bound by: the claims file, or the plan file and task (`plan.toml#task`)."""
    if source is None:
        return None
    path, _, task = source.partition("#")
    location = Path(path)
    digest = hashlib.sha256()
    try:
        if location.is_dir():  # a dgov plan directory
            for item in sorted(location.rglob("*.toml")):
                digest.update(item.relative_to(location).as_posix().encode() + b"\0" + item.read_bytes() + b"\0")
        else:
            digest.update(location.read_bytes())
    except OSError:
        return None
    digest.update(b"#" + task.encode())
    return digest.hexdigest()


def verdict_payload(document: dict, command: str, options: dict) -> dict:
    return {
        "command": command,
        "options": options,
        "target": document["target"],
        "candidates": [
            {"ref": c["ref"], "commit": c["commit"], "fork": c.get("merge_base"), "claims": c.get("claims"),
             "claims_digest": claims_digest(c.get("claims"))}
            for c in document["candidates"]
        ],
        "verdict": document,
    }


def verdict_keys(document: dict) -> list[str]:
    """What the verdict is about: its findings' symbols and paths, and (outside replay) its candidates' attempts."""
    keys: set[str] = set()
    for finding in document.get("findings", []):
        for symbol in finding.get("symbols", []):
            keys.add(SYMBOL + symbol)
            keys.add(PATH + symbol.split("::", 1)[0])
        if finding.get("path"):
            keys.add(PATH + finding["path"])
    if document.get("merge_commit"):
        # Replay's sides are named parent1, parent2…: not refs anyone checks again.
        keys.add(MERGE + document["merge_commit"])
    else:
        for candidate in document.get("candidates", []):
            keys.add(CANDIDATE + candidate["ref"])
            keys.add(ATTEMPT + candidate["ref"] + SEPARATOR + candidate["commit"])
    return sorted(keys)


class Recorder:
    """One command's way into the ledger: opened (and validated) before the command runs, so a
    ledger that can't take the verdict fails the command before any verdict is printed."""

    def __init__(self, ledger: Ledger, repository, command: str, options: dict):
        self.ledger = ledger
        self._repository = repository
        self._command = command
        self._options = options
        self._identity: dict | None = None

    @classmethod
    def open(cls, ledger_path: str, repo_path: str, command: str, options: dict) -> Recorder:
        from settle.repo import Repository

        repository = Repository.open(repo_path)
        forbidden = {repository.git_dir, repository.common_dir}
        return cls(Ledger.open(ledger_path, forbidden_dirs=sorted(forbidden)), repository, command, options)

    def record(self, document: dict) -> Event:
        target = document["target"]
        git_dir = os.path.realpath(self._repository.common_dir)
        if self._identity is None:
            # The root commits take a walk of the whole history (17,666 commits for pytest, 0.2 s);
            # the ledger's last verdict on the same target has them for a commit this one most
            # likely contains.
            known = known_identity(self.ledger, git_dir, target["ref"])
            self._identity = repository_identity(self._repository, target["commit"], known)
        keys = verdict_keys(document)
        if not document.get("merge_commit"):  # replay's targets are parents of old merges: no one's next target
            keys.append(TARGET + git_dir + SEPARATOR + target["ref"])
        return self.ledger.append(VERDICT, verdict_payload(document, self._command, self._options),
                                  repository=self._identity, keys=keys)

    def record_json(self, text: str) -> Event:
        return self.record(json.loads(text))

    def close(self) -> None:
        self.ledger.close()


def verdict_documents(ledger_path: str) -> list[dict]:
    """The verdict documents of a ledger's verdict events, in chain order: what `settle report --ledger` aggregates."""
    with Ledger.open(ledger_path, create=False, readonly=True) as ledger:
        return [event.payload["verdict"] for event in ledger.events(VERDICT) if "verdict" in event.payload]
