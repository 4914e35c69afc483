"""/v1/bash/generate and /v1/python/generate list only candidates that parse, once each, with a confidence."""
from __future__ import annotations

from cf_service.app import create_app
from cf_service.generators import ModelRegistry
from cf_service.settings import Settings
from codefusion.tasks.base import Candidate
from codefusion.tasks.code_candidates import CodeCandidate


class CannedGenerator:
    """Returns fixed candidates, including ones a real ranker would have dropped, to test the endpoint's guard."""

    def __init__(self, candidates):
        self.candidates = candidates
        self.calls = []

    def generate(self, request, table=None, k=5, steps=None, seed=None, **_):
        self.calls.append((request, k))
        return self.candidates[:k]


def _client(task, candidates):
    generator = CannedGenerator(candidates)
    registry = ModelRegistry.from_generators({task: generator})
    app = create_app(Settings(tasks=(task,), preload_models=False), registry=registry)
    return app.test_client(), generator


def test_bash_response_keeps_parsing_candidates_once_with_confidence_and_origin():
    client, generator = _client("bash", [CodeCandidate("find /var -name '*.log'", 0.9, confidence=0.61, origin="both"),
                                         CodeCandidate("echo 'unterminated", 0.5, confidence=0.2),
                                         CodeCandidate("find /var -name '*.log' ", 0.4, confidence=0.1),
                                         CodeCandidate("ls -la /var", 0.3, confidence=0.05, origin="neighbour")])
    response = client.post("/v1/bash/generate", json={"request": "find .log files in /var", "k": 5})
    assert response.status_code == 200
    shown = response.get_json()["candidates"]
    assert [c["code"] for c in shown] == ["find /var -name '*.log'", "ls -la /var"]
    assert shown[0]["confidence"] == 0.61 and shown[0]["origin"] == "both"
    assert generator.calls == [("find .log files in /var", 5)]


def test_python_response_drops_code_that_ast_rejects():
    client, _ = _client("python", [Candidate("sorted(x, key=lambda t: t[1]", -0.1),
                                   Candidate("sorted(x, key=lambda t: t[1])", -0.2)])
    shown = client.post("/v1/python/generate", json={"request": "sort x by the second element"}).get_json()["candidates"]
    assert [c["code"] for c in shown] == ["sorted(x, key=lambda t: t[1])"]
    assert "confidence" not in shown[0]           # a generator that gives none is not invented one
