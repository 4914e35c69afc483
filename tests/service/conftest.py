"""Fixtures of the service tests; the helpers they use are in support.py."""
from __future__ import annotations

import pytest

from .support import make_app


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
