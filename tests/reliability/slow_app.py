"""A WSGI app for gunicorn in the worker-fault tests: the real service over stand-in generators
that take CF_FAKE_SECONDS_PER_STEP seconds per sampling step (default 0.2), so a request can be
made as slow as a test needs without a trained model.  gunicorn tests.reliability.slow_app:app
"""
from __future__ import annotations

import os

from .fakes import build_app, fake_generators

app = build_app(fake_generators(seconds_per_step=float(os.environ.get("CF_FAKE_SECONDS_PER_STEP", "0.2"))),
                env=dict(os.environ))
