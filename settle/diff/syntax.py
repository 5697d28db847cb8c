"""Which of a side's syntax errors it introduced, where the grammar alone cannot say.

tree-sitter flags what its grammar does not know. These keep that from being
blamed on a candidate:
- errors are introduced only into a file whose base version parsed (DESIGN: "a
  side leaves a file that parsed on the base with syntax errors"; where the base
  had errors too, the file is in something the grammar does not know);
- a new file is judged by its neighbours: where most files of its language in its
  directory did not parse on the base, the directory is in such a dialect (a test
  DSL in `spec/*.js`), and a new file there is too;
- a file beside the compiler output it is meant to give (the profile's
  `failure_expectations`: `tests/ui/x.rs` beside `x.stderr`) is meant not to compile;
- a construct the file's language edition accepts (the profile's `editions`, e.g.
  Rust 2015's `try!`) is not an error at all, and code committed before the language's
  first stable release (Rust before 1.0) is in a dialect no grammar follows.
Asked only of files whose tip has errors, so the re-parses here are rare.
"""

from __future__ import annotations

import posixpath
import tomllib
from datetime import datetime, timezone

from settle.languages import LanguageProfile, profile_for_path
from settle.parse.extract import syntax_error_texts
from settle.repo import Repository


NEIGHBOURS = 9  # a new file's neighbours read to judge its directory: enough for a majority, few parses


def introduced_errors(repository: Repository, base: str | None, tip: str, path: str, new_id: str,
                      old_id: str | None) -> tuple[int, ...]:
    """Lines of the tip's syntax errors that are neither on the base version nor valid in the file's edition."""
    profile = profile_for_path(path)
    if profile is None:
        return ()
    found = syntax_error_texts(repository.blob(new_id), profile)
    if not found or _expected_to_fail(repository, tip, path, profile) or _before_stable(repository, tip, profile):
        return ()
    accepted = accepted_in_edition(repository, tip, path, profile)
    if old_id and _unreadable(repository, old_id, profile, accepted):
        # The base did not parse either: the file is written in something the grammar does not
        # know (a test DSL in .js files, a newer syntax), and more of it is no candidate's fault.
        return ()
    if not old_id and base and _unreadable_directory(repository, base, path, profile, accepted):
        return ()
    return tuple(sorted({line for line, text in found if text not in accepted}))


def _unreadable(repository: Repository, blob_id: str, profile: LanguageProfile, accepted: frozenset[str]) -> bool:
    return bool({text for _, text in syntax_error_texts(repository.blob(blob_id), profile)} - accepted)


def _unreadable_directory(repository: Repository, base: str, path: str, profile: LanguageProfile,
                          accepted: frozenset[str]) -> bool:
    """Did most of the first NEIGHBOURS files of the same extension in the new file's directory fail to
    parse on the base? (None there: no say.)"""
    extension = posixpath.splitext(path)[1]
    neighbours = [entry for entry in repository.files_in(base, posixpath.dirname(path))
                  if entry.path != path and posixpath.splitext(entry.path)[1] == extension][:NEIGHBOURS]
    unreadable = sum(_unreadable(repository, entry.id, profile, accepted) for entry in neighbours)
    return 2 * unreadable > len(neighbours)


def _before_stable(repository: Repository, tip: str, profile: LanguageProfile) -> bool:
    """Was the tip committed before the language's first stable release (the profile's `first_stable`)?"""
    editions = profile.editions
    if editions is None or editions.first_stable is None:
        return False
    released = datetime.fromisoformat(editions.first_stable).replace(tzinfo=timezone.utc)
    return repository.commit_time(tip) < released.timestamp()


def _expected_to_fail(repository: Repository, tip: str, path: str, profile: LanguageProfile) -> bool:
    stem = posixpath.splitext(path)[0]
    return any(repository.entry(tip, stem + suffix) is not None for suffix in profile.failure_expectations)


def accepted_in_edition(repository: Repository, tip: str, path: str, profile: LanguageProfile) -> frozenset[str]:
    editions = profile.editions
    if editions is None:
        return frozenset()
    return editions.accepted.get(_edition(repository, tip, path, profile), frozenset())


def _edition(repository: Repository, tip: str, path: str, profile: LanguageProfile) -> str:
    editions = profile.editions
    assert editions is not None
    inherits = False
    for manifest in _manifests_above(repository, tip, path, editions.manifest):
        if inherits:
            value = manifest.get("workspace", {}).get(editions.table, {}).get(editions.key)
            if value is not None or "workspace" in manifest:
                return str(value) if value is not None else editions.default
            continue
        if editions.table not in manifest:
            continue  # a workspace-only manifest above a member: the member's own one decides
        value = manifest[editions.table].get(editions.key)
        if isinstance(value, dict) and value.get("workspace"):
            inherits = True
            continue
        return str(value) if value is not None else editions.default
    return editions.default


def _manifests_above(repository: Repository, tip: str, path: str, name: str):
    """The parsed manifests named `name` from the file's directory up to the root (unreadable ones skipped)."""
    directory = posixpath.dirname(path)
    while True:
        entry = repository.entry(tip, posixpath.join(directory, name) if directory else name)
        if entry is not None:
            try:
                yield tomllib.loads(repository.blob(entry.id).decode("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                pass
        if not directory:
            return
        directory = posixpath.dirname(directory)
