"""The service with the shipped checkpoints (checkpoints/{cf,bash,python}); each test skips,
saying so, while its checkpoint does not exist. Nothing is trained here."""
from __future__ import annotations

import json

import pytest

from cf_service.app import create_app
from cf_service.settings import Settings
from cf_service.generators import ModelRegistry
from cf_rules.parser import parse

from .support import CHECKPOINTS, SAMPLE_TABLE, checkpoint_or_skip
from .test_api import parse_sse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_app():
    tasks = tuple(t for t in ("cf", "bash", "python") if (CHECKPOINTS / t).is_dir() and any((CHECKPOINTS / t).iterdir()))
    if not tasks:
        pytest.skip(f"no shipped checkpoints under {CHECKPOINTS} yet")
    registry = ModelRegistry(tasks, checkpoint_root=CHECKPOINTS)
    app = create_app(Settings(tasks=tasks, preload_models=True, request_timeout_s=300), registry=registry)
    status = registry.status()
    assert status["status"] == "ready", status
    return app


def test_healthz_reports_the_loaded_checkpoints(model_app):
    body = model_app.test_client().get("/healthz").get_json()
    assert body["status"] == "ready"
    for task, info in body["models"].items():
        assert info["status"] == "loaded" and str(CHECKPOINTS / task) in info.get("checkpoint", "")
    if "cf" in body["models"]:
        assert body["models"]["cf"]["restart_t"] == 1000               # checkpoints/cf/config.json


def test_cf_generate_returns_valid_previewed_rules(model_app):
    checkpoint_or_skip("cf")
    client = model_app.test_client()
    body = {"request": "highlight sales under 500 in red", "table": SAMPLE_TABLE, "k": 3, "seed": 0}
    first = client.post("/v1/cf/generate", json=body)
    assert first.status_code == 200, first.get_data(as_text=True)
    result = first.get_json()
    assert result["candidates"], result["rejected"]
    for candidate in result["candidates"]:
        parse(candidate["rule"])
        assert candidate["valid"] and candidate["preview"]["count"] == len(candidate["preview"]["cells"])
        # Office.js formats what the candidate paints: the Sales cells here, inside the table's data range
        assert candidate["office"]["address"] == candidate["paint"]["range"] == "B2:B5"
    # in the model's ranking order (not by score alone: column grounding and tiers come first)
    ranked = model_app.extensions["cf_models"].get("cf").generate(body["request"], table=SAMPLE_TABLE, k=3, seed=0)
    assert [c["rule"] for c in result["candidates"]] == [c.code for c in ranked][:len(result["candidates"])]
    # a seed makes the answer repeatable
    assert client.post("/v1/cf/generate", json=body).get_json()["candidates"] == result["candidates"]


def test_cf_stream_sends_the_answer_then_every_display_step_then_the_result(model_app):
    checkpoint_or_skip("cf")
    response = model_app.test_client().get("/v1/cf/stream", query_string={
        "request": "top 3 sales", "k": 2, "seed": 1, "display_steps": 3, "table": json.dumps(SAMPLE_TABLE)})
    assert response.status_code == 200
    events = parse_sse(response.get_data(as_text=True))
    kinds = [kind for kind, _ in events]
    # x_T, then each of the 3 steps, then the answer
    assert kinds[:2] == ["start", "answer"] and kinds[-1] == "result" and kinds.count("step") == 5, kinds
    steps = [data for kind, data in events if kind == "step"]
    assert [s["step"] for s in steps] == list(range(len(steps)))
    assert steps[-1]["final"] and steps[-1]["codes"] == [c["rule"] for c in events[-1][1]["candidates"]]


def test_cf_restarts_turned_off_by_the_service_setting():
    checkpoint_or_skip("cf")
    app = create_app(Settings(checkpoints=CHECKPOINTS, tasks=("cf",), preload_models=True, restarts=0))
    assert app.test_client().get("/healthz").get_json()["models"]["cf"]["restart_t"] == 0
    response = app.test_client().get("/v1/cf/stream", query_string={"request": "top 3 sales", "k": 2, "seed": 1,
                                                                      "display_steps": 2, "table": json.dumps(SAMPLE_TABLE)})
    steps = [data for kind, data in parse_sse(response.get_data(as_text=True)) if kind == "step"]
    assert len(steps) == 4 and not any(s.get("restart") for s in steps)


def test_cf_restarts_per_draw_set_by_the_service_setting():
    checkpoint_or_skip("cf")
    app = create_app(Settings(checkpoints=CHECKPOINTS, tasks=("cf",), preload_models=True, restarts=2))
    generator = app.extensions["cf_models"].get("cf")
    assert (generator.restart_t, generator.restarts) == (1000, 2)
    body = {"request": "highlight sales under 500 in red", "table": SAMPLE_TABLE, "k": 3, "seed": 0}
    assert app.test_client().post("/v1/cf/generate", json=body).get_json()["candidates"]


@pytest.mark.parametrize("task", ["bash", "python"])
def test_code_generation_with_the_shipped_model(model_app, task):
    checkpoint_or_skip(task)
    response = model_app.test_client().post(f"/v1/{task}/generate", json={"request": "list the largest files",
                                                                           "k": 2, "seed": 0})
    assert response.status_code == 200, response.get_data(as_text=True)
    candidates = response.get_json()["candidates"]
    assert 1 <= len(candidates) <= 2 and all(c["code"].strip() for c in candidates)


def test_cf_stream_result_is_the_generate_answer_from_one_pass(model_app, monkeypatch):
    # the stream's last frame carries the ranked candidates of its own draws: the result equals
    # POST /generate with the same seed, and the model samples once per stream
    checkpoint_or_skip("cf")
    client = model_app.test_client()
    body = {"request": "top 3 sales", "k": 3, "seed": 4, "table": SAMPLE_TABLE}
    expected = client.post("/v1/cf/generate", json=body).get_json()
    model = model_app.extensions["cf_models"].get("cf").model
    calls = []
    real = model.sample
    monkeypatch.setattr(model, "sample", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    response = client.get("/v1/cf/stream", query_string={**body, "table": json.dumps(SAMPLE_TABLE)})
    result = [data for kind, data in parse_sse(response.get_data(as_text=True)) if kind == "result"][0]
    assert result["candidates"] == expected["candidates"]
    assert len(calls) == 1
