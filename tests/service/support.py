"""Helpers of the service tests (fixtures are in conftest.py).

Most API tests run the real app, the real rule language and the real pipeline with a
`ScriptedGenerator` standing in for the diffusion model, so they can say exactly which rules
come back and check ranking, merging, previews and errors. Tests marked `model` load the
shipped checkpoints (checkpoints/{cf,bash,python}) and skip, saying so, when none exists.
"""
from __future__ import annotations

import os
import random
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from cf_service.app import create_app
from cf_service.settings import Settings
from cf_service.generators import ModelRegistry

REPO = Path(__file__).resolve().parents[2]
# the shipped checkpoints; CF_TEST_CHECKPOINTS points the model tests at another folder
CHECKPOINTS = Path(os.environ.get("CF_TEST_CHECKPOINTS") or REPO / "checkpoints")
SAMPLE_TABLE = [["Region", "Sales"], ["North", 420], ["South", 980], ["East", 310], ["West", 1250]]


@dataclass(frozen=True)
class Candidate:
    code: str
    score: float


class ScriptedGenerator:
    """Returns the codes it was given (best first), `k` of them; `stream` reveals them
    character by character out of random noise, the shape of the real denoising stream; with
    `restart_t`, a last frame marked "restart" shows them again, as a model that restarts its draws does."""

    def __init__(self, codes: list[str], *, steps: int = 6, delay_s: float = 0.0, restart_t: int = 0):
        self.codes = list(codes)
        self.steps = steps
        self.delay_s = delay_s
        self.restart_t = restart_t
        self.calls: list[dict] = []

    def generate(self, request, table=None, k=5, steps=None, seed=None):
        import time
        self.calls.append({"request": request, "table": table, "k": k, "steps": steps, "seed": seed})
        if self.delay_s:
            time.sleep(self.delay_s)
        return [Candidate(code, -0.1 * (i + 1)) for i, code in enumerate(self.codes[:k])]

    def stream(self, request, table=None, k=5, steps=None, seed=None):
        import time
        rng = random.Random(seed or 0)
        codes = self.codes[:k]
        total = steps or self.steps
        for step in range(total):
            shown = (step + 1) / total
            frame = []
            for code in codes:
                keep = int(len(code) * shown)
                noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz()0123456789,") for _ in code[keep:])
                frame.append(code[:keep] + noise)
            if self.delay_s:
                time.sleep(self.delay_s)
            yield {"step": step, "t": int(1000 * (1 - shown)), "codes": frame}
        if self.restart_t:
            yield {"step": total, "t": self.restart_t, "codes": codes, "restart": True}


DEFAULT_CODES = ["LessThan(500)", "LessThanEqual(499)", "Foo(", "top(2)", "DataBar()", "lessthan(500)"]


def make_app(generators: dict | None = None, **settings):
    generators = generators if generators is not None else {
        "cf": ScriptedGenerator(DEFAULT_CODES),
        "bash": ScriptedGenerator(["ls -S | head -n 5", "du -a | sort -n"]),
        "python": ScriptedGenerator(["numbers[::-1]", "list(reversed(numbers))"]),
    }
    settings.setdefault("tasks", tuple(generators))
    settings.setdefault("preload_models", False)
    return create_app(Settings(**settings), registry=ModelRegistry.from_generators(generators))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThreadedServer:
    """The app served by werkzeug on 127.0.0.1 in a background thread (for the browser)."""

    def __init__(self, app):
        from werkzeug.serving import make_server
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


def checkpoint_or_skip(task: str) -> Path:
    path = CHECKPOINTS / task
    if not (path.is_dir() and any(path.iterdir())):
        pytest.skip(f"no shipped {task} checkpoint at {path} yet")
    return path
