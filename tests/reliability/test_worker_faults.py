"""Worker faults against a real gunicorn on a free loopback port.

* A worker SIGKILLed in the middle of a request: its client gets a clean connection error
  (promptly, not a hang) and succeeds on retry; the other worker keeps serving; the arbiter
  replaces the dead worker.
* A generation longer than CF_REQUEST_TIMEOUT_S is cut with a 504 JSON `generation_timeout`
  (the SSE stream ends with an `error` event of that code), and the service keeps serving.

Stand-in generators that sleep per sampling step (tests/reliability/slow_app.py) make requests
exactly as slow as needed; the real-model variant runs when checkpoints exist.
"""
from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from benchmarks.live_server import LiveServer, child_pids

from .conftest import CHECKPOINTS, REPO_ROOT, needs_checkpoints

pytestmark = pytest.mark.slow
SECONDS_PER_STEP = 0.2


def slow_server(tmp_path: Path, *, workers: int, timeout_s: float = 30.0) -> LiveServer:
    return LiveServer(app="tests.reliability.slow_app:app", workers=workers, ready_timeout_s=60, env={
        "CF_FAKE_SECONDS_PER_STEP": str(SECONDS_PER_STEP), "CF_REQUEST_TIMEOUT_S": str(timeout_s),
        "CF_FAKE_BUSY_DIR": str(tmp_path), "CF_LOG_LEVEL": "WARNING"})


def busy_worker(folder: Path, workers: list[int], wait_s: float = 10.0) -> int:
    """The pid of the worker that started generating (it leaves a busy-PID file)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        for path in folder.glob("busy-*"):
            pid = int(path.name.split("-")[1])
            if pid in workers:
                return pid
        time.sleep(0.05)
    raise AssertionError("no worker started the slow generation")


def test_killing_a_worker_mid_request_gives_a_clean_error_and_the_other_keeps_serving(tmp_path):
    with slow_server(tmp_path, workers=2) as server:
        workers = server.worker_pids()
        assert len(workers) == 2
        outcome: dict = {}

        def slow_client():
            started = time.monotonic()
            try:
                outcome["status"] = server.request("POST", "/v1/bash/generate",
                                                   {"request": "list big files", "k": 2, "steps": 100},
                                                   timeout=60)[0]
            except (ConnectionError, http.client.HTTPException, OSError) as err:
                outcome["error"] = err
            outcome["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=slow_client)
        thread.start()
        victim = busy_worker(tmp_path, workers)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the client of the killed worker hangs"
        assert "error" in outcome, f"expected a connection error, got {outcome}"
        assert time.monotonic() - killed_at < 10, "the client learned of the failure late"

        # the surviving worker serves at once, while the arbiter replaces the dead one
        survivor = [pid for pid in workers if pid != victim][0]
        for _ in range(5):
            status, body = server.request("POST", "/v1/python/generate", {"request": "reverse a list", "k": 1,
                                                                         "steps": 1}, timeout=10)
            assert status == 200, body
        assert survivor in server.worker_pids()

        # a retry of the failed request succeeds
        status, body = server.request("POST", "/v1/bash/generate", {"request": "list big files", "k": 2, "steps": 2},
                                      timeout=30)
        assert status == 200 and body["candidates"], body

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(child_pids(server.arbiter_pid)) < 2:
            time.sleep(0.2)
        now = server.worker_pids()
        assert len(now) == 2 and victim not in now, now


def test_generation_over_the_time_limit_is_a_504_json_error(tmp_path):
    with slow_server(tmp_path, workers=1, timeout_s=1.0) as server:
        started = time.monotonic()
        status, body = server.request("POST", "/v1/python/generate", {"request": "reverse a list", "steps": 50},
                                      timeout=30)
        elapsed = time.monotonic() - started
        assert status == 504, body
        assert body["error"]["code"] == "generation_timeout" and body["error"]["message"], body
        assert elapsed < 5, f"the 504 came after {elapsed:.1f} s for a 1 s limit"
        status, body = server.request("GET", "/healthz", timeout=10)
        assert status == 200


def test_stream_over_the_time_limit_ends_with_a_timeout_event(tmp_path):
    with slow_server(tmp_path, workers=1, timeout_s=1.0) as server:
        status, text = server.request("GET", "/v1/bash/stream?request=list%20files&steps=50", timeout=30)
        assert status == 200
        assert "event: error" in text and "generation_timeout" in text, text[-500:]
        assert "event: result" not in text


def test_a_timed_out_generation_does_not_block_the_next_request(tmp_path):
    """After a 504 the abandoned generation still runs in the background (Python cannot stop
    it); the next small request for the same model must not pay for it with a 504 of its own."""
    with slow_server(tmp_path, workers=1, timeout_s=1.0) as server:
        status, _ = server.request("POST", "/v1/bash/generate", {"request": "list files", "steps": 50}, timeout=30)
        assert status == 504
        status, body = server.request("POST", "/v1/bash/generate", {"request": "list files", "steps": 1},
                                      timeout=30)
        assert status == 200, body


@needs_checkpoints
def test_real_model_over_the_time_limit_is_a_504(tmp_path):
    with LiveServer(workers=1, ready_timeout_s=240, env={
            "CF_REQUEST_TIMEOUT_S": "0.2", "CF_SERVICE_CHECKPOINTS": str(CHECKPOINTS),
            "CF_LOG_LEVEL": "WARNING"}) as server:
        table = [["Name", "Value"]] + [[f"r{i}", i * 3] for i in range(200)]
        status, body = server.request("POST", "/v1/cf/generate", {"request": "highlight values over 300",
                                                                   "table": table, "k": 10, "steps": 1000},
                                      timeout=120)
        assert status == 504, body
        assert body["error"]["code"] == "generation_timeout"
