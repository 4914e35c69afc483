"""The task pane in headless Chromium (outside Office, on its built-in sample sheet), driven over
the DevTools protocol like a user: type, click Generate, watch the denoising, read the previews,
Apply. Screenshots go to docs/img/. Skips without Chromium unless CF_REQUIRE_BROWSER=1."""
from __future__ import annotations

import os
import time

import pytest

from .cdp import Browser, find_chromium
from .support import REPO, ScriptedGenerator, ThreadedServer, make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IMAGES = REPO / "docs" / "img"
PINK = "rgb(255, 199, 206)"      # #FFC7CE, Excel's light red fill


@pytest.fixture(scope="module")
def browser_page():
    if find_chromium() is None:
        reason = "Chromium is not installed (apt-get install chromium), or set CF_CHROMIUM"
        if os.environ.get("CF_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    generators = {"cf": ScriptedGenerator(["LessThan(500)", "LessThanEqual(499)", "top(3)", "DataBar()", "Foo("],
                                          steps=16, delay_s=0.04)}
    with ThreadedServer(make_app(generators)) as server, \
            Browser(server.url + "/taskpane/", width=380, height=900) as browser:
        browser.wait_for("document.querySelectorAll('#sheet tbody tr').length === 10")
        yield browser


def text(browser, selector: str) -> str:
    return browser.evaluate(f"document.querySelector({selector!r}).textContent")


def test_sample_sheet_outside_office(browser_page):
    b = browser_page
    assert "Sample sheet" in text(b, "#mode")
    assert text(b, "#address") == "Sample!A1:D10"
    assert b.evaluate("document.querySelector('script[src*=\"appsforoffice\"]') === null")
    b.wait_for("document.getElementById('health').classList.contains('ready')")


def test_generate_animates_then_shows_candidates_with_previews(browser_page):
    b = browser_page
    IMAGES.mkdir(parents=True, exist_ok=True)
    b.type("#request", "highlight sales under 500 in red")
    b.evaluate("document.getElementById('k').value = '5'")
    b.click("#generate")
    # the denoising stream: 5 noisy lines that change from step to step
    b.wait_for("!document.getElementById('denoise').hidden && document.querySelectorAll('#noise li').length === 5")
    first = b.evaluate("document.getElementById('noise').textContent")
    b.wait_for(f"document.getElementById('noise').textContent !== {first!r}", timeout=5)
    time.sleep(0.2)
    b.screenshot(str(IMAGES / "taskpane-denoising.png"), full_page=False)
    assert b.evaluate("document.getElementById('generate').disabled")

    b.wait_for("!document.getElementById('results-section').hidden")
    rules = b.evaluate("[...document.querySelectorAll('#results > li code.rule')].map(e => e.textContent)")
    assert rules == ["LessThan(500)", "top(3)", "DataBar()"]
    assert "1 invalid code was dropped" in text(b, "#status")
    assert "LessThanEqual(499)" in text(b, "#results > li.best .equivalent")
    assert "4 cells formatted" in text(b, "#results > li.best .meta")
    pink = b.evaluate("""[...document.querySelectorAll('#results > li.best td')]
        .filter(td => getComputedStyle(td).backgroundColor === 'rgb(255, 199, 206)').map(td => td.dataset.address)""")
    assert pink == ["C2", "C4", "C7", "C10"]      # 420, 310, 95, 480; text cells are not < 500
    bars = b.evaluate("document.querySelectorAll('#results > li:nth-child(3) td .bar').length")
    assert bars == 9
    assert text(b, "#step").startswith("done")
    assert not b.evaluate("document.getElementById('generate').disabled")
    b.screenshot(str(IMAGES / "taskpane.png"))
    assert b.exceptions == []


def test_apply_formats_the_sample_sheet(browser_page):
    b = browser_page
    b.click("#results > li.best button.apply")
    b.wait_for("document.querySelector('#results > li.best button.apply').textContent === 'Applied'")
    formatted = b.evaluate(f"""[...document.querySelectorAll('#sheet td')]
        .filter(td => getComputedStyle(td).backgroundColor === {PINK!r}).map(td => td.dataset.address)""")
    assert formatted == ["C2", "C4", "C7", "C10"]
    assert "Applied LessThan(500)" in text(b, "#status")
    b.click("#clear")
    b.wait_for(f"""[...document.querySelectorAll('#sheet td')]
        .every(td => getComputedStyle(td).backgroundColor !== {PINK!r})""")


def test_an_empty_request_explains_itself(browser_page):
    b = browser_page
    b.evaluate("document.getElementById('request').value = ''")
    b.click("#generate")
    b.wait_for("!document.getElementById('error').hidden")
    assert "Describe the formatting first" in text(b, "#error")
    assert b.evaluate("document.activeElement.id") == "request"
