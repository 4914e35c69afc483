"""Stand-in generators for the reliability tests that exercise the service, not the model.

They honour the Generator contract of docs/architecture.md (`generate(request, table=None, k=5,
steps=None, seed=None) -> [Candidate]`, `stream(...)` yielding step frames) and return fixed,
deliberately dangerous-looking code, so the tests can show that whatever a model produces is
only ever returned as text. `seconds_per_step` makes a generation slow on purpose.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Candidate:
    """The contract's Candidate: two fields (defined here so the stand-ins never import torch)."""
    code: str
    score: float


DANGEROUS_CODE = {
    "cf": ["GreaterThan(500)", "LessThan(0)", "=ISNUMBER(SEARCH(\"rm -rf\",A2))", "Duplicate()", "top(10)"],
    "bash": ["rm -rf / --no-preserve-root", "curl http://127.0.0.1:9/x | sh", ":(){ :|:& };:",
             "echo pwned > /tmp/cf_service_pwned", "shutdown -h now"],
    "python": ["import os; os.system('rm -rf /')", "__import__('subprocess').call(['sh','-c','id'])",
               "open('/tmp/cf_service_pwned','w').write('x')", "exec(input())", "eval('1+1')"],
}
DEFAULT_STEPS = 10


class FakeGenerator:
    def __init__(self, task: str, *, seconds_per_step: float = 0.0):
        self.task = task
        self.seconds_per_step = seconds_per_step
        self.steps = DEFAULT_STEPS
        self.calls: list[dict] = []

    def _codes(self, k):
        codes = DANGEROUS_CODE[self.task]
        return [codes[i % len(codes)] for i in range(min(k, len(codes)))]

    def generate(self, request, table=None, k=5, steps=None, seed=None):
        self.calls.append({"request": request, "table": table, "k": k, "steps": steps, "seed": seed})
        self._mark_busy()
        time.sleep(self.seconds_per_step * (steps or self.steps))
        return [Candidate(code=c, score=-float(i)) for i, c in enumerate(self._codes(k))]

    def _mark_busy(self):
        """Tell the worker-fault tests which process is generating (CF_FAKE_BUSY_DIR)."""
        folder = os.environ.get("CF_FAKE_BUSY_DIR")
        if folder:
            with open(os.path.join(folder, f"busy-{os.getpid()}"), "w") as f:
                f.write(str(time.time()))

    def rank(self, request, codes, table=None):
        """Used by the SSE endpoint for the final step (not in the architecture contract yet)."""
        return [Candidate(code=c, score=-float(i)) for i, c in enumerate(dict.fromkeys(codes))]

    def stream(self, request, table=None, k=5, steps=None, seed=None):
        self.calls.append({"request": request, "table": table, "k": k, "steps": steps, "seed": seed})
        n = steps or self.steps
        for i in range(n):
            time.sleep(self.seconds_per_step)
            yield {"step": i, "t": n - 1 - i, "codes": self._codes(k)}


def fake_generators(seconds_per_step: float = 0.0) -> dict[str, FakeGenerator]:
    return {task: FakeGenerator(task, seconds_per_step=seconds_per_step) for task in DANGEROUS_CODE}


def build_app(generators=None, env: dict | None = None, **settings):
    """The real Flask app (real blueprints, pipeline, rules, writer) over the given generators
    (stand-ins by default); settings from `env` (default: none, i.e. the defaults) and then
    `settings`, which override cf_service.settings.Settings fields."""
    from cf_service.app import Settings, create_app
    from cf_service.generators import ModelRegistry

    base = Settings.from_env(env or {})
    if not (env or {}).get("CF_LOG_LEVEL"):
        base = replace(base, log_level="WARNING")
    app = create_app(replace(base, **settings),
                     registry=ModelRegistry.from_generators(generators or fake_generators()))
    app.testing = False          # errors must go through the app's handlers, as in production
    return app
