"""The task pane in headless Chromium (outside Office, on its built-in sample sheet), driven over
the DevTools protocol like a user: type, click Generate or press Ctrl+Enter, watch the denoising,
read what each candidate paints, switch the reading, Apply. Skips without Chromium unless
CF_REQUIRE_BROWSER=1. The shipped model's own stream is checked at the end (skips without it).
Screenshots go to a temporary folder; the README's come from scripts/screenshots.py."""
from __future__ import annotations

import json
import os
import random
import time

import pytest

from .cdp import Browser, find_chromium
from .support import CHECKPOINTS, ScriptedGenerator, ThreadedServer, make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PINK = "rgb(255, 199, 206)"      # #FFC7CE, Excel's light red fill
SALES_UNDER_500 = ["E2", "E4", "E7", "E10", "E11", "E13", "E15", "E16"]   # 420 310 95 480 265 60 370 455
ROWS_UNDER_500 = [c + row for row in ("2", "4", "7", "10", "11", "13", "15", "16") for c in "ABCDEFG"]


def rows_of(cells):
    return sorted(cells, key=lambda a: (int(a[1:]), a[0]))


class DisplayingGenerator(ScriptedGenerator):
    """Answers with its codes and displays them the way the real generator does (Generator.display):
    frames computed one by one, each line settling out of noise at its own pace, a last frame marked
    final whose codes are exactly the answer it is given."""

    def generate(self, request, table=None, k=5, steps=None, seed=None, should_stop=None):
        return super().generate(request, table=table, k=k, steps=steps, seed=seed)

    def display(self, request, answer, table=None, k=5, seed=None, display_steps=24, should_stop=None):
        rng = random.Random(0)
        for step in range(self.steps):
            frame = []
            for i, code in enumerate(answer):
                keep = min(len(code), int(len(code) * (step + 1) * (1 + i) / self.steps))   # line i settles faster
                frame.append(code[:keep] + "".join(rng.choice("()0123456789,c[]") for _ in code[keep:]))
            if self.delay_s:
                time.sleep(self.delay_s)
            yield {"step": step, "t": int(1000 * (1 - (step + 1) / self.steps)), "codes": frame}
        yield {"step": self.steps, "t": 0, "codes": list(answer), "final": True}


@pytest.fixture(scope="module")
def browser_page():
    if find_chromium() is None:
        reason = "Chromium is not installed (apt-get install chromium), or set CF_CHROMIUM"
        if os.environ.get("CF_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    generators = {"cf": DisplayingGenerator(["LessThan(c[4], 500)", "LessThanEqual(c[4], 499)", "top(c[4], 3)",
                                             "DataBar()", "Foo("], steps=16, delay_s=0.03),
                  "bash": DisplayingGenerator(["find . -size +10M", "du -a | sort -n"], steps=8, delay_s=0.02)}
    with ThreadedServer(make_app(generators)) as server, \
            Browser(server.url + "/taskpane/?frame_ms=150", width=380, height=900) as browser:   # 2.5 s of frames
        browser.wait_for("document.querySelectorAll('#sheet tbody tr').length === 13")
        yield browser


def text(browser, selector: str) -> str:
    return browser.evaluate(f"document.querySelector({selector!r}).textContent")


def painted(browser, scope: str, colour: str = PINK) -> list[str]:
    return browser.evaluate(f"""[...document.querySelectorAll({scope + ' td'!r})]
        .filter(td => getComputedStyle(td).backgroundColor === {colour!r}).map(td => td.dataset.address)""")


def test_sample_sheet_outside_office(browser_page):
    b = browser_page
    assert "Sample sheet" in text(b, "#mode")
    assert text(b, "#address") == "Sales!A1:G16"
    headers = b.evaluate("[...document.querySelectorAll('#sheet tr.header td')].map(td => td.textContent)")
    assert headers == ["Region", "Rep", "Product", "Units", "Sales", "Due", "Status"]
    assert "3 more rows not shown" in text(b, "#sheet")
    assert b.evaluate("document.querySelector('script[src*=\"appsforoffice\"]') === null")
    b.wait_for("document.getElementById('health').classList.contains('ready')")


def test_stream_frames_arrive_in_order_and_end_on_the_listed_rules(browser_page, tmp_path):
    b = browser_page
    b.type("#request", "highlight sales under 500 in red")
    b.evaluate("document.getElementById('k').value = '5'")
    b.click("#generate")
    # the answer is listed while the denoising still runs
    b.wait_for("!document.getElementById('results-section').hidden")
    # (the first step frame may not have arrived yet, so the step label may still be the empty one)
    assert not b.evaluate("document.getElementById('step').textContent.startsWith('done')")
    assert b.evaluate("document.getElementById('generate').disabled")
    b.screenshot(str(tmp_path / "denoising.png"), full_page=False)
    b.wait_for("document.getElementById('step').textContent.startsWith('done')")
    rules = b.evaluate("[...document.querySelectorAll('#results > li code.rule')].map(e => e.textContent)")
    assert rules == ["LessThan(c[4], 500)", "top(c[4], 3)", "DataBar()"]
    frames = b.evaluate("window.__cfFrames")
    assert [f["step"] for f in frames] == list(range(17))                # every frame, in order
    assert [f["final"] for f in frames] == [False] * 16 + [True]
    assert frames[-1]["codes"] == rules                                    # ends on the list shown
    assert len({json.dumps(f["codes"]) for f in frames}) >= 6
    assert text(b, "#noise").startswith(rules[0])
    assert b.evaluate("document.querySelectorAll('#noise li.settled').length") == 3
    # lines settle at their own pace: the third settled first
    meters = b.evaluate("[...document.querySelectorAll('#noise .meter')].map(e => e.textContent)")
    assert len(set(meters)) == 3 and all(m.startswith("settled at step") for m in meters)
    assert text(b, "#step") == "done · 16 steps"
    assert "1 invalid code was dropped" in text(b, "#status") and "still running" not in text(b, "#status")
    assert "LessThanEqual(c[4], 499)" in text(b, "#results > li.best .equivalent")
    # today's payload for a row rule: whole rows of the selection
    assert b.evaluate("document.querySelector('#results > li.best').dataset.paint") == "rows"
    assert "Whole rows" in text(b, "#results > li.best .paint") and "A2:G16" in text(b, "#results > li.best .paint")
    assert "Excel rule: expression" in text(b, "#results > li.best .meta")
    assert rows_of(painted(b, "#results > li.best")) == rows_of(
        [a for a in ROWS_UNDER_500 if int(a[1:]) <= 9])                    # the preview shows 8 data rows
    assert not b.evaluate("document.getElementById('generate').disabled")
    assert b.exceptions == []


def test_apply_formats_the_sample_sheet(browser_page):
    b = browser_page
    b.click("#results > li.best button.apply")
    b.wait_for("document.querySelector('#results > li.best button.apply').textContent === 'Applied'")
    assert rows_of(painted(b, "#sheet")) == rows_of([a for a in ROWS_UNDER_500 if int(a[1:]) <= 13])  # 12 rows shown
    assert "Applied LessThan(c[4], 500) to A2:G16" in text(b, "#status")
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


def sample_values(b) -> list:
    return b.evaluate("window.CfSheet.SAMPLE.values")


def canned_answer(values) -> dict:
    cells_app = make_app({"cf": ScriptedGenerator(["LessThan(500)"])}).test_client()
    rows_app = make_app({"cf": ScriptedGenerator(["LessThan(c[4], 500)"])}).test_client()
    column = [[row[4]] for row in values]
    own = cells_app.post("/v1/cf/generate", json={"request": "sales under 500 in red", "k": 1, "table": column,
                                                  "address": "Sales!E1:E16"}).get_json()["candidates"][0]
    alt = rows_app.post("/v1/cf/generate", json={"request": "sales under 500 in red", "k": 1, "table": values,
                                                 "address": "Sales!A1:G16"}).get_json()["candidates"][0]
    own["rule"] = "LessThan(c[4], 500)"
    own["paint"] = {"target": "cells", "range": "E2:E16", "column": 4,
                    "alternative": {"target": "rows", "range": "A2:G16", "column": None, "preview": alt["preview"],
                                    "office": alt["office"], "excel_type": alt["excel_type"]}}
    return {"candidates": [own], "rejected": [], "range": "A2:G16"}


def test_the_paint_switch_changes_the_preview_and_what_apply_writes(browser_page):
    b = browser_page
    body = canned_answer(sample_values(b))
    b.route(b.evaluate("location.origin") + "/v1/cf/generate", "application/json", json.dumps(body))
    b.evaluate("document.getElementById('animate').checked = false")
    b.evaluate("document.getElementById('request').value = ''")
    b.type("#request", "sales under 500 in red")
    b.click("#generate")
    b.wait_for("document.querySelectorAll('#results > li.best button.reading').length === 2")
    card = "#results > li.best"
    pressed = f"[...document.querySelectorAll('{card} button.reading')].map(x => x.getAttribute('aria-pressed'))"
    assert b.evaluate(pressed) == ["true", "false"]
    assert b.evaluate(f"[...document.querySelectorAll('{card} button.reading')].map(x => x.textContent)") == \
        ["Sales cells", "Whole rows"]
    assert painted(b, card) == [a for a in SALES_UNDER_500 if int(a[1:]) <= 9]
    assert text(b, f"{card} .paint code.range") == "E2:E16"
    b.click(f"{card} button.reading[data-target=rows]")
    b.wait_for(f"document.querySelector('{card}').dataset.paint === 'rows'")
    assert b.evaluate(pressed) == ["false", "true"]
    assert text(b, f"{card} .paint code.range") == "A2:G16" and "Excel rule: expression" in text(b, f"{card} .meta")
    assert rows_of(painted(b, card)) == rows_of([a for a in ROWS_UNDER_500 if int(a[1:]) <= 9])
    b.click(f"{card} button.apply")
    b.wait_for(f"document.querySelector('{card} button.apply').textContent === 'Applied'")
    assert "to A2:G16" in text(b, "#status")
    assert rows_of(painted(b, "#sheet")) == rows_of([a for a in ROWS_UNDER_500 if int(a[1:]) <= 13])
    b.click("#clear")
    b.evaluate("document.getElementById('animate').checked = true")


def test_the_keyboard_path(browser_page):
    b = browser_page
    b.evaluate("document.getElementById('animate').checked = false")
    b.evaluate("document.getElementById('request').value = ''")
    b.type("#request", "sales under 500 in red")                    # focuses the request box
    b.press("Enter", "ctrl")
    b.wait_for("document.querySelectorAll('#results > li.best button.reading').length === 2 && "
               "!document.getElementById('generate').disabled")
    for _ in range(60):                                               # Tab to the whole-row reading
        if b.evaluate("document.activeElement.dataset.target === 'rows'"):
            break
        b.press("Tab")
    assert b.evaluate("document.activeElement.dataset.target") == "rows"
    b.press(" ")
    b.wait_for("document.querySelector('#results > li.best').dataset.paint === 'rows'")
    assert b.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"   # focus stays on the switch
    for _ in range(10):
        if b.evaluate("document.activeElement.classList.contains('apply')"):
            break
        b.press("Tab", "shift")
    b.press("Enter")
    b.wait_for("document.querySelector('#results > li.best button.apply').textContent === 'Applied'")
    assert "to A2:G16" in text(b, "#status")
    b.click("#clear")
    # the tabs: arrow keys move between them
    b.evaluate("document.getElementById('tab-cf').focus()")
    b.press("ArrowRight")
    b.wait_for("!document.getElementById('panel-code').hidden")
    assert b.evaluate("document.activeElement.id") == "tab-code" and b.evaluate("document.getElementById('panel-cf').hidden")
    b.press("ArrowLeft")
    b.wait_for("!document.getElementById('panel-cf').hidden")
    b.evaluate("document.getElementById('animate').checked = true")
    assert b.exceptions == []


def test_the_code_tab_streams_and_lists_code_with_a_copy_button(browser_page):
    b = browser_page
    b.click("#tab-code")
    b.type("#code-request", "files larger than 10 MB")
    b.press("Enter", "ctrl")
    b.wait_for("document.getElementById('code-step').textContent.startsWith('done')")
    codes = b.evaluate("[...document.querySelectorAll('#code-results code.rule')].map(e => e.textContent)")
    assert codes == ["find . -size +10M", "du -a | sort -n"]
    assert b.evaluate("window.__cfFrames[window.__cfFrames.length - 1].codes") == codes
    assert "Not run" in text(b, "#code-status")
    assert b.evaluate("document.querySelectorAll('#code-results button.copy').length") == 2
    b.click("#tab-cf")
    assert b.exceptions == []


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
    generators = {"cf": ScriptedGenerator(["LessThan(c[1], 500)", "top(1)"], steps=3)}
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
        b.wait_for("!document.getElementById('results-section').hidden && !document.getElementById('generate').disabled")
        assert rows_of(painted(b, "#results > li.best")) == ["C4", "D4", "C6", "D6"]
        assert b.evaluate("document.querySelector('#results > li.best').dataset.paint") == "rows"
        b.click("#results > li.best button.apply")
        b.wait_for("document.querySelector('#results > li.best button.apply').textContent === 'Applied'")
        log = b.evaluate("window.__excel")
        assert log["sheets"] == ["Sheet1"] and log["ranges"] == ["C4:D7"]
        assert [cf["type"] for cf in log["added"]] == ["custom"]
        assert log["added"][0]["custom"]["format"]["fill"]["color"] == "#FFC7CE"
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


def test_the_shipped_model_streams_at_least_six_frames_ending_on_its_answer():
    if find_chromium() is None:
        pytest.skip("Chromium is not installed")
    if not (CHECKPOINTS / "cf" / "config.json").is_file():
        pytest.skip(f"no shipped cf checkpoint at {CHECKPOINTS / 'cf'}")
    from cf_service.app import create_app
    from cf_service.generators import ModelRegistry
    from cf_service.settings import Settings
    app = create_app(Settings(tasks=("cf",), preload_models=True, request_timeout_s=300),
                     registry=ModelRegistry(("cf",), checkpoint_root=CHECKPOINTS))
    with ThreadedServer(app) as server, Browser(server.url + "/taskpane/", width=380, height=900) as b:
        b.wait_for("document.getElementById('health').classList.contains('ready')", timeout=120)
        b.type("#request", "highlight sales under 500 in red")
        b.click("#generate")
        b.wait_for("document.getElementById('step').textContent.startsWith('done')", timeout=120)
        frames = b.evaluate("window.__cfFrames")
        rules = b.evaluate("[...document.querySelectorAll('#results > li code.rule')].map(e => e.textContent)")
        assert [f["step"] for f in frames] == list(range(len(frames)))
        assert frames[-1]["final"] and frames[-1]["codes"] == rules
        assert len({json.dumps(f["codes"]) for f in frames}) >= 6
        assert frames[0]["codes"] != rules and frames[0]["noise"]
        assert text(b, "#step") == "done · 24 steps"                    # neither the noise nor the answer is a step
        assert b.exceptions == []
