"""The HTML report in a real browser (Debian's chromium): it loads without console errors, a
screenshot shows the charts, and at 1400 and 800 px its layout holds (cards in even rows, number
headers over their numbers, nothing wider than the window). Run by .ci/run with `-m browser`; not
in the default suite. SETTLE_REPORT_SHOTS=DIR keeps the screenshots for a person to look at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import FIXTURES
from settle import scenario as scenarios

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BASE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
FLAGS = [*BASE_FLAGS, "--window-size=1280,800"]


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


# Injected into a copy of the page (the page itself has no script): measures the layout once it is
# laid out and leaves the figures in the DOM, where --dump-dom finds them.
MEASURE = """<script>
const text = node => { const range = document.createRange(); range.selectNodeContents(node); return range.getBoundingClientRect(); };
const tops = [...document.querySelectorAll('.card')].map(card => Math.round(card.getBoundingClientRect().top));
const rows = Object.values(tops.reduce((count, top) => (count[top] = (count[top] || 0) + 1, count), {}));
const columns = [...document.querySelectorAll('table')].filter(t => t.querySelector('th.n') && t.querySelector('td.n'))
  .map(t => [text(t.querySelector('th.n')).right, Math.max(...[...t.querySelectorAll('td.n')].map(cell => text(cell).right))]);
const charts = [...document.querySelectorAll('section svg')].map(svg => [svg.getBoundingClientRect().width, svg.parentElement.getBoundingClientRect().width]);
document.body.insertAdjacentHTML('beforeend', '<pre id=layout>' + JSON.stringify({width: innerWidth,
  scroll: document.documentElement.scrollWidth, rows, columns, charts,
  header: [...document.querySelectorAll('header dt')].map(dt => dt.textContent)}) + '</pre>');
</script>"""


def layout_at(page, width: int, tmp_path) -> dict:
    measured = tmp_path / f"measured-{width}.html"
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    dom = subprocess.run([CHROMIUM, *BASE_FLAGS, f"--window-size={width},900", f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", measured.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<pre id=\"layout\">" in dom, dom[-2000:]
    return json.loads(dom.split("<pre id=\"layout\">", 1)[1].split("</pre>", 1)[0])


@pytest.mark.parametrize("width", [1400, 800])
def test_report_layout_holds_at_desktop_and_narrow_widths(report_page, tmp_path, width):
    assert CHROMIUM, "chromium is not installed (apt-get install chromium); .ci/run installs it"
    layout = layout_at(report_page, width, tmp_path)
    assert abs(layout["width"] - width) <= 20, layout  # the window is the width asked for
    assert layout["scroll"] <= layout["width"], "the page is wider than the window"
    assert layout["header"] == ["repository", "revisions", "merges", "settle"]
    assert sum(layout["rows"]) == 7 and min(layout["rows"]) >= 2, f"a summary card wraps alone: {layout['rows']}"
    if width >= 1400:
        assert layout["rows"] == [7], layout["rows"]
    assert layout["columns"], "no table with a number column"
    for header_right, numbers_right in layout["columns"]:
        assert abs(header_right - numbers_right) <= 1.5, "a number column's header is not over its numbers"
    for chart, container in layout["charts"]:
        assert chart <= container + 0.5
    shot = tmp_path / f"report-{width}.png"
    subprocess.run([CHROMIUM, *BASE_FLAGS, f"--window-size={width},1600", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={shot}", report_page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("SETTLE_REPORT_SHOTS"):
        shutil.copy(shot, os.path.join(os.environ["SETTLE_REPORT_SHOTS"], shot.name))
