"""Fixture scenarios: a readable TOML description of branches, built into a real git repository.

A scenario file says what the base looks like, what each branch changes, how
the target advanced meanwhile, and what settle must find:

    description = "both sides edit the same function"
    [base.files]
    "app.py" = '''def f(a): ...'''
    [branches."agent/a".files]
    "app.py" = '''def f(a, b): ...'''
    [branches."agent/a"]
    delete = ["old.py"]
    rename = { "x.py" = "y.py" }
    [target.files]                      # optional: main moves on after the fork
    [check]
    candidates = ["agent/a", "agent/b"]
    [expect]
    verdict = "reject"
    findings = [{ kind = "concurrent_edit", subkind = "same_symbol", symbol = "app.py::f" }]
    absent = [{ kind = "signature_drift" }]

A file value is text, or a table: { hex = "00ff" } for bytes,
{ symlink = "target" }, { submodule = "<40 hex>" }, { text = "...", mode = "100755" }.
Commits get a fixed author and dates, so the same scenario always builds the
same commit ids (`epoch = <seconds>` at the top moves the dates, for a history
from before some day).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

AUTHOR = ("Settle Fixtures", "fixtures@settle.invalid")
EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z; each commit is one minute later


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(_Strict):
    text: str | None = None
    hex: str | None = None
    symlink: str | None = None
    submodule: str | None = None
    mode: str | None = None

    def content(self) -> bytes:
        if self.hex is not None:
            return bytes.fromhex(self.hex)
        if self.symlink is not None:
            return self.symlink.encode()
        return (self.text or "").encode()


class Change(_Strict):
    files: dict[str, str | FileEntry] = Field(default_factory=dict)
    delete: list[str] = Field(default_factory=list)
    rename: dict[str, str] = Field(default_factory=dict)
    message: str | None = None


class Branch(Change):
    # The branch starts here: "base" (default), "target" (after the target's
    # advance) or another branch's name.
    start: str = "base"
    # Further commits on top of the first, for scenarios that need history.
    then: list[Change] = Field(default_factory=list)


class Merge(_Strict):
    """A merge commit on `into` of the listed branches (replay scenarios)."""

    into: str = "main"
    parents: list[str]
    files: dict[str, str | FileEntry] = Field(default_factory=dict)
    delete: list[str] = Field(default_factory=list)
    message: str | None = None


class Check(_Strict):
    candidates: list[str] = Field(default_factory=list)
    base: str | None = None
    claims: str | None = None  # a claims file beside the scenario
    plan: str | None = None
    policy: str | None = None
    strict: bool = False
    args: list[str] = Field(default_factory=list)  # extra CLI arguments


class ExpectedFinding(_Strict):
    kind: str
    subkind: str | None = None
    symbol: str | None = None
    path: str | None = None
    candidates: list[str] | None = None


class Expect(_Strict):
    verdict: str | None = None
    exit_code: int | None = None
    findings: list[ExpectedFinding] = Field(default_factory=list)
    absent: list[ExpectedFinding] = Field(default_factory=list)
    order: list[str] | None = None
    held: list[str] | None = None


class Scenario(_Strict):
    description: str = ""
    epoch: int = EPOCH  # the first commit's time less a minute (a history from before some date)
    languages: list[str] = Field(default_factory=list)
    base: Change = Field(default_factory=Change)
    target: Change | None = None
    branches: dict[str, Branch] = Field(default_factory=dict)
    merges: list[Merge] = Field(default_factory=list)
    check: Check = Field(default_factory=Check)
    expect: Expect = Field(default_factory=Expect)


def load(path: str | Path) -> Scenario:
    path = Path(path)
    with path.open("rb") as handle:
        return Scenario.model_validate(tomllib.load(handle))


def build(scenario: Scenario, destination: str | Path, *, bare: bool = False) -> Path:
    """Create the repository at destination (which must not exist yet) and return its path."""
    import pygit2

    destination = Path(destination)
    repository = pygit2.init_repository(str(destination), bare=bare, initial_head="main")
    builder = _Builder(repository, scenario.epoch)
    base = builder.commit([], scenario.base, "base")
    heads = {"main": base, "base": base}
    if scenario.target is not None:
        heads["target"] = builder.commit([base], scenario.target, "target advances")
        heads["main"] = heads["target"]
    else:
        heads["target"] = base
    pending = dict(scenario.branches)
    while pending:
        progressed = False
        for name, branch in list(pending.items()):
            if branch.start not in heads:
                continue
            tip = builder.commit([heads[branch.start]], branch, f"{name}: change")
            for step, change in enumerate(branch.then, start=2):
                tip = builder.commit([tip], change, f"{name}: change {step}")
            heads[name] = tip
            del pending[name]
            progressed = True
        if not progressed:
            raise ValueError(f"branches start from unknown branches: {sorted(pending)}")
    for merge in scenario.merges:
        parents = [heads[merge.into]] + [heads[name] for name in merge.parents]
        heads[merge.into] = builder.merge(parents, merge)
    for name, commit in heads.items():
        if name in ("base", "target"):
            continue
        repository.references.create(f"refs/heads/{name}", commit, force=True)
    if not bare:
        repository.checkout("refs/heads/main", strategy=pygit2.enums.CheckoutStrategy.FORCE)
    return destination


class _Builder:
    def __init__(self, repository, epoch: int = EPOCH):
        self.repository = repository
        self.epoch = epoch
        self.clock = 0

    def signature(self):
        import pygit2

        self.clock += 1
        return pygit2.Signature(*AUTHOR, time=self.epoch + 60 * self.clock, offset=0)

    def commit(self, parents, change: Change, default_message: str):
        files = self._files_at(parents[0]) if parents else {}
        self._apply(files, change.files, change.delete, change.rename)
        return self._write(parents, files, change.message or default_message)

    def merge(self, parents, merge: Merge):
        """Take the first parent's files, overlay the others' changes file by file, then the overrides."""
        files = self._files_at(parents[0])
        for other in parents[1:]:
            for path, entry in self._files_at(other).items():
                files.setdefault(path, entry)
        self._apply(files, merge.files, merge.delete, {})
        message = merge.message or "Merge " + ", ".join(str(p) for p in parents[1:])
        return self._write(parents, files, message)

    def _files_at(self, commit_id) -> dict[str, tuple[bytes, int]]:
        commit = self.repository[commit_id]
        files: dict[str, tuple[bytes, int]] = {}
        self._walk(commit.tree, "", files)
        return files

    def _walk(self, tree, prefix, files):
        import pygit2

        for entry in tree:
            path = prefix + entry.name
            if entry.filemode == pygit2.enums.FileMode.TREE:
                self._walk(self.repository[entry.id], path + "/", files)
            elif entry.filemode == pygit2.enums.FileMode.COMMIT:
                files[path] = (str(entry.id).encode(), entry.filemode)
            else:
                files[path] = (self.repository[entry.id].data, entry.filemode)

    def _apply(self, files, new_files, delete, rename):
        import pygit2

        modes = pygit2.enums.FileMode
        for old, new in rename.items():
            files[new] = files.pop(old)
        for path in delete:
            files.pop(path, None)
        for path, value in new_files.items():
            entry = FileEntry(text=value) if isinstance(value, str) else value
            if entry.submodule is not None:
                files[path] = (entry.submodule.encode(), modes.COMMIT)
            elif entry.symlink is not None:
                files[path] = (entry.content(), modes.LINK)
            else:
                mode = int(entry.mode, 8) if entry.mode else modes.BLOB
                files[path] = (entry.content(), mode)

    def _write(self, parents, files, message):
        tree = self._tree(files)
        signature = self.signature()
        return self.repository.create_commit(None, signature, signature, message, tree, parents)

    def _tree(self, files: dict[str, tuple[bytes, int]]):
        import pygit2

        nested: dict[str, Any] = {}
        for path, value in files.items():
            parts = path.split("/")
            node = nested
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        return self._write_tree(nested, pygit2)

    def _write_tree(self, nested, pygit2):
        builder = self.repository.TreeBuilder()
        for name in sorted(nested):
            value = nested[name]
            if isinstance(value, dict):
                builder.insert(name, self._write_tree(value, pygit2), pygit2.enums.FileMode.TREE)
            else:
                content, mode = value
                if mode == pygit2.enums.FileMode.COMMIT:
                    builder.insert(name, pygit2.Oid(hex=content.decode()), mode)
                else:
                    builder.insert(name, self.repository.create_blob(content), mode)
        return builder.write()


def main(argv: list[str] | None = None) -> int:
    """python -m settle.scenario SCENARIO.toml DEST [--bare]: build a scenario's repository."""
    args = list(sys.argv[1:] if argv is None else argv)
    bare = "--bare" in args
    args = [a for a in args if a != "--bare"]
    if len(args) != 2:
        print("usage: python -m settle.scenario SCENARIO.toml DEST [--bare]", file=sys.stderr)
        return 2
    path = build(load(args[0]), args[1], bare=bare)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
