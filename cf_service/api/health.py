"""GET /healthz: 200 once every configured generator is loaded, 503 before (or if one failed)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    status = current_app.extensions["cf_models"].status()
    response = jsonify(status)
    if status["status"] != "ready":
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response
