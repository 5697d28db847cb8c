"""The verdict document as the stages build it: frozen dataclasses, declared once.

`settle.models` makes the pydantic models from these, field by field (settle.schema): they
are the document's JSON Schema (`settle schema`) and what the Python API returns. The
commands that only print a verdict never import pydantic.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Literal

SCHEMA = "settle.verdict/1"
_document = dataclass(frozen=True, slots=True, kw_only=True)


def about(description: str, **options):
    """A dataclass field with the description its model, and so the schema, gives it (settle.schema)."""
    return field(metadata={"description": description}, **options)


@_document
class Location:
    """Where a finding sits on one side (a candidate, the target, or the merge base)."""

    side: str
    path: str
    start_line: int | None = None
    end_line: int | None = None
    symbol: str | None = None


@_document
class Evidence:
    """What `check --verify` ran for a verification finding, on which composed tree, and how it ended."""

    command: str
    side: str = about("SETTLE_SIDE of the failing run: a candidate's ref, or 'A+B' of two refs.")
    exit_status: int | None = about("The command's exit status; null when it timed out and was killed.")
    timed_out: bool = False
    output_tail: list[str] = about("The last lines of its output (stdout and stderr).", default_factory=list)


@_document
class Finding:
    id: str = about("Stable short id of this finding: the same finding always has the same id.")
    kind: str
    subkind: str
    severity: Literal["error", "warning", "info"]
    candidates: list[str] = about("The sides involved, sorted; the target's ref name when it is one of them.")
    symbols: list[str] = about("Symbol ids (PATH::QUALNAME) involved.", default_factory=list)
    path: str | None = None
    locations: list[Location] = field(default_factory=list)
    message: str
    evidence: Evidence | None = about("verification findings only: the command run and what it printed.", default=None)

    def sort_key(self) -> tuple:
        return (self.candidates, self.kind, self.subkind, self.path or "", self.symbols, self.id)


def finding_id(kind: str, subkind: str, candidates: list[str], symbols: list[str], path: str | None, extra: str = "") -> str:
    key = "\x1f".join([kind, subkind, *candidates, "|", *symbols, "|", path or "", extra])
    return hashlib.blake2b(key.encode(), digest_size=5).hexdigest()


@_document
class TargetRef:
    ref: str
    commit: str


@_document
class CandidateRef:
    ref: str
    commit: str
    merge_base: str | None = about("Fork point with the target; null when they share no history.")
    claims: str | None = about("Where this candidate's claims came from, if any.", default=None)


@_document
class Settlement:
    order: list[str] = about("Candidates admitted, in landing order.")
    held: dict[str, list[str]] = about("Each held candidate → ids of the findings that hold it.")


@_document
class CandidateStats:
    changed_paths: int = 0
    changed_symbols: int = 0
    claimed_untouched: list[str] = about("Claimed for edit/create/delete but not touched.", default_factory=list)


@_document
class Stats:
    findings: dict[str, int] = about("Count per severity.")
    pairs: int
    files_parsed: int
    candidates: dict[str, CandidateStats] = field(default_factory=dict)
    interference_skipped_edges: int = about(
        "Calls, reads and writes between two sides' changes that interference could not bind to one definition, "
        "and so did not judge.", default=0)


@_document
class ReplaySource:
    """Replay only: what a replay line comes from, so a report of the lines can say what it covers."""

    repository: str = about("The repository's name (origin's URL without host, else its directory name); never a path.")
    range: str | None = about("--range as given (A..B); null when the merges were taken from HEAD.")
    last: int | None = about("--last as given; null when every merge of the range or of HEAD was taken.")
    tip: str = about("The commit the merges were walked back from (B of the range, or HEAD).")
    subject: str = about("The merge commit's subject line.")
    settle: str = about("Version of settle that replayed the merge.")


@_document
class Verdict:
    schema: Literal["settle.verdict/1"] = SCHEMA
    verdict: Literal["merge", "reject"]
    target: TargetRef
    candidates: list[CandidateRef]
    findings: list[Finding]
    settlement: Settlement
    stats: Stats
    merge_commit: str | None = about("Replay only: the merge commit this verdict re-settles.", default=None)
    replay: ReplaySource | None = about("Replay only: repository, selection and subject of the merge.", default=None)

    def document(self) -> dict:
        """The JSON data, as `--format json` prints it."""
        return verdict_document(_plain(self))

    def to_json(self, compact: bool = False) -> str:
        """Sorted keys, no timestamps: the same verdict is the same bytes. compact: one line (JSON Lines)."""
        return verdict_json(self.document(), compact)


def verdict_document(document: dict) -> dict:
    """A verdict's JSON data without the fields its kind of verdict never has: check's verdicts
    have no replay fields (as before replay had them), and only verification findings have evidence."""
    for replay_only in ("merge_commit", "replay"):
        if document.get(replay_only) is None:
            document.pop(replay_only, None)
    for finding in document["findings"]:
        if finding.get("evidence") is None:
            finding.pop("evidence", None)
    return document


def verdict_json(document: dict, compact: bool = False) -> str:
    if compact:
        return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # `fields()` per object is a fifth of writing a wide verdict


def _plain(value):
    """JSON data of a document part: dataclasses as objects of their fields, sequences as lists."""
    names = _FIELD_NAMES.get(type(value))
    if names is None and is_dataclass(value):
        names = _FIELD_NAMES[type(value)] = tuple(part.name for part in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
