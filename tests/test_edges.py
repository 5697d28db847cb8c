"""Rough edges a new user hit (issue 13, items 1-11): each through the installed command on a real repository."""

from __future__ import annotations

import json

import pytest


def _files(text: str) -> str:
    return text.lstrip("\n")


# -- 1. insertions at one spot -------------------------------------------------------------------

def test_module_level_insertions_at_one_spot_name_the_line_they_follow(build, settle):
    """Both sides append different top-level statements: module_level, placed after the last base line
    (an insertion's base range is empty: never "lines 3-2")."""
    repo = build({
        "base": {"files": {"conf.py": "import os\n\nX = 1\n"}},
        "branches": {
            "a": {"files": {"conf.py": "import os\n\nX = 1\nos.environ.setdefault(\"A\", \"1\")\n"}},
            "b": {"files": {"conf.py": "import os\n\nX = 1\nos.environ.setdefault(\"B\", \"2\")\n"}},
        },
    })
    result = settle("check", "--base", "main", "a", "b", repo=repo)
    assert result.returncode == 1, result.stderr
    assert "text_conflict/module_level" in result.stdout
    assert "outside any symbol (after line 3)" in result.stdout
    assert "3-2" not in result.stdout


# -- 2. rename messages ----------------------------------------------------------------------------

RENAMES = {
    "base": {"files": {
        "lib/store.py": "class Store:\n    def fetch(self, key):\n        return self.data[key]\n\n\n"
                        "def greet(name):\n    text = 'hi ' + name\n    return text\n\n\n"
                        "class CallSpec:\n    def __init__(self, x):\n        self.x = x\n        self.y = x\n",
        "lib.js": "export function greet(name) {\n  const text = 'hi ' + name;\n  return text;\n}\n",
    }},
    "branches": {
        "b": {"files": {
            "lib/store.py": "class Store:\n    def load(self, key):\n        return self.data[key]\n\n\n"
                            "def salute(name):\n    text = 'hi ' + name\n    return text\n\n\n"
                            "class CallSpec2:\n    def __init__(self, x):\n        self.x = x\n        self.y = x\n",
            "lib.js": "export function salute(name) {\n  const text = 'hi ' + name;\n  return text;\n}\n",
        }},
        "use": {"files": {
            "app.py": "from lib.store import Store, greet, CallSpec\n\n\ndef run(s: Store):\n"
                      "    greet('x')\n    CallSpec(1)\n    return s.fetch('k')\n",
            "app.js": "import { greet } from './lib.js';\n\nexport function run() {\n  return greet('x');\n}\n",
        }},
        # The near miss: new code that already calls the new names.
        "updated": {"files": {
            "later.py": "from lib.store import Store, salute, CallSpec2\n\n\ndef run(s: Store):\n"
                        "    salute('x')\n    CallSpec2(1)\n    return s.load('k')\n",
        }},
    },
}


def test_rename_messages_name_the_old_and_new_names_in_order(build, settle):
    repo = build(RENAMES)
    result = settle("check", "--base", "main", "b", "use", repo=repo)
    assert result.returncode == 1, result.stderr
    text = result.stdout
    for expected in (
        "b renames greet to salute in lib.js, but app.js::run at app.js:4 still calls greet; update it to salute or keep the old name",
        "b renames greet to salute in lib/store.py, but app.py::run at app.py:5 still calls greet",
        "b renames Store.fetch to Store.load in lib/store.py, but app.py::run at app.py:7 still calls s.fetch; update it to load",
        "b renames CallSpec to CallSpec2 in lib/store.py, but app.py::run at app.py:6 still calls CallSpec",
    ):
        assert expected in text, text
    verdict = json.loads(settle("check", "--base", "main", "--format", "json", "b", "use", repo=repo).stdout)
    drift = [(f["symbols"], f["locations"][-1]["path"]) for f in verdict["findings"] if f["kind"] == "signature_drift"]
    # One finding per use: not one for the call and another for the name it spells, nor one for the
    # class and another for the constructor that is renamed with it.
    assert sorted(s[0] for s, _ in drift) == ["lib.js::greet", "lib/store.py::CallSpec", "lib/store.py::Store.fetch", "lib/store.py::greet"]


def test_uses_of_the_new_names_stay_quiet(build, settle):
    repo = build(RENAMES)
    result = settle("check", "--base", "main", "b", "updated", repo=repo)
    assert result.returncode == 0, result.stdout


# -- 3. uses through module paths, per language ------------------------------------------------------

IMPORT_FORMS = {
    "base": {"files": {
        "pkg/__init__.py": "from .store import greet\n",
        "pkg/store.py": "def greet(name):\n    text = 'hi ' + name\n    return text\n",
        "pkg/other.py": "def greet(name):\n    return name\n",
        "pkg/sub/__init__.py": "",
        "web/lib/greet.ts": "export function greet(name: string): string {\n  const text = 'hi ' + name;\n  return text;\n}\n",
        "web/lib/index.ts": "export { greet } from './greet';\n",
        "web/other.ts": "export function greet(name: string): string {\n  return name;\n}\n",
        "web/util/index.js": "export function shout(name) {\n  const text = 'HI ' + name;\n  return text;\n}\n",
        "src/main/java/demo/store/Store.java": "package demo.store;\n\npublic class Store {\n    public static String greet(String name) {\n"
                                               "        String text = \"hi \" + name;\n        return text;\n    }\n}\n",
        "src/main/java/demo/other/Other.java": "package demo.other;\n\npublic class Other {\n    public static String greet(String name) {\n"
                                               "        return name;\n    }\n}\n",
    }},
    "branches": {
        "rm": {"files": {
            "pkg/store.py": "\n",
            "web/lib/greet.ts": "\n",
            "web/util/index.js": "\n",
            "src/main/java/demo/store/Store.java": "package demo.store;\n\npublic class Store {\n}\n",
        }},
        "use": {"files": {
            "pkg/sub/a.py": "from ..store import greet\nfrom .. import store\nfrom pkg import greet as hello\n\n\ndef run():\n"
                            "    greet('x')\n    store.greet('y')\n    hello('z')\n",
            "web/app/a.ts": "import { greet } from '../lib/greet';\nimport { greet as g2 } from '../lib/greet.js';\n"
                            "import { greet as g3 } from '../lib';\nimport { shout } from '../util';\n\nexport function run(): string {\n"
                            "  greet('a');\n  g2('b');\n  g3('c');\n  return shout('d');\n}\n",
            "src/main/java/demo/app/App.java": "package demo.app;\n\nimport static demo.store.Store.greet;\n\npublic class App {\n"
                                               "    public static String run() {\n        return greet(\"b\");\n    }\n}\n",
        }},
        # Near misses: the same names, bound to symbols nobody removed.
        "near": {"files": {
            "pkg/sub/b.py": "from ..other import greet\nfrom pkg.other import greet as hello\n\n\ndef run():\n    greet('x')\n    hello('y')\n",
            "web/app/b.ts": "import { greet as g2 } from '../other';\n\nexport function run(): string {\n  return g2('b');\n}\n",
            "src/main/java/demo/app/Near.java": "package demo.app;\n\nimport static demo.other.Other.greet;\n\npublic class Near {\n"
                                                "    public static String run() {\n        return greet(\"b\");\n    }\n}\n",
        }},
    },
}


def _drift_sites(stdout: str) -> set[tuple[str, int, str]]:
    verdict = json.loads(stdout)
    sites = set()
    for finding in verdict["findings"]:
        if finding["kind"] == "signature_drift":
            site = next(l for l in finding["locations"] if l["side"] not in ("base", "rm"))
            sites.add((finding["symbols"][0], site["path"], site["start_line"]))
    return sites


def test_uses_through_relative_imports_reexports_aliases_and_static_imports_are_seen(build, settle):
    repo = build(IMPORT_FORMS)
    result = settle("check", "--base", "main", "--format", "json", "rm", "use", repo=repo)
    assert result.returncode == 1, result.stderr
    assert _drift_sites(result.stdout) == {
        ("pkg/store.py::greet", "pkg/sub/a.py", 7),   # from ..store import greet
        ("pkg/store.py::greet", "pkg/sub/a.py", 8),   # from .. import store; store.greet
        ("pkg/store.py::greet", "pkg/sub/a.py", 9),   # from pkg import greet as hello (pkg/__init__ re-exports it)
        ("web/lib/greet.ts::greet", "web/app/a.ts", 7),   # '../lib/greet' without extension
        ("web/lib/greet.ts::greet", "web/app/a.ts", 8),   # '../lib/greet.js', aliased
        ("web/lib/greet.ts::greet", "web/app/a.ts", 9),   # '../lib': index.ts re-exports it
        ("web/util/index.js::shout", "web/app/a.ts", 10),  # '../util': its index file
        ("src/main/java/demo/store/Store.java::Store.greet", "src/main/java/demo/app/App.java", 7),  # import static
    }


def test_same_names_bound_elsewhere_stay_quiet(build, settle):
    repo = build(IMPORT_FORMS)
    result = settle("check", "--base", "main", "--format", "json", "rm", "near", repo=repo)
    assert result.returncode == 0, result.stdout


# -- 4. claims that name what the candidate creates; hints for those that resolve nowhere -------------

CLAIMED = {
    "base": {"files": {"src/http/client.py": "class Client:\n    def send(self, request):\n        return request\n"}},
    "branches": {"agent/add-retry": {"files": {
        "src/http/client.py": "class Client:\n    def send(self, request):\n        return [request]\n",
        "docs/retry.md": "# Retries\n",
    }}},
}


def _claims(tmp_path, text: str) -> str:
    path = tmp_path / "add-retry.claims.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_edit_of_a_file_the_candidate_creates_is_accepted(build, settle, tmp_path):
    repo = build(CLAIMED)
    claims = _claims(tmp_path, '[claims]\nedit = ["src/http/client.py::Client.send", "docs/retry.md"]\n')
    result = settle("check", "--base", "main", "--claims", claims, "agent/add-retry", repo=repo)
    assert result.returncode == 0, result.stdout
    assert "unresolved_claim" not in result.stdout


@pytest.mark.parametrize("operation, pattern, hint", [
    ("edit", "src/http/client.py::Client.sned", "did you mean `src/http/client.py::Client.send`?"),
    ("edit", "src/http/client.py::Client.send(self, request)", "did you mean `src/http/client.py::Client.send`?"),
    ("edit", "src/http/clients.py::Client.send", "did you mean `src/http/client.py::Client.send`? (no file src/http/clients.py)"),
    ("delete", "docs/retry.md", "the candidate adds it, so there is nothing to delete: claim it under `create`"),
    ("edit", "src/nothing/like/it.py::Zebra", "no file src/nothing/like/it.py; fix the path"),
])
def test_an_unresolved_claim_says_what_would_resolve(build, settle, tmp_path, operation, pattern, hint):
    repo = build(CLAIMED)
    others = '"src/http/client.py::Client.send", "docs/retry.md"'
    claims = _claims(tmp_path, f'[claims]\nedit = [{others}]\n{operation} = ["{pattern}"]\n' if operation != "edit"
                     else f'[claims]\nedit = [{others}, "{pattern}"]\n')
    result = settle("check", "--base", "main", "--claims", claims, "agent/add-retry", repo=repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"claim '{pattern}' ({operation}) of agent/add-retry names nothing" in result.stdout
    assert hint in result.stdout, result.stdout


# -- 5. ids from `settle symbols` paste into claims -------------------------------------------------

def test_symbols_prints_ids_that_paste_into_claims(build, settle, tmp_path):
    repo = build(CLAIMED)
    result = settle("symbols", "--rev", "main", "src/http/client.py", repo=repo)
    assert result.returncode == 0, result.stderr
    method = next(line for line in result.stdout.splitlines() if line.split()[0] == "method")
    assert method.split() == ["method", "src/http/client.py::Client.send", "(self,", "request)", "L2-3"]
    pasted = method.split()[1]
    claims = _claims(tmp_path, f'[claims]\nedit = ["{pasted}", "docs/retry.md"]\n')
    checked = settle("check", "--base", "main", "--claims", claims, "agent/add-retry", repo=repo)
    assert checked.returncode == 0, checked.stdout


# -- 7. usage errors are one line naming the fix; unknown refs offer the nearest -----------------------

@pytest.mark.parametrize("args, expected", [
    (["check", "--format", "xml"], "settle check: invalid value for '--format': 'xml' is not one of 'text', 'json', 'sarif' (usage: settle check [OPTIONS] [CANDIDATES]...; see `settle check --help`)"),
    (["plan", "lint"], "settle plan lint: missing argument 'PLAN' (usage: settle plan lint [OPTIONS] PLAN; see `settle plan lint --help`)"),
    (["check", "--frmat", "json"], "settle check: no such option '--frmat'. Did you mean '--format'?"),
    (["chek"], "settle: no such command 'chek'"),
    (["replay", "--jobs", "0"], "settle replay: invalid value for '--jobs'"),
])
def test_usage_errors_are_one_line(build, settle, args, expected):
    repo = build(RENAMES)
    result = settle(*args, repo=repo)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(expected), result.stderr
    assert "Usage:" not in result.stderr and "Try '" not in result.stderr


def test_an_unknown_ref_offers_the_nearest_branch_or_tag(build, settle):
    repo = build(RENAMES)
    result = settle("check", "--base", "main", "udpated", repo=repo)
    assert result.returncode == 2
    assert result.stderr.strip() == "settle: unknown ref 'udpated': no branch, tag or commit of that name; did you mean 'updated'?"
    result = settle("check", "--base", "mian", "use", repo=repo)
    assert result.returncode == 2 and "did you mean 'main'?" in result.stderr
    far = settle("check", "--base", "main", "zzzzzz", repo=repo)
    assert "(see `git branch -a`)" in far.stderr and "did you mean" not in far.stderr


def test_bare_settle_prints_its_help(settle):
    result = settle()
    assert result.returncode == 0 and "Commands:" in result.stdout


# -- 6. many findings of one kind on one symbol ------------------------------------------------------

CALLERS = 8
WIDELY_USED = {
    "base": {"files": {
        "lib/subtypes.py": "def is_subtype(left, right):\n    return left == right\n",
        **{f"lib/user{i}.py": f"from lib.subtypes import is_subtype\n\n\ndef check{i}(a, b):\n    return is_subtype(a, b)\n"
           for i in range(CALLERS)},
    }},
    "branches": {"sig": {"files": {
        "lib/subtypes.py": "def is_subtype(context, left, right):\n    return left == right\n",
    }}},
}


def test_text_groups_the_findings_of_one_kind_on_one_symbol(build, settle):
    repo = build(WIDELY_USED)
    text = settle("check", "--base", "main", "sig", repo=repo).stdout
    assert f"  held: sig (by {CALLERS} findings (signature_drift/call_incompatible on lib/subtypes.py::is_subtype))" in text
    assert text.count("signature_drift/call_incompatible [") == 1, text
    assert f"lib/subtypes.py::is_subtype  ({CALLERS} findings)" in text
    assert "base lib/user0.py:5;" in text.split("(8 findings)", 1)[1].splitlines()[2]
    assert "also at base lib/user1.py:5 [" in text and "base lib/user2.py:5 [" in text
    assert f"and {CALLERS - 3} more (every one in --format json)" in text
    # Tools keep one finding per call site.
    verdict = json.loads(settle("check", "--base", "main", "--format", "json", "sig", repo=repo).stdout)
    assert len(verdict["findings"]) == CALLERS and len(verdict["settlement"]["held"]["sig"]) == CALLERS
    sarif = json.loads(settle("check", "--base", "main", "--format", "sarif", "sig", repo=repo).stdout)
    assert len(sarif["runs"][0]["results"]) == CALLERS


def test_a_single_finding_is_not_grouped(build, settle):
    one = {"base": {"files": {k: v for k, v in WIDELY_USED["base"]["files"].items() if k in ("lib/subtypes.py", "lib/user0.py")}},
           "branches": WIDELY_USED["branches"]}
    text = settle("check", "--base", "main", "sig", repo=build(one)).stdout
    assert "findings)" not in text and "also at" not in text
    assert "  held: sig (by " in text and "1 findings" not in text


# -- 8. nothing to settle ----------------------------------------------------------------------------

def test_checking_the_target_itself_says_there_is_nothing_to_settle(build, settle):
    repo = build(WIDELY_USED)
    result = settle("check", repo=repo)
    assert result.returncode == 0, result.stderr
    assert "  HEAD has nothing that main lacks: nothing to settle" in result.stdout
    assert "lands in order" not in result.stdout
    verdict = json.loads(settle("check", "--format", "json", repo=repo).stdout)
    assert verdict["verdict"] == "merge"
    assert verdict["candidates"][0]["merge_base"] == verdict["candidates"][0]["commit"]
    both = settle("check", "--base", "main", "main", "sig", repo=repo).stdout
    assert "  main has nothing that main lacks: nothing to settle" in both


# -- 9. the Python API takes one ref as a string -------------------------------------------------------

def test_python_check_accepts_one_candidate_as_a_string(build):
    import subprocess
    import sys

    repo = build(WIDELY_USED)
    code = ("import sys\nfrom settle import check\nverdict = check(sys.argv[1], 'sig', base='main')\n"
            "print([c.ref for c in verdict.candidates], verdict.verdict)\n")
    result = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['sig'] reject"


# -- 10. errors first ----------------------------------------------------------------------------------

def test_errors_come_before_warnings_within_a_section(build, settle):
    repo = build({
        "base": {"files": {"lib.py": "def f(a):\n    x = a\n    y = x\n    z = y\n    return z\n"}},
        "branches": {
            "a": {"files": {"lib.py": "def f(a, b):\n    x = a\n    y = x\n    z = y\n    return z\n"}},
            "b": {"files": {"lib.py": "def f(a):\n    x = a\n    y = x\n    z = y\n    return z + 1\n",
                            "use.py": "from lib import f\n\n\ndef h():\n    return f(2)\n"}},
        },
    })
    text = settle("check", "--base", "main", "a", "b", repo=repo).stdout
    assert "error   signature_drift/call_incompatible" in text and "warning concurrent_edit/same_symbol" in text, text
    section = text.split("\na × b\n", 1)[1]
    severities = [line.split()[0] for line in section.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert severities == sorted(severities, key=["error", "warning", "info"].index), section


# -- 11. changed_in_use says what to do -------------------------------------------------------------------

def test_changed_in_use_says_what_to_do(build, settle):
    from conftest import FIXTURES

    repo = build(FIXTURES / "javascript" / "javascript_signature_drift_changed_in_use.toml")
    from settle import scenario as scenarios

    check = scenarios.load(FIXTURES / "javascript" / "javascript_signature_drift_changed_in_use.toml").check
    text = settle("check", *check.candidates, repo=repo).stdout
    assert "signature_drift/changed_in_use" in text
    assert "check that call against the new signature and update it if it no longer fits" in text
