"""Test harness: real repositories built from scenarios, the real installed command, and a
check after every command that the repository was not written to."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from settle import scenario as scenarios
from settle.languages import profile_for_path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# The tests never touch the user's cache: every command they run (and settle used in process)
# shares one throwaway cache directory, so the whole suite also runs with the cache on.
_TEST_CACHE = tempfile.mkdtemp(prefix="settle-test-cache-")
os.environ["SETTLE_CACHE_DIR"] = _TEST_CACHE
os.environ.pop("SETTLE_NO_CACHE", None)
atexit.register(shutil.rmtree, _TEST_CACHE, True)


def fixture_files():
    """(scenario file, path, bytes) of every code file written by any fixture scenario, base or branch."""
    found = {}
    for source in sorted(FIXTURES.rglob("*.toml")):
        try:
            scenario = scenarios.load(source)
        except Exception:  # claims, plans and policies are not scenarios
            continue
        changes = [scenario.base, *scenario.branches.values()]
        for change in changes:
            for path, entry in change.files.items():
                if profile_for_path(path) is None:
                    continue
                data = entry.encode() if isinstance(entry, str) else entry.content()
                found[(source.relative_to(FIXTURES).as_posix(), path, data)] = None
    return list(found)


def settle_executable() -> str:
    beside = Path(sys.executable).with_name("settle")
    found = str(beside) if beside.exists() else shutil.which("settle")
    if not found:
        raise RuntimeError("the settle command is not installed in this environment (pip install -e '.[dev]')")
    return found


def repository_state(path: Path) -> dict[str, str]:
    """Everything settle promises not to touch: refs, HEAD, index, work tree, objects."""
    git_dir = path if (path / "HEAD").exists() and not (path / ".git").exists() else path / ".git"
    state = {}
    for item in sorted(path.rglob("*")):
        if item.is_file() and not item.is_symlink():
            relative = item.relative_to(path).as_posix()
            state[relative] = hashlib.blake2b(item.read_bytes(), digest_size=8).hexdigest()
        elif item.is_symlink():
            state[item.relative_to(path).as_posix()] = "-> " + os.readlink(item)
    state["<git-dir>"] = str(git_dir)
    return state


class Settle:
    """Runs the installed `settle` and asserts the repository is byte-for-byte unchanged."""

    def __init__(self, repo: Path | None = None):
        self.repo = repo

    def __call__(self, *args: str, repo: Path | None = None, input: str | None = None, env: dict | None = None, check_unchanged: bool = True) -> subprocess.CompletedProcess:
        repo = repo or self.repo
        before = repository_state(repo) if repo is not None and check_unchanged else None
        environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
        result = subprocess.run(
            [settle_executable(), *args],
            cwd=str(repo) if repo is not None else None,
            capture_output=True,
            text=True,
            input=input,
            env=environment,
            timeout=300,
        )
        if before is not None:
            after = repository_state(repo)
            assert after == before, f"settle {' '.join(args)} changed the repository"
        assert "Traceback" not in result.stderr, result.stderr
        assert_verdicts_match_the_schema(result.stdout)
        return result


def assert_verdicts_match_the_schema(output: str) -> None:
    """Every verdict a command prints is valid against the pydantic models (the schema) and is the
    bytes the model writes back: the commands build dataclasses (settle.document), not the models."""
    from settle.models import Verdict

    def verdict(text: str) -> bool:
        try:
            return json.loads(text).get("schema") == "settle.verdict/1"
        except (ValueError, AttributeError):
            return False

    if output.startswith("{\n") and '"settle.verdict/1"' in output and verdict(output):
        assert Verdict.model_validate_json(output).to_json() == output
        return
    for line in output.splitlines(keepends=True):
        if line.startswith("{") and '"settle.verdict/1"' in line and verdict(line):
            assert Verdict.model_validate_json(line).to_json(compact=True) == line


def long_history(merges: int, path: Path) -> Path:
    """A repository whose history is `merges` merges of one-function branches. Each branch also sets
    its own line of a shared file, so every merge is a real three-way merge (git's, in a scratch
    store), not changes to disjoint paths laid over one another."""
    def registry(lines: range) -> str:
        return "".join(f"v{i} = {int(i in lines)}\n\n\n" for i in range(merges))

    branches = {f"b{i}": {"files": {f"m{i}.py": f"def f{i}():\n    return {i}\n", "registry.py": registry(range(i, i + 1))}}
                for i in range(merges)}
    scenario = {"base": {"files": {"a.py": "x = 1\n", "registry.py": registry(range(0))}}, "branches": branches,
                "merges": [{"parents": [f"b{i}"], "files": {"registry.py": registry(range(i + 1))}} for i in range(merges)]}
    return scenarios.build(scenarios.Scenario.model_validate(scenario), path)


@pytest.fixture
def build(tmp_path):
    """build(scenario_or_path, bare=False) → path of a fresh repository built from it."""
    counter = iter(range(1000))

    def _build(source, bare: bool = False) -> Path:
        scenario = source if isinstance(source, scenarios.Scenario) else (
            scenarios.Scenario.model_validate(source) if isinstance(source, dict) else scenarios.load(source)
        )
        return scenarios.build(scenario, tmp_path / f"repo{next(counter)}", bare=bare)

    return _build


@pytest.fixture
def settle() -> Settle:
    return Settle()


def assert_extraction_properties(language: str, path: str, data: bytes) -> None:
    """For any bytes: extraction does not raise, is deterministic (with or without references
    up front), and symbol ids are unique."""
    from settle.languages import profile_named
    from settle.parse.extract import extract

    profile = profile_named(language)
    first = extract(data, path, profile)
    again = extract(data, path, profile)
    assert first == again and first.references == again.references
    # A table built without references works them out on first use, to the same result.
    lazy = extract(data, path, profile, references=False)
    assert lazy == first and lazy.references == first.references
    assert len({d.id for d in first.definitions}) == len(first.definitions)
