"""`settle symbols` on Rust: impl methods, traits, modules, enums, consts, macros, use declarations."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_extraction_properties

SOURCE = """use std::collections::HashMap;
use crate::a::{b, c as d};
pub const MAX: u32 = 3;
static mut COUNT: i32 = 0;
pub struct Parser { pub pos: usize, name: String }
pub enum Tok { A, B(i32) }
pub trait Lex { fn next(&mut self) -> Tok; fn peek(&self) -> Tok { Tok::A } }
impl<T> Parser<T> { pub fn new(pos: usize) -> Self { Parser { pos } } fn parse(&mut self, x: i32, y: &str) -> i32 { self.step(x); helper::<i32>(x); a::b::c(1) } }
impl Lex for Parser { fn next(&mut self) -> Tok { Tok::A } }
mod inner { pub fn f() {} }
type Res = Result<i32, ()>;
macro_rules! m { () => {} }
fn main() { let s = "str"; println!("{}", s); }
"""


def test_rust_symbols_qualify_impl_methods_and_modules(settle, build):
    repo = build({"base": {"files": {"src/lib.rs": SOURCE}}})
    table = json.loads(settle("symbols", "--format", "json", repo=repo).stdout)["files"][0]
    found = {d["id"].split("::")[1]: d for d in table["definitions"]}
    assert {name: d["kind"] for name, d in found.items()} == {
        "MAX": "constant", "COUNT": "variable", "Parser": "struct", "Parser.pos": "field", "Parser.name": "field",
        "Tok": "enum", "Tok.A": "constant", "Tok.B": "constant", "Lex": "trait", "Lex.next": "method",
        "Lex.peek": "method", "Parser.new": "method", "Parser.parse": "method", "Parser.next": "method",
        "inner": "module", "inner.f": "function", "Res": "type", "m": "function", "main": "function",
    }
    parse = found["Parser.parse"]["signature"]["parameters"]
    assert [(p["name"], p["kind"]) for p in parse] == [("self", "receiver"), ("x", "positional_or_keyword"), ("y", "positional_or_keyword")]
    calls = {r["text"]: r for r in table["references"] if r["kind"] == "call"}
    assert set(calls) == {"self.step", "helper::<i32>", "a::b::c"}
    assert {(i["local"], i["module"], i["name"]) for i in table["imports"]} == {
        ("HashMap", "std::collections", "HashMap"), ("b", "crate::a", "b"), ("d", "crate::a", "c")}


@given(st.one_of(st.binary(max_size=1500), st.text(max_size=1500).map(str.encode),
                 st.lists(st.sampled_from(SOURCE.splitlines(keepends=True)), max_size=30).map(lambda l: "".join(l).encode())))
@settings(max_examples=200, deadline=None)
def test_rust_extraction_never_raises_is_deterministic_and_ids_are_unique(data):
    assert_extraction_properties("rust", "x.rs", data)
