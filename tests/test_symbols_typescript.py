"""`settle symbols` on TypeScript and TSX: interfaces, type aliases, enums, abstract members, overload ids,
optional/default/rest parameters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_extraction_properties

SOURCE = """import { Base } from "./base";
interface Shape { area(): number; name?: string; }
type ID = string | number;
enum Color { Red, Green = 2 }
abstract class A { abstract run(x: number): void; protected y: number = 1; }
function f(a: string): void;
function f(a: number, b?: string, ...rest: number[]): void;
function f(a: any, b = 1) { return h(a); }
export const g = (x: number): number => x;
class C { m(this: C, z: string) { return this.m(z); } }
"""


@pytest.mark.parametrize("path", ["src/t.ts", "src/t.tsx"])
def test_typescript_symbols_with_overload_ids(settle, build, path):
    repo = build({"base": {"files": {path: SOURCE}}})
    table = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)["files"][0]
    found = {d["id"].split("::")[1]: d for d in table["definitions"]}
    assert {name: d["kind"] for name, d in found.items()} == {
        "Shape": "interface", "Shape.area": "method", "Shape.name": "field", "ID": "type", "Color": "enum",
        "Color.Red": "constant", "Color.Green": "constant", "A": "class", "A.run": "method", "A.y": "field",
        "f(string)": "function", "f(number,string,number[])": "function", "f(any,?)": "function", "g": "function",
        "C": "class", "C.m": "method",
    }
    overload = found["f(number,string,number[])"]["signature"]["parameters"]
    assert [(p["name"], p["kind"], p["default"], p["annotation"]) for p in overload] == [
        ("a", "positional_or_keyword", False, "number"), ("b", "positional_or_keyword", True, "string"),
        ("rest", "var_positional", False, "number[]")]
    assert [p["kind"] for p in found["C.m"]["signature"]["parameters"]] == ["receiver", "positional_or_keyword"]
    assert table["syntax_errors"] == []


@pytest.mark.parametrize("name", ["typescript", "tsx"])
@given(data=st.one_of(st.binary(max_size=1500), st.text(max_size=1500).map(str.encode),
                      st.lists(st.sampled_from(SOURCE.splitlines(keepends=True)), max_size=30).map(lambda l: "".join(l).encode())))
@settings(max_examples=150, deadline=None)
def test_typescript_extraction_never_raises_is_deterministic_and_ids_are_unique(name, data):
    assert_extraction_properties(name, "x.ts", data)
