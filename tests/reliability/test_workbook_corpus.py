"""No lost workbooks: apply and batch on a corpus of real-looking workbooks keep every part.

For each workbook of tests/reliability/corpus.py, the rewritten package must have every part
byte-identical except the edited sheet XML and xl/styles.xml, and in those every element that
was there before still there (new elements may be added); the uploaded file is never modified.
A workbook whose parts cannot be kept must be refused with a clear 4xx instead.
"""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from .conftest import CHECKPOINTS, REPO_ROOT, needs_checkpoints
from .corpus import (DATA_SHEET, VALUE_RANGE, libreoffice_resave, package_problems, read_parts, sha256,
                     sheet_part, soffice_path, styles_part)

BASE_NAMES = ["features.xlsx", "charts.xlsx", "image.xlsx", "everything.xlsx", "macro.xlsm", "pivot.xlsx"]
LIBREOFFICE_NAMES = ["libreoffice.xlsx"]
RULES = [
    {"rule": "LessThan(0)", "sheet": DATA_SHEET, "range": VALUE_RANGE, "style": "bold red text"},
    {"rule": "ColorScale(red, yellow, green)", "sheet": DATA_SHEET, "range": "E2:E21"},
    {"rule": "TextContains(orth)", "sheet": "Summary", "range": "A2:A4", "style": {"fill": "#FFC7CE"}},
]


def corpus_names():
    names = list(BASE_NAMES)
    for name in LIBREOFFICE_NAMES:
        names.append(pytest.param(name, marks=pytest.mark.libreoffice))
    return names


def book(corpus, name) -> Path:
    if name not in corpus:
        pytest.skip(f"{name} needs LibreOffice (soffice not on PATH; set CF_REQUIRE_LIBREOFFICE=1 to require it)")
    return corpus[name]


def edited_parts(xlsx: bytes, sheets) -> set[str]:
    parts = read_parts(xlsx)
    return {sheet_part(parts, s) for s in sheets} | {styles_part(parts)}


def count_cf_rules(xlsx: bytes, sheet: str) -> int:
    parts = read_parts(xlsx)
    return parts[sheet_part(parts, sheet)].count(b"<cfRule") + parts[sheet_part(parts, sheet)].count(b":cfRule")


def apply(client, path: Path, rules) -> tuple[int, bytes, dict | None]:
    response = client.post("/v1/cf/apply", content_type="multipart/form-data", data={
        "workbook": (io.BytesIO(path.read_bytes()), path.name), "rules": json.dumps(rules)})
    return response.status_code, response.data, response.get_json(silent=True)


def assert_kept(before: bytes, after: bytes, sheets):
    problems = package_problems(before, after, edited_parts(before, sheets))
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the corpus itself


@pytest.mark.parametrize("name", corpus_names())
def test_corpus_workbooks_are_what_they_claim(corpus, name):
    path = book(corpus, name)
    parts = read_parts(path.read_bytes())
    wb = openpyxl.load_workbook(path, keep_vba=name.endswith(".xlsm"))
    assert wb.sheetnames[:3] == [DATA_SHEET, "Summary", "Notes"]
    ws = wb[DATA_SHEET]
    assert ws["E2"].value == "=C2*2"
    if name != "libreoffice.xlsx":      # headless LibreOffice does not write view settings
        assert ws.freeze_panes == "A2"
    assert len(ws.conditional_formatting) >= 2 and ws.data_validations.dataValidation
    assert ws.merged_cells.ranges and ws["A1"].comment is not None and ws["B2"].hyperlink is not None
    if name in ("charts.xlsx", "everything.xlsx", "libreoffice.xlsx"):
        assert any(n.startswith("xl/charts/chart") for n in parts)
    if name in ("image.xlsx", "everything.xlsx", "libreoffice.xlsx"):
        assert any(n.startswith("xl/media/") for n in parts)
    if name == "macro.xlsm":
        assert "xl/vbaProject.bin" in parts and b"macroEnabled" in parts["[Content_Types].xml"]
    if name == "pivot.xlsx":
        assert wb["Pivot"]._pivots, "openpyxl did not read the pivot table back"


# ---------------------------------------------------------------- apply


@pytest.mark.parametrize("name", corpus_names())
def test_apply_keeps_every_part(client, corpus, name):
    path = book(corpus, name)
    before_hash = sha256(path.read_bytes())
    before = path.read_bytes()
    status, data, body = apply(client, path, RULES)
    assert sha256(path.read_bytes()) == before_hash, "the uploaded file changed"
    if status != 200:   # refusing is allowed only as a clear workbook error
        assert 400 <= status < 500 and body and body["error"]["code"].startswith("workbook_"), (status, body)
        pytest.fail(f"{name} was refused ({body['error']}); every corpus workbook should be writable")
    assert_kept(before, data, [DATA_SHEET, "Summary"])
    assert count_cf_rules(data, DATA_SHEET) == count_cf_rules(before, DATA_SHEET) + 2
    assert count_cf_rules(data, "Summary") == count_cf_rules(before, "Summary") + 1
    wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=name.endswith(".xlsm"))
    ranges = {str(cf.sqref) for cf in wb[DATA_SHEET].conditional_formatting}
    assert VALUE_RANGE in ranges and "E2:E21" in ranges


@pytest.mark.parametrize("name", ["everything.xlsx", "macro.xlsm", "pivot.xlsx"])
def test_apply_twice_keeps_every_part(client, corpus, tmp_path, name):
    """Formatting an already formatted workbook: the second rewrite keeps the first one's work."""
    path = book(corpus, name)
    status, first, body = apply(client, path, RULES[:1])
    assert status == 200, body
    again = tmp_path / name
    again.write_bytes(first)
    status, second, body = apply(client, again, RULES[1:])
    assert status == 200, body
    assert_kept(first, second, [DATA_SHEET, "Summary"])
    assert_kept(path.read_bytes(), second, [DATA_SHEET, "Summary"])


def test_apply_on_the_pivot_sheet_keeps_the_pivot(client, corpus):
    path = book(corpus, "pivot.xlsx")
    rules = [{"rule": "GreaterThan(0)", "sheet": "Pivot", "range": "B4:B6", "style": "green"}]
    status, data, body = apply(client, path, rules)
    assert status == 200, body
    assert_kept(path.read_bytes(), data, ["Pivot"])
    assert openpyxl.load_workbook(io.BytesIO(data))["Pivot"]._pivots


def test_apply_keeps_the_macro_enabled_kind(client, corpus):
    path = book(corpus, "macro.xlsm")
    response = client.post("/v1/cf/apply", content_type="multipart/form-data", data={
        "workbook": (io.BytesIO(path.read_bytes()), path.name), "rules": json.dumps(RULES[:1])})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.ms-excel.sheet.macroEnabled.12"
    assert ".xlsm" in response.headers.get("Content-Disposition", "")


# ---------------------------------------------------------------- batch


def batch(client, path: Path, requests) -> tuple[int, dict]:
    response = client.post("/v1/cf/batch", content_type="multipart/form-data", data={
        "workbook": (io.BytesIO(path.read_bytes()), path.name), "requests": json.dumps(requests), "k": "3"})
    return response.status_code, response.get_json(silent=True)


@pytest.mark.parametrize("name", corpus_names())
def test_batch_keeps_every_part(client, corpus, name):
    """Batch over the stand-in generator (its cf candidates are real rules): what matters here
    is the package, not which rule the model would pick."""
    path = book(corpus, name)
    before = path.read_bytes()
    requests = [{"sheet": DATA_SHEET, "range": "C1:C21", "request": "highlight values over 500"},
                {"sheet": "Summary", "range": "B1:B4", "request": "highlight totals below 0 in red"}]
    status, body = batch(client, path, requests)
    assert sha256(path.read_bytes()) == sha256(before), "the uploaded file changed"
    assert status == 200, body
    assert body["report"]["applied"] == 2, body["report"]
    data = base64.b64decode(body["workbook_base64"])
    assert_kept(before, data, [DATA_SHEET, "Summary"])
    assert count_cf_rules(data, DATA_SHEET) == count_cf_rules(before, DATA_SHEET) + 1
    assert body["filename"].endswith(Path(name).suffix)


@pytest.mark.slow
@needs_checkpoints
def test_batch_cli_never_touches_the_input(corpus, tmp_path):
    path = book(corpus, "everything.xlsx")
    before = sha256(path.read_bytes())
    requests = tmp_path / "requests.json"
    requests.write_text(json.dumps([{"sheet": DATA_SHEET, "range": "C1:C21", "request": "highlight values under 0"}]))
    out = tmp_path / "out.xlsx"
    run = subprocess.run([sys.executable, "-m", "cf_service.batch", str(path), str(requests), "-o", str(out),
                          "-k", "2", "--no-progress", "--checkpoint", str(CHECKPOINTS / "cf")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sha256(path.read_bytes()) == before
    assert_kept(path.read_bytes(), out.read_bytes(), [DATA_SHEET])
    # writing over the input is refused, and the input survives the attempt
    same = subprocess.run([sys.executable, "-m", "cf_service.batch", str(path), str(requests), "-o", str(path)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert same.returncode != 0 and "differ" in same.stderr
    assert sha256(path.read_bytes()) == before


# ---------------------------------------------------------------- a spreadsheet app opens the result


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_the_written_workbook_and_keeps_the_rules(client, corpus, tmp_path):
    if soffice_path() is None:
        pytest.skip("soffice not on PATH")
    path = book(corpus, "everything.xlsx")
    status, data, body = apply(client, path, RULES)
    assert status == 200, body
    resaved = libreoffice_resave(data, tmp_path)
    wb = openpyxl.load_workbook(io.BytesIO(resaved))
    ranges = {str(cf.sqref) for cf in wb[DATA_SHEET].conditional_formatting}
    assert VALUE_RANGE in ranges and "E2:E21" in ranges, ranges
    with zipfile.ZipFile(io.BytesIO(resaved)) as z:
        assert any(n.startswith("xl/charts/") for n in z.namelist())


# ---------------------------------------------------------------- the comparison is not blind


def test_the_comparison_catches_what_an_openpyxl_round_trip_loses(corpus):
    """Loading and saving with openpyxl (what the writer must not do) loses the VBA part and
    rewrites other parts; the comparison must say so."""
    path = book(corpus, "macro.xlsm")
    out = io.BytesIO()
    openpyxl.load_workbook(path).save(out)
    problems = package_problems(path.read_bytes(), out.getvalue(), edited_parts(path.read_bytes(), [DATA_SHEET]))
    assert any("part lost: xl/vbaProject.bin" in p for p in problems), problems
    assert any(p.startswith("part changed") for p in problems), problems


def test_the_comparison_catches_a_removed_element(corpus):
    path = book(corpus, "features.xlsx")
    before = path.read_bytes()
    parts = read_parts(before)
    sheet = sheet_part(parts, DATA_SHEET)
    damaged = parts[sheet].replace(b"<mergeCell ref=\"G1:H1\" />", b"")
    assert damaged != parts[sheet]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            z.writestr(name, damaged if name == sheet else data)
    problems = package_problems(before, out.getvalue(), {sheet})
    assert any("mergeCell" in p for p in problems), problems
