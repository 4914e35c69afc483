"""POST /v1/bash/generate and /v1/python/generate: code as text, ranked, never executed."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .cf import generation_options
from .common import json_body, require_text, run_with_timeout

bp = Blueprint("code", __name__, url_prefix="/v1")

EXAMPLES = {"bash": "list all files larger than 10 MB", "python": "reverse a list of numbers"}


@bp.post("/<any(bash, python):task>/generate")
def generate(task: str):
    body = json_body()
    text = require_text(body, "request", example=EXAMPLES[task])
    options = generation_options(body)
    generator = current_app.extensions["cf_models"].get(task)

    def work():
        return generator.generate(text, table=None, **options)

    candidates = run_with_timeout(work)
    return jsonify({"task": task, "candidates": [{"code": c.code, "score": float(c.score)} for c in candidates]})
