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
