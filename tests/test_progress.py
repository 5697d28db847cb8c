"""Progress bars: on a terminal's stderr with position, rate and ETA; nothing in pipes.

The bars are drawn on a real pseudo-terminal given as stderr only, as when a
user redirects a command's JSON to a file: the JSON must come out unchanged.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import tempfile
import time

from conftest import FIXTURES, long_history, repository_state, settle_executable

_RATE = re.compile(r"\d+\.\d/s|\d+\.\d s each")
_ETA = re.compile(r"\d\d:\d\d:\d\d")


def on_terminal(*args: str, cwd) -> tuple[int, str, str]:
    """(exit status, stdout, what the terminal showed) of settle with stderr on a pseudo-terminal."""
    before = repository_state(cwd)
    main, secondary = pty.openpty()
    # stdout to a file, not a pipe: a full pipe nobody reads would block settle while
    # this reads the terminal.
    with tempfile.TemporaryFile() as stdout:
        process = subprocess.Popen([settle_executable(), *args], cwd=cwd, stdout=stdout, stderr=secondary,
                                   env={**os.environ, "NO_COLOR": "1"})
        os.close(secondary)
        shown = _drain(main)
        process.wait(timeout=120)
        stdout.seek(0)
        assert repository_state(cwd) == before, f"settle {' '.join(args)} changed the repository"
        return process.returncode, stdout.read().decode(), shown


def _drain(main: int) -> str:
    """Everything written to a pseudo-terminal until its last writer closed it; closes it."""
    shown = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO on Linux once no writer is left
            break
        if not chunk:
            break
        shown.extend(chunk)
    os.close(main)
    return shown.decode("utf-8", "replace")


def test_replay_shows_position_of_all_and_rate_on_a_terminal(tmp_path):
    repo = long_history(60, tmp_path / "long")
    status, stdout, shown = on_terminal("replay", cwd=repo)
    assert status == 0, shown
    assert len(stdout.splitlines()) == 60  # the verdicts still go to stdout, whole
    assert "replaying merges" in shown and "60/60" in shown
    assert _RATE.search(shown), shown[-400:]


def test_a_bar_of_known_length_shows_the_eta_once_a_second_has_passed(monkeypatch):
    """The fixture histories replay in well under the second click waits before its
    first estimate, so the ETA is shown here on a bar fed slowly in process."""
    from settle.cli import _progress_factory

    main, secondary = pty.openpty()
    terminal = os.fdopen(secondary, "w")
    monkeypatch.setattr(sys, "stderr", terminal)

    def slowly():
        for item in range(6):
            time.sleep(0.3)
            yield item

    with _progress_factory()(slowly(), "replaying merges", length=6) as items:
        assert list(items) == list(range(6))
    terminal.close()  # the main side then reads what was drawn, and EOF
    shown = _drain(main)
    assert _ETA.search(shown) and _RATE.search(shown) and "6/6" in shown, shown


def test_no_bar_in_pipes(settle, build):
    history = build(FIXTURES / "replay" / "history.toml")
    result = settle("replay", repo=history)
    assert result.returncode == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == 9


def test_symbols_shows_its_bar_on_a_terminal_and_prints_the_same_tables(settle, tmp_path):
    repo = long_history(60, tmp_path / "long")  # 61 files: more than a bar's threshold
    status, stdout, shown = on_terminal("symbols", "--format", "json", cwd=repo)
    assert status == 0, shown
    assert "parsing" in shown and _RATE.search(shown)
    assert json.loads(stdout) == json.loads(settle("symbols", "--format", "json", repo=repo).stdout)
