"""The task pane in headless Chromium (outside Office, on its built-in sample sheet), driven over
the DevTools protocol like a user: type, click Generate, watch the denoising, read the previews,
Apply. Skips without Chromium unless CF_REQUIRE_BROWSER=1.

Screenshots go to a temporary folder; CF_UPDATE_SCREENSHOTS=1 writes them to docs/img/
(taskpane.png, taskpane-denoising.png) instead."""
from __future__ import annotations

import os
import time

import pytest

from .cdp import Browser, find_chromium
from .support import REPO, ScriptedGenerator, ThreadedServer, make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PINK = "rgb(255, 199, 206)"      # #FFC7CE, Excel's light red fill


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    if os.environ.get("CF_UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "img"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser_page():
    if find_chromium() is None:
        reason = "Chromium is not installed (apt-get install chromium), or set CF_CHROMIUM"
        if os.environ.get("CF_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    generators = {"cf": ScriptedGenerator(["LessThan(500)", "LessThanEqual(499)", "top(3)", "DataBar()", "Foo("],
                                          steps=16, delay_s=0.04, restart_t=1000)}
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


def test_generate_animates_then_shows_candidates_with_previews(browser_page, images):
    b = browser_page
    b.type("#request", "highlight sales under 500 in red")
    b.evaluate("document.getElementById('k').value = '5'")
    b.click("#generate")
    # the denoising stream: 5 noisy lines that change from step to step
    b.wait_for("!document.getElementById('denoise').hidden && document.querySelectorAll('#noise li').length === 5")
    first = b.evaluate("document.getElementById('noise').textContent")
    b.wait_for(f"document.getElementById('noise').textContent !== {first!r}", timeout=5)
    time.sleep(0.2)
    b.screenshot(str(images / "taskpane-denoising.png"), full_page=False)
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
    assert text(b, "#step") == "done · 16 steps + restart"      # the restart frame is not counted as a step
    assert not b.evaluate("document.getElementById('generate').disabled")
    b.screenshot(str(images / "taskpane.png"))
    assert b.exceptions == []
    from PIL import Image
    width, height = Image.open(images / "taskpane.png").size
    assert width == 380 and height > 1200          # the whole pane, candidates included


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


# A stand-in for Office.js, served in place of the CDN file: Excel with a selection on Sheet1!C3:D7
# that records what the pane does to it.
FAKE_OFFICE_JS = r"""
(function () {
  var log = window.__excel = {added: [], ranges: [], sheets: [], syncs: 0, handlers: 0, loads: []};
  function fmt() { return {fill: {}, font: {}, borders: {top: {}, bottom: {}, left: {}, right: {}}}; }
  function conditionalFormat(type) {
    return {type: type, cellValue: {format: fmt()}, textComparison: {format: fmt()}, topBottom: {format: fmt()},
            preset: {format: fmt()}, custom: {format: fmt(), rule: {}}, colorScale: {},
            dataBar: {positiveFormat: {}, negativeFormat: {}}, iconSet: {}};
  }
  var huge = /[?&]fake_whole_column=1/.test(location.search);   // the user selected C:D
  var selection = {address: huge ? "Sheet1!C:D" : "Sheet1!C3:D7", rowCount: huge ? 1048576 : 5, columnCount: 2,
                   values: [["Region", "Sales"], ["North", 420], ["South", 980], ["East", 310], ["West", 1250]],
                   load: function (what) { log.loads.push(what); return this; }};
  var sheet = {getRange: function (address) {
    log.ranges.push(address);
    return {conditionalFormats: {add: function (type) { var cf = conditionalFormat(type); log.added.push(cf); return cf; }}};
  }};
  var context = {
    workbook: {getSelectedRange: function () { return selection; },
               worksheets: {getItem: function (name) { log.sheets.push(name); return sheet; },
                            getActiveWorksheet: function () { log.sheets.push(null); return sheet; }}},
    sync: function () { log.syncs += 1; return Promise.resolve(); }
  };
  window.Excel = {run: function (callback) { return Promise.resolve().then(function () { return callback(context); }); }};
  window.Office = {
    HostType: {Excel: "Excel"}, EventType: {DocumentSelectionChanged: "documentSelectionChanged"},
    context: {document: {addHandlerAsync: function () { log.handlers += 1; }}},
    onReady: function (callback) { setTimeout(function () { callback({host: "Excel", platform: "PC"}); }, 0); }
  };
})();
"""


def test_inside_excel_reads_the_selection_and_applies_natively():
    if find_chromium() is None:
        pytest.skip("Chromium is not installed")
    generators = {"cf": ScriptedGenerator(["LessThan(500)", "top(1)"], steps=3)}
    with ThreadedServer(make_app(generators)) as server, Browser("about:blank", width=380, height=900) as b:
        b.route("https://appsforoffice.microsoft.com/", "application/javascript", FAKE_OFFICE_JS)
        b.navigate(server.url + "/taskpane/?_host_Info=Excel$Win32$16.01$en-US$$$$0")
        b.wait_for("document.getElementById('address') && document.getElementById('address').textContent === 'Sheet1!C3:D7'")
        assert b.evaluate("document.querySelector('script[src*=\"appsforoffice\"]') !== null")
        assert "Excel" in text(b, "#mode")
        assert b.evaluate("window.__excel.loads") == ["address,rowCount,columnCount", "values"]
        assert b.evaluate("window.__excel.handlers") == 1          # follows selection changes
        # the grid shows the selection where it is in the sheet
        assert b.evaluate("[...document.querySelectorAll('#sheet thead th')].map(th => th.textContent)") == ["", "C", "D"]
        b.type("#request", "sales under 500 in red")
        b.click("#generate")
        b.wait_for("!document.getElementById('results-section').hidden")
        pink = b.evaluate("""[...document.querySelectorAll('#results > li.best td')]
            .filter(td => getComputedStyle(td).backgroundColor === 'rgb(255, 199, 206)').map(td => td.dataset.address)""")
        assert pink == ["D4", "D6"]
        b.click("#results > li.best button.apply")
        b.wait_for("document.querySelector('#results > li.best button.apply').textContent === 'Applied'")
        log = b.evaluate("window.__excel")
        assert log["sheets"] == ["Sheet1"] and log["ranges"] == ["C4:D7"]
        assert [cf["type"] for cf in log["added"]] == ["cellValue"]
        applied = log["added"][0]["cellValue"]
        assert applied["rule"] == {"formula1": "500", "operator": "LessThan"}
        assert applied["format"]["fill"]["color"] == "#FFC7CE" and applied["format"]["font"]["color"] == "#9C0006"
        assert log["syncs"] >= 2                                   # read the selection, then apply
        assert b.exceptions == []


def test_inside_excel_a_huge_selection_is_not_read():
    if find_chromium() is None:
        pytest.skip("Chromium is not installed")
    with ThreadedServer(make_app()) as server, Browser("about:blank", width=380, height=900) as b:
        b.route("https://appsforoffice.microsoft.com/", "application/javascript", FAKE_OFFICE_JS)
        b.navigate(server.url + "/taskpane/?_host_Info=Excel$Win32$16.01$en-US$$$$0&fake_whole_column=1")
        b.wait_for("!document.getElementById('error').hidden")
        assert "2097152 cells" in text(b, "#error") and "header row first" in text(b, "#error")
        assert b.evaluate("window.__excel.loads") == ["address,rowCount,columnCount"]   # values never loaded
        b.type("#request", "under 500")
        b.click("#generate")
        b.wait_for("document.getElementById('error').textContent.includes('Select the table first')")
