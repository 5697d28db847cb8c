"""Query files split into patterns without compiling them: the split must be tree-sitter's, since
each pattern's role (and so what the extractor does with its matches) is read by pattern index."""

from __future__ import annotations

import importlib

import pytest
import tree_sitter
from hypothesis import given, settings
from hypothesis import strategies as st

from settle.languages import PROFILES
from settle.parse.grammar import grammar_for, pattern_spans, query_source


def _language(profile) -> tree_sitter.Language:
    return tree_sitter.Language(getattr(importlib.import_module(profile.grammar_module), profile.grammar_function)())


def _tree_sitters(language: tree_sitter.Language, source: str) -> list[tuple[int, int]]:
    query = tree_sitter.Query(language, source)
    return [(query.start_byte_for_pattern(i), query.end_byte_for_pattern(i)) for i in range(query.pattern_count)]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_the_query_files_split_into_the_patterns_tree_sitter_numbers(profile):
    source = query_source(profile)
    assert pattern_spans(source.encode()) == _tree_sitters(_language(profile), source)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_every_query_compiles_when_first_asked_for(profile):
    grammar = grammar_for(profile)
    assert grammar.query.pattern_count == len(grammar.roles)
    for layout in ("symbols", "structure"):
        query, roles, kinds = grammar.layout(layout)
        assert query.pattern_count == len(roles) == len(kinds)
    # The structure is the symbols without what only hashes and docstrings read.
    assert grammar.layout("structure")[1] == tuple(role for role in grammar.layout("symbols")[1] if role not in ("block", "docstring"))
    for name in ("outline", "calls", "arguments", "strings"):
        getattr(grammar, name)  # None where the language has no such pattern


_PYTHON = _language(next(p for p in PROFILES if p.name == "python"))
_NODES = st.sampled_from(["(identifier)", "(call function: (identifier) @callee)", "(_)", "_", '"def"',
                          "(string) @s", "((identifier) @i (#eq? @i \"x;y@z\"))", "(call) @c.d-e", "[(string) (integer)] @lit"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_NODES, st.sampled_from(["", "?", "*", "+"]), st.sampled_from(["", " @x", "@y.z", " @a @b"]),
                          st.sampled_from([" ", "\n", "\n\n; a comment with ( [ \" @ in it\n", "\t"])), min_size=1, max_size=8))
def test_any_query_splits_as_tree_sitter_splits_it(parts):
    source = "".join(node + quantifier + capture + gap for node, quantifier, capture, gap in parts)
    assert pattern_spans(source.encode()) == _tree_sitters(_PYTHON, source)
