"""GET /v1/{task}/stream: the answer first, then the display trajectory ending on it; the same answer as
POST /generate without a seed; and the model stops working when the client goes away."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse

import pytest

from cf_service.api import stream as stream_api
from cf_service.app import create_app
from cf_service.generators import ModelRegistry
from cf_service.settings import Settings

from .support import CHECKPOINTS, SAMPLE_TABLE, Candidate, ScriptedGenerator, ThreadedServer, checkpoint_or_skip, \
    make_app
from .test_api import parse_sse


class CountingGenerator(ScriptedGenerator):
    """A generator with an answer phase and a display phase that each work step by step, count the steps
    they computed and stop when asked to, as the real Generator does (codefusion/generate.py)."""

    def __init__(self, codes, *, answer_steps=1, display_steps=200, step_s=0.02):
        super().__init__(codes)
        self.answer_steps, self.display_total, self.step_s = answer_steps, display_steps, step_s
        self.answer_done = self.display_done = 0
        self.stopped = threading.Event()

    def generate(self, request, table=None, k=5, steps=None, seed=None, should_stop=None):
        for _ in range(self.answer_steps):
            if should_stop is not None and should_stop():
                self.stopped.set()
                raise RuntimeError("stopped")
            time.sleep(self.step_s)
            self.answer_done += 1
        return [Candidate(code, -0.1 * (i + 1)) for i, code in enumerate(self.codes[:k])]

    def display(self, request, answer, table=None, k=5, seed=None, display_steps=24, should_stop=None):
        try:
            for step in range(self.display_total):
                if should_stop is not None and should_stop():
                    return
                time.sleep(self.step_s)
                self.display_done += 1
                yield {"step": step, "t": self.display_total - step, "codes": [c[:step] for c in answer]}
            yield {"step": self.display_total, "t": 0, "codes": list(answer), "final": True}
        finally:   # asked to stop, or closed by its consumer
            if self.display_done < self.display_total:
                self.stopped.set()


def open_stream(server, query: dict) -> socket.socket:
    """A raw connection reading the stream, so the test can drop it the way a closed tab does."""
    host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(f"GET /v1/cf/stream?{urllib.parse.urlencode(query)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = sock.recv(256)
        if not chunk:
            break
        seen += chunk
    return seen


def wait_for(condition, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_the_answer_comes_first_then_steps_ending_on_it_then_the_result():
    generator = CountingGenerator(["LessThan(500)", "top(2)"], display_steps=5, step_s=0.0)
    client = make_app({"cf": generator}).test_client()
    text = client.get("/v1/cf/stream", query_string={"request": "under 500", "k": 2,
                                                     "table": json.dumps(SAMPLE_TABLE)}).get_data(as_text=True)
    events = parse_sse(text)
    assert [kind for kind, _ in events] == ["start", "answer"] + ["step"] * 6 + ["result"]
    answer, result = events[1][1], events[-1][1]
    assert answer == result and [c["rule"] for c in answer["candidates"]] == ["LessThan(500)", "top(2)"]
    steps = [data for kind, data in events if kind == "step"]
    assert [s["step"] for s in steps] == list(range(6))
    assert steps[-1] == {"step": 5, "t": 0, "codes": ["LessThan(500)", "top(2)"], "final": True}


def test_a_stream_stops_displaying_when_its_client_leaves():
    generator = CountingGenerator(["LessThan(500)"], display_steps=400, step_s=0.02)
    with ThreadedServer(make_app({"cf": generator})) as server:
        sock = open_stream(server, {"request": "under 500", "k": 1})
        assert b"event: step" in read_until(sock, b"event: step")
        sock.close()                   # the pane closes its EventSource
        assert wait_for(generator.stopped.is_set), "the display kept computing after the client left"
        done = generator.display_done
        time.sleep(0.2)
        assert generator.display_done == done < generator.display_total


def test_a_stream_stops_sampling_when_its_client_leaves_before_the_answer(monkeypatch):
    monkeypatch.setattr(stream_api, "HEARTBEAT_S", 0.05)   # the comment lines that reveal a closed connection
    generator = CountingGenerator(["LessThan(500)"], answer_steps=400, step_s=0.02)
    with ThreadedServer(make_app({"cf": generator})) as server:
        sock = open_stream(server, {"request": "under 500", "k": 1, "steps": 400})
        assert b"event: start" in read_until(sock, b"event: start")
        sock.close()
        assert wait_for(generator.stopped.is_set), "sampling kept going after the client left"
        assert generator.answer_done < generator.answer_steps and generator.display_done == 0


# ---------------------------------------------------------------- the shipped model

@pytest.fixture(scope="module")
def cf_app():
    checkpoint_or_skip("cf")
    registry = ModelRegistry(("cf",), checkpoint_root=CHECKPOINTS)
    return create_app(Settings(tasks=("cf",), preload_models=True, request_timeout_s=300), registry=registry)


TABLE = [["Region", "Rep", "Units", "Sales", "Status"], ["North", "Ava", 12, 420, "Open"],
         ["South", "Ben", 30, 980, "Closed"], ["East", "Chloe", 7, 310, "Open"], ["West", "Dan", 41, 1250, "Open"]]


@pytest.mark.slow
def test_the_model_stream_shows_the_answer_coming_out_of_noise(cf_app):
    client = cf_app.test_client()
    body = {"request": "highlight sales under 500 in red", "k": 3, "table": TABLE}
    expected = client.post("/v1/cf/generate", json=body).get_json()
    text = client.get("/v1/cf/stream", query_string={**body, "table": json.dumps(TABLE)}).get_data(as_text=True)
    events = parse_sse(text)
    answer = [data for kind, data in events if kind == "answer"][0]
    result = events[-1][1]
    assert events[-1][0] == "result" and answer == result
    # no seed on either call: the same candidates
    assert result["candidates"] == expected["candidates"]
    steps = [data for kind, data in events if kind == "step"]
    assert [s["step"] for s in steps] == list(range(len(steps)))
    assert [s["t"] for s in steps] == sorted((s["t"] for s in steps), reverse=True)
    rules = [c["rule"] for c in result["candidates"]]
    assert steps[-1]["final"] and steps[-1]["codes"] == rules
    assert not any(s.get("final") for s in steps[:-1])
    distinct = {json.dumps(s["codes"]) for s in steps}
    assert len(distinct) >= 6, distinct
    assert steps[0]["codes"] != rules and steps[0]["noise"]  # the first frame is the noise, not the answer
    assert not any(s.get("noise") for s in steps[1:])
    assert len(steps) == 26                                 # x_T, 24 steps, and the answer


@pytest.mark.slow
def test_the_model_stream_repeats_itself_without_a_seed(cf_app):
    client = cf_app.test_client()
    query = {"request": "top 3 sales", "k": 3, "table": json.dumps(TABLE), "display_steps": 16}
    first = parse_sse(client.get("/v1/cf/stream", query_string=query).get_data(as_text=True))
    second = parse_sse(client.get("/v1/cf/stream", query_string=query).get_data(as_text=True))
    assert first == second
    assert sum(kind == "step" for kind, _ in first) >= 16
