"""Runs the task pane's JavaScript tests (addin_manifest/test, `node --test`) on the Office.js
payloads this service really produces for one rule of every kind, against office-addin-mock.
Installs the mock with `npm ci` when it is missing; skips without node/npm unless CF_REQUIRE_NODE=1."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from cf_rules.excel.office_js import office_payload
from cf_rules.parser import parse
from cf_rules.excel.styles import style_from_request

from .support import REPO

JS_TESTS = REPO / "addin_manifest" / "test"
RULES = ["LessThan(500)", "Between(10, 20)", "TextEquals(Open)", "TextContains(North)", "TextStartsWith(N)",
         "top(3)", "bottom(10%)", "aboveAverage()", "Duplicate()", "Blanks()", "Last7Days()", "ColorScale()",
         "ColorScale(red, green)", "DataBar()", "IconSet()", "IconSet(5Arrows)", "AND(GreaterThan(5), LessThan(9))",
         "NOT(Blanks())", "NOT(TextContains(x))", "=LEN(A2)>3"]


def _node_ready():
    """None when node and office-addin-mock are there (running `npm ci` once if needed), else why not."""
    if shutil.which("node") is None:
        return "node is not on PATH (install Node.js 18+)"
    if not (JS_TESTS / "node_modules" / "office-addin-mock").is_dir():
        if shutil.which("npm") is None:
            return "office-addin-mock is not installed and npm is missing: run `npm ci` in addin_manifest/test"
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_TESTS, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            return f"`npm ci` in addin_manifest/test failed: {done.stderr[-500:]}"
    return None


def test_applier_against_office_addin_mock(tmp_path):
    reason = _node_ready()
    if reason:
        if os.environ.get("CF_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    style = style_from_request("bold green text with a red border")
    payloads = []
    for text in RULES:
        payload = office_payload(parse(text), "B2:C20", style)
        payloads.append(dict(payload, rule_text=text))
    assert {p["type"] for p in payloads} == {"cellValue", "containsText", "topBottom", "presetCriteria", "custom",
                                             "colorScale", "dataBar", "iconSet"}
    path = tmp_path / "payloads.json"
    path.write_text(json.dumps(payloads))
    result = subprocess.run(["node", "--test"], cwd=JS_TESTS, env={**os.environ, "CF_PAYLOADS": str(path)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"# pass {len(RULES) + 10}" in result.stdout
