"""The teaching app in a real browser, as a class would use it, with no internet.

Starts ``popsim app`` on a free localhost port as a separate process (its stderr captured),
drives the page with Playwright and Debian's chromium (``/usr/bin/chromium``; ``.ci/run``
installs it), and checks what the issue asks: the first chart appears within a few seconds;
a lever typed in changes the run; a step redraws the SRB chart and changes the displayed value;
a value outside the schema's bounds is refused with its reason; switching lessons while playing
neither crashes the server nor logs a traceback; and no request of the page leaves localhost
(every request and websocket is recorded). A screenshot is saved as results/app_screenshot.png.

Skipped only on a developer machine without chromium; with ``CI=true`` a missing chromium or
Playwright is a failure, because the test must run in CI.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "results" / "app_screenshot.png"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]
#: The issue: "the first chart appears within a few seconds of loading". Measured about 4 s on
#: the 2-core machine (page assets, two 10,000-household runs burnt in, the first draw); the
#: limit leaves room for a loaded CI machine.
FIRST_CHART_SECONDS = 12.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

if not CHROMIUM.exists() and not IN_CI:
    pytest.skip("Debian's chromium (/usr/bin/chromium) is not installed; .ci/run installs it",
                allow_module_level=True)

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    if IN_CI:
        raise
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _popsim_command() -> list[str]:
    script = Path(sys.executable).with_name("popsim")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "popsim.cli"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``popsim app`` as a real process; yields (url, process, stderr path)."""
    if not CHROMIUM.exists():
        pytest.fail("CI=true but /usr/bin/chromium is missing: .ci/run must install Debian's "
                    "chromium before the tests")
    port = _free_port()
    logs = tmp_path_factory.mktemp("popsim_app")
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([*_popsim_command(), "app", "--port", str(port), "--host",
                                 "127.0.0.1"], stdout=out, stderr=err, cwd=logs,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"popsim app exited with {proc.returncode}:\n{err_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"popsim app did not answer within 60 s:\n{err_path.read_text()}")
        time.sleep(0.3)
    assert f"http://127.0.0.1:{port}/" in out_path.read_text()
    yield url, proc, err_path
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme == "data":
        return True
    if parsed.scheme == "blob":
        return _is_local(url[len("blob:"):])
    return parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname in LOCAL_HOSTS


def _field(page, css: str):
    return page.locator(f".{css} input").first


def _set_field(page, css: str, text: str) -> None:
    field = _field(page, css)
    field.fill(text)
    field.press("Enter")


def _wait_year(page, role: str, at_least: int) -> None:
    """Wait until the headline of run ``role`` shows the SRB of ``at_least`` or a later year
    (while playing, a year may show for less than a polling interval)."""
    page.wait_for_function(
        """([role, year]) => {
            const el = document.querySelector(`.popsim-headline-${role}`);
            const m = el && el.innerText.match(/SRB (\\d{4})/);
            return m !== null && Number(m[1]) >= year;
        }""", arg=[role, at_least])


def test_app_in_a_real_browser(server):
    url, proc, err_path = server
    requests: list[str] = []
    bad_responses: list[str] = []
    failed: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.on("response", lambda r: bad_responses.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}"))

            # the first chart, within a few seconds of loading
            start = time.monotonic()
            page.goto(url)
            page.wait_for_selector(".popsim-srb-chart canvas", state="visible")
            first_chart = time.monotonic() - start
            print(f"first chart after {first_chart:.1f} s")
            assert first_chart < FIRST_CHART_SECONDS
            value = page.locator(".popsim-headline-you .popsim-srb-value")
            headline = page.locator(".popsim-headline-you")
            assert value.inner_text() == "–"  # nothing simulated yet

            # change a lever (typed, as a teacher would), then step one year
            _set_field(page, "popsim-propaganda-reach", "0.5")
            page.wait_for_selector(".popsim-status:has-text('propaganda.reach = 0.5')")
            chart = page.locator(".popsim-srb-chart")
            before = chart.screenshot()
            page.click(".popsim-step")
            page.wait_for_function(
                "document.querySelector('.popsim-headline-you .popsim-srb-value')"
                ".innerText != '–'")
            first_value = value.inner_text()
            assert float(first_value) > 50
            page.wait_for_timeout(300)  # let ECharts paint the new option
            after = chart.screenshot()
            assert after != before, "the SRB chart did not change after a step"
            assert "SRB 2000" in headline.inner_text()
            page.click(".popsim-step")
            page.wait_for_selector(".popsim-headline-you:has-text('SRB 2001')")
            assert _field(page, "popsim-propaganda-reach").input_value() == "0.5"

            # a value outside the schema's bounds is refused with the reason; so is text
            _set_field(page, "popsim-propaganda-reach", "5")
            page.wait_for_selector(".popsim-propaganda-reach:has-text('above the upper bound 1')")
            _set_field(page, "popsim-enforcement-tip-reward", "lots")
            page.wait_for_selector(".popsim-enforcement-tip-reward:has-text('must be a number')")
            _set_field(page, "popsim-run-households", "20000000")
            page.wait_for_selector(".popsim-run-households:has-text('above the app')")
            assert "SRB 2001" in headline.inner_text()  # nothing was rebuilt
            assert proc.poll() is None

            # play, and switch lessons while it plays
            page.click(".popsim-play")
            _wait_year(page, "you", 2003)
            page.click(".popsim-lesson-1")
            page.wait_for_selector(".popsim-lesson-card:has-text('Lesson 1')")
            page.wait_for_selector(".popsim-headline-A")
            page.click(".popsim-play")
            _wait_year(page, "A", 2001)
            page.click(".popsim-lesson-5")
            page.wait_for_selector(".popsim-lesson-card:has-text('Lesson 5')")
            page.click(".popsim-step")
            page.wait_for_selector(".popsim-headline-A:has-text('SRB 2000')")
            page.wait_for_selector(".popsim-headline-B .popsim-srb-value")
            page.wait_for_selector(".popsim-tradeoffs:has-text('Women investigated per case')")
            assert proc.poll() is None
            page.click(".popsim-play")  # a few years for the record
            _wait_year(page, "A", 2008)
            page.click(".popsim-play")
            page.wait_for_selector(".popsim-play:has-text('Play')")

            # the whole page for the record: Solara scrolls inside its app frame, so give the
            # window the page's full height and go back to the top
            page.set_viewport_size({"width": 1400, "height": 1900})
            page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
            page.wait_for_timeout(500)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tmp = SCREENSHOT.with_name(f".{SCREENSHOT.name}.tmp.png")
            page.screenshot(path=str(tmp))
            os.replace(tmp, SCREENSHOT)
        finally:
            browser.close()

    with urllib.request.urlopen(url, timeout=10) as r:  # the server still serves
        assert r.status == 200
    outside = sorted({u for u in requests if not _is_local(u)})
    assert not outside, f"requests left localhost: {outside}"
    assert any(u.startswith("ws://127.0.0.1") for u in requests)
    assert not bad_responses, bad_responses
    assert not failed, failed
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    log = err_path.read_text()
    assert "Traceback" not in log, log
    assert "Could not load URL" not in log, log  # an asset missing from solara-assets
