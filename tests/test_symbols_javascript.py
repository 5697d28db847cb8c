"""`settle symbols` on JavaScript: functions in every binding form, classes, object methods, ESM and CommonJS imports, JSX."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_extraction_properties

SOURCE = """import x, {a as b, c} from "./m";
import * as ns from "../lib/n.js";
const fs = require("fs");
const {p, q: r} = require("./util");
export const MAX = 3;
function f(a, b = 1, ...rest) { return g(a, ...rest); }
const h = (x, y) => x + y;
class C extends B {
  field = 1;
  constructor(v) { super(v); this.v = v; }
  m(a) { return this.n(a); }
}
export default function () {}
export const api = { get(id) { return id; }, put: (id, v) => v };
const App = () => <div className="x">Hello {MAX}</div>;
"""


def test_javascript_symbols_calls_and_imports(settle, build):
    repo = build({"base": {"files": {"src/t.jsx": SOURCE}}})
    table = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)["files"][0]
    kinds = {d["id"].split("::")[1]: d["kind"] for d in table["definitions"]}
    assert kinds == {
        "fs": "variable", "MAX": "constant", "f": "function", "h": "function", "C": "class", "C.field": "field",
        "C.constructor": "method", "C.m": "method", "default": "function", "api": "variable", "api.get": "method",
        "api.put": "method", "App": "function",
    }
    f = next(d for d in table["definitions"] if d["id"] == "src/t.jsx::f")
    assert [(p["name"], p["kind"], p["default"]) for p in f["signature"]["parameters"]] == [
        ("a", "positional_or_keyword", False), ("b", "positional_or_keyword", True), ("rest", "var_positional", False)]
    calls = {r["text"]: r for r in table["references"] if r["kind"] == "call"}
    assert calls["g"]["spread"] is True and calls["this.n"]["scope"] == "C.m"
    imports = {(i["local"], i["module"], i["name"]) for i in table["imports"]}
    assert {("b", "./m", "a"), ("x", "./m", None), ("ns", "../lib/n.js", None), ("r", "./util", "q"), ("fs", "fs", None)} <= imports
    assert table["syntax_errors"] == []


@given(st.one_of(st.binary(max_size=1500), st.text(max_size=1500).map(str.encode),
                 st.lists(st.sampled_from(SOURCE.splitlines(keepends=True)), max_size=30).map(lambda l: "".join(l).encode())))
@settings(max_examples=200, deadline=None)
def test_javascript_extraction_never_raises_is_deterministic_and_ids_are_unique(data):
    assert_extraction_properties("javascript", "x.jsx", data)
