"""The OpenAPI document: valid OpenAPI 3.0, complete (every route), and true (real responses
validate against the schemas it declares)."""
from __future__ import annotations

import io
import json
import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from .support import SAMPLE_TABLE
from .test_api import parse_sse, workbook_bytes


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def test_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.0")
    validate(spec)


def _flask_paths(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method.lower()))
    return out


def test_every_route_is_documented_and_every_documented_route_exists(app, spec):
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    routes = _flask_paths(app)
    # /v1/{task}/generate also matches /v1/cf/generate's own route: both are documented
    assert routes - documented == set()
    assert documented - routes == set()


def _resolve(node, spec):
    """The schema with every $ref replaced by what it points to (the documents have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, spec)
        return {key: _resolve(value, spec) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, spec) for item in node]
    return node


def check(spec, path: str, method: str, response, content_type: str = "application/json"):
    """The response's status is documented for the operation and its body fits the schema."""
    operation = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {path} answered an undocumented {status}"
    declared = _resolve(operation["responses"][status], spec)
    if content_type == "application/json":
        schema = declared["content"]["application/json"]["schema"]
        OAS30Validator(schema).validate(response.get_json())
    else:
        assert content_type in declared["content"]


def test_json_responses_fit_their_schemas(client, spec):
    check(spec, "/healthz", "get", client.get("/healthz"))
    ok = client.post("/v1/cf/generate", json={"request": "under 500", "table": SAMPLE_TABLE, "k": 6})
    check(spec, "/v1/cf/generate", "post", ok)
    check(spec, "/v1/cf/generate", "post", client.post("/v1/cf/generate", json={"request": "under 500"}))
    check(spec, "/v1/cf/generate", "post", client.post("/v1/cf/generate", json={"k": 1}))
    check(spec, "/v1/cf/generate", "post", client.post("/v1/cf/generate", data="x", content_type="text/plain"))
    check(spec, "/v1/cf/generate", "post", client.post("/v1/cf/generate", json={"request": "x",
                                                                               "table": [["a"], [1, 2]]}))
    check(spec, "/v1/cf/validate", "post", client.post("/v1/cf/validate", json={"rule": "top(3)"}))
    check(spec, "/v1/cf/validate", "post", client.post("/v1/cf/validate", json={"rule": "top(3"}))
    check(spec, "/v1/cf/preview", "post", client.post("/v1/cf/preview", json={"rule": "DataBar()",
                                                                             "table": SAMPLE_TABLE}))
    check(spec, "/v1/cf/preview", "post", client.post("/v1/cf/preview", json={"rule": "x(", "table": SAMPLE_TABLE}))
    check(spec, "/v1/{task}/generate", "post", client.post("/v1/bash/generate", json={"request": "list files"}))
    batch = client.post("/v1/cf/batch", data={
        "workbook": (io.BytesIO(workbook_bytes()), "b.xlsx"),
        "requests": json.dumps([{"sheet": "Sales", "range": "A1:B5", "request": "under 500"}])},
        content_type="multipart/form-data")
    check(spec, "/v1/cf/batch", "post", batch)
    applied = client.post("/v1/cf/apply", data={
        "workbook": (io.BytesIO(workbook_bytes()), "b.xlsx"),
        "rules": json.dumps([{"rule": "top(1)", "sheet": "Sales", "range": "B2:B5"}])},
        content_type="multipart/form-data")
    check(spec, "/v1/cf/apply", "post", applied, content_type=applied.mimetype)


def test_stream_result_event_fits_the_generate_schema(client, spec):
    events = parse_sse(client.get("/v1/cf/stream", query_string={
        "request": "under 500", "k": 3, "table": json.dumps(SAMPLE_TABLE)}).get_data(as_text=True))
    schema = _resolve(spec["components"]["schemas"]["CfGenerateResponse"], spec)
    OAS30Validator(schema).validate(events[-1][1])
