"""The pydantic models are made from the documents' dataclasses field by field (settle.schema):
the same fields, defaults and descriptions, and a document built as dataclasses is valid against
its model and written back the same."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settle import document, models
from settle.ledger import memory
from settle.ledger import schema as memory_models

PAIRS = [(record, getattr(models, record.__name__)) for record in (
    document.Location, document.Evidence, document.Finding, document.TargetRef, document.CandidateRef,
    document.Settlement, document.CandidateStats, document.Stats, document.ReplaySource, document.Verdict)] + [
    (record, getattr(memory_models, record.__name__)) for record in (
        memory.Occurrence, memory.RememberedFinding, memory.SubjectMemory, memory.MemoryQuery, memory.MemoryTarget,
        memory.MemoryDocument)]


@pytest.mark.parametrize(("record", "model"), PAIRS, ids=[record.__qualname__ for record, _ in PAIRS])
def test_a_model_has_its_dataclass_fields_defaults_and_descriptions(record, model):
    schema = model.model_json_schema(by_alias=True)
    parts = fields(record)
    assert list(schema["properties"]) == [part.name for part in parts]
    assert schema.get("required", []) == [part.name for part in parts
                                          if part.default is MISSING and part.default_factory is MISSING]
    for part in parts:
        described = schema["properties"][part.name].get("description")
        assert described == part.metadata.get("description")
        if part.default is not MISSING:
            assert schema["properties"][part.name]["default"] == part.default
    assert schema.get("description") == (record.__doc__ if not record.__doc__.startswith(record.__name__ + "(") else None)


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_optional_line = st.none() | st.integers(1, 10_000)
_locations = st.builds(document.Location, side=_text, path=_text, start_line=_optional_line, end_line=_optional_line,
                       symbol=st.none() | _text)
_evidence = st.builds(document.Evidence, command=_text, side=_text, exit_status=st.none() | st.integers(-9, 255),
                      timed_out=st.booleans(), output_tail=st.lists(_text, max_size=3))
_findings = st.builds(document.Finding, id=_text, kind=_text, subkind=_text, severity=st.sampled_from(["error", "warning", "info"]),
                      candidates=st.lists(_text, max_size=3), symbols=st.lists(_text, max_size=3), path=st.none() | _text,
                      locations=st.lists(_locations, max_size=3), message=_text, evidence=st.none() | _evidence)
_verdicts = st.builds(
    document.Verdict, verdict=st.sampled_from(["merge", "reject"]),
    target=st.builds(document.TargetRef, ref=_text, commit=_text),
    candidates=st.lists(st.builds(document.CandidateRef, ref=_text, commit=_text, merge_base=st.none() | _text,
                                  claims=st.none() | _text), max_size=3),
    findings=st.lists(_findings, max_size=4),
    settlement=st.builds(document.Settlement, order=st.lists(_text, max_size=3),
                         held=st.dictionaries(_text, st.lists(_text, max_size=2), max_size=2)),
    stats=st.builds(document.Stats, findings=st.dictionaries(_text, st.integers(0, 99), max_size=3), pairs=st.integers(0, 9),
                    files_parsed=st.integers(0, 999),
                    candidates=st.dictionaries(_text, st.builds(document.CandidateStats, changed_paths=st.integers(0, 9),
                                                                changed_symbols=st.integers(0, 9),
                                                                claimed_untouched=st.lists(_text, max_size=2)), max_size=2),
                    interference_skipped_edges=st.integers(0, 9)),
    merge_commit=st.none() | _text,
    replay=st.none() | st.builds(document.ReplaySource, repository=_text, range=st.none() | _text,
                                 last=st.none() | st.integers(1, 999), tip=_text, subject=_text, settle=_text),
)


@settings(max_examples=200, deadline=None)
@given(_verdicts, st.booleans())
def test_a_verdict_built_as_dataclasses_is_its_model_written_back_the_same(verdict, compact):
    text = verdict.to_json(compact=compact)
    model = models.Verdict.model_validate_json(text)
    assert model.to_json(compact=compact) == text
    assert models.Verdict.of(verdict) == model
    assert json.loads(text)["schema"] == "settle.verdict/1"
