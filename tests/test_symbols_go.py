"""`settle symbols` on Go: receivers, structs and their fields, interfaces, grouped declarations, calls."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_extraction_properties

SOURCE = """package store

import (
\t"fmt"
\ts "strings"
)

const Max, Min = 10, 1
var cache = map[string]int{}

type Store struct {
\tcount int
\tname, kind string
}

type Getter interface {
\tGet(key string) (int, error)
}

type ID int

// Get looks a key up.
func (st *Store) Get(key string, opts ...int) (int, error) {
\tfmt.Println(s.ToUpper(key), "x")
\treturn st.count, nil
}

func New[T any](a, b int) *Store { return &Store{} }

func (st Store[T]) Put(k string, xs []int) { st.Get(k, xs...) }
"""


def test_go_symbols_are_qualified_by_receiver_and_container(settle, build):
    repo = build({"base": {"files": {"pkg/store/store.go": SOURCE}}})
    document = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)
    table = document["files"][0]
    found = {d["id"].split("::")[1]: d for d in table["definitions"]}
    assert {name: d["kind"] for name, d in found.items()} == {
        "Max": "constant", "Min": "constant", "cache": "variable", "Store": "struct", "Store.count": "field",
        "Store.name": "field", "Store.kind": "field", "Getter": "interface", "Getter.Get": "method", "ID": "type",
        "Store.Get": "method", "New": "function", "Store.Put": "method",
    }
    assert found["Store.Get"]["parent"] == "Store" and found["Store.Put"]["parent"] == "Store"
    get = found["Store.Get"]["signature"]["parameters"]
    assert [(p["name"], p["kind"], p["annotation"]) for p in get] == [
        ("key", "positional_or_keyword", "string"), ("opts", "var_positional", "int")]
    assert [p["name"] for p in found["New"]["signature"]["parameters"]] == ["a", "b"]
    calls = {r["text"]: r for r in table["references"] if r["kind"] == "call"}
    assert (calls["fmt.Println"]["positional"], calls["s.ToUpper"]["scope"]) == (2, "Store.Get")
    assert calls["st.Get"]["spread"] is True
    assert {(i["local"], i["module"]) for i in table["imports"]} == {("fmt", "fmt"), ("s", "strings")}
    assert table["syntax_errors"] == []


def test_go_tables_name_each_methods_receiver_without_working_out_references():
    """`st.x` inside `func (st *Store) Get` goes through the receiver: interference binds such calls
    by the name, which the table's structure carries (the references need not be worked out)."""
    from settle.languages import profile_named
    from settle.parse.extract import extract

    source = SOURCE + "\nfunc (Store) Unnamed() {}\n"
    table = extract(source.encode(), "store.go", profile_named("go"), references=False)
    assert table.receivers == (("Store.Get", "st"), ("Store.Put", "st"))
    assert table._references is None  # nothing but the symbols query ran
    assert extract(source.encode(), "store.go", profile_named("go")).receivers == table.receivers


@given(st.one_of(st.binary(max_size=1500), st.text(max_size=1500).map(str.encode),
                 st.lists(st.sampled_from(SOURCE.splitlines(keepends=True)), max_size=40).map(lambda l: "".join(l).encode())))
@settings(max_examples=200, deadline=None)
def test_go_extraction_never_raises_is_deterministic_and_ids_are_unique(data):
    assert_extraction_properties("go", "x.go", data)
