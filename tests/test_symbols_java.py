"""`settle symbols` on Java: classes, nested types, constructors, overload ids, fields, records, annotations, calls."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_extraction_properties

SOURCE = """package a.b;
import java.util.List;
import static a.b.C.m;
@Service
public class Store extends Base {
  private int a, b = 2;
  public Store(int size) { this(size, 1); }
  public Store(int size, int n) { }
  @Override public int count(String k, boolean x) { return helper.go(k, 1); }
  public int count(String k) { return new Store(1).count(k, true); }
  static void v(String... xs) { count("a"); }
  class Inner { void run() {} }
  interface I { void f(int x); }
  enum E { A, B; void g() {} }
  record R(int x, String y) {}
}
"""


def test_java_symbols_name_overloads_constructors_and_nested_types(settle, build):
    path = "src/main/java/a/b/Store.java"
    repo = build({"base": {"files": {path: SOURCE}}})
    table = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)["files"][0]
    found = {d["id"].split("::")[1]: d for d in table["definitions"]}
    assert {name: d["kind"] for name, d in found.items()} == {
        "Store": "class", "Store.a": "field", "Store.b": "field", "Store.Store(int)": "method",
        "Store.Store(int,int)": "method", "Store.count(String,boolean)": "method", "Store.count(String)": "method",
        "Store.v": "method", "Store.Inner": "class", "Store.Inner.run": "method", "Store.I": "interface",
        "Store.I.f": "method", "Store.E": "enum", "Store.E.A": "constant", "Store.E.B": "constant",
        "Store.E.g": "method", "Store.R": "class", "Store.R.x": "field", "Store.R.y": "field",
    }
    assert found["Store.count(String,boolean)"]["signature"]["decorators"] == ["Override"]
    assert [p["kind"] for p in found["Store.v"]["signature"]["parameters"]] == ["var_positional"]
    assert found["Store"]["lines"][0] == 4  # the annotation belongs to the class
    calls = {r["text"]: r for r in table["references"] if r["kind"] == "call"}
    assert calls["helper.go"]["positional"] == 2 and calls["count"]["scope"] == "Store.v"
    assert ("m", "a.b.C", "m") in {(i["local"], i["module"], i["name"]) for i in table["imports"]}


@given(st.one_of(st.binary(max_size=1500), st.text(max_size=1500).map(str.encode),
                 st.lists(st.sampled_from(SOURCE.splitlines(keepends=True)), max_size=30).map(lambda l: "".join(l).encode())))
@settings(max_examples=200, deadline=None)
def test_java_extraction_never_raises_is_deterministic_and_ids_are_unique(data):
    assert_extraction_properties("java", "X.java", data)
