"""The differ and the binder never ask which language they look at: no identifier or string
literal in settle/diff or settle/bind names a language (profiles and query files carry it all)."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest

from settle.languages import PROFILES

ROOT = Path(__file__).resolve().parent.parent / "settle"
SOURCES = sorted(p for folder in ("diff", "bind") for p in (ROOT / folder).glob("*.py"))
NAMES = {profile.name for profile in PROFILES} | {"go", "golang", "js", "ts"}
EXTENSIONS = {extension for profile in PROFILES for extension in profile.extensions}


@pytest.mark.parametrize("source", SOURCES, ids=[p.relative_to(ROOT).as_posix() for p in SOURCES])
def test_no_language_name_in_code(source):
    for token in tokenize.generate_tokens(io.StringIO(source.read_text(encoding="utf-8")).readline):
        if token.type == tokenize.NAME:
            assert token.string.lower() not in NAMES, f"{source.name}:{token.start[0]} names {token.string}"
        elif token.type == tokenize.STRING and not token.string.startswith(('"""', "'''")):
            literal = token.string.strip("\"'bfr").lower()
            assert literal not in NAMES | EXTENSIONS, f"{source.name}:{token.start[0]} spells {token.string}"
