"""Every request is bounded: one regression test per reproduction of the request-budget issue
(a formula over the whole sheet, a sheet that inflates, slow clients, the inputs that gave 500s,
characters XML cannot hold, the batch CLI and hard links, macro files under an .xlsx name, body
limits, foreign Host names and cross-origin writes). Each gets a clear 4xx or a correct 200.

In-process tests use the real app over stand-in generators; the rows that depend on the HTTP
server (slow clients, chunked bodies) run against a real gunicorn with the service's config.
"""
from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
import zipfile
from xml.etree import ElementTree

import pytest

from benchmarks.live_server import HOST, LiveServer
from benchmarks.replay_issue17 import inflating_xlsx, minimal_xlsx, raw_request, sheet_xml, status_of

from .fakes import Candidate
from .test_bad_input import assert_error

TABLE = [["a"], [1], [2]]
BOOK = minimal_xlsx(sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'))
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def apply(client, rules, workbook: bytes = BOOK, name: str = "book.xlsx", headers=None, **form):
    data = {"workbook": (io.BytesIO(workbook), name), "rules": json.dumps(rules), **form}
    return client.post("/v1/cf/apply", data=data, content_type="multipart/form-data", headers=headers or {})


def rule_at(rule: str) -> dict:
    return {"rule": rule, "sheet": "Sheet1", "range": "A1:A5"}


def sheet_of(xlsx: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        return zf.read("xl/worksheets/sheet1.xml")


# ---------------------------------------------------------------- budgets


def test_a_formula_over_the_whole_sheet_previews_like_its_table(client):
    huge = client.post("/v1/cf/preview", json={"rule": "=SUM($A$1:$XFD$1048576)>A2", "table": TABLE})
    bounded = client.post("/v1/cf/preview", json={"rule": "=SUM($A$1:$A$3)>A2", "table": TABLE})
    assert huge.status_code == 200 and bounded.status_code == 200
    assert huge.get_json()["preview"]["cells"] == bounded.get_json()["preview"]["cells"] == ["A2", "A3"]


def test_a_formula_over_its_cell_budget_is_a_422(client, monkeypatch):
    from cf_rules import formula
    monkeypatch.setattr(formula, "MAX_CELL_READS", 20_000)
    rows = [["a"]] + [[i] for i in range(400)]
    error = assert_error(client.post("/v1/cf/preview", json={"rule": "=COUNTIF(A2:A$401,A2)>1", "table": rows}),
                         422, "formula_too_costly")
    assert "anchor" in error["hint"]


def test_a_sheet_that_inflates_past_the_edit_cap_is_a_413_before_it_is_parsed(client, monkeypatch):
    from cf_rules.excel import package
    monkeypatch.setattr(package, "MAX_EDITED_PART_BYTES", 2_000_000)
    book = inflating_xlsx(3)
    assert len(book) < 200_000       # a small upload, inside the upload limit
    error = assert_error(apply(client, [rule_at("GreaterThan(50)")], book), 413, "workbook_sheet_too_large")
    assert "MB" in error["message"]


def test_a_large_sheet_is_edited_as_a_stream():
    """apply_rules allocates the same few MB for a 4 MB and a 16 MB sheet (chunks, not the part:
    a tree, or even the decoded text, would grow with the sheet), and the edit is right."""
    import tracemalloc

    from cf_rules.excel.package import RuleApplication, apply_rules
    from cf_rules.parser import parse

    peaks = {}
    for mb in (4, 16):
        book = inflating_xlsx(mb)
        tracemalloc.start()
        try:
            out = apply_rules(book, [RuleApplication(parse("GreaterThan(50)"), "Sheet1", "A1:J100")])
            peaks[mb] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    sheet = sheet_of(out)
    assert peaks[16] < 1.5 * peaks[4] and peaks[16] < len(sheet) / 2, (peaks, len(sheet))
    assert sheet.count(b"<cfRule") == 1
    assert sheet.index(b"</sheetData><conditionalFormatting") < sheet.index(b"<pageMargins")
    inserted = sheet[sheet.index(b"<conditionalFormatting"):sheet.index(b"<pageMargins")]
    assert sheet.replace(inserted, b"") == sheet_of(book)


# ---------------------------------------------------------------- 500s that are 4xx now


def test_a_lone_surrogate_in_an_apply_rule_is_a_field_error(client):
    error = assert_error(apply(client, [rule_at("TextContains(\ud83d)")]), 400, "invalid_field")
    assert error["field"] == "rules[0].rule"


@pytest.mark.parametrize("path, body", [
    ("/v1/cf/preview", {"rule": "LessThan(5)"}),
    ("/v1/cf/generate", {"request": "values under 5"}),
])
def test_an_integer_past_float_range_is_a_table_error(client, path, body):
    table = [["a"], [int("9" * 310)]]
    error = assert_error(client.post(path, json=dict(body, table=table)), 422, "table_error")
    assert "310-digit" in error["message"]


@pytest.mark.parametrize("terms", [300, 600])
def test_a_flat_formula_of_hundreds_of_terms_previews(client, terms):
    rule = "=" + "+".join(["A2"] * terms) + f">{terms * 1.5}"
    response = client.post("/v1/cf/preview", json={"rule": rule, "table": TABLE})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["preview"]["cells"] == ["A3"]
    validated = client.post("/v1/cf/validate", json={"rule": rule}).get_json()
    assert validated["valid"] is True


def test_a_deeply_nested_formula_says_it_is_nested(client):
    rule = "=" + "IF(A2>0," * 70 + "1" + ",0)" * 70
    error = assert_error(client.post("/v1/cf/preview", json={"rule": rule, "table": TABLE}), 422)
    assert "64 levels" in error["message"]


@pytest.mark.parametrize("char", ["\u0000", "\u0001", "\u000b", "\ufffe"])
def test_characters_xml_cannot_hold_are_refused_at_validate_with_their_position(client, char):
    rule = f"TextContains(a{char}b)"
    body = client.post("/v1/cf/validate", json={"rule": rule}).get_json()
    assert body["valid"] is False and body["error"]["position"] == len("TextContains(a")
    assert f"U+{ord(char):04X}" in body["error"]["message"]
    assert_error(client.post("/v1/cf/preview", json={"rule": rule, "table": TABLE}), 422, "rule_syntax")
    error = assert_error(apply(client, [rule_at(rule)]), 422, "rule_syntax")
    assert error["field"] == "rules[0]" and not error["code"].startswith("workbook_")


def test_a_carriage_return_is_written_so_that_it_reads_back(client):
    response = apply(client, [rule_at("TextContains(\"cr\rhere\")")])
    assert response.status_code == 200, response.get_json()
    rule = ElementTree.fromstring(sheet_of(response.data)).find(f"{MAIN}conditionalFormatting/{MAIN}cfRule")
    assert rule.get("text") == "cr\rhere"
    assert '"cr\rhere"' in rule.find(f"{MAIN}formula").text


def test_macro_content_under_an_xlsx_name_is_refused(client):
    macro = minimal_xlsx(sheet_xml(""), macro=True)
    error = assert_error(apply(client, [rule_at("LessThan(5)")], macro, name="m.xlsx"), 422, "workbook_kind_mismatch")
    assert ".xlsm" in error["hint"]
    assert apply(client, [rule_at("LessThan(5)")], macro, name="m.xlsm").status_code == 200


def test_a_large_form_field_is_named_as_such(client):
    rules = json.dumps([rule_at("TextEquals(" + "y" * 700_000 + ")")])
    error = assert_error(client.post("/v1/cf/apply", data={"workbook": (io.BytesIO(BOOK), "b.xlsx"), "rules": rules},
                                     content_type="multipart/form-data"), 413, "form_field_too_large")
    assert "file part" in error["hint"]


def test_invalid_utf8_in_a_rules_file_part_is_a_400(client):
    data = {"workbook": (io.BytesIO(BOOK), "b.xlsx"),
            "rules": (io.BytesIO(b'[{"rule": "TextEquals(\xff)", "sheet": "Sheet1", "range": "A1:A5"}]'), "r.json")}
    error = assert_error(client.post("/v1/cf/apply", data=data, content_type="multipart/form-data"), 400, "invalid_json")
    assert "UTF-8" in error["message"]


# ---------------------------------------------------------------- batch


class ByRequest:
    """A stand-in CF generator answering each request with the codes listed for it."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers

    def generate(self, request, table=None, k=5, steps=None, seed=None):
        return [Candidate(code, -float(i)) for i, code in enumerate(self.answers[request])]


def test_a_batch_reports_a_bad_item_and_applies_the_rest():
    from cf_service.batch import BatchItem, run_batch

    book = minimal_xlsx(sheet_xml("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 6))),
                        sheet_name="Data")
    generator = ByRequest({"nul": ["TextContains(a\u0000b)"], "long": ["TextEquals(" + "z" * 300 + ")", "LessThan(3)"],
                           "fine": ["GreaterThan(3)"]})
    items = [BatchItem("Data", "A1:A5", "nul"), BatchItem("data", "A1:A5", "long"), BatchItem("DATA", "A1:A5", "fine")]
    output, report = run_batch(book, items, generator, progress=False)
    statuses = [r["status"] for r in report["results"]]
    assert statuses == ["no_valid_rule", "applied", "applied"], report
    assert report["results"][1]["chosen"]["rule"] == "LessThan(3)"     # the 300-character text cannot be stored
    assert sheet_of(output).count(b"<cfRule") == 2


def test_the_batch_cli_never_writes_through_a_link_to_its_input(tmp_path, monkeypatch, capsys):
    import codefusion.generate
    from cf_service import batch

    monkeypatch.setattr(codefusion.generate, "load_generator", lambda task, checkpoint=None: ByRequest({"x": ["LessThan(3)"]}))
    source = tmp_path / "book.xlsx"
    source.write_bytes(minimal_xlsx(sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>')))
    requests = tmp_path / "req.json"
    requests.write_text(json.dumps([{"sheet": "Sheet1", "range": "A1:A2", "request": "x"}]))
    before = source.read_bytes()
    os.link(source, tmp_path / "hard.xlsx")
    (tmp_path / "soft.xlsx").symlink_to(source)
    for alias in ("hard.xlsx", "soft.xlsx"):
        with pytest.raises(SystemExit):
            batch.main([str(source), str(requests), "-o", str(tmp_path / alias), "--no-progress"])
        assert source.read_bytes() == before
    # an output that is a link to some other file is replaced, and that file is left alone
    other = tmp_path / "other.xlsx"
    other.write_bytes(b"keep me")
    os.link(other, tmp_path / "out.xlsx")
    assert batch.main([str(source), str(requests), "-o", str(tmp_path / "out.xlsx"), "--no-progress"]) == 0
    assert other.read_bytes() == b"keep me" and b"<cfRule" in sheet_of((tmp_path / "out.xlsx").read_bytes())


# ---------------------------------------------------------------- who may call


def test_a_foreign_host_name_is_refused(client):
    error = assert_error(client.post("/v1/cf/validate", json={"rule": "LessThan(5)"},
                                     headers={"Host": "rebind.attacker.example"}), 403, "host_not_allowed")
    assert "CF_ALLOWED_HOSTS" in error["hint"]
    assert_error(client.get("/healthz", headers={"Host": "rebind.attacker.example:8000"}), 403, "host_not_allowed")
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host


def test_cross_origin_writes_are_refused_and_same_origin_ones_pass(client):
    error = assert_error(apply(client, [rule_at("LessThan(5)")], headers={"Origin": "https://attacker.example"}),
                         403, "origin_not_allowed")
    assert "CF_ALLOWED_ORIGINS" in error["hint"]
    assert_error(client.post("/v1/cf/validate", json={"rule": "x"}, headers={"Origin": "null"}), 403)
    assert_error(client.get("/v1/cf/stream?request=x", headers={"Sec-Fetch-Site": "cross-site"}), 403)
    assert apply(client, [rule_at("LessThan(5)")], headers={"Origin": "http://localhost"}).status_code == 200
    assert apply(client, [rule_at("LessThan(5)")]).status_code == 200          # curl, scripts: no Origin


def test_configured_hosts_and_origins_are_allowed():
    from cf_service.access import AccessPolicy

    policy = AccessPolicy.from_env({"CF_ALLOWED_HOSTS": "cf.example.internal",
                                    "CF_ALLOWED_ORIGINS": "https://addin.example.com"})
    assert policy.host_allowed("cf.example.internal:443") and not policy.host_allowed("example.com")
    assert policy.origin_allowed("https://addin.example.com", "127.0.0.1:8000")
    assert not policy.origin_allowed("https://other.example.com", "127.0.0.1:8000")
    with pytest.raises(ValueError):
        AccessPolicy.from_env({"CF_ALLOWED_ORIGINS": "addin.example.com/path"})


def test_the_pane_may_be_framed_by_office_only(client):
    response = client.get("/taskpane/")
    policy = response.headers["Content-Security-Policy"]
    ancestors = policy.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert "'self'" in ancestors and "https://*.officeapps.live.com" in ancestors
    assert "*" not in ancestors and all(a == "'self'" or a.startswith("https://") for a in ancestors)


# ---------------------------------------------------------------- against a real gunicorn


@pytest.fixture(scope="module")
def server():
    env = {"CF_FAKE_SECONDS_PER_STEP": "0", "CF_LOG_LEVEL": "WARNING", "CF_HEADER_TIMEOUT_S": "2",
           "CF_MAX_UPLOAD_MB": "1"}
    with LiveServer(app="tests.reliability.slow_app:app", workers=1, threads=2, env=env, ready_timeout_s=60) as live:
        yield live


def test_slow_clients_do_not_hold_the_threads(server):
    socks = [socket.create_connection((HOST, server.port), timeout=30) for _ in range(3)]
    stop = threading.Event()

    def trickle():
        while not stop.wait(0.5):
            for sock in socks:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass

    for sock in socks:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        # 3 trickling clients and 2 threads: without read deadlines this would wait for as long as they trickle
        status, _ = server.request("GET", "/healthz", timeout=20)
        assert status == 200
        closed = 0
        for sock in socks:
            sock.settimeout(10)
            try:
                closed += sock.recv(1) == b""
            except (ConnectionResetError, TimeoutError):
                closed += 1
        assert closed == len(socks), "the slow clients are disconnected"
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_a_malformed_chunked_body_is_a_400(server):
    head = (b"POST /v1/cf/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    status, code = status_of(raw_request(server.port, head + b"ZZZ\r\n{}\r\n0\r\n\r\n"))
    assert 400 <= status < 500 and status != 413, (status, code)


def test_a_chunked_body_over_the_limit_is_a_413(server):
    body = json.dumps({"rule": "LessThan(5)", "table": [["a"]] + [["x" * 1000]] * 1500}).encode()   # 1.5 MB > 1 MB
    head = (b"POST /v1/cf/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    chunks = b"".join(f"{len(body[i:i + 65536]):x}\r\n".encode() + body[i:i + 65536] + b"\r\n"
                      for i in range(0, len(body), 65536))
    status, code = status_of(raw_request(server.port, head + chunks + b"0\r\n\r\n"))
    assert (status, code) == (413, "payload_too_large")
