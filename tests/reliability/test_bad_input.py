"""Bad input never crashes the service: every malformed, huge, wrongly typed or hostile request
gets a 4xx JSON error `{"error": {"code", "message", "hint"?}}` with a stable code, and an
uploaded workbook file is never changed.

The app is the real one (blueprints, pipeline, rule language, workbook safety and writer) over
stand-in generators, because input handling must not depend on a trained model.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from .conftest import build_app, needs_checkpoints
from .corpus import CFB_MAGIC, DATA_SHEET, VALUE_RANGE, sha256, _base_workbook, _save

TABLE = [["Name", "Value"], ["a", 120], ["b", 900], ["c", -4]]
JSON_ENDPOINTS = {
    "/v1/cf/generate": {"request": "highlight values under 500 in red", "table": TABLE, "k": 2},
    "/v1/cf/validate": {"rule": "LessThan(500)"},
    "/v1/cf/preview": {"rule": "LessThan(500)", "table": TABLE},
    "/v1/bash/generate": {"request": "list files larger than 10 MB", "k": 2},
    "/v1/python/generate": {"request": "reverse a list", "k": 2},
}
TEXT_FIELD = {"/v1/cf/generate": "request", "/v1/cf/validate": "rule", "/v1/cf/preview": "rule",
              "/v1/bash/generate": "request", "/v1/python/generate": "request"}
GENERATE = ["/v1/cf/generate", "/v1/bash/generate", "/v1/python/generate"]
SMALL_UPLOAD_MB = 0.25


@pytest.fixture(scope="module")
def small_app():
    """The app with a small upload/table limit, so limit tests send little data."""
    return build_app(max_upload_mb=SMALL_UPLOAD_MB, max_table_cells=500, max_batch_requests=3)


@pytest.fixture()
def small_client(small_app):
    return small_app.test_client()


def assert_error(response, status: int | tuple, code: str | tuple | None = None) -> dict:
    """The response is the documented JSON error; returns its `error` object."""
    statuses = status if isinstance(status, tuple) else (status,)
    body = response.get_json(silent=True)
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:500])
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/json", response.mimetype
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], error
    assert isinstance(error.get("message"), str) and error["message"].strip(), error
    assert "Traceback" not in json.dumps(error)
    if code is not None:
        codes = code if isinstance(code, tuple) else (code,)
        assert error["code"] in codes, error
    return error


def post_json_bytes(client, path: str, raw: bytes, content_type: str = "application/json"):
    return client.post(path, data=raw, headers={"Content-Type": content_type})


# ---------------------------------------------------------------- JSON bodies


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("raw", [b'{"request": ', b"{'request': 'x'}", b"", b"nul\x00l", b'{"a":1}{"b":2}'],
                         ids=["truncated", "single-quotes", "empty", "nul", "two-objects"])
def test_malformed_json_is_400(client, path, raw):
    assert_error(post_json_bytes(client, path, raw), 400, "invalid_json")


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"42", b"null"], ids=["list", "string", "number", "null"])
def test_json_that_is_not_an_object_is_400(client, path, raw):
    assert_error(post_json_bytes(client, path, raw), 400, "invalid_json")


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_invalid_utf8_is_400(client, path):
    assert_error(post_json_bytes(client, path, b'{"request": "\xff\xfe caf\xe9"}'), 400, "invalid_json")


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_wrong_content_type_is_415(client, path):
    body = json.dumps(JSON_ENDPOINTS[path]).encode()
    assert_error(post_json_bytes(client, path, body, "text/plain"), 415, "unsupported_media_type")
    assert_error(client.post(path, data={"request": "x"}), 415, "unsupported_media_type")  # a form


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_deeply_nested_json_is_400(client, path):
    """100,000 nested arrays make Python's json module raise RecursionError, not JSONDecodeError."""
    depth = 100_000
    raw = b'{"request": "x", "table": ' + b"[" * depth + b"]" * depth + b"}"
    assert_error(post_json_bytes(client, path, raw), 400, "invalid_json")


def test_deeply_nested_table_in_a_stream_query_is_400(client):
    """1,500 levels fit in an 8 KB request line and pass Python's json recursion limit."""
    depth = 1500
    response = client.get("/v1/cf/stream", query_string={"request": "x", "table": "[" * depth + "]" * depth})
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("path", ["/v1/cf/generate", "/v1/cf/preview"])
def test_nested_table_cells_are_400(client, path):
    body = dict(JSON_ENDPOINTS[path], table=[["Name", "Value"], ["a", [[[[1]]]]]])
    error = assert_error(client.post(path, json=body), 400, "invalid_field")
    assert error.get("field") == "table"


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_huge_string_is_400_and_names_the_field(client, path):
    field = TEXT_FIELD[path]
    body = dict(JSON_ENDPOINTS[path], **{field: "highlight " * 100_000})   # 1 MB of text
    error = assert_error(client.post(path, json=body), 400, "invalid_field")
    assert field in error["message"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("value", [123, 1.5, True, ["LessThan(5)"], {"text": "x"}, None, "", "   "],
                         ids=["int", "float", "bool", "list", "object", "null", "empty", "blank"])
def test_wrong_type_for_the_text_field_is_400(client, path, value):
    field = TEXT_FIELD[path]
    error = assert_error(client.post(path, json=dict(JSON_ENDPOINTS[path], **{field: value})), 400, "invalid_field")
    assert error.get("field") == field


@pytest.mark.parametrize("path", GENERATE)
@pytest.mark.parametrize("k", ["five", 2.5, True, 0, -1, 10**30, [5], {"k": 5}],
                         ids=["word", "fraction", "bool", "zero", "negative", "huge", "list", "object"])
def test_bad_k_is_400(client, path, k):
    error = assert_error(client.post(path, json=dict(JSON_ENDPOINTS[path], k=k)), 400, "invalid_field")
    assert error.get("field") == "k"


@pytest.mark.parametrize("path", GENERATE)
@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_400(client, path, literal):
    """Python's json accepts NaN/Infinity, which are not JSON; they must not reach the model."""
    raw = json.dumps(dict(JSON_ENDPOINTS[path], k=0)).encode().replace(b'"k": 0', b'"k": ' + literal)
    assert_error(post_json_bytes(client, path, raw), 400, ("invalid_field", "invalid_json"))


@pytest.mark.parametrize("path", GENERATE)
def test_steps_and_seed_are_range_checked(client, path):
    for field, value in [("steps", 0), ("steps", 10**9), ("steps", "many"), ("seed", -1), ("seed", 2**63)]:
        error = assert_error(client.post(path, json=dict(JSON_ENDPOINTS[path], **{field: value})), 400,
                             "invalid_field")
        assert error.get("field") == field


@pytest.mark.parametrize("path", ["/v1/cf/generate", "/v1/cf/preview"])
@pytest.mark.parametrize("table", ["A1:B3", [], [1, 2], [["Name"], "row"], [[{"v": 1}]], {"rows": []}],
                         ids=["string", "empty", "flat", "row-not-list", "object-cell", "object"])
def test_malformed_table_is_400(client, path, table):
    error = assert_error(client.post(path, json=dict(JSON_ENDPOINTS[path], table=table)), 400, "invalid_field")
    assert error.get("field") == "table"


@pytest.mark.parametrize("path", ["/v1/cf/generate", "/v1/cf/preview"])
def test_table_over_the_cell_limit_is_413(small_client, path):
    rows = [["Name", "Value"]] + [[f"r{i}", i] for i in range(400)]      # 802 cells > 500
    assert_error(small_client.post(path, json=dict(JSON_ENDPOINTS[path], table=rows)), 413, "table_too_large")


@pytest.mark.parametrize("path", ["/v1/cf/generate", "/v1/cf/preview"])
@pytest.mark.parametrize("table", [[["Name", "Value"]], [[], []], [["A", "B"], ["x"], ["y", 1, 2, 3]]],
                         ids=["header-only", "empty-rows", "ragged"])
def test_table_the_rules_cannot_read_is_4xx(client, path, table):
    """Shapes that pass the JSON checks but not the rule language: a 4xx, never a crash.
    (A ragged table may also be accepted, padded; then it must be a 200.)"""
    response = client.post(path, json=dict(JSON_ENDPOINTS[path], table=table))
    if response.status_code != 200:
        assert_error(response, (400, 422))


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_body_over_the_upload_limit_is_413(small_client, path):
    body = dict(JSON_ENDPOINTS[path])
    body["padding"] = "x" * int(SMALL_UPLOAD_MB * 1024 * 1024 + 1000)
    assert_error(small_client.post(path, json=body), 413, "payload_too_large")


ODD_TEXTS = ["\ud800 highlight", "nul \x00 byte", "\u202e rtl \ufeff bom", "😀" * 50]
@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_unicode_is_answered_not_crashed(client, path, text):
    """A lone surrogate (valid in JSON's \\uD800 escape, not encodable as UTF-8), NUL, bidi marks,
    emoji: either a 200 or a clear 400, never a 500 (e.g. from echoing the text back)."""
    field = TEXT_FIELD[path]
    raw = json.dumps(dict(JSON_ENDPOINTS[path], **{field: text})).encode()   # ensure_ascii escapes \ud800
    response = post_json_bytes(client, path, raw)
    if response.status_code != 200:   # a rule made of odd text is a rule syntax error
        assert_error(response, (400, 422), ("invalid_field", "invalid_json", "rule_syntax"))
    else:
        response.get_json()  # the body is readable JSON


def test_syntax_error_in_a_rule_is_a_clear_422_on_preview(client):
    error = assert_error(client.post("/v1/cf/preview", json=dict(JSON_ENDPOINTS["/v1/cf/preview"],
                                                                   rule="LessThan(500")), 422, "rule_syntax")
    assert "position" in error


def test_validate_answers_invalid_rules_with_200(client):
    response = client.post("/v1/cf/validate", json={"rule": "GreaterThan(5"})
    assert response.status_code == 200
    assert response.get_json()["valid"] is False


@pytest.mark.parametrize("rule", ["LessThan(c[9], 5)", "top(c[40])", "Between(c[5], 1, 2)"])
def test_rule_naming_a_column_the_table_lacks_is_422(client, rule):
    response = client.post("/v1/cf/preview", json={"rule": rule, "table": TABLE})
    assert_error(response, 422, ("table_error", "rule_unsupported", "rule_syntax"))


@pytest.mark.parametrize("address", ["ZZZZ1", "A0:B2", "A0", "Sheet1!", "XFE1", "A1048577", "1A"])
def test_bad_address_is_4xx(client, address):
    response = client.post("/v1/cf/generate", json=dict(JSON_ENDPOINTS["/v1/cf/generate"], address=address))
    assert_error(response, (400, 422))


@pytest.mark.parametrize("path,method", [("/v1/cf/nope", "POST"), ("/v1/sql/generate", "POST"),
                                         ("/v1/cf/generate", "GET"), ("/healthz", "DELETE")])
def test_unknown_routes_and_methods_are_json(client, path, method):
    response = client.open(path, method=method)
    assert_error(response, (404, 405), ("not_found", "method_not_allowed"))


@pytest.mark.parametrize("task", ["cf", "bash", "python"])
@pytest.mark.parametrize("query", ["", "?request=", "?request=x&k=0", "?request=x&k=abc", "?request=x&steps=-3",
                                   "?request=x&table=[[1", "?request=x&table=%5B%5D"],
                         ids=["none", "empty", "k0", "kword", "steps", "table-json", "table-empty"])
def test_stream_rejects_bad_queries_before_streaming(client, task, query):
    response = client.get(f"/v1/{task}/stream{query}")
    assert_error(response, 400, ("invalid_field", "invalid_json"))


# ---------------------------------------------------------------- workbook uploads

def _zip(parts: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def _replace_part(xlsx: bytes, name: str, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[name] = data
    return _zip(parts)


def _cfb(*stream_names: str) -> bytes:
    """The start of a Compound File Binary container: the header (magic, minor/major version,
    byte order, sector shift) and a directory sector naming the streams, as Office writes for a
    password-protected .xlsx (EncryptionInfo + EncryptedPackage)."""
    header = bytearray(512)
    header[0:8] = CFB_MAGIC
    header[0x18:0x1A] = (0x3E).to_bytes(2, "little")      # minor version
    header[0x1A:0x1C] = (3).to_bytes(2, "little")         # major version 3 (512-byte sectors)
    header[0x1C:0x1E] = (0xFFFE).to_bytes(2, "little")    # little-endian byte order mark
    header[0x1E:0x20] = (9).to_bytes(2, "little")         # sector size 2^9
    directory = bytearray(512)
    for i, name in enumerate(("Root Entry",) + stream_names):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry = bytearray(128)
        entry[0:len(encoded)] = encoded
        entry[64:66] = len(encoded).to_bytes(2, "little")
        entry[66] = 5 if i == 0 else 2                    # root storage / stream
        directory[i * 128:(i + 1) * 128] = entry
    return bytes(header) + bytes(directory) + bytes(1024)


def _sheet_xml(body: bytes) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + body + b"</worksheet>")


def _hostile_workbooks() -> dict[str, tuple[bytes, int | tuple, str | tuple]]:
    """name -> (bytes uploaded as .xlsx, expected status, expected code(s))."""
    good = _save(_base_workbook())
    billion_laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                                 for i in range(1, 10))
                      + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                        b'uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>')
    padded_sheet = _sheet_xml(b"<sheetData/>" + b" " * 20_000_000)       # 20 MB of spaces, ~1000:1
    bomb = _replace_part(good, "xl/worksheets/sheet1.xml", padded_sheet)
    # sizes in the zip directory that lie: declared tiny, the stream inflates to 20 MB
    lying = bytearray(bomb)
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    for offset in _header_offsets(bytes(lying), b"xl/worksheets/sheet1.xml"):
        size_at = offset + (22 if lying[offset:offset + 4] == b"PK\x03\x04" else 24)
        lying[size_at:size_at + 4] = (1000).to_bytes(4, "little")
    assert info.file_size > 1000
    truncated = good[: len(good) // 2]
    return {
        "random-bytes": (bytes(range(256)) * 40, 422, "workbook_not_ooxml"),
        "text-file": (b"Region,Value\nNorth,12\n", 422, "workbook_not_ooxml"),
        "pdf": (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", 422, "workbook_not_ooxml"),
        "html": (b"<!DOCTYPE html><html><body>not a workbook</body></html>", 422, "workbook_not_ooxml"),
        "docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"}), 422,
                 "workbook_not_ooxml"),
        "empty-zip": (_zip({}), 422, ("workbook_not_ooxml", "workbook_corrupt")),
        "truncated-zip": (truncated, 422, ("workbook_corrupt", "workbook_not_ooxml")),
        "legacy-xls-cfb": (_cfb("Workbook"), 422, "workbook_legacy_xls"),
        "encrypted-cfb": (_cfb("EncryptionInfo", "EncryptedPackage"), 422, "workbook_encrypted"),
        "zip-bomb": (bomb, 422, "workbook_zip_bomb"),
        "zip-bomb-lying-sizes": (bytes(lying), 422, ("workbook_zip_bomb", "workbook_corrupt")),
        "billion-laughs": (_replace_part(good, "xl/sharedStrings.xml", billion_laughs), 422, "workbook_xml_entities"),
        "external-entity": (_replace_part(good, "xl/sharedStrings.xml", xxe), 422, "workbook_xml_entities"),
        "not-well-formed-sheet": (_replace_part(good, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData>"), 422,
                                  "workbook_corrupt"),
        "unsafe-part-name": (_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                                   "../../evil.xml": b"<x/>"}), 422, "workbook_unsafe_path"),
    }


def _header_offsets(data: bytes, name: bytes):
    """Offsets of the local and central-directory headers of the entry called `name`."""
    for sig, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            if data[at + name_at: at + name_at + len(name)] == name:
                yield at
            start = at + 4


HOSTILE = _hostile_workbooks()


def _upload(client, endpoint: str, path: Path, *, name: str | None = None, **form):
    data = {"workbook": (io.BytesIO(path.read_bytes()), name or path.name)}
    data.update(form)
    return client.post(endpoint, data=data, content_type="multipart/form-data")


RULES = json.dumps([{"rule": "LessThan(0)", "sheet": DATA_SHEET, "range": VALUE_RANGE}])
REQUESTS = json.dumps([{"sheet": DATA_SHEET, "range": VALUE_RANGE, "request": "highlight values under 0"}])
WORKBOOK_ENDPOINTS = {"/v1/cf/apply": {"rules": RULES}, "/v1/cf/batch": {"requests": REQUESTS}}


@pytest.mark.parametrize("endpoint", WORKBOOK_ENDPOINTS)
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_workbooks_are_refused_and_left_unchanged(client, tmp_path, endpoint, case):
    data, status, code = HOSTILE[case]
    path = tmp_path / "upload.xlsx"
    path.write_bytes(data)
    before = sha256(path.read_bytes())
    error = assert_error(_upload(client, endpoint, path, **WORKBOOK_ENDPOINTS[endpoint]), status, code)
    assert "root:" not in json.dumps(error)          # nothing of /etc/passwd leaks into the message
    assert sha256(path.read_bytes()) == before


@pytest.fixture(scope="module")
def good_xlsx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "book.xlsx"
    path.write_bytes(_save(_base_workbook()))
    return path


@pytest.mark.parametrize("sheet,cell_range,code", [
    ("Nope", VALUE_RANGE, "workbook_sheet_not_found"),
    ("Data2", VALUE_RANGE, "workbook_sheet_not_found"),
    (DATA_SHEET, "ZZZZ1:ZZZZ9", "workbook_bad_range"),
    (DATA_SHEET, "A0:B2", "workbook_bad_range"),
    (DATA_SHEET, "A1:XFE2", "workbook_bad_range"),
    (DATA_SHEET, "B2:B1048577", "workbook_bad_range"),
    (DATA_SHEET, "not a range", "workbook_bad_range"),
    (DATA_SHEET, "Summary!A1:A3", "workbook_bad_range"),
])
def test_apply_to_a_missing_sheet_or_bad_range_is_422(client, good_xlsx, sheet, cell_range, code):
    before = sha256(good_xlsx.read_bytes())
    rules = json.dumps([{"rule": "LessThan(0)", "sheet": sheet, "range": cell_range}])
    error = assert_error(_upload(client, "/v1/cf/apply", good_xlsx, rules=rules), 422, code)
    assert error["message"]
    assert sha256(good_xlsx.read_bytes()) == before


@pytest.mark.parametrize("sheet,cell_range", [("Nope", VALUE_RANGE), (DATA_SHEET, "A0:B2")])
def test_batch_on_a_missing_sheet_or_bad_range_is_4xx_or_reported(client, good_xlsx, sheet, cell_range):
    """Batch may refuse the upload (4xx) or report the item as failed (200); never a 500, and a
    200 must not claim the item was applied."""
    requests = json.dumps([{"sheet": sheet, "range": cell_range, "request": "highlight values under 0"}])
    response = _upload(client, "/v1/cf/batch", good_xlsx, requests=requests)
    if response.status_code == 200:
        report = json.dumps(response.get_json()["report"]).lower()
        assert "error" in report or "fail" in report, report[:500]
    else:
        assert_error(response, (400, 422))


@pytest.mark.parametrize("rules,status,code", [
    ("not json", 400, "invalid_json"),
    ('{"rule": "LessThan(0)"}', 400, "invalid_field"),
    ("[]", 400, "invalid_field"),
    ('["LessThan(0)"]', 400, "invalid_field"),
    (json.dumps([{"rule": "LessThan(0", "sheet": DATA_SHEET, "range": VALUE_RANGE}]), 422, "rule_syntax"),
    (json.dumps([{"rule": "LessThan(0)", "range": VALUE_RANGE}]), 400, "invalid_field"),
    (json.dumps([{"rule": 5, "sheet": DATA_SHEET, "range": VALUE_RANGE}]), 400, "invalid_field"),
    (json.dumps([{"rule": "LessThan(0)", "sheet": DATA_SHEET, "range": VALUE_RANGE, "style": 7}]), 400,
     "invalid_field"),
    pytest.param("[" * 100_000 + "]" * 100_000, 400, ("invalid_json", "invalid_field"), id="deeply-nested"),
])
def test_apply_with_bad_rules_field_is_4xx(client, good_xlsx, rules, status, code):
    assert_error(_upload(client, "/v1/cf/apply", good_xlsx, rules=rules), status, code)


@pytest.mark.parametrize("endpoint", WORKBOOK_ENDPOINTS)
def test_upload_without_workbook_or_with_wrong_type_is_4xx(client, good_xlsx, endpoint):
    form = WORKBOOK_ENDPOINTS[endpoint]
    assert_error(client.post(endpoint, json=form), 415, "unsupported_media_type")
    assert_error(client.post(endpoint, data=dict(form), content_type="multipart/form-data"), 400, "invalid_field")
    assert_error(_upload(client, endpoint, good_xlsx, name="book.csv", **form), 415, "unsupported_workbook_type")
    assert_error(_upload(client, endpoint, good_xlsx, name="book.xls", **form), 415, "unsupported_workbook_type")
    empty = good_xlsx.parent / "empty.xlsx"
    empty.write_bytes(b"")
    assert_error(_upload(client, endpoint, empty, **form), (400, 422), ("invalid_field", "workbook_empty"))


@pytest.mark.parametrize("endpoint", WORKBOOK_ENDPOINTS)
def test_workbook_over_the_upload_limit_is_413(small_client, tmp_path, endpoint):
    big = tmp_path / "big.xlsx"
    big.write_bytes(_zip({"xl/media/noise.bin": bytes(range(256)) * 2000}, zipfile.ZIP_STORED))  # 512 KB
    assert_error(_upload(small_client, endpoint, big, **WORKBOOK_ENDPOINTS[endpoint]), 413, "payload_too_large")


def test_batch_with_too_many_requests_is_413(small_client, good_xlsx):
    requests = json.dumps([{"sheet": DATA_SHEET, "range": VALUE_RANGE, "request": "x"}] * 4)
    assert_error(_upload(small_client, "/v1/cf/batch", good_xlsx, requests=requests), 413,
                 "too_many_requests_in_batch")


# ---------------------------------------------------------------- with the trained models


@pytest.fixture(scope="module")
def real_client():
    from cf_service.app import Settings, create_app
    from .conftest import CHECKPOINTS
    app = create_app(Settings.from_env({"CF_SERVICE_CHECKPOINTS": str(CHECKPOINTS), "CF_LOG_LEVEL": "WARNING"}))
    app.testing = False
    return app.test_client()


@pytest.mark.slow
@needs_checkpoints
@pytest.mark.parametrize("path,text", [
    (path, text)
    for path in GENERATE
    for text in ["\ud800 highlight", "nul \x00 byte", "\u202e rtl \ufeff bom", "😀" * 50, "x" * 2000,
                 "中文 高亮 小于 500"]])
def test_real_models_answer_odd_text(real_client, path, text):
    """The tokenizers and encoders of the trained models get the odd text too."""
    raw = json.dumps(dict(JSON_ENDPOINTS[path], request=text, steps=2)).encode()
    response = post_json_bytes(real_client, path, raw)
    if response.status_code != 200:
        assert_error(response, 400, "invalid_field")
    else:
        assert isinstance(response.get_json()["candidates"], list)


# ---------------------------------------------------------------- through gunicorn


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from benchmarks.live_server import LiveServer
    with LiveServer(app="tests.reliability.slow_app:app", workers=1, ready_timeout_s=60,
                    env={"CF_FAKE_SECONDS_PER_STEP": "0", "CF_LOG_LEVEL": "WARNING"}) as server:
        yield server


@pytest.mark.slow
def test_gunicorn_refusals_of_oversized_headers_are_4xx(live):
    """gunicorn's own limits answer before the app; they must at least be 4xx, not a crash."""
    status, _ = live.request("GET", "/healthz", headers={f"X-Pad-{i}": "1" for i in range(150)})
    assert 400 <= status < 500


@pytest.mark.slow
def test_a_stream_request_the_app_accepts_is_not_refused_by_gunicorn(live):
    from urllib.parse import quote
    status, body = live.request("GET", "/v1/bash/stream?steps=1&request=" + quote("列出大文件" * 200), timeout=30)
    assert status == 200 or (400 <= status < 500 and isinstance(body, dict) and "error" in body), (status, body)
