"""The HTML report in a real browser (Debian's chromium): it loads without console errors and a
1280×800 screenshot shows the charts. Run by .ci/run with `-m browser`; not in the default suite."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import FIXTURES
from settle import scenario as scenarios

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,800"]


@pytest.fixture
def report_page(settle, tmp_path):
    repo = scenarios.build(scenarios.load(FIXTURES / "replay" / "history.toml"), tmp_path / "history")
    replayed = tmp_path / "replay.jsonl"
    replayed.write_text(settle("replay", repo=repo).stdout)
    page = tmp_path / "report.html"
    assert settle("report", str(replayed), "--format", "html", "--output", str(page), repo=None).returncode == 0
    return page


def test_report_loads_without_console_errors_and_shows_its_charts(report_page, tmp_path):
    assert CHROMIUM, "chromium is not installed (apt-get install chromium); .ci/run installs it"
    profile = tmp_path / "profile"
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         f"--screenshot={shot}", report_page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert shot.exists() and shot.stat().st_size > 10_000  # a blank page compresses to far less
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", report_page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<svg") >= 4 and dom.count("<rect") >= 4
    assert "text_conflict/same_symbol" in dom
