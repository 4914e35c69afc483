"""The HTTP API with the Flask test client: real app, real rule language, scripted generator."""
from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
import threading

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from cf_service.settings import Settings
from cf_service.generators import ModelRegistry
from cf_rules.table import table_from_json

from .support import REPO, SAMPLE_TABLE, ScriptedGenerator, make_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        if block.startswith(":"):      # an SSE comment (the stream's heartbeat)
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def workbook_bytes(rows=None, sheet="Sales") -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows or SAMPLE_TABLE:
        ws.append(row)
    book.create_sheet("Notes")["A1"] = "keep me"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- package and settings

def test_importing_the_rule_language_builds_no_app():
    code = ("import sys, cf_rules.parser, cf_service; "
            "assert 'flask' not in sys.modules, 'flask imported'; "
            "assert cf_service._app is None; "
            "assert 'codefusion.generate' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_package_app_is_the_flask_app_even_after_the_submodule_is_imported():
    code = ("import cf_service.app, flask; from cf_service.app import Settings; import cf_service; "
            "first, second = cf_service.app, cf_service.app; "
            "assert isinstance(first, flask.Flask) and first is second; "
            "from cf_service import app, create_app; assert app is first and callable(create_app)")
    env = {**os.environ, "CF_PRELOAD_MODELS": "0", "CF_LOG_LEVEL": "ERROR"}
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60, env=env)


def test_settings_read_from_environment():
    s = Settings.from_env({"CF_MAX_K": "7", "CF_MAX_TABLE_CELLS": "100", "CF_MAX_UPLOAD_MB": "2.5",
                           "CF_REQUEST_TIMEOUT_S": "3", "CF_PRELOAD_MODELS": "no", "CF_TASKS": "cf,bash",
                           "CF_SERVICE_CHECKPOINTS": "/tmp/ck", "CF_LOG_LEVEL": "debug", "CF_RESTARTS": "0"})
    assert (s.max_k, s.max_table_cells, s.max_upload_mb, s.request_timeout_s) == (7, 100, 2.5, 3.0)
    assert s.preload_models is False and s.tasks == ("cf", "bash") and str(s.checkpoints) == "/tmp/ck"
    assert s.log_level == "DEBUG" and s.restarts == 0
    assert Settings.from_env({}).restarts is None                     # the checkpoint's own setting


@pytest.mark.parametrize("env, name", [({"CF_MAX_K": "ten"}, "CF_MAX_K"), ({"CF_MAX_K": "0"}, "CF_MAX_K"),
                                       ({"CF_PRELOAD_MODELS": "maybe"}, "CF_PRELOAD_MODELS"),
                                       ({"CF_TASKS": "cf,ruby"}, "CF_TASKS"),
                                       ({"CF_RESTARTS": "twice"}, "CF_RESTARTS"),
                                       ({"CF_RESTARTS": "9"}, "CF_RESTARTS"),
                                       ({"CF_MAX_UPLOAD_MB": "-1"}, "CF_MAX_UPLOAD_MB")])
def test_bad_settings_name_the_variable(env, name):
    with pytest.raises(ValueError, match=name):
        Settings.from_env(env)


# ---------------------------------------------------------------- health and readiness

def test_healthz_ready_lists_models(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and set(body["models"]) == {"cf", "bash", "python"}


def test_healthz_is_503_while_loading_then_200():
    release = threading.Event()

    def slow_loader(task, checkpoint):
        release.wait(10)
        return ScriptedGenerator(["LessThan(500)"])

    registry = ModelRegistry(("cf",), loader=slow_loader)
    app = make_app_with_registry(registry)
    client = app.test_client()
    response = client.get("/healthz")          # first request starts the background load
    assert response.status_code == 503 and response.get_json()["status"] == "loading"
    assert response.headers["Retry-After"]
    error = error_of(client.post("/v1/cf/generate", json={"request": "x"}), 503)
    assert error["code"] == "model_loading"
    release.set()
    registry._thread.join(10)
    assert client.get("/healthz").status_code == 200


def test_failed_model_load_is_reported_not_raised():
    def broken_loader(task, checkpoint):
        raise FileNotFoundError(f"no checkpoint at {checkpoint}")

    registry = ModelRegistry(("cf",), checkpoint_root="/nowhere", loader=broken_loader)
    app = make_app_with_registry(registry, preload_models=True)
    client = app.test_client()
    body = client.get("/healthz").get_json()
    assert body["status"] == "unavailable" and "no checkpoint at /nowhere/cf" in body["models"]["cf"]["error"]
    assert error_of(client.post("/v1/cf/generate", json={"request": "x"}), 503)["code"] == "model_unavailable"
    # the model-free endpoints still work
    assert client.post("/v1/cf/validate", json={"rule": "LessThan(5)"}).get_json()["valid"] is True


def make_app_with_registry(registry, **settings):
    from cf_service.app import create_app
    settings.setdefault("tasks", registry.tasks)
    settings.setdefault("preload_models", False)
    return create_app(Settings(**settings), registry=registry)


# ---------------------------------------------------------------- /v1/cf/generate

def test_generate_ranks_checks_previews_and_merges(client, app):
    response = client.post("/v1/cf/generate", json={"request": "highlight sales under 500 in red",
                                                     "table": SAMPLE_TABLE, "k": 6, "seed": 3})
    assert response.status_code == 200
    body = response.get_json()
    rules = [c["rule"] for c in body["candidates"]]
    # Foo( does not parse; lessthan(500) is LessThan(500) again; LessThanEqual(499) formats the same cells
    assert rules == ["LessThan(500)", "top(2)", "DataBar()"]
    best = body["candidates"][0]
    assert best["equivalent"] == ["LessThanEqual(499)"]
    assert best["preview"] == {"cells": ["B2", "B4"], "visual": {}, "count": 2}
    assert best["excel_type"] == "cellIs" and best["valid"] is True
    assert best["office"]["type"] == "cellValue" and best["office"]["address"] == "A2:B5"
    assert best["office"]["cellValue"]["rule"] == {"formula1": "500", "operator": "LessThan"}
    assert "500" in best["explanation"]
    assert [c["score"] for c in body["candidates"]] == sorted((c["score"] for c in body["candidates"]), reverse=True)
    assert body["rejected"][0]["code"] == "Foo(" and body["rejected"][0]["error"]["code"] == "rule_syntax"
    assert body["style"]["fill"] == "#FFC7CE" and body["range"] == "A2:B5"
    bars = body["candidates"][2]["preview"]
    assert bars["count"] == 4 and all(0.0 <= v["bar"] <= 1.0 for v in bars["visual"].values())
    call = app.extensions["cf_models"].get("cf").calls[-1]
    # the model gets the table converted once by the pipeline (header at A1), not the JSON rows
    assert call == {"request": "highlight sales under 500 in red", "table": table_from_json(SAMPLE_TABLE), "k": 6,
                    "steps": None, "seed": 3}


def test_generate_gives_the_model_the_table_at_a1_whatever_the_address(client, app):
    client.post("/v1/cf/generate", json={"request": "under 500", "table": SAMPLE_TABLE, "address": "Sheet1!C5:D9"})
    table = app.extensions["cf_models"].get("cf").calls[-1]["table"]
    assert table == table_from_json(SAMPLE_TABLE) and table.origin == (1, 1)


def test_generate_style_follows_the_request(client):
    body = client.post("/v1/cf/generate", json={"request": "top sales in bold green text",
                                                "table": SAMPLE_TABLE}).get_json()
    assert body["style"]["bold"] is True and body["style"]["font_color"] == "#006100"
    font = body["candidates"][0]["office"]["cellValue"]["format"]["font"]
    assert font == {"color": "#006100", "bold": True}


def test_generate_without_table_has_no_preview(client):
    body = client.post("/v1/cf/generate", json={"request": "under 500", "k": 1}).get_json()
    assert body["candidates"][0]["preview"] is None
    assert body["candidates"][0]["office"]["address"] == "A2:A1048576"


def test_generate_at_an_address_shifts_previews(client):
    body = client.post("/v1/cf/generate", json={"request": "under 500", "k": 1, "table": SAMPLE_TABLE,
                                                "address": "Sheet1!C5:D9"}).get_json()
    assert body["candidates"][0]["preview"]["cells"] == ["D6", "D8"]
    assert body["range"] == "C6:D9"


def test_generate_default_k_is_five(client, app):
    client.post("/v1/cf/generate", json={"request": "under 500"})
    assert app.extensions["cf_models"].get("cf").calls[-1]["k"] == 5


@pytest.mark.parametrize("body, field", [
    ({}, "request"), ({"request": 5}, "request"), ({"request": "   "}, "request"),
    ({"request": "x" * 2001}, "request"), ({"request": "x", "k": 0}, "k"), ({"request": "x", "k": 11}, "k"),
    ({"request": "x", "k": 2.5}, "k"), ({"request": "x", "k": True}, "k"), ({"request": "x", "seed": -1}, "seed"),
    ({"request": "x", "steps": "many"}, "steps"), ({"request": "x", "table": "A1:B2"}, "table"),
    ({"request": "x", "table": []}, "table"), ({"request": "x", "table": [["a"], "row"]}, "table"),
    ({"request": "x", "table": [["a"], [{"nested": 1}]]}, "table"), ({"request": "x", "address": 7}, "address"),
    ({"request": "x", "style": {"colour": "red"}}, "style"), ({"request": "x", "style": {"fill": "red"}}, "style"),
])
def test_generate_field_errors_are_400_and_name_the_field(client, body, field):
    error = error_of(client.post("/v1/cf/generate", json=body), 400)
    assert error["code"] == "invalid_field" and error["field"] == field


def test_generate_table_errors_are_422(client):
    error = error_of(client.post("/v1/cf/generate", json={"request": "x", "table": [["A"], [1, 2]]}), 422)
    assert error["code"] == "table_error" and "row 1" in error["message"] and error["hint"]
    error = error_of(client.post("/v1/cf/generate", json={"request": "x", "table": SAMPLE_TABLE,
                                                          "address": "not a range"}), 422)
    assert error["code"] == "table_error"


def test_table_over_the_cell_limit_is_413():
    client = make_app(max_table_cells=9).test_client()   # the table has 10
    error = error_of(client.post("/v1/cf/generate", json={"request": "x", "table": SAMPLE_TABLE}), 413)
    assert error["code"] == "table_too_large" and "CF_MAX_TABLE_CELLS" in error["hint"]


def test_k_over_the_configured_limit():
    client = make_app(max_k=3).test_client()
    error = error_of(client.post("/v1/cf/generate", json={"request": "x", "k": 4}), 400)
    assert "1 to 3" in error["message"]


def test_slow_generation_is_504():
    client = make_app({"cf": ScriptedGenerator(["LessThan(1)"], delay_s=1.0)}, request_timeout_s=0.1).test_client()
    error = error_of(client.post("/v1/cf/generate", json={"request": "x"}), 504)
    assert error["code"] == "generation_timeout" and "CF_REQUEST_TIMEOUT_S" in error["hint"]


# ---------------------------------------------------------------- protocol-level errors

def test_malformed_json_is_400(client):
    error = error_of(client.post("/v1/cf/generate", data='{"request": ', content_type="application/json"), 400)
    assert error["code"] == "invalid_json" and "line 1" in error["message"]
    error = error_of(client.post("/v1/cf/generate", data="[1, 2]", content_type="application/json"), 400)
    assert "JSON object" in error["message"]
    error = error_of(client.post("/v1/cf/generate", data=b"\xff\xfe", content_type="application/json"), 400)
    assert error["code"] == "invalid_json"


def test_wrong_content_type_is_415(client):
    error = error_of(client.post("/v1/cf/generate", data="request=x", content_type="text/plain"), 415)
    assert error["code"] == "unsupported_media_type"
    assert error_of(client.post("/v1/cf/validate"), 415)["code"] == "unsupported_media_type"


def test_unknown_route_404_and_wrong_method_405(client):
    assert error_of(client.get("/v1/nothing"), 404)["code"] == "not_found"
    assert error_of(client.post("/v1/ruby/generate", json={"request": "x"}), 404)["code"] == "not_found"
    response = client.get("/v1/cf/generate")
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    assert error_of(client.delete("/healthz"), 405)["code"] == "method_not_allowed"


def test_body_over_upload_limit_is_413():
    client = make_app(max_upload_mb=0.001).test_client()
    error = error_of(client.post("/v1/cf/generate", json={"request": "x" * 5000}), 413)
    assert error["code"] == "payload_too_large"


def test_each_request_is_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="cf_service"):
        client.post("/v1/cf/validate", json={"rule": "LessThan(5)"})
    line = [r.getMessage() for r in caplog.records if "/v1/cf/validate" in r.getMessage()][-1]
    assert line.startswith("POST /v1/cf/validate 200 ") and line.endswith("ms")


# hypothesis: whatever JSON arrives, the answer is never a 500
_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                            max_leaves=12)
_bodies = st.fixed_dictionaries({}, optional={
    "request": _json_values | st.text(max_size=40), "rule": _json_values | st.text(max_size=40),
    "table": _json_values | st.lists(st.lists(_json_values, max_size=3), max_size=4),
    "k": _json_values, "steps": _json_values, "seed": _json_values, "style": _json_values,
    "address": _json_values | st.text(max_size=12), "header": _json_values})


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies | _json_values, path=st.sampled_from(["/v1/cf/generate", "/v1/cf/validate", "/v1/cf/preview",
                                                          "/v1/bash/generate"]))
def test_no_json_body_yields_a_500(client, body, path):
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 400, 413, 422), (body, response.get_data(as_text=True))
    if response.status_code != 200:
        assert set(response.get_json()["error"]) >= {"code", "message"}


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=st.text(max_size=60))
def test_no_rule_text_yields_a_500(client, rule):
    response = client.post("/v1/cf/preview", json={"rule": rule, "table": SAMPLE_TABLE})
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)


# ---------------------------------------------------------------- validate / preview

def test_validate_valid_rule_is_canonical_with_explanation(client):
    body = client.post("/v1/cf/validate", json={"rule": "lessthan( 500 )", "header": ["Sales"]}).get_json()
    assert body["valid"] is True and body["rule"] == "LessThan(500)" and body["excel_type"] == "cellIs"
    assert "500" in body["explanation"]


def test_validate_invalid_rule_is_200_with_position_and_expected(client):
    response = client.post("/v1/cf/validate", json={"rule": "LessThan(500"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False and body["rule"] == "LessThan(500"
    assert body["error"]["code"] == "rule_syntax" and body["error"]["position"] == 12
    assert "')'" in body["error"]["expected"]


def test_validate_header_must_be_names(client):
    assert error_of(client.post("/v1/cf/validate", json={"rule": "top(3)", "header": [1]}), 400)["field"] == "header"


def test_preview_runs_the_rule_with_a_style(client):
    sales = [[row[1]] for row in SAMPLE_TABLE]      # one column: text cells would be "greater" too
    body = client.post("/v1/cf/preview", json={"rule": "GreaterThan(900)", "table": sales,
                                               "style": "bold blue text"}).get_json()
    assert body["preview"]["cells"] == ["A3", "A5"] and body["rule"] == "GreaterThan(900)"
    assert body["style"]["bold"] is True and body["style"]["font_color"] == "#0070C0"
    assert body["office"]["cellValue"]["format"]["font"]["bold"] is True


def test_preview_errors(client):
    assert error_of(client.post("/v1/cf/preview", json={"rule": "top(3)"}), 400)["field"] == "table"
    error = error_of(client.post("/v1/cf/preview", json={"rule": "top(3", "table": SAMPLE_TABLE}), 422)
    assert error["code"] == "rule_syntax" and 0 <= error["position"] <= 5 and error["expected"]


# ---------------------------------------------------------------- /v1/cf/apply

def apply_form(book: bytes, rules, name="book.xlsx") -> dict:
    return {"workbook": (io.BytesIO(book), name), "rules": json.dumps(rules)}


def test_apply_returns_the_workbook_with_native_rules(client):
    book = workbook_bytes()
    original = bytes(book)
    rules = [{"rule": "LessThan(500)", "sheet": "Sales", "range": "B2:B5", "style": "red"},
             {"rule": "DataBar()", "sheet": "Sales", "range": "B2:B5"}]
    response = client.post("/v1/cf/apply", data=apply_form(book, rules), content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == XLSX
    assert 'filename=book-formatted.xlsx' in response.headers["Content-Disposition"]
    assert response.headers["X-CF-Rules-Applied"] == "2"
    assert book == original
    result = openpyxl.load_workbook(io.BytesIO(response.data))
    formats = result["Sales"].conditional_formatting
    types = sorted(rule.type for cf in formats for rule in cf.rules)
    assert types == ["cellIs", "dataBar"]
    assert {str(cf.sqref) for cf in formats} == {"B2:B5"}
    assert result["Notes"]["A1"].value == "keep me"


def test_apply_xlsm_keeps_its_type(client):
    response = client.post("/v1/cf/apply", data=apply_form(workbook_bytes(), [
        {"rule": "top(1)", "sheet": "Sales", "range": "B2:B5"}], name="macro.xlsm"), content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.ms-excel.sheet.macroEnabled.12"


def test_apply_errors(client):
    book = workbook_bytes()
    rule = [{"rule": "LessThan(500)", "sheet": "Sales", "range": "B2:B5"}]
    assert error_of(client.post("/v1/cf/apply", json={"rules": rule}), 415)["code"] == "unsupported_media_type"
    error = error_of(client.post("/v1/cf/apply", data=apply_form(book, rule, name="book.csv"),
                                 content_type="multipart/form-data"), 415)
    assert error["code"] == "unsupported_workbook_type"
    error = error_of(client.post("/v1/cf/apply", data={"rules": json.dumps(rule)},
                                 content_type="multipart/form-data"), 400)
    assert error["field"] == "workbook"
    error = error_of(client.post("/v1/cf/apply", data={"workbook": (io.BytesIO(book), "b.xlsx"), "rules": "[{"},
                                 content_type="multipart/form-data"), 400)
    assert error["code"] == "invalid_json" and error["field"] == "rules"
    error = error_of(client.post("/v1/cf/apply", data=apply_form(book, [{"rule": "LessThan(", "sheet": "Sales",
                                                                         "range": "B2:B5"}]),
                                 content_type="multipart/form-data"), 422)
    assert error["code"] == "rule_syntax" and error["field"] == "rules[0]"
    error = error_of(client.post("/v1/cf/apply", data=apply_form(book, [{"rule": "top(1)", "sheet": "Sales"}]),
                                 content_type="multipart/form-data"), 400)
    assert error["field"] == "rules[0].range"
    error = error_of(client.post("/v1/cf/apply", data=apply_form(book, [{"rule": "top(1)", "sheet": "Nope",
                                                                         "range": "B2:B5"}]),
                                 content_type="multipart/form-data"), 422)
    assert error["code"].startswith("workbook_") and "Nope" in error["message"]
    error = error_of(client.post("/v1/cf/apply", data=apply_form(b"Region,Sales\nNorth,420\n", rule),
                                 content_type="multipart/form-data"), 422)
    assert error["code"] == "workbook_not_ooxml"


# ---------------------------------------------------------------- /v1/cf/batch

def test_batch_applies_the_best_rule_per_request_and_reports(client):
    book = workbook_bytes()
    requests = [{"sheet": "Sales", "range": "A1:B5", "request": "sales under 500 in red"},
                {"sheet": "Missing", "range": "A1:B5", "request": "sales under 500"}]
    response = client.post("/v1/cf/batch", data={"workbook": (io.BytesIO(book), "q1.xlsx"),
                                                 "requests": json.dumps(requests), "k": "4"},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    report = body["report"]
    assert (report["requests"], report["applied"], report["failed"]) == (2, 1, 1)
    first, second = report["results"]
    assert first["status"] == "applied" and first["chosen"]["rule"] == "LessThan(500)"
    assert first["chosen"]["applied_range"] == "Sales!A2:B5" and first["chosen"]["cells_formatted"] == 2
    assert [a["rule"] for a in first["alternatives"]] == ["top(2)"]
    assert second["status"] == "error" and "Missing" in second["error"]["message"]
    assert body["filename"] == "q1-formatted.xlsx" and body["content_type"] == XLSX
    result = openpyxl.load_workbook(io.BytesIO(base64.b64decode(body["workbook_base64"])))
    assert [r.type for cf in result["Sales"].conditional_formatting for r in cf.rules] == ["cellIs"]


def test_batch_errors(client):
    book = workbook_bytes()
    error = error_of(client.post("/v1/cf/batch", data={"workbook": (io.BytesIO(book), "q.xlsx"),
                                                       "requests": json.dumps([{"sheet": "Sales"}])},
                                 content_type="multipart/form-data"), 400)
    assert error["field"] == "requests[0].range"
    error = error_of(client.post("/v1/cf/batch", data={"workbook": (io.BytesIO(book), "q.xlsx"),
                                                       "requests": "[]"}, content_type="multipart/form-data"), 400)
    assert error["field"] == "requests"


# ---------------------------------------------------------------- bash / python

@pytest.mark.parametrize("task", ["bash", "python"])
def test_code_generation_returns_text_candidates(client, task):
    body = client.post(f"/v1/{task}/generate", json={"request": "do the thing", "k": 2}).get_json()
    assert body["task"] == task and len(body["candidates"]) == 2
    assert all(isinstance(c["code"], str) and isinstance(c["score"], float) for c in body["candidates"])


def test_code_task_not_served_is_404():
    client = make_app({"cf": ScriptedGenerator(["top(1)"])}).test_client()
    assert error_of(client.post("/v1/bash/generate", json={"request": "ls"}), 404)["code"] == "unknown_task"


# ---------------------------------------------------------------- streaming

def test_stream_sends_each_step_then_the_ranked_result(client):
    table = json.dumps(SAMPLE_TABLE)
    response = client.get("/v1/cf/stream", query_string={"request": "under 500 in red", "k": 3, "steps": 4,
                                                         "table": table, "seed": 1})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    events = parse_sse(response.get_data(as_text=True))
    kinds = [kind for kind, _ in events]
    assert kinds == ["start", "step", "step", "step", "step", "result"]
    steps = [data for kind, data in events if kind == "step"]
    assert [s["step"] for s in steps] == [0, 1, 2, 3] and all(len(s["codes"]) == 3 for s in steps)
    assert steps[-1]["codes"] == ["LessThan(500)", "LessThanEqual(499)", "Foo("]
    result = events[-1][1]
    assert [c["rule"] for c in result["candidates"]] == ["LessThan(500)"]
    assert result["candidates"][0]["preview"]["cells"] == ["B2", "B4"]


def test_stream_for_code_tasks(client):
    events = parse_sse(client.get("/v1/python/stream?request=reverse&k=1&steps=2").get_data(as_text=True))
    assert [k for k, _ in events] == ["start", "step", "step", "result"]
    assert events[-1][1]["candidates"][0]["code"] == "numbers[::-1]"


def test_stream_errors_before_streaming_are_json(client):
    assert error_of(client.get("/v1/cf/stream?k=2"), 400)["field"] == "request"
    assert error_of(client.get("/v1/cf/stream?request=x&k=99"), 400)["field"] == "k"
    assert error_of(client.get("/v1/cf/stream?request=x&table=[["), 400)["code"] == "invalid_json"
    assert error_of(client.get("/v1/bash/stream?request=x&table=[[\"a\"]]"), 400)["field"] == "table"
    assert error_of(client.get("/v1/cf/stream?request=x&table=[[\"a\"],[1,2]]"), 422)["code"] == "table_error"
    assert error_of(client.post("/v1/cf/stream?request=x"), 405)["code"] == "method_not_allowed"


def test_stream_past_the_time_budget_ends_with_an_error_event():
    client = make_app({"cf": ScriptedGenerator(["top(1)"], steps=20, delay_s=0.05)},
                      request_timeout_s=0.12).test_client()
    events = parse_sse(client.get("/v1/cf/stream?request=x&k=1").get_data(as_text=True))
    assert events[-1][0] == "error" and events[-1][1]["error"]["code"] == "generation_timeout"
    assert 1 <= sum(kind == "step" for kind, _ in events) < 20


# ---------------------------------------------------------------- task pane files

def test_taskpane_and_assets_are_served(client):
    assert client.get("/").headers["Location"].endswith("/taskpane/")
    page = client.get("/taskpane/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for asset in ("taskpane.css", "taskpane.js", "applier.js", "icon-32.png"):
        assert asset in html
        assert client.get(f"/taskpane/{asset}").status_code == 200
    assert "appsforoffice.microsoft.com" not in html   # Office.js only added inside Office
    assert client.get("/taskpane/icon-64.png").mimetype == "image/png"
    assert error_of(client.get("/taskpane/nothing.js"), 404)["code"] == "not_found"
    assert client.get("/taskpane/../../cf_service/app.py").status_code == 404
    assert client.get("/manifest.xml").mimetype == "application/xml"


# ---------------------------------------------------------------- regressions (found by tests/reliability)

def test_deeply_nested_json_is_400_not_500(client):
    deep = "[" * 100_000 + "]" * 100_000
    error = error_of(client.post("/v1/cf/generate", data=deep, content_type="application/json"), 400)
    assert error["code"] == "invalid_json" and "deeply" in error["message"]
    form = {"workbook": (io.BytesIO(workbook_bytes()), "b.xlsx"), "rules": deep}
    assert error_of(client.post("/v1/cf/apply", data=form, content_type="multipart/form-data"), 400)["field"] == "rules"
    assert error_of(client.get("/v1/cf/stream", query_string={"request": "x", "table": deep}), 400)["field"] == "table"


def test_a_lone_surrogate_is_refused_with_a_field_error(client):
    # valid JSON, but not text any tokenizer or parser can read: refused before it reaches them
    response = client.post("/v1/cf/validate", data='{"rule": "\\ud800 top"}', content_type="application/json")
    error = error_of(response, 400)
    assert error["field"] == "rule" and "not valid Unicode" in error["message"]


@pytest.mark.parametrize("address", ["A0:B2", "A0", "A1048576:B1048576", "XFE1"])
def test_addresses_off_the_sheet_are_422(client, address):
    error = error_of(client.post("/v1/cf/generate", json={"request": "x", "table": SAMPLE_TABLE,
                                                          "address": address}), 422)
    assert error["code"] == "table_error"


def test_a_timed_out_generation_does_not_hold_up_the_next_one():
    class SlowThenFast(ScriptedGenerator):
        def generate(self, request, table=None, k=5, steps=None, seed=None):
            self.delay_s = 1.5 if request == "slow" else 0.0
            return super().generate(request, table=table, k=k, steps=steps, seed=seed)

    client = make_app({"cf": SlowThenFast(["top(1)"])}, request_timeout_s=0.3).test_client()
    assert error_of(client.post("/v1/cf/generate", json={"request": "slow"}), 504)["code"] == "generation_timeout"
    assert client.post("/v1/cf/generate", json={"request": "fast"}).status_code == 200


def test_stream_timeout_does_not_wait_for_a_generator_that_computes_everything_first():
    import time

    class AllAtOnce(ScriptedGenerator):
        def stream(self, request, table=None, k=5, steps=None, seed=None):
            time.sleep(2.0)                       # the whole trajectory before the first frame
            yield from super().stream(request, table=table, k=k, steps=steps, seed=seed)

    client = make_app({"cf": AllAtOnce(["top(1)"])}, request_timeout_s=0.3).test_client()
    started = time.monotonic()
    events = parse_sse(client.get("/v1/cf/stream?request=x&k=1").get_data(as_text=True))
    assert time.monotonic() - started < 1.5
    assert [kind for kind, _ in events] == ["start", "error"]
    assert events[-1][1]["error"]["code"] == "generation_timeout"


def test_candidates_say_whether_the_model_wrote_them():
    # the CF ranking's siblings (codefusion/tasks/cf/adapter.py) reach the caller flagged, in the generator's order
    from codefusion.tasks.base import Candidate

    class WithSibling(ScriptedGenerator):
        def generate(self, request, table=None, k=5, steps=None, seed=None):
            return [Candidate("LessThan(500)", -0.1), Candidate("GreaterThan(500)", -1.1, sibling=True)]

    body = make_app({"cf": WithSibling([])}).test_client().post(
        "/v1/cf/generate", json={"request": "sales under 500", "table": SAMPLE_TABLE}).get_json()
    assert [(c["rule"], c["sibling"]) for c in body["candidates"]] == [("LessThan(500)", False),
                                                                      ("GreaterThan(500)", True)]
