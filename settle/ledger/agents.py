"""The lease commands (`settle lease`, `release`, `leases`) as documents: what the CLI prints and
`settle serve`'s tools return, from one place."""

from __future__ import annotations

import json

from settle.errors import SettleError
from settle.ledger import clock
from settle.ledger.leases import (DEFAULT_TTL, leases_document, live_leases, lease, release, release_document)
from settle.ledger.store import Ledger


def lease_command(ledger_path: str, repo_path: str, holder: str, patterns, ttl: float = DEFAULT_TTL, steal: bool = False,
                  output_format: str = "text") -> tuple[str, bool]:
    """The printed outcome, and whether the lease was granted."""
    repository = _repository(repo_path)
    holder = _holder(repository, holder)
    with _ledger(ledger_path, repository) as ledger:
        outcome = lease(ledger, holder, list(patterns), ttl, steal, _identity(repository))
    if output_format == "json":
        return _json(outcome.document()), outcome.granted
    if not outcome.granted:
        return "".join(f"refused: {conflict.message()}\n" for conflict in outcome.conflicts), False
    lines = [f"took over {l.pattern} from {l.holder} (expired at {l.until})\n" for l in outcome.stolen]
    lines += [f"leased {l.pattern} to {l.holder} until {l.until}\n" for l in outcome.leases]
    return "".join(lines), True


def release_command(ledger_path: str, repo_path: str, holder: str | None, patterns, every: bool = False,
                    output_format: str = "text") -> str:
    if holder is None and not every:
        raise SettleError("give --holder CANDIDATE (whose leases to end), or --all to end every holder's")
    if not patterns and not every:
        raise SettleError("name the PATTERNs to release, or pass --all for all of the holder's leases")
    if patterns and every:
        raise SettleError("give PATTERNs or --all, not both")
    repository = _repository(repo_path)
    holder = _holder(repository, holder) if holder is not None else None
    with _ledger(ledger_path, repository) as ledger:
        ended = release(ledger, holder, list(patterns), every, _identity(repository))
    if output_format == "json":
        return _json(release_document(ended))
    if not ended:
        return f"{holder or 'nobody'} held no lease on {', '.join(patterns) or 'anything'}; nothing released\n"
    return "".join(f"released {l.pattern} of {l.holder}\n" for l in ended)


def leases_command(ledger_path: str, holder: str | None = None, output_format: str = "text") -> str:
    with Ledger.open(ledger_path, create=False, readonly=True) as ledger:
        found = [l for l in live_leases(ledger) if holder is None or l.holder == holder]
    if output_format == "json":
        return _json(leases_document(found))
    if not found:
        return "no live leases\n"
    return "".join(f"{l.holder}\t{l.pattern}\tsince {clock.short(l.since)}\tuntil {l.until}\n" for l in found)


def _json(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _repository(repo_path: str):
    """The repository the leases are about, when there is one at repo_path."""
    from settle.repo import Repository

    try:
        return Repository.open(repo_path)
    except SettleError:
        return None


def _holder(repository, holder: str) -> str:
    if not holder.strip():
        raise SettleError("--holder is empty; name the candidate that holds the lease, e.g. --holder agent/x")
    return repository.candidate_name(holder) if repository is not None else holder


def _identity(repository) -> dict | None:
    from settle.ledger.record import repository_identity

    if repository is None:
        return None
    try:
        return repository_identity(repository, repository.resolve("HEAD"))
    except SettleError:
        return None


def _ledger(ledger_path: str, repository) -> Ledger:
    forbidden = sorted({repository.git_dir, repository.common_dir}) if repository is not None else []
    return Ledger.open(ledger_path, forbidden_dirs=forbidden)
