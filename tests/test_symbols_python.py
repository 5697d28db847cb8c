"""`settle symbols` on Python: what the parser layer reports, through the installed command."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES


@pytest.fixture
def tour(build):
    return build(FIXTURES / "python" / "symbols_tour.toml")


def definitions(settle, repo, *paths):
    result = settle("symbols", "--format", "json", *paths, repo=repo)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    return {d["id"]: d for f in document["files"] for d in f["definitions"]}, document


def test_every_definition_is_reported_with_its_qualified_id_and_kind(settle, tour):
    found, _ = definitions(settle, tour)
    kinds = {symbol: d["kind"] for symbol, d in found.items()}
    assert kinds == {
        "src/shop/cart.py::MAX_ITEMS": "constant",
        "src/shop/cart.py::currency": "variable",
        "src/shop/cart.py::total": "function",
        "src/shop/cart.py::Cart": "class",
        "src/shop/cart.py::Cart.limit": "field",
        "src/shop/cart.py::Cart.__init__": "method",
        "src/shop/cart.py::Cart.empty": "method",
        "src/shop/cart.py::Cart.size": "method",
        "src/shop/cart.py::Cart.checkout": "method",
        "src/shop/cart.py::Cart.Line": "class",
        "src/shop/cart.py::Cart.Line.describe": "method",
        "src/shop/cart.py::Cart.Line.describe.indent": "function",
    }


def test_lambdas_and_comprehensions_are_not_symbols(settle, tour):
    found, _ = definitions(settle, tour)
    assert not any("square" in symbol or "lambda" in symbol or "item" in symbol for symbol in found)


def test_every_parameter_kind_is_recognised(settle, tour):
    found, _ = definitions(settle, tour)
    parameters = found["src/shop/cart.py::total"]["signature"]["parameters"]
    assert [(p["name"], p["kind"], p["default"]) for p in parameters] == [
        ("items", "positional_only", False),
        ("discount", "positional_or_keyword", True),
        ("extra", "var_positional", False),
        ("rounding", "keyword_only", True),
        ("options", "var_keyword", False),
    ]
    assert parameters[1]["annotation"] == "Decimal"
    assert found["src/shop/cart.py::total"]["signature"]["returns"] == "Decimal"
    assert found["src/shop/cart.py::total"]["signature"]["text"] == (
        "(items, /, discount: Decimal=…, *extra, rounding=…, **options) -> Decimal"
    )


def test_methods_take_self_as_receiver_unless_static(settle, tour):
    found, _ = definitions(settle, tour)
    init = found["src/shop/cart.py::Cart.__init__"]["signature"]["parameters"]
    assert [(p["name"], p["kind"]) for p in init] == [("self", "receiver"), ("owner", "positional_or_keyword")]
    assert found["src/shop/cart.py::Cart.empty"]["signature"]["parameters"] == []
    checkout = found["src/shop/cart.py::Cart.checkout"]["signature"]
    assert checkout["async"] is True
    assert [(p["name"], p["kind"]) for p in checkout["parameters"]] == [("self", "receiver"), ("dry_run", "keyword_only")]


def test_decorators_belong_to_the_definition_and_its_span(settle, tour):
    found, _ = definitions(settle, tour)
    size = found["src/shop/cart.py::Cart.size"]
    assert size["signature"]["decorators"] == ["property"]
    assert found["src/shop/cart.py::Cart.empty"]["signature"]["decorators"] == ["staticmethod"]
    # the span starts at the decorator line
    assert size["lines"][0] == 28


def test_references_keep_call_shape_scope_and_import_bindings(settle, tour):
    _, document = definitions(settle, tour)
    table = document["files"][0]
    calls = [r for r in table["references"] if r["kind"] == "call"]
    log = next(r for r in calls if r["text"] == "audit.log")
    assert (log["positional"], log["keywords"], log["scope"]) == (1, ["owner"], "Cart.checkout")
    total_call = next(r for r in calls if r["text"] == "total")
    assert (total_call["positional"], total_call["keywords"]) == (1, ["rounding"])
    imports = {(i["local"], i["module"], i["name"]) for i in table["imports"]}
    assert ("price", ".pricing", "price_of") in imports
    assert ("audit", "shop.audit", None) in imports
    assert ("TAX_RATE", ".pricing", "TAX_RATE") in imports
    # a call through the alias `price` is traceable to .pricing.price_of
    assert any(r["text"] == "price" and r["scope"] == "total" for r in calls)


def test_text_output_lists_symbols_with_lines(settle, tour):
    result = settle("symbols", repo=tour)
    assert result.returncode == 0
    assert "src/shop/cart.py (python)" in result.stdout
    assert "method    src/shop/cart.py::Cart.Line.describe  (self)  L37-40" in result.stdout
    # README.md is not a supported language and is not listed unless asked for
    assert "README.md" not in result.stdout
    explicit = settle("symbols", "README.md", repo=tour)
    assert "README.md (unsupported, unsupported: file granularity)" in explicit.stdout


def test_unknown_path_is_an_input_error(settle, tour):
    result = settle("symbols", "nope.py", repo=tour)
    assert result.returncode == 2
    assert "no file at 'nope.py'" in result.stderr


def test_symbols_output_is_deterministic(settle, tour):
    first = settle("symbols", "--format", "json", repo=tour).stdout
    second = settle("symbols", "--format", "json", repo=tour).stdout
    assert first == second


def test_syntax_errors_are_reported_with_their_lines(settle, build):
    repo = build({"base": {"files": {"bad.py": "def ok():\n    return 1\n\ndef broken(:\n    return 2\n"}}})
    document = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)
    assert document["files"][0]["syntax_errors"] == [4]
    assert "bad.py::ok" in {d["id"] for d in document["files"][0]["definitions"]}


def test_valid_python_that_tree_sitter_misreads_is_not_a_syntax_error(settle, build):
    # tree-sitter-python rejects this valid code; libcst, consulted only for flagged files, accepts it.
    # An attribute chain continued on a dedented line inside parentheses (from CPython's test_compile.py).
    source = "def f():\n    (bar.\nbaz)\n    return 1\n"
    repo = build({"base": {"files": {"ok.py": source}}})
    document = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)
    assert document["files"][0]["syntax_errors"] == []


def test_binary_undecodable_and_oversized_blobs_degrade_to_file_granularity(settle, build):
    repo = build({"base": {"files": {
        "bin.py": {"hex": "00ff00ff"},
        "latin.py": {"hex": "6361666520e90a"},
        "big.py": "x = 1\n" * 40,
        "small.py": "def f():\n    return 1\n",
    }}})
    result = settle("symbols", "--format", "json", "--max-file-size", "100", repo=repo)
    assert result.returncode == 0, result.stderr
    status = {f["path"]: f["status"] for f in json.loads(result.stdout)["files"]}
    assert status == {"bin.py": "binary", "latin.py": "undecodable", "big.py": "oversized", "small.py": "parsed"}


def test_a_file_no_grammar_reads_is_reported_as_such_whatever_its_bytes(settle, build):
    # Its text is never decoded: what matters is that settle sees it only as a whole file.
    repo = build({"base": {"files": {"app.py": "x = 1\n"}}, "branches": {"agent/docs": {"files": {
        "notes.md": {"hex": "6361666520e90a"},
        "latin.py": {"hex": "6361666520e90a"},
        "logo.png": {"hex": "89504e4700ff00"},
    }}}})
    result = settle("check", "--format", "json", "agent/docs", repo=repo)
    assert result.returncode == 0, result.stderr
    messages = {f["locations"][0]["path"]: f["message"] for f in json.loads(result.stdout)["findings"]}
    assert "no grammar for this file type" in messages["notes.md"]
    assert "not valid UTF-8" in messages["latin.py"]
    assert "binary content" in messages["logo.png"]


def test_redefinitions_and_overload_stubs_get_occurrence_suffixes(settle, build):
    source = (
        "from typing import overload\n\n@overload\ndef parse(x: int) -> int: ...\n@overload\n"
        "def parse(x: str) -> str: ...\ndef parse(x):\n    return x\n\nlimit = 1\nlimit = 2\n"
    )
    repo = build({"base": {"files": {"p.py": source}}})
    found, _ = definitions(settle, repo)
    assert sorted(found) == ["p.py::limit", "p.py::parse", "p.py::parse@2", "p.py::parse@3"]
