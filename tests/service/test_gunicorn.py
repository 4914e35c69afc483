"""`gunicorn cf_service:app` for real: gunicorn.conf.py, a free port on 127.0.0.1, HTTP requests.

With shipped checkpoints the service must become ready and generate; without them it must still
start, say why it is not ready (503 on /healthz and the model endpoints) and serve the
model-free endpoints."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .support import CHECKPOINTS, REPO, SAMPLE_TABLE, free_port

pytestmark = pytest.mark.slow


def call(url: str, body: dict | None = None, timeout: float = 60) -> tuple[int, dict | str, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        status, raw, headers = err.code, err.read(), dict(err.headers)
    text = raw.decode("utf-8")
    return status, (json.loads(text) if headers.get("Content-Type", "").startswith("application/json") else text), headers


def has_checkpoints() -> bool:
    return all((CHECKPOINTS / task).is_dir() and any((CHECKPOINTS / task).iterdir()) for task in ("cf", "bash", "python"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "server.log"
    env = {**os.environ, "CF_BIND": f"127.0.0.1:{port}", "CF_WORKERS": "1", "CF_THREADS": "4",
           "CF_SERVICE_CHECKPOINTS": str(CHECKPOINTS), "CF_REQUEST_TIMEOUT_S": "120", "CF_PRELOAD_MODELS": "1"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "cf_service:app"],
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            call(base + "/healthz", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"gunicorn did not answer in 120 s:\n{log_path.read_text()[-3000:]}")
    yield base, process, log_path
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_health_matches_the_checkpoints(server):
    base, _, log_path = server
    status, body, headers = call(base + "/healthz")
    if has_checkpoints():
        assert status == 200 and body["status"] == "ready", log_path.read_text()[-3000:]
        assert set(body["models"]) == {"cf", "bash", "python"}
    else:
        assert status == 503 and body["status"] == "unavailable"
        assert all(m["status"] == "failed" for m in body["models"].values())
        assert headers["Retry-After"]
        status, body, _ = call(base + "/v1/cf/generate", {"request": "sales under 500"})
        assert status == 503 and body["error"]["code"] == "model_unavailable"


def test_model_free_endpoints_and_errors_over_http(server):
    base, _, _ = server
    status, body, _ = call(base + "/v1/cf/validate", {"rule": "lessthan(500)"})
    assert status == 200 and body == {"valid": True, "rule": "LessThan(500)", "explanation": body["explanation"],
                                      "excel_type": "cellIs"}
    status, body, _ = call(base + "/v1/cf/preview", {"rule": "top(1)", "table": SAMPLE_TABLE})
    assert status == 200 and body["preview"]["cells"] == ["B5"]
    status, body, _ = call(base + "/nope")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, spec, _ = call(base + "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.0")
    # a request the app accepts fits in gunicorn's request line once URL-encoded (18 KB here)
    long_request = urllib.parse.quote("销售额" * 666)
    status, body, _ = call(base + f"/v1/cf/stream?request={long_request}&k=1")
    assert status in (200, 503), (status, str(body)[:200])
    status, page, headers = call(base + "/taskpane/")
    assert status == 200 and "Format from words" in page and headers["Content-Type"].startswith("text/html")


def test_generation_over_http_with_the_shipped_model(server):
    if not has_checkpoints():
        pytest.skip("no shipped checkpoints in checkpoints/{cf,bash,python} yet")
    base, _, _ = server
    status, body, _ = call(base + "/v1/cf/generate", {"request": "highlight sales under 500 in red",
                                                      "table": SAMPLE_TABLE, "k": 3, "seed": 0})
    assert status == 200 and body["candidates"]
    assert all(c["valid"] and c["preview"] is not None for c in body["candidates"])
    status, body, _ = call(base + "/v1/bash/generate", {"request": "list files by size", "k": 2, "seed": 0})
    assert status == 200 and body["candidates"]
    status, text, headers = call(base + "/v1/cf/stream?request=top%203%20sales&k=2&seed=0&display_steps=4")
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    # the answer, then x_T, one frame per display step and the answer as the last frame
    assert text.count("event: answer") == 1 and text.count("event: step") == 6
    assert text.count('"final": true') == 1 and "event: result" in text


def test_sigterm_stops_gracefully(server):
    _, process, log_path = server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    assert "Control socket listening" not in log_path.read_text()   # no shared ~/.gunicorn socket
