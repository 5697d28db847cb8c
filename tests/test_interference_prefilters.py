"""Interference reads a side's written text before its tables (settle/diff/interference.py): each byte
prefilter is a superset of what the full extraction finds, checked on every fixture file and on
snippets written to trip it; and end to end, the edges they must not lose are still found."""

from __future__ import annotations

import json
import re

import pytest

from conftest import fixture_files
from settle.diff.drift import _split_head
from settle.diff.interference import _after_separator, _may_read, _state_key, _targets
from settle.diff.written import written_text
from settle.languages import profile_for_path
from settle.parse.extract import extract
from settle.parse.model import ReferenceKind

FILES = fixture_files()
_WORD = re.compile(rb"(?<![\w$])[A-Za-z_$][\w$]*")

# Text that trips naive line tests: chains and calls whose name is lines after their start, targets
# over several lines, `=` and `--` in strings and comments, a template's code.
SNIPPETS = [
    ("snippet.ts", b"""export class Store {
  items: string[] = [];
  count = 0;
  run(other: Store) {
    const result = this
      .normalize()
      .filter((x) => x !== "a=b");
    wrap(function () {
      helper();
      other.count = 1;
    }).finish(
      this.count,
    ).done();
    this.count = `n=${(this.total = 2)}`.length; // this.ignored = 3
    log("--flag=value"); this.items = [];
    this.count++;
    return result;
  }
  normalize() { return this.items; }
  get total() { return 0; }
  set total(v: number) {}
}
"""),
    ("snippet.py", b"""counter = 0


class Store:
    def run(self, other):
        global counter
        counter += 1
        self.a, self.b = (
            1, 2)
        self.total //= 2
        log("x=1"); self.count = 0  # self.ignored = 1
        value = (self
                 .normalize()
                 .strip())
        return helper(
            value,
        ).done()
"""),
    ("snippet.go", b"""package store

var counter = 0

type Store struct{ a, b, count int }

func (s *Store) Run(other *Store) int {
	s.a,
		s.b = 1, 2
	s.count++
	counter = s.
		Normalize()
	other.count = 3 // s.ignored = 1
	x := fmt.Sprintf("a=%d", s.a)
	return len(x)
}

func (s *Store) Normalize() int { return s.a }
"""),
    ("snippet.rs", b"""struct Store { count: i32 }

impl<'a> Store {
    fn run(&mut self, name: &'a str) -> i32 {
        self.count += 1; let c = '=';
        self
            .normalize()
    }
    fn normalize(&self) -> i32 { self.count }
}
"""),
    ("Snippet.java", b"""class Snippet {
    int count;
    void run(Snippet other) {
        count = 1;
        this.count++;
        other.count = "a=b".length();
        char c = '=';
        String s = this
            .normalize();
    }
    String normalize() { return ""; }
}
"""),
]


def _cases():
    cases = [(f"{source}:{path}", path, data) for source, path, data in FILES]
    cases += [(f"snippet:{path}", path, data) for path, data in SNIPPETS]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case, path, data", CASES, ids=[c for c, _, _ in CASES])
def test_the_written_text_of_a_line_spells_the_name_of_every_call_and_write_on_it(case, path, data):
    """Calls and writes sit on their node's first line (uses on their text's first find: see below)."""
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    if not table.parsed:
        return
    for reference in (*table.references, *table.state):
        if reference.kind not in (ReferenceKind.CALL, ReferenceKind.WRITE):
            continue
        text = written_text(data, {reference.line}, profile.reference_separators)
        assert re.search(rb"(?<![\w$])" + re.escape(reference.name.encode()) + rb"(?![\w$])", text), (reference, text)


@pytest.mark.parametrize("case, path, data", CASES, ids=[c for c, _, _ in CASES])
def test_the_written_text_of_a_line_holds_the_first_and_last_segments_of_every_reference_on_it(case, path, data):
    """What drift's look at a side's lines rests on: a reference's name (its last segment) and its
    first segment (the name an import binds) are in its line's written text, whitespace taken out
    (a reference's text is compacted: in broken code, `New(1\n\treturn s.Size()` calls `1returns.Size`)."""
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    if not table.parsed:
        return
    for reference in table.references:
        text = "".join(written_text(data, {reference.line}, profile.reference_separators).decode("utf-8", "replace").split())
        assert reference.name in text, reference
        head = _split_head(reference.text, profile.reference_separators)[0]
        if re.fullmatch(r"[\w$]+", head):  # not an expression (`"".join`, `(&T{}).m`), which no import binds
            assert head in text, (reference, head)


@pytest.mark.parametrize("case, path, data", CASES, ids=[c for c, _, _ in CASES])
def test_the_words_a_line_may_write_hold_every_write_on_it(case, path, data):
    """A write's field (its key's name) and, through another object, its last name are among the
    words of the assignment targets `_targets` keeps of its line's written text."""
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    if not table.parsed:
        return
    for write in (r for r in table.state if r.kind is ReferenceKind.WRITE):
        stretches = b"\n".join(_targets(written_text(data, {write.line}, profile.reference_separators), profile))
        after = {word.decode() for word in _after_separator(profile.reference_separators).findall(stretches)}
        bare = {word.decode() for word in _WORD.findall(stretches)}
        head, rest = _split_head(write.text, profile.reference_separators)
        if rest is None:
            assert head in bare, (write, stretches)
        else:
            assert write.name in after, (write, stretches)
            key = _state_key(table, write)
            if key is not None:
                assert key[2] in after, (write, stretches)


@pytest.mark.parametrize("case, path, data", CASES, ids=[c for c, _, _ in CASES])
def test_a_line_holding_a_read_of_state_may_read_its_name(case, path, data):
    """A read (through the receiver, or a module variable's bare name) is placed where its text is
    first found in the scope, maybe inside a longer word: `_may_read` tests bytes, and holds."""
    profile = profile_for_path(path)
    table = extract(data, path, profile)
    if not table.parsed:
        return
    state = frozenset(d.name for d in table.definitions if d.parent is None or profile.implicit_self)
    for read in (*table.state, *table.references):
        if read.kind not in (ReferenceKind.READ, ReferenceKind.ATTRIBUTE, ReferenceKind.NAME):
            continue
        key = _state_key(table, read)
        if key is None:
            continue  # not state
        text = written_text(data, {read.line}, profile.reference_separators)
        assert _may_read(text, frozenset({key[2]}), profile, state), (read, text)


def test_the_snippets_have_what_they_are_written_to_have():
    """The trap lines above are writes, calls and reads the extraction really finds."""
    table = extract(SNIPPETS[0][1], "snippet.ts", profile_for_path("snippet.ts"))
    writes = {(r.text, r.line) for r in table.state if r.kind is ReferenceKind.WRITE}
    assert {("this.total", 14), ("other.count", 10), ("this.items", 15), ("this.count", 16)} <= writes
    assert any(r.kind is ReferenceKind.CALL and r.name == "done" and r.line == 8 for r in table.references)
    go = extract(SNIPPETS[2][1], "snippet.go", profile_for_path("snippet.go"))
    assert {("s.a", 8), ("s.b", 8)} <= {(r.text, r.line) for r in go.state if r.kind is ReferenceKind.WRITE}


# -- end to end: what the prefilters must not lose ------------------------------------------

CHAIN_BASE = """export class Config {
  values: string[] = [];
  normalize(): string[] {
    return this.values;
  }
  snapshot(): string[] {
    return other
      .normalize();
  }
}
const other = new Config();
"""


def test_a_new_call_whose_name_is_on_a_line_the_side_did_not_write_is_found(build, settle):
    """B rewrites only the first line of `other\\n.normalize()` (now `this`): the call starts on B's line."""
    repo = build({
        "base": {"files": {"src/config.ts": CHAIN_BASE}},
        "branches": {
            "agent/normalize": {"files": {"src/config.ts": CHAIN_BASE.replace("return this.values;", "return this.values.filter((v) => v);")}},
            "agent/snapshot": {"files": {"src/config.ts": CHAIN_BASE.replace("    return other\n", "    return this\n")}},
        },
    })
    verdict = json.loads(settle("check", "--format", "json", "agent/normalize", "agent/snapshot", repo=repo).stdout)
    found = [(f["subkind"], f["symbols"]) for f in verdict["findings"] if f["kind"] == "interference"]
    assert ("new_call", ["src/config.ts::Config.normalize", "src/config.ts::Config.snapshot"]) in found


GO_BASE = """package store

type Store struct {
	x, b int
}

func (s *Store) Reset() {
	s.x,
		s.b = 0, 0
}

func (s *Store) Size() int {
	return 0
}
"""


def test_shared_state_written_by_a_target_list_over_two_lines_is_found(build, settle):
    """A's write of `s.b` starts on the line it changed (`s.x,` → `s.a,`); B starts reading `s.b`."""
    writer = GO_BASE.replace("\ts.x,\n", "\ts.a,\n").replace("x, b int", "x, a, b int")
    reader = GO_BASE.replace("\treturn 0\n", "\treturn s.b\n")
    repo = build({
        "base": {"files": {"store/store.go": GO_BASE}},
        "branches": {"agent/reset": {"files": {"store/store.go": writer}}, "agent/size": {"files": {"store/store.go": reader}}},
    })
    verdict = json.loads(settle("check", "--format", "json", "agent/reset", "agent/size", repo=repo).stdout)
    found = [(f["subkind"], f["symbols"]) for f in verdict["findings"] if f["kind"] == "interference"]
    assert ("shared_state", ["store/store.go::Store.Reset", "store/store.go::Store.Size"]) in found, verdict["findings"]


PY_BASE = """class Counter:
    def __init__(self):
        self.count = 0

    def reset(self):
        log("count=0")

    def report(self):
        return 0


def log(message):
    print(message)
"""


def test_a_write_after_a_string_holding_an_equals_sign_is_found(build, settle):
    writer = PY_BASE.replace('        log("count=0")\n', '        log("count=0"); self.count = 0  # self.other = 1\n')
    reader = PY_BASE.replace("        return 0\n", "        return self.count\n")
    repo = build({
        "base": {"files": {"app/counter.py": PY_BASE}},
        "branches": {"agent/reset": {"files": {"app/counter.py": writer}}, "agent/report": {"files": {"app/counter.py": reader}}},
    })
    verdict = json.loads(settle("check", "--format", "json", "agent/reset", "agent/report", repo=repo).stdout)
    found = [(f["subkind"], f["symbols"]) for f in verdict["findings"] if f["kind"] == "interference"]
    assert ("shared_state", ["app/counter.py::Counter.reset", "app/counter.py::Counter.report"]) in found, verdict["findings"]
