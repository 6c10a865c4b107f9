"""The console in a real headless Chromium (Debian's, driven by Selenium through Debian's
chromedriver) against a real ``monitor run`` on the seed feeds and a hostile report, with a
console token: sign in, read the list and a story, judge a citation, and find the verdict in
``monitor feedback export``. The story page's screenshot is the README's (docs/).

Selenium rather than Playwright: Debian ships chromedriver built from the same sources as its
chromium, so driver and browser always agree, and nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SEEDS
from tests.daemons import DaemonProcess, write_config
from tests.test_console_pages import HOSTILE_TEXT, HOSTILE_TITLE

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no browser: install Debian's chromium and chromium-driver (.ci/run does)",
)
TOKEN = "browser-test-token"
# The README's picture; a run writes it only when asked (MONITOR_UPDATE_SCREENSHOT=1), so the
# suite leaves the checkout as it found it.
SCREENSHOT = ROOT / "docs" / "console-story.png"
# Without these, Chromium on a machine with no network stalls on its own background traffic.
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync "
    "--disable-dev-shm-usage --window-size=1280,1500"
).split()


def hostile_feed(path: Path) -> Path:
    item = {
        "id": "hostile-1",
        "url": "https://evil.example/report",
        "title": HOSTILE_TITLE,
        "content_text": HOSTILE_TEXT,
        "date_published": "2021-03-01T10:00:00Z",
    }
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "<i>Evil</i> Outlet"}
    path.write_text(json.dumps(feed | {"items": [item]}))
    return path


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaemonProcess, str]]:
    tmp = tmp_path_factory.mktemp("console")
    feeds = [
        {"name": "daily-ledger", "path": str(SEEDS / "feeds" / "daily-ledger.rss")},
        {"name": "global-wire", "path": str(SEEDS / "feeds" / "global-wire.atom")},
        {"name": "evil", "path": str(hostile_feed(tmp / "evil.json"))},
    ]
    db = f"sqlite:///{tmp / 'monitor.db'}"
    config = write_config(tmp / "monitor.yaml", feeds, database_url=db, tick=3600)
    process = DaemonProcess(config, tmp, MONITOR_CONSOLE__TOKEN=TOKEN)
    try:
        url = process.wait_for(r"analyst console: (\S+)").group(1)
        process.wait_for(r"cycle: polled 3 feed")
        yield process, url
    finally:
        process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def test_requests_without_the_token_or_csrf_are_refused(daemon) -> None:
    _, url = daemon
    with httpx.Client(base_url=url, trust_env=False) as client:
        assert client.get("/").status_code == 401
        assert client.get("/api/stories").status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        story = client.get("/api/stories", headers=bearer).json()["stories"][0]["id"]
        form = {"rule": "dprk-overseas-labor", "article": "x", "verdict": "relevant"}
        refused = client.post(f"/stories/{story}/verdicts", data=form, headers=bearer)
        assert refused.status_code == 403 and "CSRF" in refused.text


def test_an_analyst_reads_judges_and_exports(daemon, browser, tmp_path) -> None:
    process, url = daemon
    browser.get(url)
    browser.find_element(By.NAME, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form button").click()

    # The list: the seeds' story with both of its alerts.
    rows = shown(browser, "table.stories tbody tr")
    listed = [r.text for r in rows]
    seed = next((r for r in rows if "North Korean workers" in r.text), None)
    assert seed is not None, listed
    assert {"dprk-overseas-labor", "dprk-oil-transfer"} <= set(seed.text.split()), listed
    seed.find_element(By.CSS_SELECTOR, "a.headline").click()

    # The story: matched terms inside <mark>; the picture for the README.
    marks = [m.text for m in shown(browser, "mark")]
    assert "North Korean" in marks and "workers" in marks
    shot = SCREENSHOT if os.environ.get("MONITOR_UPDATE_SCREENSHOT") else tmp_path / "story.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # A verdict through the form, stored and shown.
    oil = next(
        s
        for s in browser.find_elements(By.CSS_SELECTOR, "section.match")
        if "dprk-oil-transfer" in s.find_element(By.TAG_NAME, "h4").text
    )
    oil.find_element(By.CSS_SELECTOR, "input[value=not_relevant]").click()
    oil.find_element(By.NAME, "note").send_keys("a quote about oil, not a transfer")
    oil.find_element(By.CSS_SELECTOR, "button").click()
    assert "Verdict saved." in shown(browser, ".notice")[0].text
    assert "Verdict: not relevant" in browser.page_source

    exported = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(process_config(process)), "feedback", "export"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert exported.returncode == 0, exported.stderr
    assert "dprk-oil-transfer:\n  examples:\n    no_match:\n" in exported.stdout

    # The hostile report: its markup is text on the page, nothing of it runs or renders.
    browser.get(url)
    rows = shown(browser, "table.stories tbody tr")
    next(r for r in rows if "<@U123>" in r.text).find_element(By.TAG_NAME, "a").click()
    body = shown(browser, "ol.timeline")[0].text
    assert "<i>Evil</i> Outlet" in body and "<b>officials</b> said" in body
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.find_elements(By.CSS_SELECTOR, "main b, main i") == []


def shown(browser, css: str) -> list:
    """The elements once the page that has them has loaded (a click navigates later)."""
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, css))
    return browser.find_elements(By.CSS_SELECTOR, css)


def process_config(process: DaemonProcess) -> Path:
    return Path(process.process.args[process.process.args.index("-c") + 1])
