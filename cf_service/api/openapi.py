"""GET /openapi.json: the OpenAPI 3.0 document of this service (built in cf_service/openapi.py)."""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, jsonify

from ..openapi import build_spec

bp = Blueprint("openapi", __name__)


@lru_cache(maxsize=1)
def _spec() -> dict:
    return build_spec()


@bp.get("/openapi.json")
def openapi():
    return jsonify(_spec())
